#!/usr/bin/env bash
# Audit log cost, measured in one run on this machine:
#  1. throughput of an audited hot path (KV read) with the audit log on vs off: two identical
#     `coffer dev` servers (one started with --no-audit), driven alternately by wrk with the same
#     threads, connections and duration; the ratio compares runs made minutes apart, not days;
#  2. `coffer audit verify` over a chain of 1,000,000 entries (filled with `coffer operator audit-fill`).
# Usage: Benchmarks/audit/run.sh [path/to/coffer]   (default .build/release/coffer)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
[ -x "$bin" ] || { echo "build first: swift build -c release --product coffer" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
duration=${DURATION:-10s}; connections=${CONNECTIONS:-64}; threads=${THREADS:-2}; entries=${ENTRIES:-1000000}
work=$(mktemp -d)
cleanup() { pkill -f "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

wait_ready() { # dir out-file
    for _ in $(seq 1 600); do grep -q '^Ready\.' "$1/$2" 2>/dev/null && return 0; sleep 0.05; done
    echo "server in $1 did not start:" >&2; cat "$1"/err* >&2; exit 1
}
# Servers are never started inside $(...): they would inherit its pipe and keep it open.
start() { # variable name port extra-args...
    local var=$1 name=$2 port=$3; shift 3
    mkdir -p "$work/$name/home"
    (cd "$work/$name" && HOME="$work/$name/home" exec "$bin" dev --port "$port" --data-dir "$work/$name/data" "$@" </dev/null >out 2>err) &
    wait_ready "$work/$name" out
    HOME="$work/$name/home" COFFER_ADDR="http://127.0.0.1:$port" "$bin" kv put bench/item password=hunter2 user=svc >/dev/null
    printf -v "$var" '%s' "$(cat "$work/$name/home/.config/coffer/token")"
}
start on_token on 18411
start off_token off 18412 --no-audit

cat >"$work/get.lua" <<LUA
wrk.headers["X-Vault-Token"] = os.getenv("TOKEN")
LUA
run() { # port token -> "rps p50 p99"
    TOKEN=$2 wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$work/get.lua" "http://127.0.0.1:$1/v1/secret/data/bench/item" >"$work/wrk.out"
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
    p50=$(awk '$1=="50%" {print $2}' "$work/wrk.out")
    p99=$(awk '$1=="99%" {print $2}' "$work/wrk.out")
    if grep -q "Non-2xx" "$work/wrk.out"; then echo "non-2xx responses:" >&2; cat "$work/wrk.out" >&2; exit 1; fi
    echo "$rps $p50 $p99"
}
# Warm-up at full concurrency (JIT-free, but caches, the WAL and the chain's head row get going).
TOKEN=$on_token wrk -t"$threads" -c"$connections" -d5s -s "$work/get.lua" "http://127.0.0.1:18411/v1/secret/data/bench/item" >/dev/null
TOKEN=$off_token wrk -t"$threads" -c"$connections" -d5s -s "$work/get.lua" "http://127.0.0.1:18412/v1/secret/data/bench/item" >/dev/null
read -r on1 on1_50 on1_99 <<<"$(run 18411 "$on_token")"
read -r off1 off1_50 off1_99 <<<"$(run 18412 "$off_token")"
read -r on2 on2_50 on2_99 <<<"$(run 18411 "$on_token")"
read -r off2 off2_50 off2_99 <<<"$(run 18412 "$off_token")"
read -r on3 on3_50 on3_99 <<<"$(run 18411 "$on_token")"
read -r off3 off3_50 off3_99 <<<"$(run 18412 "$off_token")"
ratio=$(awk -v a="$on1" -v b="$on2" -v e="$on3" -v c="$off1" -v d="$off2" -v f="$off3" 'BEGIN {printf "%.1f", 100 * (a + b + e) / (c + d + f)}')
audited=$(HOME="$work/on/home" COFFER_ADDR=http://127.0.0.1:18411 "$bin" audit verify)
pkill -f "$work/on" || true; pkill -f "$work/off" || true

# Verify over a large chain.
mkdir -p "$work/big/home"
(cd "$work/big" && HOME="$work/big/home" exec "$bin" dev --port 18413 --data-dir "$work/big/data" </dev/null >out 2>err) &
wait_ready "$work/big" out
pkill -f "$work/big" || true; sleep 0.5
fill=$(COFFER_ROOT_KEY_FILE="$work/big/data/root.key" "$bin" operator audit-fill --storage "sqlite://$work/big/data/coffer.db" --count "$entries")
(cd "$work/big" && HOME="$work/big/home" exec "$bin" dev --port 18413 --data-dir "$work/big/data" </dev/null >out2 2>err2) &
wait_ready "$work/big" out2
verify_start=$(date +%s%N)
verified=$(HOME="$work/big/home" COFFER_ADDR=http://127.0.0.1:18413 "$bin" audit verify)
verify_ms=$(( ($(date +%s%N) - verify_start) / 1000000 ))

cat >Benchmarks/audit/results.md <<RESULTS
# Audit log cost

Command: \`Benchmarks/audit/run.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build, SQLite in WAL mode with
\`synchronous=FULL\`). wrk: $threads threads, $connections connections, $duration per run, on and off alternated three times after a 5 s warm-up each.
Path: \`GET /v1/secret/data/bench/item\` (token auth, AES-256-GCM decrypt, JSON envelope); with the audit log on, each
request also appends a hash-chained, HMAC-redacted entry (group-committed) before its response is sent.

| run | audit on req/s (p50 / p99) | audit off req/s (p50 / p99) |
| --- | --- | --- |
| 1 | $on1 ($on1_50 / $on1_99) | $off1 ($off1_50 / $off1_99) |
| 2 | $on2 ($on2_50 / $on2_99) | $off2 ($off2_50 / $off2_99) |
| 3 | $on3 ($on3_50 / $on3_99) | $off3 ($off3_50 / $off3_99) |

**Audited throughput: ${ratio}% of unaudited** (sum of the three runs; target ≥ 85%). The audited chain verified afterwards: \`$audited\`

## audit verify over $entries entries

Fill: \`coffer operator audit-fill --count $entries\` → $fill.
\`coffer audit verify\` (through the API, walking the whole chain and its head): **${verify_ms} ms** (target < 10 s) → \`$verified\`
RESULTS
cat Benchmarks/audit/results.md
