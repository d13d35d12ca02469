"""Chaos test: three `coffer serve` instances on one PostgreSQL under sustained mixed load.

Usage: chaos.py COFFER_BINARY [--duration SECONDS] [--threads N] [--limit PER_HOUR]

Starts its own PostgreSQL cluster (scripts/pg-cluster.sh, a temporary directory and a free port, so
restarting it disturbs nothing else), initialises Coffer on it, starts three instances and two
tenants, and drives KV writes and reads, API-key verifications and transit encryptions through a
round-robin client. Timeline, as fractions of the duration: at 25% instance 3 is killed with
SIGKILL, at 40% it is restarted on the same port; at 60% PostgreSQL is restarted with
`pg_ctl restart -m fast`. Three more workers spend a key limited to 600 verifications per hour (`--limit`)
through all three instances the whole time (a lease is limit/300 units: 1% across three instances).

Checks (exit 1 when one fails), and the final line is a JSON summary:
  - every write answered 2xx is read back with its value afterwards (0 acknowledged writes lost);
  - no 5xx outside the reconnect window: from the PostgreSQL restart until RECONNECT_WINDOW seconds
    after it is back (a request in flight on the killed instance fails at the transport, not with 5xx;
    the client waits 20 s, longer than Coffer's 15 s statement deadline, so a stuck request shows);
  - no instance is left unable to reach the database afterwards;
  - every tenant's audit chain verifies;
  - the limited key was admitted at most its limit (plus what dripped in) and at least 99% of it.
"""
import base64
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# A statement sent on a connection PostgreSQL closed can be lost by the pool; Coffer cuts every
# statement at 15 s (STORAGE_UNAVAILABLE), so a request caught by the restart ends within 16 s of it.
RECONNECT_WINDOW = 16.0
LIMIT = int(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else 600
LIMIT_PERIOD = 3600.0

args = sys.argv[1:]
binary = os.path.realpath(args[0])
duration = float(args[args.index("--duration") + 1]) if "--duration" in args else 30.0
threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 12
root_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
cluster = os.path.join(root_dir, "scripts", "pg-cluster.sh")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


work = tempfile.mkdtemp(prefix="coffer-chaos-")
os.chmod(work, 0o755)
pg_dir = os.path.join(work, "pg")
pg_port = free_port()
env = dict(os.environ)
env["HOME"] = os.path.join(work, "home")
os.makedirs(env["HOME"], exist_ok=True)
env["COFFER_ROOT_KEY"] = base64.b64encode(os.urandom(32)).decode()
env.pop("COFFER_TOKEN", None)
servers = {}


def pg(action):
    return subprocess.run(["bash", cluster, action, pg_dir] + ([str(pg_port)] if action == "start" else []),
                          capture_output=True, text=True, check=True).stdout.strip()


def cleanup():
    for server in servers.values():
        if server["process"].poll() is None:
            server["process"].kill()
            server["process"].wait()
    subprocess.run(["bash", cluster, "stop", pg_dir], capture_output=True)
    shutil.rmtree(work, ignore_errors=True)


def start_server(index):
    port = servers[index]["port"] if index in servers else free_port()
    log = open(os.path.join(work, f"serve{index}.err"), "a")
    process = subprocess.Popen([binary, "serve", "--port", str(port), "--storage", storage], cwd=work, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    servers[index] = {"port": port, "process": process}
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"instance {index} did not start")


def say(text):
    print(f"[chaos {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def cli(*arguments, token=None):
    run_env = dict(env)
    run_env["COFFER_ADDR"] = f"http://127.0.0.1:{servers[0]['port']}"
    if token:
        run_env["COFFER_TOKEN"] = token
    result = subprocess.run([binary] + list(arguments), env=run_env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"coffer {arguments[0]} {arguments[1] if len(arguments) > 1 else ''} failed: {result.stderr}")
    return result.stdout


class Client:
    """Keep-alive connections to every instance; each call goes to the next instance in turn."""

    def __init__(self):
        self.connections = {}
        self.turn = random.randrange(3)

    def call(self, method, path, token, body=None, instance=None):
        if instance is None:
            self.turn = (self.turn + 1) % 3
            instance = self.turn
        headers = {"Authorization": f"Bearer {token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            connection = self.connections.get(instance)
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", servers[instance]["port"], timeout=20)
                connection.connect()
                # No Nagle: headers and body go in two writes, and a delayed ACK would stall each call 40 ms.
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.connections[instance] = connection
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close(instance)
            return response.status, data
        except (OSError, http.client.HTTPException):
            self.close(instance)
            return None, b""

    def close(self, instance):
        connection = self.connections.pop(instance, None)
        if connection:
            connection.close()


storage = ""
try:
    base = pg("start")
    subprocess.run(["psql", base, "-qc", "CREATE DATABASE coffer_chaos"], check=True, capture_output=True)
    owner = re.sub(r"/[^/]*$", "/coffer_chaos", base)
    # As in production (README "Database roles"): the owner migrates, the servers run as coffer_app
    # under Row-Level Security.
    storage = subprocess.run([cluster, "roles", owner], check=True, capture_output=True, text=True).stdout.strip()
    initialised = subprocess.run([binary, "operator", "init", "--storage", storage], env=dict(env, COFFER_STORAGE_MIGRATION_URL=owner),
                                 capture_output=True, text=True, cwd=work)
    root = re.search(r"cft_[0-9A-Za-z]+", initialised.stdout).group(0)
    for index in range(3):
        start_server(index)

    second = cli("tenant", "create", "chaos-two", token=root)
    tenants = {"first": root, "second": re.search(r"cft_[0-9A-Za-z]+", second).group(0)}
    workers = {}
    for name, admin in tenants.items():
        client = Client()
        status, _ = client.call("POST", "/v1/transit/keys/chaos", admin, {}, instance=0)
        assert status in (200, 204), f"transit key: {status}"
        key = cli("keys", "create", "--name", "load", "--scope", "kv:write:secret/chaos/*", "--scope", "kv:read:secret/chaos/*",
                  "--scope", "transit:encrypt:chaos", "--scope", "keys:verify", "--rate-limit", "1000000000/1s", "--quiet",
                  token=admin).strip()
        target = cli("keys", "create", "--name", "target", "--scope", "orders:read", "--quiet", token=admin).strip()
        workers[name] = {"key": key, "target": target, "admin": admin}
    limited = cli("keys", "create", "--name", "limited", "--scope", "keys:verify", "--rate-limit", f"{LIMIT}/1h", "--quiet",
                  token=root).strip()

    lock = threading.Lock()
    acked = {}            # (tenant, path) -> value
    statuses = {}         # (op, status) -> count
    fives = []            # (time, op, status, body)
    mismatches = []
    transport = [0]
    limited_counts = {"admitted": 0, "refused": 0, "other": 0, "first": None, "last": None}
    stop = threading.Event()
    t0 = time.time()

    def note(op, status, body=b""):
        with lock:
            statuses[(op, status)] = statuses.get((op, status), 0) + 1
            if status is None:
                transport[0] += 1
            elif status >= 500:
                fives.append((time.time() - t0, op, status, body[:200].decode(errors="replace")))

    def load(number):
        rng = random.Random(number)
        client = Client()
        counter = 0
        while not stop.is_set():
            tenant = rng.choice(list(workers))
            worker = workers[tenant]
            op = rng.choices(["write", "read", "verify", "encrypt"], [3, 3, 2, 2])[0]
            if op == "write":
                counter += 1
                path = f"chaos/w{number}-{counter}"
                value = f"{tenant}-{number}-{counter}-{rng.getrandbits(32)}"
                status, body = client.call("POST", f"/v1/secret/data/{path}", worker["key"], {"data": {"v": value}})
                note(op, status, body)
                if status is not None and 200 <= status < 300:
                    with lock:
                        acked[(tenant, path)] = value
            elif op == "read":
                with lock:
                    candidates = [k for k in list(acked)[-200:] if k[0] == tenant]
                    if not candidates:
                        continue
                    key = rng.choice(candidates)
                    expected = acked[key]
                status, body = client.call("GET", f"/v1/secret/data/{key[1]}", worker["key"])
                note(op, status, body)
                if status == 200 and json.loads(body)["data"]["data"].get("v") != expected:
                    with lock:
                        mismatches.append(key[1])
                elif status == 404:
                    with lock:
                        mismatches.append(key[1])
            elif op == "verify":
                status, body = client.call("POST", "/v1/keys/verify", worker["key"], {"key": worker["target"]})
                note(op, status, body)
            else:
                status, body = client.call("POST", "/v1/transit/encrypt/chaos", worker["key"],
                                           {"plaintext": base64.b64encode(os.urandom(64)).decode()})
                note(op, status, body)

    def spend_limited():
        client = Client()
        target = workers["first"]["target"]
        while not stop.is_set():
            status, _ = client.call("POST", "/v1/keys/verify", limited, {"key": target})
            with lock:
                now = time.time()
                if status is not None and 200 <= status < 300:
                    limited_counts["admitted"] += 1
                    limited_counts["first"] = limited_counts["first"] or now
                    limited_counts["last"] = now
                elif status == 429:
                    limited_counts["refused"] += 1
                else:
                    limited_counts["other"] += 1
            if status == 429:
                time.sleep(0.002)

    pool = [threading.Thread(target=load, args=(n,)) for n in range(threads)]
    pool += [threading.Thread(target=spend_limited) for _ in range(3)]
    for thread in pool:
        thread.start()
    events = {}
    time.sleep(duration * 0.25)
    say("kill -9 instance 3")
    servers[2]["process"].send_signal(signal.SIGKILL)
    servers[2]["process"].wait()
    events["killed"] = time.time() - t0
    time.sleep(duration * 0.15)
    start_server(2)
    say("instance 3 restarted")
    events["restarted"] = time.time() - t0
    time.sleep(max(0.0, duration * 0.6 - (time.time() - t0)))
    events["pg_restart_begin"] = time.time() - t0
    say("restarting PostgreSQL")
    pg("restart")
    say("PostgreSQL is back")
    events["pg_restart_end"] = time.time() - t0
    time.sleep(max(0.0, duration - (time.time() - t0)))
    stop.set()
    say("load stopped")
    for thread in pool:
        thread.join()
    say(f"reading back {len(acked)} acknowledged writes")
    elapsed = time.time() - t0

    # Every instance must still reach the database: an unauthenticated call is refused (403) only
    # after its address's rate-limit counter was taken from PostgreSQL.
    def probe(index, method, path):
        connection = http.client.HTTPConnection("127.0.0.1", servers[index]["port"], timeout=5)
        try:
            connection.request(method, path, body="{}" if method == "POST" else None)
            return connection.getresponse().status
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()

    wedged = [index for index in range(3) if probe(index, "POST", "/v1/keys/verify") != 403]
    say(f"instances not answering database-backed calls: {wedged}")
    if wedged and os.environ.get("CHAOS_HOLD"):
        for index in wedged:
            say(f"instance {index} on port {servers[index]['port']}: health {probe(index, 'GET', '/v1/sys/health')}")
        say(f"holding for inspection ({work}); interrupt to clean up")
        time.sleep(3600)

    # Every acknowledged write, read back (each from the next instance; retried through a reconnect).
    lost = []
    reader = Client()
    for (tenant, path), value in sorted(acked.items()):
        for attempt in range(5):
            status, body = reader.call("GET", f"/v1/secret/data/{path}", workers[tenant]["key"])
            if status is not None and status < 500:
                break
            time.sleep(0.2)
        if status != 200 or json.loads(body)["data"]["data"].get("v") != value:
            lost.append((path, status))

    audits = {}
    for name, worker in workers.items():
        status, body = reader.call("POST", "/v1/audit/verify", worker["admin"], {})
        data = json.loads(body).get("data", {}) if status == 200 else {}
        audits[name] = {"ok": data.get("ok") is True, "entries": data.get("checked", 0)}

    window_end = events["pg_restart_end"] + RECONNECT_WINDOW
    outside = [f for f in fives if not (events["pg_restart_begin"] <= f[0] <= window_end)]
    last_five = max((f[0] for f in fives), default=None)
    spent = (limited_counts["last"] or 0) - (limited_counts["first"] or 0)
    dripped = int(LIMIT * spent / LIMIT_PERIOD) + 1
    rate_ok = LIMIT * 0.99 <= limited_counts["admitted"] <= LIMIT + dripped
    by_op = {}
    for (op, status), count in statuses.items():
        by_op.setdefault(op, {})[str(status)] = count
    summary = {
        "duration_s": round(elapsed, 1), "requests": sum(statuses.values()),
        "requests_per_s": round(sum(statuses.values()) / elapsed, 1), "by_operation": by_op,
        "acknowledged_writes": len(acked), "lost_writes": len(lost), "read_mismatches_during_load": len(mismatches),
        "transport_errors": transport[0], "stuck_instances": wedged, "5xx": len(fives), "5xx_outside_window": len(outside),
        "last_5xx_after_pg_back_s": round(last_five - events["pg_restart_end"], 2) if last_five else None,
        "events_s": {k: round(v, 2) for k, v in events.items()},
        "rate_limit": {"limit": LIMIT, "admitted": limited_counts["admitted"], "refused": limited_counts["refused"],
                       "allowed_at_most": LIMIT + dripped, "within_bound": rate_ok},
        "audit": audits,
    }
    logs = "".join(open(os.path.join(work, f"serve{i}.err"), errors="replace").read() for i in range(3))
    summary["statements_cut_by_deadline"] = logs.count("did not return within")
    summary["pools_replaced"] = logs.count("replacing it")
    failures = []
    if wedged:
        failures.append(f"instances stuck after the chaos: {wedged}")
    if lost:
        failures.append(f"lost writes: {lost[:5]}")
    if mismatches:
        failures.append(f"reads of acknowledged writes answered wrong: {mismatches[:5]}")
    if outside:
        failures.append(f"5xx outside the reconnect window: {outside[:5]}")
    if not all(a["ok"] for a in audits.values()):
        failures.append(f"audit chains: {audits}")
    if not rate_ok:
        failures.append(f"rate limit: {summary['rate_limit']}")
    for failure in failures:
        print("FAIL", failure)
    print(json.dumps(summary))
    code = 1 if failures else 0
except BaseException:
    for index in servers:
        path = os.path.join(work, f"serve{index}.err")
        if os.path.exists(path):
            print(f"--- serve{index}.err (tail)", file=sys.stderr)
            print(open(path).read()[-2000:], file=sys.stderr)
    cleanup()
    raise
cleanup()
sys.exit(code)
