#!/usr/bin/env bash
# Transit and protect/unprotect speed, measured in one run on this machine against nginx on the same loopback:
# nginx serving a static JSON 200, Coffer's GET /v1/sys/health, and
#   encrypt-1     POST /v1/transit/encrypt/bench with one 1 KiB plaintext (aes256-gcm96)
#   encrypt-100   the same with batch_input of 100 × 1 KiB
#   protect       POST /v1/protect/BENCH (policy sign-then-encrypt: ed25519 + aes256-gcm96) of a 1 KiB JSON payload
#   unprotect     POST /v1/unprotect/BENCH of that protected string
# driven alternately by wrk with the same threads, connections and duration (three rounds).
# Usage: Benchmarks/transit/run.sh [path/to/coffer]   (default .build/release/coffer)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
duration=${DURATION:-10s}; connections=${CONNECTIONS:-64}; threads=${THREADS:-2}; rounds=${ROUNDS:-3}
nginx_port=18430; coffer_port=18431; plain_port=18432
source Benchmarks/lib.sh
start_nginx "$nginx_port" '{"data":{"ciphertext":"vault:v1:AAAA","key_version":1}}'

mkdir -p "$work/coffer/home"
export HOME="$work/coffer/home" COFFER_ADDR="http://127.0.0.1:$coffer_port"
# Servers are never started inside $(...): they would inherit its pipe and keep it open.
(cd "$work/coffer" && exec "$bin" dev --port "$coffer_port" --data-dir "$work/coffer/data" </dev/null >out 2>err) &
wait_for "$work/coffer/out" '^Ready\.'
pid=$(pgrep -f "$work/coffer/data" | head -1)
"$bin" transit create bench >/dev/null
"$bin" transit create bench-sign --type ed25519 >/dev/null
# A second server with the audit log off, to show what the per-request audit entry costs.
mkdir -p "$work/coffer/plain-home"
(cd "$work/coffer" && HOME="$work/coffer/plain-home" exec "$bin" dev --no-audit --port "$plain_port" --data-dir "$work/coffer/plain" </dev/null >plain.out 2>plain.err) &
wait_for "$work/coffer/plain.out" '^Ready\.'
plain_env=(env HOME="$work/coffer/plain-home" COFFER_ADDR="http://127.0.0.1:$plain_port")
"${plain_env[@]}" "$bin" transit create bench >/dev/null
plain_caller=$("${plain_env[@]}" "$bin" keys create --name bench --scope transit:encrypt:bench --rate-limit 1000000000/1s --quiet)
"$bin" policy put BENCH --mode sign-then-encrypt --signing-key bench-sign --encryption-key bench >/dev/null
# The caller: an API key with exactly these scopes and a limit high enough not to throttle the benchmark.
caller=$("$bin" keys create --name bench --scope transit:encrypt:bench --scope protect:protect:BENCH --scope protect:unprotect:BENCH \
    --rate-limit 1000000000/1s --quiet)

plaintext=$(head -c 1024 /dev/urandom | base64 -w0)
payload_text=$(head -c 760 /dev/urandom | base64 -w0 | head -c 1000)
batch=$(python3 -c "import json, sys; print(json.dumps({'batch_input': [{'plaintext': sys.argv[1]}] * 100}))" "$plaintext")
protected=$(curl -sf -X POST "$COFFER_ADDR/v1/protect/BENCH" -H "Authorization: Bearer $caller" -d "{\"payload\":{\"memo\":\"$payload_text\"}}" |
    python3 -c "import json, sys; print(json.load(sys.stdin)['data']['protected'])")
lua() { # file body
    cat >"$work/$1" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $caller"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[$2]==]
LUA
}
lua encrypt-1.lua "{\"plaintext\":\"$plaintext\"}"
sed "s/$caller/$plain_caller/" "$work/encrypt-1.lua" >"$work/encrypt-plain.lua"
lua encrypt-100.lua "$batch"
lua protect.lua "{\"payload\":{\"memo\":\"$payload_text\"}}"
lua unprotect.lua "{\"protected\":\"$protected\"}"
: >"$work/get.lua"
# Sanity: every benchmarked call answers 200 with what it should.
curl -sf -X POST "$COFFER_ADDR/v1/transit/encrypt/bench" -H "Authorization: Bearer $caller" -d "{\"plaintext\":\"$plaintext\"}" | grep -q '"ciphertext":"vault:v1:'
curl -sf -X POST "$COFFER_ADDR/v1/unprotect/BENCH" -H "Authorization: Bearer $caller" -d "{\"protected\":\"$protected\"}" | grep -q "$payload_text"

targets=(
    "nginx http://127.0.0.1:$nginx_port/ get.lua" "health $COFFER_ADDR/v1/sys/health get.lua"
    "encrypt-1 $COFFER_ADDR/v1/transit/encrypt/bench encrypt-1.lua" "encrypt-100 $COFFER_ADDR/v1/transit/encrypt/bench encrypt-100.lua"
    "protect $COFFER_ADDR/v1/protect/BENCH protect.lua" "unprotect $COFFER_ADDR/v1/unprotect/BENCH unprotect.lua"
    "encrypt-plain http://127.0.0.1:$plain_port/v1/transit/encrypt/bench encrypt-plain.lua"
)
measure_rounds 3s "${targets[@]}"
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
audited=$("$bin" audit verify 2>&1 | tail -1)
items=$(awk -v a="${sum[encrypt-100]}" -v r="$rounds" 'BEGIN {printf "%.0f", 100 * a / r}')

cat >Benchmarks/transit/results.md <<RESULTS
# Transit and protect/unprotect vs nginx

Command: \`Benchmarks/transit/run.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build, \`coffer dev\` on SQLite with the
audit log on: every call below appends its hash-chained entry before answering). wrk: $threads threads, $connections connections,
$duration per run on the same loopback, targets alternated within each of $rounds rounds after a 3 s warm-up each; wrk shares
the 2 cores with the server. Caller: an \`sk_\` API key scoped to exactly these operations.

| round | nginx static 200 | health | encrypt 1 KiB | encrypt batch 100 × 1 KiB | protect 1 KiB JSON | unprotect | encrypt 1 KiB, audit off |
| --- | --- | --- | --- | --- | --- | --- | --- |
$rows
req/s (p50 / p99). Shares of the sums over the rounds:

- **encrypt 1 KiB (aes256-gcm96): $(pct encrypt-1 nginx)% of nginx** (target ≥ 20%) and **$(pct encrypt-1 health)% of Coffer's health** (target ≥ 80%).
- the same encrypt on a second server started with \`--no-audit\`: $(pct encrypt-plain nginx)% of nginx, $(pct encrypt-plain health)% of health —
  the difference is the per-request audit entry (hash-chained, HMAC-redacted, group-committed to SQLite before the answer).
- encrypt batch of 100: $(pct encrypt-100 nginx)% of nginx in requests, i.e. $items encrypted items/s.
- protect (ed25519 sign, then aes256-gcm96): $(pct protect nginx)% of nginx; unprotect: $(pct unprotect nginx)%.
- Server RSS after the runs: $((rss_kb / 1024)) MiB. The audit chain written during the run verifies: \`$audited\`.
RESULTS
cat Benchmarks/transit/results.md
