#!/usr/bin/env bash
# Gateway speed, measured in one run on this machine on the same loopback:
#   direct       wrk → nginx upstream (a static JSON 200)
#   nginx-proxy  wrk → nginx proxy_pass (keep-alive upstream) → the same upstream
#   health       wrk → Coffer's GET /v1/sys/health
#   gateway      wrk → Coffer /v1/gateway/root/weather/call/forecast/Bern?units=metric with an sk_ key:
#                key check, scope, route match, query schema, KV credential read and header injection,
#                address check, upstream call through a pinned keep-alive client, audit entry
# driven alternately by wrk with the same threads, connections and duration (three rounds).
# Usage: Benchmarks/gateway/run.sh [path/to/coffer]   (default .build/release/coffer)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
duration=${DURATION:-10s}; connections=${CONNECTIONS:-64}; threads=${THREADS:-2}; rounds=${ROUNDS:-3}
upstream_port=18440; proxy_port=18441; coffer_port=18442
source Benchmarks/lib.sh

cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    upstream api { server 127.0.0.1:$upstream_port; keepalive 64; }
    server {
        listen 127.0.0.1:$upstream_port;
        location / { default_type application/json; return 200 '{"city":"Bern","temperature":21}'; }
    }
    server {
        listen 127.0.0.1:$proxy_port;
        location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header X-Api-Key bench-upstream-key; }
    }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"

mkdir -p "$work/coffer/home"
export HOME="$work/coffer/home" COFFER_ADDR="http://127.0.0.1:$coffer_port"
(cd "$work/coffer" && exec "$bin" dev --port "$coffer_port" --data-dir "$work/coffer/data" </dev/null >out 2>err) &
wait_for "$work/coffer/out" '^Ready\.'
pid=$(pgrep -f "$work/coffer/data" | head -1)
"$bin" kv put gateway/weather API_KEY=bench-upstream-key >/dev/null
cat >"$work/weather.json" <<JSON
{"enabled": true,
 "providers": {"api": {"base_url": "http://127.0.0.1:$upstream_port/v2", "allow_internal": true,
   "credential": {"placement": "header", "name": "X-Api-Key", "secret": "secret/gateway/weather#API_KEY"}}},
 "routes": {"forecast": {"method": "GET", "path": "/forecast/{city}", "provider": "api",
   "query": {"units": {"type": "string", "enum": ["metric", "imperial"]}}}}}
JSON
"$bin" gateway project put weather --file "$work/weather.json" >/dev/null
caller=$("$bin" keys create --name bench --scope proxy:call:weather/forecast --rate-limit 1000000000/1s --quiet)
call="$COFFER_ADDR/v1/gateway/root/weather/call/forecast/Bern?units=metric"
curl -sf -H "Authorization: Bearer $caller" "$call" | grep -q temperature

: >"$work/get.lua"
cat >"$work/gateway.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $caller"
response = function(status, headers, body) if status ~= 200 then error("status " .. status .. " " .. body) end end
LUA
targets=(
    "direct http://127.0.0.1:$upstream_port/v2/forecast/Bern?units=metric get.lua"
    "nginx-proxy http://127.0.0.1:$proxy_port/v2/forecast/Bern?units=metric get.lua"
    "health $COFFER_ADDR/v1/sys/health get.lua"
    "gateway $call gateway.lua"
)
measure_rounds 3s "${targets[@]}"
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
p99() { awk '$1=="99%" {print $2}' "$work/$1.out"; }

cat >Benchmarks/gateway/results.md <<RESULTS
# Gateway vs nginx

Command: \`Benchmarks/gateway/run.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build, \`coffer dev\` on SQLite with the
audit log on: every proxied call appends its hash-chained entry before answering). wrk: $threads threads, $connections connections,
$duration per run on the same loopback, targets alternated within each of $rounds rounds after a 3 s warm-up each; wrk, nginx (one
worker) and Coffer share the 2 cores. Upstream: nginx returning a static JSON 200. Caller: an \`sk_\` key with
\`proxy:call:weather/forecast\`; the route validates a query parameter and injects a header credential read from KV.

| round | direct to upstream | nginx proxy_pass | Coffer health | Coffer gateway |
| --- | --- | --- | --- | --- |
${rows}
req/s (p50 / p99 latency).

| ratio (sums over the rounds) | value |
| --- | --- |
| gateway / nginx proxy_pass | $(pct gateway nginx-proxy) % |
| gateway / Coffer health | $(pct gateway health) % |
| gateway / direct | $(pct gateway direct) % |

p99 in the last round: direct $(p99 direct), nginx proxy $(p99 nginx-proxy), gateway $(p99 gateway).
Coffer RSS after the run: $((rss_kb / 1024)) MiB.
RESULTS
cat Benchmarks/gateway/results.md
