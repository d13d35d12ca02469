#!/usr/bin/env bash
# What request signatures cost on a gateway call, in one run on this machine: the same route through
# Coffer called alternately with an sk_ API key and with the seed's simple signature
# (x-signature = hex(HMAC-SHA256(secret, timestamp.METHOD.path.body)), x-timestamp), each signed request
# unique (a fresh path parameter) because every signature is accepted once. wrk's Lua has no HMAC, so
# the signed requests are made beforehand by python3 for each run, within the 30 s window.
# Usage: Benchmarks/gateway/signed.sh [path/to/coffer]   (default .build/release/coffer)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
duration=${DURATION:-10s}; connections=${CONNECTIONS:-64}; threads=${THREADS:-2}; rounds=${ROUNDS:-3}
upstream_port=18450; coffer_port=18452
source Benchmarks/lib.sh

start_nginx "$upstream_port" '{"city":"Bern","temperature":21}'
export HOME="$work/coffer/home" COFFER_ADDR="http://127.0.0.1:$coffer_port"
mkdir -p "$HOME"
start_coffer out
wait_for "$work/coffer/out" '^Ready\.'
secret=bench-signing-secret-0123456789abcdef
"$bin" kv put gateway/weather API_KEY=bench-upstream-key >/dev/null
"$bin" kv put gateway/clients BACKEND="$secret" >/dev/null
cat >"$work/weather.json" <<JSON
{"enabled": true,
 "providers": {"api": {"base_url": "http://127.0.0.1:$upstream_port/v2", "allow_internal": true,
   "credential": {"placement": "header", "name": "X-Api-Key", "secret": "secret/gateway/weather#API_KEY"}}},
 "routes": {"forecast": {"method": "GET", "path": "/forecast/{city}", "provider": "api",
   "path_parameters": {"city": {"type": "string", "maxLength": 40}}}},
 "clients": {"backend": {"key_id": "backend-1", "algorithm": "hmac-sha256", "secret": "secret/gateway/clients#BACKEND"}},
 "anomaly": {"enabled": false}}
JSON
"$bin" gateway project put weather --file "$work/weather.json" >/dev/null
caller=$("$bin" keys create --name bench --scope proxy:call:weather/forecast --rate-limit 1000000000/1s --quiet)
base=/v1/gateway/root/weather/call/forecast
cat >"$work/key.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $caller"
LUA

# sign NAME COUNT: a wrk script whose threads each send their own share of COUNT unique signed requests
# (read from a data file at start: Lua limits a chunk's constants).
sign() {
    python3 - "$work/$1" "$2" "$threads" "$secret" "$base" <<'PY'
import hashlib, hmac, sys, time
path, count, threads, secret, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode(), sys.argv[5]
ts = str(int(time.time()))
tag = format(time.time_ns() % 10**12, "x")
with open(path + ".txt", "w") as out:
    for i in range(count):
        target = f"{base}/{tag}-{i}"
        out.write(f"{target} {hmac.new(secret, f'{ts}.GET.{target}.'.encode(), hashlib.sha256).hexdigest()}\n")
with open(path, "w") as out:
    out.write(f'local ts = "{ts}"\nlocal share = {count // threads}\nlocal counter = 0\nlocal reqs = {{}}\n')
    out.write("""
setup = function(thread) thread:set("id", counter); counter = counter + 1 end
init = function(args)
  local n = 0
  for line in io.lines("%s.txt") do
    if n >= id * share and n < (id + 1) * share then
      local target, sig = line:match("(%%S+) (%%S+)")
      reqs[#reqs + 1] = wrk.format("GET", target, {["x-timestamp"] = ts, ["x-signature"] = sig})
    end
    n = n + 1
  end
  i = 0
end
request = function()
  i = i + 1
  return reqs[i]
end
""" % path)
PY
}

corpus=${CORPUS:-120000}
wrk -t"$threads" -c"$connections" -d3s -s "$work/key.lua" "$COFFER_ADDR$base/Bern" >/dev/null
sign warm.lua "$corpus"
wrk -t"$threads" -c"$connections" -d3s -s "$work/warm.lua" "$COFFER_ADDR$base/Bern" >/dev/null
rows=""
for round in $(seq 1 "$rounds"); do
    read -r krps kp50 kp99 <<<"$(run key "$COFFER_ADDR$base/Bern" key.lua)"
    sign "signed-$round.lua" "$corpus"
    read -r srps sp50 sp99 <<<"$(run signed "$COFFER_ADDR$base/Bern" "signed-$round.lua")"
    sum[key]=$(awk -v a="${sum[key]:-0}" -v b="$krps" 'BEGIN {print a + b}')
    sum[signed]=$(awk -v a="${sum[signed]:-0}" -v b="$srps" 'BEGIN {print a + b}')
    rows="$rows| $round | $krps ($kp50 / $kp99) | $srps ($sp50 / $sp99) |"$'\n'
done

cat >Benchmarks/gateway/signed.md <<RESULTS
# Gateway: signed requests against API keys

Command: \`Benchmarks/gateway/signed.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build, \`coffer dev\` on SQLite, audit on).
wrk: $threads threads, $connections connections, $duration per run, alternated within each of $rounds rounds after warm-ups; the
upstream is nginx returning a static JSON 200 on the same loopback. Both columns call the same route with
header credential injection; "signed" requests carry the seed's simple HMAC signature, each one unique
(a fresh path parameter), checked against the client's secret (KV), its 30 s window, and the shared
nonce table (one insert per request: a replay across instances is refused).

| round | sk_ API key | signed (x-signature) |
| --- | --- | --- |
${rows}
req/s (p50 / p99 latency).

Signed throughput is $(pct signed key) % of the API-key throughput (the target: signing costs at most 15 %).
RESULTS
cat Benchmarks/gateway/signed.md
[ -z "${PROFILE_SIGNED:-}" ] || { sign prof.lua "$corpus"; (wrk -t"$threads" -c"$connections" -d12s -s "$work/prof.lua" "$COFFER_ADDR$base/Bern" >/dev/null &); sleep 2; perf record -F 999 -g -p "$(pgrep -f "$work/coffer/data" | tail -1)" -o /tmp/signed.perf -- sleep 8 >/dev/null 2>&1; sleep 3; }
