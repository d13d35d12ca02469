#!/usr/bin/env bash
# Does a verify answer tell whether a key exists somewhere? Measures, in one run on this machine, the
# three NOT_FOUND/VALID paths of POST /v1/keys/verify side by side, against nginx and Coffer's health:
#  - verify-own:   10,000 keys of the caller's tenant, random order (VALID);
#  - verify-other: the same 10,000 live keys, asked by a caller of another tenant (NOT_FOUND);
#  - verify-miss:  10,000 well-formed keys that exist nowhere (NOT_FOUND).
# If verify-other and verify-miss differ, timing reveals that a key is live in some tenant.
# Usage: Benchmarks/apikeys/timing.sh [path/to/coffer]   (default .build/release/coffer)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
duration=${DURATION:-10s}; connections=${CONNECTIONS:-64}; threads=${THREADS:-2}; rounds=${ROUNDS:-3}
nginx_port=18440; coffer_port=18441
source Benchmarks/lib.sh
start_nginx "$nginx_port" '{"valid":false,"code":"NOT_FOUND","key_id":null,"tenant":null}'

mkdir -p "$work/coffer/home"
export HOME="$work/coffer/home" COFFER_ADDR="http://127.0.0.1:$coffer_port"
start_coffer out1
"$bin" tenant create other --environment staging --quiet >"$work/other.token" 2>/dev/null || "$bin" tenant create other --environment staging >"$work/other.out"
pkill -f "$work/coffer/data" || true; sleep 0.5
export COFFER_ROOT_KEY_FILE="$work/coffer/data/root.key"
"$bin" operator keys-fill --storage "sqlite://$work/coffer/data/coffer.db" --count 10000 --sample-file "$work/live.keys" --sample 10000 >/dev/null
# Keys that exist nowhere: made the same way in a throwaway store.
mkdir -p "$work/elsewhere"
elsewhere_key=$(head -c 32 /dev/urandom | base64)
COFFER_ROOT_KEY=$elsewhere_key "$bin" operator init --storage "sqlite://$work/elsewhere/coffer.db" --tenant root >/dev/null
COFFER_ROOT_KEY=$elsewhere_key "$bin" operator keys-fill --storage "sqlite://$work/elsewhere/coffer.db" --count 10000 \
    --sample-file "$work/missing.keys" --sample 10000 >/dev/null
unset COFFER_ROOT_KEY_FILE
start_coffer out2
caller=$("$bin" keys create --name own-caller --scope keys:verify --rate-limit 1000000000/1s --quiet)
other_token=$(grep -o 'cft_[0-9A-Za-z]*' "$work/other.token" "$work/other.out" 2>/dev/null | head -1 | cut -d: -f2)
other_caller=$(COFFER_TOKEN=$other_token "$bin" keys create --name other-caller --scope keys:verify --rate-limit 1000000000/1s --quiet)

verify_script verify-own "$caller" live.keys VALID
verify_script verify-other "$other_caller" live.keys NOT_FOUND
verify_script verify-miss "$caller" missing.keys NOT_FOUND
: >"$work/health.lua"

url="$COFFER_ADDR/v1/keys/verify"
measure_rounds 5s "nginx http://127.0.0.1:$nginx_port/ health.lua" "health $COFFER_ADDR/v1/sys/health health.lua" \
    "verify-own $url verify-own.lua" "verify-other $url verify-other.lua" "verify-miss $url verify-miss.lua"

cat >Benchmarks/apikeys/timing.md <<RESULTS
# Verify: does the answer's timing tell whether a key exists?

Command: \`Benchmarks/apikeys/timing.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build, \`coffer dev\` on SQLite, audit on).
wrk: $threads threads, $connections connections, $duration per run, targets alternated within each round after a 5 s warm-up each;
wrk shares the cores with the server. 10,000 live keys in tenant \`root\`, callers authenticated by \`sk_\` keys holding
\`keys:verify\`; every answer checked for its code.

| round | nginx req/s (p50 / p99) | health | verify-own (VALID) | verify-other (another tenant's live key: NOT_FOUND) | verify-miss (no such key: NOT_FOUND) |
| --- | --- | --- | --- | --- | --- |
$rows
**verify-miss / verify-other: $(pct verify-miss verify-other)%** of the req/s (100% = indistinguishable by throughput).
verify-own: $(pct verify-own nginx)% of nginx, $(pct verify-own health)% of health; verify-other: $(pct verify-other health)% of health;
verify-miss: $(pct verify-miss health)% of health.
RESULTS
cat Benchmarks/apikeys/timing.md
