# Shared by the benchmark scripts (sourced): a scratch folder cleaned up on exit, an nginx baseline
# serving a static JSON 200, a `coffer dev` server, wrk scripts, and one wrk run reported as
# "req/s p50 p99". Callers set: bin, threads, connections, duration (and coffer_port for start_coffer).

[ -x "$bin" ] || { echo "build first: swift build -c release --product coffer" >&2; exit 1; }
command -v wrk >/dev/null && command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk nginx >/dev/null; }

work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    pkill -f "$work/coffer" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# start_nginx PORT BODY: nginx (one worker per core, access log off) answering BODY with 200 on 127.0.0.1:PORT.
start_nginx() {
    cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$1;
        location / { default_type application/json; return 200 '$2'; }
    }
}
NGINX
    nginx -c "$work/nginx.conf" -p "$work"
}

# run NAME URL SCRIPT -> "rps p50 p99"; fails on any non-2xx answer or socket error.
run() {
    wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$work/$3" "$2" >"$work/$1.out" 2>&1
    if grep -q -E "Non-2xx|error" "$work/$1.out"; then echo "$1: errors:" >&2; cat "$work/$1.out" >&2; exit 1; fi
    echo "$(awk '/Requests\/sec/ {print $2}' "$work/$1.out") $(awk '$1=="50%" {print $2}' "$work/$1.out") $(awk '$1=="99%" {print $2}' "$work/$1.out")"
}

# wait_for FILE PATTERN: until FILE (a server's output) shows PATTERN, at most 30 s.
wait_for() {
    for _ in $(seq 1 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
    echo "no '$2' in $1:" >&2; cat "$1"* >&2; exit 1
}

# measure_rounds WARMUP TARGET...: each TARGET is "name url script". Warms each up for WARMUP, then runs
# them alternately for $rounds rounds; fills `rows` (markdown table rows, "req/s (p50 / p99)") and
# `sum[name]` (req/s summed over the rounds).
declare -A sum
measure_rounds() {
    local warmup=$1 round target name url script row rps p50 p99
    shift
    local targets=("$@")
    for target in "${targets[@]}"; do
        read -r name url script <<<"$target"
        wrk -t"$threads" -c"$connections" -d"$warmup" -s "$work/$script" "$url" >/dev/null
    done
    rows=""
    for round in $(seq 1 "$rounds"); do
        row="| $round |"
        for target in "${targets[@]}"; do
            read -r name url script <<<"$target"
            read -r rps p50 p99 <<<"$(run "$name" "$url" "$script")"
            sum[$name]=$(awk -v a="${sum[$name]:-0}" -v b="$rps" 'BEGIN {print a + b}')
            row="$row $rps ($p50 / $p99) |"
        done
        rows="$rows$row"$'\n'
    done
}

# pct A B: sum[A] as a percentage of sum[B].
pct() { awk -v a="${sum[$1]}" -v b="${sum[$2]}" 'BEGIN {printf "%.1f", 100 * a / b}'; }

# start_coffer OUT: `coffer dev` on $coffer_port with its data in $work/coffer/data, output in $work/coffer/OUT.
# Servers are never started inside $(...): they would inherit its pipe and keep it open.
start_coffer() {
    mkdir -p "$work/coffer"
    (cd "$work/coffer" && exec "$bin" dev --port "$coffer_port" --data-dir "$work/coffer/data" </dev/null >"$1" 2>"$1.err") &
    wait_for "$work/coffer/$1" "^Ready\\."
}

# verify_script NAME CALLER KEYFILE CODE: $work/NAME.lua posting a random key of $work/KEYFILE to
# /v1/keys/verify as CALLER, failing on any answer whose code is not CODE.
verify_script() {
    cat >"$work/$1.lua" <<LUA
local requests = {}
init = function(args)
    local headers = { ["Authorization"] = "Bearer $2", ["Content-Type"] = "application/json" }
    for line in io.lines("$work/$3") do
        requests[#requests + 1] = wrk.format("POST", "/v1/keys/verify", headers, '{"key":"' .. line .. '","scopes":["orders:read"]}')
    end
end
request = function() return requests[math.random(#requests)] end
response = function(status, headers, body)
    if status ~= 200 or not string.find(body, '"code":"$4"', 1, true) then error("not $4: " .. status .. " " .. body) end
end
LUA
}
