#!/usr/bin/env bash
# Hot paths of one `coffer serve` on PostgreSQL (audit on), in one run beside nginx on the same
# loopback and Coffer's own health: API-key verify (one key), KV v2 read of a small secret, transit
# encrypt of 1 KiB. wrk alternates the targets in each round after a warm-up.
# Usage: POSTGRES_URL=postgres://… Benchmarks/scaleout/pg-speed.sh [path/to/coffer]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
duration=${DURATION:-8s}; connections=${CONNECTIONS:-64}; threads=${THREADS:-2}; rounds=${ROUNDS:-3}
nginx_port=18430; port=18431
: "${POSTGRES_URL:?set POSTGRES_URL to a PostgreSQL this script may create a database next to}"
source Benchmarks/lib.sh
start_nginx "$nginx_port" '{"valid":true}'

db="coffer_pgspeed_$$"
psql "$POSTGRES_URL" -qc "CREATE DATABASE $db" >/dev/null
# The server's command line names the port, not $work: stop it by port before lib.sh cleans up.
trap 'pkill -f "serve --port $port" || true; cleanup; psql "$POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT
url=$(python3 -c "import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path='/$db').geturl())" "$POSTGRES_URL")
export COFFER_ROOT_KEY=$(head -c 32 /dev/urandom | base64)
mkdir -p "$work/coffer/home"
export HOME="$work/coffer/home" COFFER_ADDR="http://127.0.0.1:$port"
root=$("$bin" operator init --storage "$url" | grep -o 'cft_[0-9A-Za-z]*' | head -1)
(cd "$work/coffer" && exec "$bin" serve --port "$port" --storage "$url" </dev/null >serve.out 2>serve.err) &
wait_for "$work/coffer/serve.err" listening
export COFFER_TOKEN=$root
caller=$("$bin" keys create --name caller --scope keys:verify --scope kv:read:secret/bench --scope transit:encrypt:bench \
    --rate-limit 1000000000/1s --quiet)
key=$("$bin" keys create --name k --scope orders:read --quiet)
"$bin" kv put bench password=small-secret >/dev/null
curl -sf -H "X-Vault-Token: $root" -X POST "$COFFER_ADDR/v1/transit/keys/bench" -d '{}' >/dev/null
plaintext=$(head -c 1024 /dev/urandom | base64 -w0)

cat >"$work/health.lua" <<'LUA'
LUA
cat >"$work/verify.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $caller"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"$key","scopes":["orders:read"]}'
LUA
cat >"$work/kvread.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $caller"
LUA
cat >"$work/encrypt.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $caller"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"plaintext":"$plaintext"}'
LUA
# Sanity: each target answers what it should.
curl -sf -X POST "$COFFER_ADDR/v1/keys/verify" -H "Authorization: Bearer $caller" -d "{\"key\":\"$key\"}" | grep -q '"code":"VALID"'
curl -sf "$COFFER_ADDR/v1/secret/data/bench" -H "Authorization: Bearer $caller" | grep -q small-secret
curl -sf -X POST "$COFFER_ADDR/v1/transit/encrypt/bench" -H "Authorization: Bearer $caller" -d "{\"plaintext\":\"$plaintext\"}" | grep -q vault:v1:

measure_rounds 4s "nginx http://127.0.0.1:$nginx_port/ health.lua" "health $COFFER_ADDR/v1/sys/health health.lua" \
    "verify $COFFER_ADDR/v1/keys/verify verify.lua" "kvread $COFFER_ADDR/v1/secret/data/bench kvread.lua" \
    "encrypt $COFFER_ADDR/v1/transit/encrypt/bench encrypt.lua"

cat >Benchmarks/scaleout/pg-speed.md <<RESULTS
# Hot paths on PostgreSQL

Command: \`POSTGRES_URL=… Benchmarks/scaleout/pg-speed.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build, one
\`coffer serve\` on a local PostgreSQL cluster, audit on). wrk: $threads threads, $connections connections, $duration per run,
$rounds rounds alternating the targets after a 4 s warm-up each; wrk, PostgreSQL and Coffer share the cores.
Callers authenticate with an \`sk_\` key whose own limit replaces the tier.

| round | nginx | health | verify | KV v2 read | transit encrypt 1 KiB |
| --- | --- | --- | --- | --- | --- |
$rows
| share of nginx | 100% | $(pct health nginx)% | $(pct verify nginx)% | $(pct kvread nginx)% | $(pct encrypt nginx)% |
| share of health | — | 100% | $(pct verify health)% | $(pct kvread health)% | $(pct encrypt health)% |
RESULTS
cat Benchmarks/scaleout/pg-speed.md
