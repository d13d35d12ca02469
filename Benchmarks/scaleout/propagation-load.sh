#!/usr/bin/env bash
# Revocation propagation under load: three `coffer serve` instances on one PostgreSQL (a throwaway
# cluster this script starts); wrk keeps instances B and C busy with KV reads (an `sk_` key whose own
# limit replaces the tier) while propagation.py revokes tokens on A and polls B and C until each refuses.
# Usage: Benchmarks/scaleout/propagation-load.sh [path/to/coffer]   (ROUNDS=1000 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
rounds=${ROUNDS:-1000}; threads=1; connections=${CONNECTIONS:-16}; duration=600s
source Benchmarks/lib.sh
root_dir=$(pwd)
url=$(scripts/pg-cluster.sh start "$work/pg" 18450)
trap 'pkill -f "serve --port 1845[1-3]" || true; pkill -f "wrk -t1" || true; "$root_dir/scripts/pg-cluster.sh" stop "$work/pg"; cleanup' EXIT
psql "$url" -qc "CREATE DATABASE coffer_prop" >/dev/null
owner=${url%/*}/coffer_prop
url=$(scripts/pg-cluster.sh roles "$owner")
export COFFER_ROOT_KEY=$(head -c 32 /dev/urandom | base64) HOME="$work/home"
mkdir -p "$HOME"
root=$(COFFER_STORAGE_MIGRATION_URL=$owner "$bin" operator init --storage "$url" | grep -o 'cft_[0-9A-Za-z]*' | head -1)
for port in 18451 18452 18453; do
    (cd "$work" && exec "$bin" serve --port "$port" --storage "$url" </dev/null >"serve$port.out" 2>"serve$port.err") &
    wait_for "$work/serve$port.err" listening
done
export COFFER_ADDR=http://127.0.0.1:18451 COFFER_TOKEN=$root
caller=$("$bin" keys create --name load --scope kv:read:secret/load --rate-limit 1000000000/1s --quiet)
"$bin" kv put load v=1 >/dev/null
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$caller" >"$work/load.lua"
for port in 18452 18453; do
    wrk -t1 -c"$connections" -d"$duration" -s "$work/load.lua" "http://127.0.0.1:$port/v1/secret/data/load" >"$work/wrk$port.out" 2>&1 &
done
sleep 2
python3 Benchmarks/scaleout/propagation.py "$root" http://127.0.0.1:18451 http://127.0.0.1:18452 http://127.0.0.1:18453 --rounds "$rounds"
pkill -INT -f "wrk -t1" || true; sleep 1
for port in 18452 18453; do echo "load on $port: $(awk '/Requests\/sec/ {print $2}' "$work/wrk$port.out") req/s"; done
