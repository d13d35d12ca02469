# Shared by the benchmark scripts (sourced): a scratch folder cleaned up on exit, an nginx baseline
# serving a static JSON 200, and one wrk run reported as "req/s p50 p99".
# Callers set: threads, connections, duration.

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
