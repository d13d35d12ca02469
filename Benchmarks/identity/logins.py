"""Login latency per auth method, one client, sequential logins over a keep-alive connection.

Usage: logins.py ADDR ROOT_TOKEN [--count N] [--cert-dir DIR]

With --cert-dir (ADDR is then https: a server that requests client certificates), measures the `cert`
method instead: DIR holds ca.crt (the server's CA), clientca.crt and client.crt/client.key.

Sets up (idempotently) userpass `bench-user`, AppRole `bench` (unlimited secret ID), and a JWT method
with an RS256 public key; then measures N logins of each, N `GET /v1/sys/health` and N
`POST /v1/auth/token/create` (a token issued with no method's checks) for comparison. Prints a
markdown table and a JSON line. Every login must answer 200.
"""
import base64
import http.client
import json
import socket
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

args = sys.argv[1:]
count = 1000
cert_dir = None
for flag in ("--count", "--cert-dir"):
    if flag in args:
        index = args.index(flag)
        if flag == "--count":
            count = int(args[index + 1])
        else:
            cert_dir = args[index + 1]
        del args[index:index + 2]
address, root = args[0], args[1]
parsed = urllib.parse.urlparse(address)
if cert_dir:
    import ssl
    context = ssl.create_default_context(cafile=f"{cert_dir}/ca.crt")
    context.load_cert_chain(f"{cert_dir}/client.crt", f"{cert_dir}/client.key")
    connection = http.client.HTTPSConnection(parsed.hostname, parsed.port, timeout=30, context=context)
else:
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
connection.connect()
connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Vault-Token"] = token
    connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def must(status, data, what):
    if status not in (200, 204):
        raise SystemExit(f"{what}: {status} {data[:300]!r}")
    return json.loads(data) if data else None


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def measure(targets):
    results = []
    for name, method, path, body, token in targets:
        for _ in range(20):
            must(*call(method, path, body, token), f"warm-up {name}")
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            status, data = call(method, path, body, token)
            samples.append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise SystemExit(f"{name}: {status} {data[:300]!r}")
        samples.sort()
        results.append({
            "target": name, "count": count, "p50_ms": round(samples[len(samples) // 2], 2),
            "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2), "max_ms": round(samples[-1], 2),
        })
    print("| target | logins | median ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- | --- |")
    for row in results:
        print(f"| {row['target']} | {row['count']} | {row['p50_ms']} | {row['p99_ms']} | {row['max_ms']} |")
    print(json.dumps(results))


if cert_dir:
    call("DELETE", "/v1/sys/auth/cert", token=root)
    must(*call("POST", "/v1/sys/auth/cert", {"type": "cert"}, root), "enable cert")
    with open(f"{cert_dir}/clientca.crt") as pem:
        must(*call("POST", "/v1/auth/cert/certs/bench", {"certificate": pem.read(), "token_policies": ["viewer"]}, root), "cert role")
    measure([
        ("GET /v1/sys/health (TLS)", "GET", "/v1/sys/health", None, None),
        ("token create (no method, TLS)", "POST", "/v1/auth/token/create", {"policies": ["viewer"]}, root),
        ("cert login (P-256 client certificate)", "POST", "/v1/auth/cert/login", {"name": "bench"}, None),
    ])
    sys.exit(0)

# Set-up.
call("DELETE", "/v1/sys/auth/userpass", token=root)
call("DELETE", "/v1/sys/auth/approle", token=root)
call("DELETE", "/v1/sys/auth/jwt", token=root)
for kind in ("userpass", "approle", "jwt"):
    must(*call("POST", f"/v1/sys/auth/{kind}", {"type": kind}, root), f"enable {kind}")
must(*call("POST", "/v1/auth/userpass/users/bench-user", {"password": "benchmark passphrase", "token_policies": ["viewer"]}, root), "user")
must(*call("POST", "/v1/auth/approle/role/bench", {"token_policies": ["viewer"]}, root), "approle")
role_id = must(*call("GET", "/v1/auth/approle/role/bench/role-id", token=root), "role-id")["data"]["role_id"]
secret_id = must(*call("POST", "/v1/auth/approle/role/bench/secret-id", {}, root), "secret-id")["data"]["secret_id"]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
must(*call("POST", "/v1/auth/jwt/config", {"jwt_validation_pubkeys": [pem], "bound_issuer": "https://idp.bench"}, root), "jwt config")
must(*call("POST", "/v1/auth/jwt/role/bench", {"bound_audiences": ["coffer"], "token_policies": ["viewer"]}, root), "jwt role")
header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
claims = b64url(json.dumps({"iss": "https://idp.bench", "sub": "svc", "aud": "coffer", "exp": int(time.time()) + 3600}).encode())
signature = key.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
jwt = f"{header}.{claims}.{b64url(signature)}"

targets = [
    ("GET /v1/sys/health", "GET", "/v1/sys/health", None, None),
    ("token create (no method)", "POST", "/v1/auth/token/create", {"policies": ["viewer"]}, root),
    ("userpass login", "POST", "/v1/auth/userpass/login/bench-user", {"password": "benchmark passphrase"}, None),
    ("approle login", "POST", "/v1/auth/approle/login", {"role_id": role_id, "secret_id": secret_id}, None),
    ("jwt login (RS256, PEM key)", "POST", "/v1/auth/jwt/login", {"role": "bench", "jwt": jwt}, None),
]
measure(targets)
