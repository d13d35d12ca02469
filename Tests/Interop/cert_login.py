"""hvac's `auth.cert` against a running Coffer over TLS: create a certificate role with
`create_ca_certificate_role`, log in with `auth.cert.login` presenting a client certificate, and check
that a certificate from another CA is refused.

Reads VAULT_ADDR (https), VAULT_TOKEN (admin), COFFER_CERT_DIR (server CA `ca.crt`, client CA
`clientca.crt`, `alice.crt`/`alice.key` and `stranger.crt`/`stranger.key`).
"""
import os
import sys
import warnings

import hvac
from hvac import exceptions

warnings.simplefilter("ignore", DeprecationWarning)
directory = os.environ["COFFER_CERT_DIR"]
ca = os.path.join(directory, "ca.crt")
admin = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"], verify=ca)


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)


admin.sys.enable_auth_method("cert", path="hvac-cert")
with open(os.path.join(directory, "clientca.crt")) as pem:
    admin.auth.cert.create_ca_certificate_role(
        "billing", certificate=pem.read(), allowed_common_names=["*.internal"], token_policies=["viewer"], mount_point="hvac-cert")
check(admin.auth.cert.read_ca_certificate_role("billing", mount_point="hvac-cert")["data"]["token_policies"] == ["viewer"], "read role")
check(admin.auth.cert.list_certificate_roles(mount_point="hvac-cert")["data"]["keys"] == ["billing"], "list roles")
machine = hvac.Client(url=os.environ["VAULT_ADDR"], verify=ca)
answer = machine.auth.cert.login(
    cert_pem=os.path.join(directory, "alice.crt"), key_pem=os.path.join(directory, "alice.key"), mount_point="hvac-cert")
check(answer["auth"]["policies"] == ["viewer"] and answer["auth"]["metadata"]["common_name"] == "billing.internal", f"cert login: {answer}")
check(machine.token == answer["auth"]["client_token"], "the client holds the token")
stranger = hvac.Client(url=os.environ["VAULT_ADDR"], verify=ca)
try:
    stranger.auth.cert.login(
        cert_pem=os.path.join(directory, "stranger.crt"), key_pem=os.path.join(directory, "stranger.key"), mount_point="hvac-cert")
    check(False, "a certificate from another CA must be refused")
except exceptions.Unauthorized:
    pass
print("cert interop: all checks passed")
