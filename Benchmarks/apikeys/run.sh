#!/usr/bin/env bash
# API-key verification speed, measured in one run on this machine against nginx on the same loopback:
#  - nginx serving a static JSON 200 (the baseline), Coffer's GET /v1/sys/health, and
#    POST /v1/keys/verify for a valid key, driven alternately by wrk with the same threads,
#    connections and duration (three rounds); ratios are of sums over the rounds;
#  - the store holds 1,000,000 keys (`coffer operator keys-fill`); the verify runs present 10,000
#    of them in random order (`verify-10k`) or one key over and over (`verify-1`);
#  - server RSS after the runs.
# Usage: Benchmarks/apikeys/run.sh [path/to/coffer]   (default .build/release/coffer)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
duration=${DURATION:-10s}; connections=${CONNECTIONS:-64}; threads=${THREADS:-2}; keys=${KEYS:-1000000}; rounds=${ROUNDS:-3}
nginx_port=18420; coffer_port=18421
source Benchmarks/lib.sh
start_nginx "$nginx_port" '{"valid":true,"code":"VALID","key_id":"key_0000000000000000000000","tenant":"root"}'

mkdir -p "$work/coffer/home"
export HOME="$work/coffer/home" COFFER_ADDR="http://127.0.0.1:$coffer_port"
start_coffer out1
pkill -f "$work/coffer/data" || true; sleep 0.5
fill_start=$(date +%s%N)
fill=$(COFFER_ROOT_KEY_FILE="$work/coffer/data/root.key" "$bin" operator keys-fill --storage "sqlite://$work/coffer/data/coffer.db" \
    --count "$keys" --sample-file "$work/sample.keys" --sample 10000)
fill_s=$(( ($(date +%s%N) - fill_start) / 1000000000 ))
start_coffer out2
pid=$(pgrep -f "$work/coffer/data" | head -1)
# The caller: an API key holding keys:verify, with a limit high enough not to throttle the benchmark.
caller=$("$bin" keys create --name bench-caller --scope keys:verify --rate-limit 1000000000/1s --quiet)
one=$(head -1 "$work/sample.keys")

cat >"$work/health.lua" <<'LUA'
LUA
cat >"$work/verify-1.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $caller"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"$one","scopes":["orders:read"]}'
LUA
verify_script verify-10k "$caller" sample.keys VALID

# Sanity: the benchmark's verify really answers VALID, and wrong keys do not.
curl -sf -X POST "$COFFER_ADDR/v1/keys/verify" -H "Authorization: Bearer $caller" -d "{\"key\":\"$one\"}" | grep -q '"code":"VALID"'
curl -sf -X POST "$COFFER_ADDR/v1/keys/verify" -H "Authorization: Bearer $caller" -d "{\"key\":\"${one%?????}xxxxx\"}" | grep -q '"code":"MALFORMED"'

nginx_url="http://127.0.0.1:$nginx_port/"; health_url="$COFFER_ADDR/v1/sys/health"; verify_url="$COFFER_ADDR/v1/keys/verify"
# Warm-up: 5 s each at full concurrency (fills the key cache with the 10,000 sampled keys).
measure_rounds 5s "nginx $nginx_url health.lua" "health $health_url health.lua" "verify-10k $verify_url verify-10k.lua" \
    "verify-1 $verify_url verify-1.lua"
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
pkill -f "$work/coffer/data" || true

# Optional: the same verify against `coffer serve` on PostgreSQL (no caches, shared counters), when
# POSTGRES_URL names a database this script may create a database next to.
pg_row="(not run: set POSTGRES_URL to include it)"
if [ -n "${POSTGRES_URL:-}" ]; then
    pg_db="coffer_bench_$$"
    psql "$POSTGRES_URL" -qc "CREATE DATABASE $pg_db" >/dev/null
    pg_url=$(python3 -c "import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path='/$pg_db').geturl())" "$POSTGRES_URL")
    export COFFER_ROOT_KEY=$(head -c 32 /dev/urandom | base64)
    pg_app_url=$(scripts/pg-cluster.sh roles "$pg_url")
    pg_root=$(COFFER_STORAGE_MIGRATION_URL=$pg_url "$bin" operator init --storage "$pg_app_url" | grep -o 'cft_[0-9A-Za-z]*' | head -1)
    (cd "$work/coffer" && exec "$bin" serve --port 18422 --storage "$pg_app_url" </dev/null >pg.out 2>pg.err) &
    wait_for "$work/coffer/pg.err" listening
    pg_caller=$(COFFER_ADDR=http://127.0.0.1:18422 COFFER_TOKEN=$pg_root "$bin" keys create --name c --scope keys:verify --rate-limit 1000000000/1s --quiet)
    pg_key=$(COFFER_ADDR=http://127.0.0.1:18422 COFFER_TOKEN=$pg_root "$bin" keys create --name k --scope orders:read --quiet)
    sed -e "s/$caller/$pg_caller/" -e "s/$one/$pg_key/" "$work/verify-1.lua" >"$work/verify-pg.lua"
    wrk -t"$threads" -c"$connections" -d5s -s "$work/verify-pg.lua" "http://127.0.0.1:18422/v1/keys/verify" >/dev/null
    read -r pg_rps pg_p50 pg_p99 <<<"$(run verify-pg "http://127.0.0.1:18422/v1/keys/verify" verify-pg.lua)"
    pg_row="$pg_rps req/s (p50 $pg_p50 / p99 $pg_p99): $(awk -v a="$pg_rps" -v b="${sum[nginx]}" -v r="$rounds" 'BEGIN {printf "%.1f", 100 * a * r / b}')% of nginx's mean"
    pkill -f "serve --port 18422" || true
    psql "$POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null
fi
stored=$(sqlite3 "$work/coffer/data/coffer.db" "SELECT COUNT(*) FROM api_keys" 2>/dev/null || echo "$keys+")
cost() { awk -v a="${sum[$1]}" -v b="${sum[$2]}" 'BEGIN {printf "%.1f", 100 * (b / a - 1)}'; }

cat >Benchmarks/apikeys/results.md <<RESULTS
# API-key verification vs nginx

Command: \`Benchmarks/apikeys/run.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build, \`coffer dev\` on SQLite with the
audit log on). wrk: $threads threads, $connections connections, $duration per run, on the same loopback; targets alternated
within each round after a 5 s warm-up each. wrk shares the 2 cores with the server under test.

- **nginx**: \`GET /\` answering a static JSON 200 (\`return 200 '{…}'\`, access log off, one worker per core).
- **health**: Coffer's \`GET /v1/sys/health\`.
- **verify-10k**: \`POST /v1/keys/verify\` with \`{"key": …, "scopes": ["orders:read"]}\`, a random one of 10,000 stored keys per
  request, caller authenticated by an \`sk_\` key holding \`keys:verify\`; every answer checked to be \`VALID\`.
- **verify-1**: the same, always the same key.

The store holds $stored API keys (filled with \`coffer operator keys-fill\` in ${fill_s} s: $fill).

| round | nginx req/s (p50 / p99) | health req/s (p50 / p99) | verify-10k req/s (p50 / p99) | verify-1 req/s (p50 / p99) |
| --- | --- | --- | --- | --- |
$rows
**verify-10k: $(pct verify-10k nginx)% of nginx's req/s** (target ≥ 25%); verify-1: $(pct verify-1 nginx)%; health: $(pct health nginx)%.
**verify costs $(cost verify-10k health)% more than health** per request (req/s ratio; target ≤ 20%).
**Server RSS after the runs: $((rss_kb / 1024)) MiB** with $stored keys stored (target ≤ 100 MB).

verify-1 on \`coffer serve\` with PostgreSQL (local cluster, same machine: per request the caller key, its tenant and the verified key are read from the database and
the caller's counter is one upsert; nothing cached): $pg_row.
RESULTS
cat Benchmarks/apikeys/results.md
