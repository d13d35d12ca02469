#!/usr/bin/env bash
# Measures `coffer dev` start-up (process start -> "Ready." on stdout) and the idle RSS of the
# server, on this machine, and writes Benchmarks/startup/results.md.
#   Benchmarks/startup/run.sh [path/to/coffer]   (default: .build/release/coffer)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-.build/release/coffer}
[ -x "$bin" ] || { echo "build first: swift build -c release --product coffer" >&2; exit 1; }
runs=${RUNS:-15}
work=$(mktemp -d)
trap 'pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

measure() { # $1 = data dir; prints milliseconds to Ready.
    local out="$work/out.$RANDOM" start end
    start=$(date +%s%N)
    HOME="$work/home" "$bin" dev --port 0 --data-dir "$1" >"$out" 2>/dev/null &
    local pid=$!
    until grep -q '^Ready\.' "$out" 2>/dev/null; do sleep 0.002; done
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000000 )) $pid"
}

first=$(measure "$work/fresh-0"); first_ms=${first%% *}; kill "${first##* }"; wait "${first##* }" 2>/dev/null || true
cold=(); warm=()
for i in $(seq 1 "$runs"); do
    r=$(measure "$work/fresh-$i"); cold+=("${r%% *}"); kill "${r##* }"; wait "${r##* }" 2>/dev/null || true
done
for i in $(seq 1 "$runs"); do
    r=$(measure "$work/fresh-1"); warm+=("${r%% *}"); kill "${r##* }"; wait "${r##* }" 2>/dev/null || true
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

r=$(measure "$work/idle"); pid=${r##* }
sleep 3
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/"$pid"/status)
kill "$pid"; wait "$pid" 2>/dev/null || true

cat >Benchmarks/startup/results.md <<RESULTS
# coffer dev start-up and idle memory

Command: \`Benchmarks/startup/run.sh $bin\` on $(nproc) cores, $(date -u +%Y-%m-%d).
Start-up is wall time from process start to the \`Ready.\` line (server listening), $runs runs each.

| measure | value |
| --- | --- |
| first start, new data dir (creates key, database, root token) | ${first_ms} ms |
| median start, new data dir | $(median "${cold[@]}") ms |
| median start, existing data dir | $(median "${warm[@]}") ms |
| idle RSS after 3 s | $(( rss_kb / 1024 )) MiB (${rss_kb} kB) |
RESULTS
cat Benchmarks/startup/results.md
