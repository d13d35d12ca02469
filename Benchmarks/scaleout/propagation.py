"""Revocation propagation across Coffer instances sharing one PostgreSQL.

Usage: propagation.py ROOT_TOKEN ADDR_A ADDR_B [ADDR_C ...] [--rounds N]

Each round: create a token on A, warm its cache entry on every other instance (lookup-self answers
200), revoke it on A, then poll every other instance (keep-alive connections) until each refuses it (403, or 429 once the
failed authentications from this address reach the anonymous limit). Each sample includes one request.
Prints one line per instance with p50/p99/max propagation in milliseconds and a final JSON line.
"""
import http.client
import json
import socket
import sys
import time
import urllib.parse

args = sys.argv[1:]
rounds = 200
if "--rounds" in args:
    index = args.index("--rounds")
    rounds = int(args[index + 1])
    del args[index:index + 2]
root, first, others = args[0], args[1], args[2:]


def connect(address):
    parsed = urllib.parse.urlparse(address)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    connection.connect()
    # No Nagle: a 40 ms delayed-ACK stall per request would swamp what is measured.
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def call(connection, method, path, token, body=None):
    headers = {"X-Vault-Token": token}
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse()
    data = response.read()
    return response.status, data


a = connect(first)
followers = [connect(address) for address in others]
samples = [[] for _ in others]
for round_number in range(rounds):
    status, data = call(a, "POST", "/v1/auth/token/create", root, {"policies": ["viewer"]})
    assert status == 200, data
    token = json.loads(data)["auth"]["client_token"]
    for connection in followers:
        status, _ = call(connection, "GET", "/v1/auth/token/lookup-self", token)
        assert status == 200, status
    status, _ = call(a, "POST", "/v1/auth/token/revoke-self", token)
    assert status == 204, status
    revoked = time.perf_counter()
    pending = set(range(len(followers)))
    while pending:
        for index in list(pending):
            status, _ = call(followers[index], "GET", "/v1/auth/token/lookup-self", token)
            # 403, or 429 once repeated failed authentications from this address hit the anonymous limit:
            # either way the revoked token was refused.
            if status != 200:
                elapsed = (time.perf_counter() - revoked) * 1000
                samples[index].append(elapsed)
                if elapsed > 100:
                    print(f"slow: round {round_number} instance {index}: {elapsed:.1f} ms", file=sys.stderr)
                pending.discard(index)
        if time.perf_counter() - revoked > 5:
            raise SystemExit("a revocation did not propagate within 5 s")

summary = []
for index, values in enumerate(samples):
    values.sort()
    p50 = values[len(values) // 2]
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    summary.append({"instance": others[index], "p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "max_ms": round(values[-1], 2)})
    print(f"{others[index]}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {values[-1]:.2f} ms over {len(values)} revocations")
print(json.dumps({"rounds": rounds, "instances": summary}))
