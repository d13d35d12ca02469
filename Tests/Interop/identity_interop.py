"""Log in to a running Coffer through its auth methods with the unmodified hvac client (PyPI), and
through a real OpenID Connect provider process (PyPI oidc-provider-mock, started here).

Reads VAULT_ADDR and VAULT_TOKEN (an admin token). Exits non-zero with a message on the first mismatch.
"""
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import warnings

import hvac
import requests
from hvac import exceptions

warnings.simplefilter("ignore", DeprecationWarning)
ADDR = os.environ["VAULT_ADDR"]
admin = hvac.Client(url=ADDR, token=os.environ["VAULT_TOKEN"])


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)


def refused(call, exception, what):
    try:
        call()
    except exception:
        return
    except Exception as error:  # noqa: BLE001 - the wrong refusal is the failure reported
        check(False, f"{what}: expected {exception.__name__}, got {type(error).__name__}: {error}")
    check(False, f"{what}: expected {exception.__name__}, got success")


def fresh():
    return hvac.Client(url=ADDR)


# --- userpass: hvac's auth.userpass ------------------------------------------------------------
admin.sys.enable_auth_method("userpass")
check("userpass/" in admin.sys.list_auth_methods()["data"], "list_auth_methods shows userpass/")
admin.auth.userpass.create_or_update_user("alice", password="correct horse battery staple", policies=["modifier"])
check(admin.auth.userpass.read_user("alice")["data"]["token_policies"] == ["modifier"], "read_user")
check(admin.auth.userpass.list_user()["data"]["keys"] == ["alice"], "list_user")
person = fresh()
answer = person.auth.userpass.login("alice", "correct horse battery staple")
check(answer["auth"]["policies"] == ["modifier"] and person.token == answer["auth"]["client_token"], "userpass login sets the token")
check(person.auth.token.lookup_self()["data"]["coffer_role"] == "modifier", "userpass session role")
person.secrets.kv.v2.create_or_update_secret(path="identity/alice", secret={"k": "v"})
renewed = person.auth.token.renew_self()
check(renewed["auth"]["lease_duration"] == 3600, f"renew_self: {renewed['auth']}")
refused(lambda: fresh().auth.userpass.login("alice", "wrong password!!"), exceptions.InvalidRequest, "wrong password")
refused(lambda: fresh().auth.userpass.login("nobody", "wrong password!!"), exceptions.InvalidRequest, "unknown user")
refused(lambda: admin.auth.userpass.create_or_update_user("bob", password="another fine passphrase", policies=["root"]),
        exceptions.InvalidRequest, "an unknown policy is refused")
admin.auth.userpass.update_password_on_user("alice", "a different passphrase")
refused(lambda: person.auth.token.lookup_self(), exceptions.Forbidden, "a password change ends the session")
fresh().auth.userpass.login("alice", "a different passphrase")
admin.auth.userpass.delete_user("alice")
refused(lambda: fresh().auth.userpass.login("alice", "a different passphrase"), exceptions.InvalidRequest, "deleted user")

# --- AppRole: hvac's auth.approle ----------------------------------------------------------------
admin.sys.enable_auth_method("approle")
admin.auth.approle.create_or_update_approle(
    "ci", token_policies=["viewer"], token_ttl="20m", token_max_ttl="1h", secret_id_num_uses=2, secret_id_ttl="10m")
check(admin.auth.approle.read_role("ci")["data"]["secret_id_num_uses"] == 2, "read_role")
role_id = admin.auth.approle.read_role_id("ci")["data"]["role_id"]
generated = admin.auth.approle.generate_secret_id("ci", metadata={"team": "payments"})["data"]
secret_id = generated["secret_id"]
machine = fresh()
login = machine.auth.approle.login(role_id=role_id, secret_id=secret_id)
check(login["auth"]["policies"] == ["viewer"] and login["auth"]["lease_duration"] == 1200, f"approle login: {login['auth']}")
check(login["auth"]["metadata"]["team"] == "payments", "secret ID metadata reaches the token")
check(machine.is_authenticated(), "approle session works")
looked = admin.auth.approle.read_secret_id("ci", secret_id)["data"]
check(looked["secret_id_num_uses"] == 1 and looked["secret_id_accessor"] == generated["secret_id_accessor"], f"read_secret_id: {looked}")
check(admin.auth.approle.list_secret_id_accessors("ci")["data"]["keys"] == [generated["secret_id_accessor"]], "list_secret_id_accessors")
fresh().auth.approle.login(role_id=role_id, secret_id=secret_id)
refused(lambda: fresh().auth.approle.login(role_id=role_id, secret_id=secret_id), exceptions.InvalidRequest, "spent secret ID")
other = admin.auth.approle.generate_secret_id("ci")["data"]["secret_id"]
admin.auth.approle.destroy_secret_id("ci", other)
refused(lambda: fresh().auth.approle.login(role_id=role_id, secret_id=other), exceptions.InvalidRequest, "destroyed secret ID")


# --- JWT / OIDC against a real OpenID Connect provider -------------------------------------------
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_provider(port, *extra):
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "-p", str(port), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            if requests.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    process.kill()
    check(False, "oidc-provider-mock did not start")
    return None


PORT = free_port()
PROVIDER = f"http://127.0.0.1:{PORT}"


def id_token(sub, claims, scope="openid email"):
    """An ID token for `sub`, through the provider's authorization-code flow (as a browser would)."""
    requests.put(f"{PROVIDER}/users/{sub}", json=claims, timeout=5).raise_for_status()
    redirect = "http://127.0.0.1:1/callback"
    authorized = requests.post(
        f"{PROVIDER}/oauth2/authorize",
        params={"client_id": "coffer", "redirect_uri": redirect, "response_type": "code", "scope": scope, "state": "s", "nonce": "n"},
        data={"sub": sub}, allow_redirects=False, timeout=5)
    code = urllib.parse.parse_qs(urllib.parse.urlparse(authorized.headers["location"]).query)["code"][0]
    token = requests.post(
        f"{PROVIDER}/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "client_id": "coffer", "client_secret": "x"},
        timeout=5)
    token.raise_for_status()
    return token.json()["id_token"]


provider = start_provider(PORT)
try:
    admin.sys.enable_auth_method("jwt")
    admin.auth.jwt.configure(oidc_discovery_url=PROVIDER, default_role="dev")
    admin.auth.jwt.create_role(
        "dev", user_claim="sub", allowed_redirect_uris=["http://127.0.0.1:1/callback"], bound_audiences=["coffer"],
        groups_claim="groups", token_policies=["viewer"], token_ttl="30m")
    # Coffer's role mapping from the provider's groups claim (not an hvac parameter: a plain write).
    admin.write("auth/jwt/role/mapped", bound_audiences=["coffer"], user_claim="email", groups_claim="groups",
                coffer_role_map={"platform-admins": "admin", "developers": "modifier"}, clock_skew_leeway=-1,
                expiration_leeway=-1, not_before_leeway=-1)
    alice = id_token("alice", {"email": "alice@example.com", "groups": ["developers"]})
    user = fresh()
    answer = user.auth.jwt.jwt_login(role="dev", jwt=alice)
    check(answer["auth"]["policies"] == ["viewer"] and answer["auth"]["lease_duration"] == 1800, f"jwt_login: {answer['auth']}")
    check(user.auth.token.lookup_self()["data"]["meta"]["groups"] == "developers", "groups recorded in the session's metadata")
    mapped = fresh().auth.jwt.jwt_login(role="mapped", jwt=alice)
    check(mapped["auth"]["policies"] == ["modifier"], f"groups map to Coffer's role: {mapped['auth']}")
    boss = id_token("boss", {"email": "boss@example.com", "groups": ["developers", "platform-admins"]})
    check(fresh().auth.jwt.jwt_login(role="mapped", jwt=boss)["auth"]["policies"] == ["admin"], "the highest mapped role")

    head, body, signature = alice.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    refused(lambda: fresh().auth.jwt.jwt_login(role="dev", jwt=f"{head}.{body}.{flipped}"), exceptions.Unauthorized, "tampered signature")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "root"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    refused(lambda: fresh().auth.jwt.jwt_login(role="dev", jwt=f"{head}.{forged}.{signature}"), exceptions.Unauthorized, "swapped payload")
    # Missing claim: without the email scope the provider leaves email out, and `mapped` names users by it.
    no_email = id_token("carol", {"email": "carol@example.com", "groups": ["developers"]}, scope="openid")
    refused(lambda: fresh().auth.jwt.jwt_login(role="mapped", jwt=no_email), exceptions.Unauthorized, "missing user claim")
    admin.auth.jwt.create_role(
        "elsewhere", user_claim="sub", allowed_redirect_uris=["http://127.0.0.1:1/callback"], bound_audiences=["another-app"],
        token_policies=["viewer"])
    refused(lambda: fresh().auth.jwt.jwt_login(role="elsewhere", jwt=alice), exceptions.Unauthorized, "wrong audience")
    admin.auth.jwt.configure(oidc_discovery_url=PROVIDER, default_role="dev", bound_issuer="https://issuer.example.com")
    refused(lambda: fresh().auth.jwt.jwt_login(role="dev", jwt=alice), exceptions.Unauthorized, "wrong issuer")
    admin.auth.jwt.configure(oidc_discovery_url=PROVIDER, default_role="dev")
    check(fresh().auth.jwt.jwt_login(role=None, jwt=alice)["auth"]["policies"] == ["viewer"], "default_role")

    # OIDC's browser flow (authorization code + PKCE + state + nonce), as hvac drives it, with the
    # provider's login form standing in for the person at the browser.
    REDIRECT = "http://localhost:8250/oidc/callback"
    admin.sys.enable_auth_method("oidc")
    # A confidential client: its secret lives in KV and the method names it (never stored in the config).
    admin.secrets.kv.v2.create_or_update_secret(path="oidc/coffer-web", secret={"client_secret": "web-client-secret-from-kv"})
    admin.write("auth/oidc/config", oidc_discovery_url=PROVIDER, oidc_client_id="coffer-web", default_role="people",
                coffer_oidc_client_secret_ref="secret/oidc/coffer-web#client_secret")
    admin.auth.oidc.create_role(
        "people", user_claim="email", allowed_redirect_uris=[REDIRECT], groups_claim="groups", oidc_scopes=["email"],
        token_policies=["viewer"], path="oidc")
    refused(lambda: admin.write("auth/oidc/config", oidc_discovery_url=PROVIDER, oidc_client_id="coffer-web", oidc_client_secret="s3cret"),
            exceptions.InvalidRequest, "a literal client secret is refused (it belongs in KV)")

    def browser(auth_url, sub):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(auth_url).query))
        check(query.get("code_challenge_method") == "S256" and query.get("code_challenge") and query.get("nonce") and query.get("state"),
              f"PKCE, nonce and state in the authorization URL: {query}")
        requests.put(f"{PROVIDER}/users/{sub}", json={"email": f"{sub}@example.com", "groups": ["developers"]}, timeout=5)
        answer = requests.post(f"{PROVIDER}/oauth2/authorize", params=query, data={"sub": sub}, allow_redirects=False, timeout=5)
        return answer.headers["location"]

    auth_url = fresh().auth.oidc.oidc_authorization_url_request(role="people", redirect_uri=REDIRECT)["data"]["auth_url"]
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(browser(auth_url, "erin")).query))
    person = fresh()
    answer = person.auth.oidc.oidc_callback(state=back["state"], nonce="", code=back["code"])
    check(answer["auth"]["policies"] == ["viewer"] and answer["auth"]["metadata"]["role"] == "people", f"oidc callback: {answer['auth']}")
    looked = hvac.Client(url=ADDR, token=answer["auth"]["client_token"]).auth.token.lookup_self()["data"]
    check(looked["path"] == "auth/oidc/login" and looked["coffer_role"] == "viewer", f"the session names its method: {looked}")
    refused(lambda: fresh().auth.oidc.oidc_callback(state=back["state"], nonce="", code=back["code"]), exceptions.InvalidRequest,
            "a state is used once")
    refused(lambda: fresh().auth.oidc.oidc_authorization_url_request(role="people", redirect_uri="https://evil.example/cb"),
            exceptions.InvalidRequest, "a redirect URI the role does not allow")

    # `coffer login --method oidc`: the CLI listens on loopback (any port: RFC 8252) for the browser.
    binary = os.environ.get("COFFER_BIN")
    if binary:
        cli = subprocess.Popen(
            [binary, "login", "--method", "oidc", "--path", "oidc", "--role", "people", "--no-browser", "--callback-port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COFFER_ADDR": ADDR})
        url = ""
        for line in cli.stdout:
            if line.strip().startswith("http"):
                url = line.strip()
                break
        check(url, "the CLI printed the authorization URL")
        location = browser(url, "frank")
        check(location.startswith("http://localhost:"), f"the provider sends the browser back to the CLI: {location}")
        page = requests.get(location, timeout=10)
        check(page.status_code == 200 and "code=" not in page.text, "the CLI's callback page")
        out, err = cli.communicate(timeout=30)
        check(cli.returncode == 0 and "Logged in: role viewer" in out, f"coffer login --method oidc: {out} {err}")

    # Key rotation at the provider: a new process has a new signing key. Coffer refetches the key set
    # when no cached key verifies a token (at most every 10 s).
    # SIGKILL: a test runner may start its children with SIGTERM ignored.
    provider.kill()
    provider.wait(10)
    provider = start_provider(PORT, "--token-max-age", "2")
    rotated = id_token("alice", {"email": "alice@example.com", "groups": ["developers"]})
    time.sleep(10.5)
    check(fresh().auth.jwt.jwt_login(role="dev", jwt=rotated)["auth"]["policies"] == ["viewer"], "a rotated key is fetched")
    refused(lambda: fresh().auth.jwt.jwt_login(role="dev", jwt=alice), exceptions.Unauthorized, "the retired key no longer verifies")
    # Expired: this provider's tokens live 2 s; `mapped` allows no leeway.
    short = id_token("dave", {"email": "dave@example.com", "groups": ["developers"]})
    check(fresh().auth.jwt.jwt_login(role="mapped", jwt=short)["auth"]["policies"] == ["modifier"], "fresh short-lived token")
    time.sleep(3.2)
    try:
        fresh().auth.jwt.jwt_login(role="mapped", jwt=short)
        check(False, "an expired token must be refused")
    except exceptions.Unauthorized as error:
        check("expired" in str(error), f"expired token: {error}")
finally:
    provider.kill()

print("identity interop: all checks passed")
