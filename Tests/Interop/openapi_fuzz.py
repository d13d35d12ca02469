"""Schemathesis against a live `coffer dev` with two tenants (issue 15, DESIGN "HTTP API").

Creates tenants alpha and beta (each with its admin token), stores a canary secret in each, then runs
`schemathesis run` on the server's own document (GET /v1/sys/openapi) as both tenants (a Web Fuzzing
Commons auth file naming them peers) with the checks not_a_server_error, status_code_conformance,
content_type_conformance, response_schema_conformance and object_level_authorization. Afterwards each
canary must be unchanged and unreadable by the other tenant. Prints schemathesis's summary and
"all checks passed". Environment: VAULT_ADDR, VAULT_TOKEN (the root token), SCHEMATHESIS_EXAMPLES.
"""

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

ADDR = os.environ["VAULT_ADDR"]
ROOT = os.environ["VAULT_TOKEN"]


def call(method, path, token, body=None, namespace=None):
    headers = {"X-Vault-Token": token, "Content-Type": "application/json"}
    if namespace:
        headers["X-Vault-Namespace"] = namespace
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(ADDR + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text else {}


def check(condition, message):
    if not condition:
        print("FAILED:", message)
        sys.exit(1)


tokens = {}
canaries = {}
for name in ("alpha", "beta"):
    status, body = call("POST", "/v1/sys/tenants", ROOT, {"name": name})
    check(status == 200, f"tenant {name}: {status} {body}")
    tokens[name] = body["auth"]["client_token"]
    canaries[name] = "canary-" + secrets.token_hex(8)
    status, _ = call("POST", "/v1/secret/data/canary", tokens[name], {"data": {"owner": name, "value": canaries[name]}})
    check(status == 200, f"canary {name}: {status}")

work = tempfile.mkdtemp(prefix="coffer-schemathesis-")
with open(os.path.join(work, "auth.json"), "w") as handle:
    json.dump({"auth": [{"name": name, "fixedHeaders": [{"name": "X-Vault-Token", "value": token}]} for name, token in tokens.items()]}, handle)
with open(os.path.join(work, "schemathesis.toml"), "w") as handle:
    handle.write('[auth.wfc]\npath = "auth.json"\npeers = ["alpha", "beta"]\n')

checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,object_level_authorization"
command = [
    sys.executable, "-m", "schemathesis.cli", "run", ADDR + "/v1/sys/openapi", "--url", ADDR,
    "--max-examples", os.environ.get("SCHEMATHESIS_EXAMPLES", "5"), "--checks", checks, "--workers", "1",
    # Revoking its own token would leave the rest of the run unauthenticated.
    "--exclude-path-regex", "revoke-self", "--seed", "15",
]
run = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=1800)
summary = run.stdout[run.stdout.rfind("SUMMARY"):] if "SUMMARY" in run.stdout else run.stdout[-4000:]
print(summary)
check(run.returncode == 0, f"schemathesis exited with {run.returncode}:\n{run.stdout[-20000:]}\n{run.stderr[-4000:]}")
cases = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
check(cases is not None and cases.group(1) == cases.group(2), "every generated case passed")

for name, other in (("alpha", "beta"), ("beta", "alpha")):
    status, body = call("GET", "/v1/secret/data/canary", tokens[name])
    check(status == 200 and body["data"]["data"] == {"owner": name, "value": canaries[name]}, f"{name}'s canary is intact: {status}")
    status, body = call("GET", "/v1/secret/data/canary", tokens[other], namespace=name)
    check(status == 403 and body.get("code") == "TENANT_MISMATCH", f"{other} cannot read {name}'s canary: {status} {body}")
    check(canaries[name] not in json.dumps(body), "no canary in a refusal")
print("all checks passed")
