"""Alerts end to end against a running `coffer dev`: 11 failed logins in a minute raise the
failed-authentication alerts, delivered to a webhook receiver that verifies them with the PyPI
`standardwebhooks` library (and rejects a tampered copy), and by email to a real SMTP server process
(PyPI `aiosmtpd`, started here on SMTP_PORT, where the server was told to send). Then the CLI lists,
shows and acknowledges the alert and sends a test notification.

Reads VAULT_ADDR, VAULT_TOKEN (an admin token of the system tenant), SMTP_PORT and COFFER_BIN.
Exits non-zero with a message on the first mismatch; prints "all checks passed" at the end.
"""
import base64
import concurrent.futures
import http.server
import json
import os
import secrets
import subprocess
import sys
import threading
import time

import requests
import standardwebhooks
from aiosmtpd.controller import Controller

ADDR = os.environ["VAULT_ADDR"]
TOKEN = os.environ["VAULT_TOKEN"]
HEADERS = {"X-Vault-Token": TOKEN}


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)


def api(method, path, body=None, expect=(200, 204)):
    answer = requests.request(method, ADDR + path, headers=HEADERS, json=body, timeout=30)
    check(answer.status_code in expect, f"{method} {path}: {answer.status_code} {answer.text}")
    return answer.json() if answer.content else None


def coffer(*arguments):
    environment = dict(os.environ, COFFER_ADDR=ADDR, COFFER_TOKEN=TOKEN)
    return subprocess.run([os.environ["COFFER_BIN"], *arguments], capture_output=True, text=True, env=environment, timeout=60)


# --- A webhook receiver that keeps every delivery as received (raw body and headers). ---
deliveries = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        deliveries.append((body, {name.lower(): value for name, value in self.headers.items()}))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()

# --- A real SMTP server process (aiosmtpd) on the port the server sends to. ---
mails = []


class Mailbox:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


smtp = Controller(Mailbox(), hostname="127.0.0.1", port=int(os.environ["SMTP_PORT"]))
smtp.start()

# --- Channels: a signed webhook (secret in KV) and email. ---
secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
api("POST", "/v1/secret/data/alerts/webhook", {"data": {"secret": secret}})
api("POST", "/v1/alerts/channels/ops", {
    "type": "webhook", "url": f"http://127.0.0.1:{receiver.server_port}/coffer", "secret_ref": "secret/alerts/webhook#secret",
})
api("POST", "/v1/alerts/channels/oncall", {"type": "email", "to": ["oncall@example.com"], "min_severity": "page"})
refused = requests.post(ADDR + "/v1/alerts/channels/bad", headers=HEADERS, json={"type": "webhook", "url": "http://x/"}, timeout=30)
check(refused.status_code == 400 and refused.json().get("code") == "INVALID_REQUEST", f"an unsigned webhook is refused: {refused.text}")

# --- 11 failed logins within a minute. ---
api("POST", "/v1/sys/auth/userpass", {"type": "userpass"})
api("POST", "/v1/auth/userpass/users/alice", {"password": "correct horse battery staple", "token_policies": ["viewer"]})
started = time.time()


def fail(index):
    answer = requests.post(f"{ADDR}/v1/auth/userpass/login/alice", json={"password": f"wrong guess {index}"}, timeout=60)
    return answer.status_code


with concurrent.futures.ThreadPoolExecutor(max_workers=11) as pool:
    statuses = list(pool.map(fail, range(11)))
check(all(status in (400, 429) for status in statuses), f"the failed logins failed: {statuses}")
check(time.time() - started < 60, "the 11 failures took under a minute")

deadline = time.time() + 30
while time.time() < deadline and not any(json.loads(body).get("type") == "alert.firing" for body, _ in deliveries):
    time.sleep(0.2)
firing = [(body, headers) for body, headers in deliveries if json.loads(body).get("type") == "alert.firing"]
check(firing, f"no alert.firing webhook arrived; got {len(deliveries)} deliveries")

# standardwebhooks verifies every delivery with the tenant's secret...
hook = standardwebhooks.Webhook(secret)
rules = set()
for body, headers in firing:
    verified = hook.verify(body, headers)
    check(verified["data"]["tenant"] == "root", f"the payload names the tenant: {verified}")
    check(verified["data"]["severity"] == "page" and verified["data"]["state"] == "firing", f"severity and state: {verified}")
    rules.add(verified["data"]["rule"])
    check(headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith("v1,"), f"headers: {headers}")
check("failed_auth" in rules, f"the tenant rule fired: {rules}")
check(TOKEN not in b"".join(body for body, _ in deliveries).decode(), "no token in any delivery")

# ...and rejects a tampered body, a replayed old timestamp and another secret.
body, headers = firing[0]
for what, call in [
    ("tampered body", lambda: hook.verify(body.replace(b"firing", b"resolved"), headers)),
    ("old timestamp", lambda: hook.verify(body, dict(headers, **{"webhook-timestamp": str(int(time.time()) - 3600)}))),
    ("another secret", lambda: standardwebhooks.Webhook("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()).verify(body, headers)),
]:
    try:
        call()
        check(False, f"standardwebhooks accepted a {what}")
    except standardwebhooks.webhooks.WebhookVerificationError:
        pass

# The email arrived at the SMTP server.
deadline = time.time() + 20
while time.time() < deadline and not mails:
    time.sleep(0.2)
check(mails, "no alert email arrived at the SMTP server")
sender, recipients, content = mails[0]
check(recipients == ["oncall@example.com"] and "Subject: [Coffer page] root:" in content, f"the email: {recipients} {content[:300]}")
check("coffer alerts ack alr_" in content, "the email says how to acknowledge")

# --- The CLI: list, show, ack, rules, test. ---
listed = coffer("alerts", "list", "--state", "firing", "--json")
check(listed.returncode == 0, f"alerts list: {listed.stderr}")
alerts = json.loads(listed.stdout)["alerts"]
tenant_alert = next((alert for alert in alerts if alert["rule"] == "failed_auth"), None)
check(tenant_alert is not None and tenant_alert["count"] >= 1, f"the failed_auth alert is listed: {alerts}")
alert_id = tenant_alert["id"]
acked = coffer("alerts", "ack", alert_id)
check(acked.returncode == 0 and "Acknowledged" in acked.stdout, f"alerts ack: {acked.stdout} {acked.stderr}")
shown = coffer("alerts", "show", alert_id, "--format", "json")
check(json.loads(shown.stdout)["state"] == "acknowledged", f"alerts show: {shown.stdout}")
again = coffer("alerts", "ack", alert_id)
check(again.returncode != 0 and "INVALID_REQUEST" in again.stderr, f"a second ack is refused: {again.stderr}")
rules_out = coffer("alerts", "rules", "--format", "json")
check(json.loads(rules_out.stdout)["failed_auth"]["threshold"] == 10, f"alerts rules: {rules_out.stdout}")
changed = coffer("alerts", "rules", "failed_auth", "--set", "threshold=20", "--format", "json")
check(changed.returncode == 0 and json.loads(changed.stdout)["threshold"] == 20, f"alerts rules --set: {changed.stdout} {changed.stderr}")
before = len(deliveries)
tested = coffer("alerts", "test", "--channel", "ops")
check(tested.returncode == 0 and "ops: delivered" in tested.stdout, f"alerts test: {tested.stdout} {tested.stderr}")
check(len(deliveries) == before + 1, "the test notification arrived")
test_body, test_headers = deliveries[-1]
check(hook.verify(test_body, test_headers)["type"] == "alert.test", "the test is signed too")

smtp.stop()
receiver.shutdown()
print("all checks passed")
