#!/usr/bin/env bash
# Every hot path of issue 13 on both engines, in one run beside nginx on the same loopback:
# nginx serving a static JSON; then, for `coffer dev` (SQLite) and `coffer serve` on PostgreSQL, each
# with audit on: GET /v1/sys/health, API-key verify (one key), KV v2 read of a small secret, and transit
# encrypt of 1 KiB. Callers authenticate with an `sk_` key whose own limit replaces the tier. wrk
# alternates all targets in each round after a warm-up; ratios are of sums over the rounds.
# Usage: Benchmarks/hotpaths/run.sh [path/to/coffer]   (POSTGRES_URL optional: else a throwaway cluster)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
duration=${DURATION:-8s}; connections=${CONNECTIONS:-64}; threads=${THREADS:-2}; rounds=${ROUNDS:-3}
nginx_port=18440; coffer_port=18441; pg_port=18442
source Benchmarks/lib.sh
start_nginx "$nginx_port" '{"valid":true}'
root_dir=$(pwd)

own_cluster=""
pg_where="the server at \$POSTGRES_URL"
if [ -z "${POSTGRES_URL:-}" ]; then
    own_cluster="$work/pg"
    POSTGRES_URL=$(scripts/pg-cluster.sh start "$own_cluster" 18443)
    pg_where="a local cluster the script starts (fsync off, as in the tests)"
fi
db="coffer_hotpaths_$$"
psql "$POSTGRES_URL" -qc "CREATE DATABASE $db" >/dev/null
trap 'pkill -f "serve --port $pg_port" || true; psql "$POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true;
      [ -n "$own_cluster" ] && "$root_dir/scripts/pg-cluster.sh" stop "$own_cluster"; cleanup' EXIT
pg_url=$(python3 -c "import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path='/$db').geturl())" "$POSTGRES_URL")
plaintext=$(head -c 1024 /dev/urandom | base64 -w0)

# setup ENGINE ADDR: a caller key, a key to verify, a secret and a transit key; writes ENGINE-*.lua.
setup() {
    local engine=$1 caller key
    export COFFER_ADDR=$2
    caller=$("$bin" keys create --name caller --scope keys:verify --scope kv:read:secret/bench --scope transit:encrypt:bench \
        --rate-limit 1000000000/1s --quiet)
    key=$("$bin" keys create --name k --scope orders:read --quiet)
    "$bin" kv put bench password=small-secret >/dev/null
    "$bin" transit create bench >/dev/null 2>&1 || curl -sf -H "X-Vault-Token: $COFFER_TOKEN" -X POST "$COFFER_ADDR/v1/transit/keys/bench" -d '{}' >/dev/null
    : >"$work/$engine-health.lua"
    printf 'wrk.method = "POST"\nwrk.headers["Authorization"] = "Bearer %s"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' \
        "$caller" "'{\"key\":\"$key\",\"scopes\":[\"orders:read\"]}'" >"$work/$engine-verify.lua"
    printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$caller" >"$work/$engine-kvread.lua"
    printf 'wrk.method = "POST"\nwrk.headers["Authorization"] = "Bearer %s"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' \
        "$caller" "'{\"plaintext\":\"$plaintext\"}'" >"$work/$engine-encrypt.lua"
    # Sanity: each target answers what it should.
    curl -sf -X POST "$COFFER_ADDR/v1/keys/verify" -H "Authorization: Bearer $caller" -d "{\"key\":\"$key\"}" | grep -q '"code":"VALID"'
    curl -sf "$COFFER_ADDR/v1/secret/data/bench" -H "Authorization: Bearer $caller" | grep -q small-secret
    curl -sf -X POST "$COFFER_ADDR/v1/transit/encrypt/bench" -H "Authorization: Bearer $caller" -d "{\"plaintext\":\"$plaintext\"}" | grep -q vault:v1:
}

# SQLite: `coffer dev` (its CLI credentials land in $HOME).
mkdir -p "$work/coffer/home" "$work/pgserve/home"
export HOME="$work/coffer/home"
start_coffer out
setup sqlite "http://127.0.0.1:$coffer_port"

# PostgreSQL: `coffer operator init` then `coffer serve`.
export HOME="$work/pgserve/home" COFFER_ROOT_KEY=$(head -c 32 /dev/urandom | base64)
# The owner migrates; the server runs as coffer_app under Row-Level Security (README "Database roles").
pg_app_url=$(scripts/pg-cluster.sh roles "$pg_url")
COFFER_TOKEN=$(COFFER_STORAGE_MIGRATION_URL=$pg_url "$bin" operator init --storage "$pg_app_url" | grep -o 'cft_[0-9A-Za-z]*' | head -1)
export COFFER_TOKEN
(cd "$work/pgserve" && exec "$bin" serve --port "$pg_port" --storage "$pg_app_url" </dev/null >serve.out 2>serve.err) &
wait_for "$work/pgserve/serve.err" listening
setup pg "http://127.0.0.1:$pg_port"

sqlite="http://127.0.0.1:$coffer_port"; pg="http://127.0.0.1:$pg_port"
measure_rounds 4s "nginx http://127.0.0.1:$nginx_port/ sqlite-health.lua" \
    "s_health $sqlite/v1/sys/health sqlite-health.lua" "s_verify $sqlite/v1/keys/verify sqlite-verify.lua" \
    "s_kvread $sqlite/v1/secret/data/bench sqlite-kvread.lua" "s_encrypt $sqlite/v1/transit/encrypt/bench sqlite-encrypt.lua" \
    "p_health $pg/v1/sys/health pg-health.lua" "p_verify $pg/v1/keys/verify pg-verify.lua" \
    "p_kvread $pg/v1/secret/data/bench pg-kvread.lua" "p_encrypt $pg/v1/transit/encrypt/bench pg-encrypt.lua"

avg() { awk -v a="${sum[$1]}" -v r="$rounds" 'BEGIN {printf "%.0f", a / r}'; }
line() { echo "| $1 | $(avg "$2") | $(pct "$2" nginx)% | ${3:+$(pct "$2" "$3")%} | ${4:-} |"; }
cat >Benchmarks/hotpaths/results.md <<RESULTS
# Hot paths on both engines, one run

Command: \`Benchmarks/hotpaths/run.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build, audit on; PostgreSQL:
$pg_where). wrk: $threads threads, $connections connections,
$duration per run, $rounds rounds alternating all nine targets after a 4 s warm-up each; wrk, nginx, PostgreSQL
and Coffer share the cores. Callers authenticate with an \`sk_\` key whose own limit replaces the tier.

| path | req/s (mean of rounds) | share of nginx | share of health (same engine) | target |
| --- | --- | --- | --- | --- |
$(line nginx nginx)
$(line "Coffer health (SQLite)" s_health "" "≥ 25% of nginx")
$(line "verify (SQLite)" s_verify s_health "≥ 85% of health")
$(line "KV v2 read (SQLite)" s_kvread s_health "≥ 80% of health")
$(line "transit encrypt 1 KiB (SQLite)" s_encrypt s_health "≥ 70% of health")
$(line "Coffer health (PostgreSQL)" p_health "" "≥ 25% of nginx")
$(line "verify (PostgreSQL)" p_verify p_health "≥ 60% of health")
$(line "KV v2 read (PostgreSQL)" p_kvread p_health "≥ 50% of health")
$(line "transit encrypt 1 KiB (PostgreSQL)" p_encrypt p_health "≥ 70% of health")

Rounds, req/s (p50 / p99), in the order nginx, SQLite health, verify, KV read, encrypt, PostgreSQL health, verify, KV read, encrypt:

| round | nginx | S health | S verify | S KV read | S encrypt | P health | P verify | P KV read | P encrypt |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
$rows
RESULTS
cat Benchmarks/hotpaths/results.md
