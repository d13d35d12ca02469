"""Signed gateway requests made by independent RFC 9421 implementations (PyPI http-message-signatures
and requests-http-signature) and by hand (the simple x-signature form), against a live Coffer.

Environment: COFFER_CALL (the project's call URL prefix), HMAC_SECRET, ED25519_PRIVATE (base64 raw),
optionally REPLAY_CALL (the same project on a second instance). Prints one line per case:
"<case> <status> <code>".
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import time
import uuid

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms
from requests_http_signature import HTTPSignatureAuth

CALL = os.environ["COFFER_CALL"]
SECRET = os.environ["HMAC_SECRET"].encode()
ED_KEY = Ed25519PrivateKey.from_private_bytes(base64.b64decode(os.environ["ED25519_PRIVATE"]))
COVERED = ("@method", "@target-uri", "content-digest")


class Keys(HTTPSignatureKeyResolver):
    def resolve_private_key(self, key_id):
        return ED_KEY if key_id == "edge-1" else SECRET

    def resolve_public_key(self, key_id):
        return ED_KEY.public_key() if key_id == "edge-1" else SECRET


def report(name, response):
    try:
        code = response.json().get("code", "-")
    except ValueError:
        code = "-"
    print(name, response.status_code, code, flush=True)


def signed(method, path, body=b"", key_id="backend-1", algorithm=algorithms.HMAC_SHA256, created=None):
    request = requests.Request(method, CALL + path, data=body or None, headers={"Content-Type": "application/json"} if body else {}).prepare()
    HTTPMessageSigner(signature_algorithm=algorithm, key_resolver=Keys()).sign(
        request, key_id=key_id, covered_component_ids=COVERED, nonce=uuid.uuid4().hex, label="sig1", body=request.body or b"",
        created=created)
    return request


session = requests.Session()
order = json.dumps({"item": "umbrella", "quantity": 2}).encode()

first = signed("POST", "/orders", order)
report("hmac_ok", session.send(first))
report("replay", session.send(first))
if os.environ.get("REPLAY_CALL"):
    # Behind a load balancer both instances see the same authority: B gets A's Host header.
    replayed = first.copy()
    replayed.url = first.url.replace(CALL, os.environ["REPLAY_CALL"])
    replayed.headers["Host"] = CALL.split("://", 1)[1].split("/", 1)[0]
    report("replay_other_instance", session.send(replayed))

tampered = signed("POST", "/orders", order)
tampered.method = "PUT"
report("tamper_method", session.send(tampered))
tampered = signed("POST", "/orders", order)
tampered.url = tampered.url.replace("/orders", "/orders2")
report("tamper_path", session.send(tampered))
tampered = signed("GET", "/forecast/Bern?units=metric")
tampered.url = tampered.url.replace("units=metric", "units=imperial")
report("tamper_query", session.send(tampered))
tampered = signed("POST", "/orders", order)
tampered.body = json.dumps({"item": "umbrella", "quantity": 200}).encode()
tampered.headers["Content-Length"] = str(len(tampered.body))
report("tamper_body", session.send(tampered))
old = signed("POST", "/orders", order, created=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=120))
report("old_timestamp", session.send(old))
report("unknown_key", session.send(signed("POST", "/orders", order, key_id="nobody")))
report("ed25519_ok", session.send(signed("POST", "/orders", order, key_id="edge-1", algorithm=algorithms.ED25519)))
report("ed25519_other_route", session.send(signed("GET", "/forecast/Bern", key_id="edge-1", algorithm=algorithms.ED25519)))

auth = HTTPSignatureAuth(
    key=SECRET, key_id="backend-1", signature_algorithm=algorithms.HMAC_SHA256, covered_component_ids=COVERED, use_nonce=True)
report("requests_http_signature_ok", requests.post(CALL + "/orders", data=order, headers={"Content-Type": "application/json"}, auth=auth))

path = CALL.split("://", 1)[1]
path = path[path.index("/"):] + "/forecast/Bern"
timestamp = str(int(time.time()))
signature = hmac.new(SECRET, f"{timestamp}.GET.{path}.".encode(), hashlib.sha256).hexdigest()
simple = {"x-signature": signature, "x-timestamp": timestamp}
report("simple_ok", requests.get(CALL + "/forecast/Bern", headers=simple))
report("simple_replay", requests.get(CALL + "/forecast/Bern", headers=simple))
