#!/usr/bin/env bash
# Memory with many slow answers in flight: 1,000 connections each pulling an answer (ANSWER_KB, default
# 256 KiB) that the upstream (nginx, limit_rate RATE_KB, default 32 KiB/s: 8 s per answer) trickles out,
# through Coffer's gateway. The server's RSS is sampled every half second; answers stream through, so
# memory should grow with connections, not with answer sizes (run it again with ANSWER_KB=2048 RATE_KB=256).
# Usage: Benchmarks/gateway/streaming.sh [path/to/coffer]   (default .build/release/coffer)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
connections=${CONNECTIONS:-1000}; threads=${THREADS:-2}; duration=${DURATION:-20s}
answer_kb=${ANSWER_KB:-256}; rate_kb=${RATE_KB:-32}
upstream_port=18460; coffer_port=18462
source Benchmarks/lib.sh
ulimit -n 65536 2>/dev/null || true

mkdir -p "$work/www/v2"
head -c $((answer_kb * 1024)) /dev/urandom >"$work/www/v2/slow"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 8192; }
http {
    access_log off;
    server { listen 127.0.0.1:$upstream_port; root $work/www; location /v2/slow { limit_rate ${rate_kb}k; } }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"
export HOME="$work/coffer/home" COFFER_ADDR="http://127.0.0.1:$coffer_port"
mkdir -p "$HOME"
start_coffer out
pid=$(pgrep -f "$work/coffer/data" | tail -1)
cat >"$work/weather.json" <<JSON
{"enabled": true,
 "providers": {"api": {"base_url": "http://127.0.0.1:$upstream_port/v2", "allow_internal": true, "read_timeout_ms": 60000,
   "max_connections": $connections}},
 "routes": {"slow": {"method": "GET", "path": "/slow", "provider": "api"}},
 "anomaly": {"enabled": false}}
JSON
"$bin" gateway project put weather --file "$work/weather.json" >/dev/null
caller=$("$bin" keys create --name bench --scope proxy:call:weather --rate-limit 1000000000/1s --quiet)
cat >"$work/slow.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $caller"
local shown = false
response = function(status, headers, body)
  if status ~= 200 and not shown then shown = true; io.stderr:write("first refusal: " .. status .. " " .. body .. "\n") end
end
LUA
idle_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
peak_kb=$idle_kb
wrk -t"$threads" -c"$connections" -d"$duration" --timeout 30s --latency -s "$work/slow.lua" \
    "$COFFER_ADDR/v1/gateway/root/weather/call/slow" >"$work/slow.out" 2>&1 &
load=$!
while kill -0 "$load" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    [ "$rss" -gt "$peak_kb" ] && peak_kb=$rss
    sleep 0.5
done
wait "$load" || true
completed=$(awk '/requests in/ {print $1}' "$work/slow.out")
errors=$(grep -E "Socket errors|Non-2xx|first refusal" "$work/slow.out" | tr '\n' ' ' || echo none)
results=${RESULTS:-Benchmarks/gateway/streaming.md}
cat >"$results" <<RESULTS
# Gateway: memory with 1,000 slow answers in flight

Command: \`Benchmarks/gateway/streaming.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build, \`coffer dev\` on SQLite).
wrk: $threads threads, $connections connections for $duration through Coffer to nginx, which serves a $answer_kb KiB answer at
$rate_kb KiB/s. Coffer's RSS sampled every 0.5 s.

| | value |
| --- | --- |
| RSS idle | $((idle_kb / 1024)) MiB |
| RSS peak with $connections answers in flight | $((peak_kb / 1024)) MiB |
| growth per connection | $(( (peak_kb - idle_kb) / connections )) KiB |
| answers completed | $completed |
| wrk errors | $errors |

A buffering proxy would hold up to $connections × $answer_kb KiB = $((connections * answer_kb / 1024)) MiB of answers at once.
RESULTS
cat "$results"
