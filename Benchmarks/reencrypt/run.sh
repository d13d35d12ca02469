#!/usr/bin/env bash
# Re-encryption job throughput on both engines, measured in one run on this machine:
#  - ROWS secrets (default 1,000,000) stored in bulk (`coffer operator kv-fill`, sealed as a write
#    seals them), the tenant's data key rotated, then `coffer keyring reencrypt` with BATCH rows per
#    page and CONCURRENCY parallel slices; rows/s from the job's own record (done / (finished - created));
#  - the baseline on the same database, stopped: one SQL UPDATE giving the same rows a new blob of the
#    same length (sqlite3 `randomblob`, psql `blob || ''`), the storage's own floor for rewriting each
#    row once; the ratio is the job's rows/s to it.
# `coffer dev` on SQLite, then `coffer serve` on PostgreSQL (POSTGRES_URL, else a throwaway local cluster).
# Usage: Benchmarks/reencrypt/run.sh [path/to/coffer]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
rows=${ROWS:-1000000}; batch=${BATCH:-5000}; concurrency=${CONCURRENCY:-4}
coffer_port=18450; pg_port=18451
source Benchmarks/lib.sh
root_dir=$(pwd)
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }

# job_figures ID: "done seconds rows_per_second" from the job's created and finished times.
job_figures() {
    curl -sf -H "X-Vault-Token: $COFFER_TOKEN" "$COFFER_ADDR/v1/sys/keyring/jobs/$1" | python3 -c '
import datetime, json, sys
d = json.load(sys.stdin)["data"]
assert d["state"] == "completed", d
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
seconds = t(d["finished_time"]) - t(d["created_time"])
print(d["done"], "%.1f" % seconds, int(d["done"] / seconds))'
}

# reencrypt LOG: rotates, runs the job to its end (plain progress lines into LOG), prints its figures.
reencrypt() {
    "$bin" keyring rotate >/dev/null
    "$bin" keyring reencrypt --batch-size "$batch" --concurrency "$concurrency" >"$1"
    job_figures "$(grep -o 'rej_[0-9a-f]*' "$1" | head -1)"
}

# SQLite: initialise with `coffer dev`, fill while stopped, restart, re-encrypt.
export HOME="$work/coffer/home" COFFER_ADDR="http://127.0.0.1:$coffer_port"
mkdir -p "$HOME"
start_coffer dev1.out
pkill -INT -f "$work/coffer/data" || true; sleep 1
fill_start=$(date +%s%N)
COFFER_ROOT_KEY_FILE="$work/coffer/data/root.key" "$bin" operator kv-fill --storage "sqlite://$work/coffer/data/coffer.db" --count "$rows" >/dev/null
sqlite_fill_s=$(( ($(date +%s%N) - fill_start) / 1000000000 ))
start_coffer dev2.out
export COFFER_TOKEN=$(cat "$HOME/.config/coffer/token")
read -r sqlite_done sqlite_s sqlite_rps <<<"$(reencrypt "$work/sqlite-job.log")"
"$bin" keyring audit --key-version 1 | tail -1 | grep -q "is used by nothing"
pkill -INT -f "$work/coffer/data" || true; sleep 1
base_start=$(date +%s%N)
sqlite3 "$work/coffer/data/coffer.db" "UPDATE kv_versions SET blob = randomblob(length(blob)) WHERE path LIKE 'bench/%';"
sqlite_base_ms=$(( ($(date +%s%N) - base_start) / 1000000 ))
sqlite_base_rps=$(( rows * 1000 / (sqlite_base_ms > 0 ? sqlite_base_ms : 1) ))

# PostgreSQL: a database of its own, migrated by the owner, served as coffer_app under RLS.
own_cluster=""
pg_where="the server at \$POSTGRES_URL"
if [ -z "${POSTGRES_URL:-}" ]; then
    own_cluster="$work/pg"
    POSTGRES_URL=$(scripts/pg-cluster.sh start "$own_cluster" 18452)
    pg_where="a local cluster the script starts (fsync off, as in the tests)"
fi
db="coffer_reencrypt_$$"
psql "$POSTGRES_URL" -qc "CREATE DATABASE $db" >/dev/null
trap 'pkill -f "serve --port $pg_port" || true; psql "$POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true;
      [ -n "$own_cluster" ] && "$root_dir/scripts/pg-cluster.sh" stop "$own_cluster"; cleanup' EXIT
pg_url=$(python3 -c "import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path='/$db').geturl())" "$POSTGRES_URL")
pg_app_url=$(scripts/pg-cluster.sh roles "$pg_url")
export COFFER_ROOT_KEY=$(head -c 32 /dev/urandom | base64) HOME="$work/pg-home"
mkdir -p "$HOME"
COFFER_TOKEN=$(COFFER_STORAGE_MIGRATION_URL=$pg_url "$bin" operator init --storage "$pg_app_url" | grep -o 'cft_[0-9A-Za-z]*' | head -1)
export COFFER_TOKEN COFFER_ADDR="http://127.0.0.1:$pg_port"
fill_start=$(date +%s%N)
"$bin" operator kv-fill --storage "$pg_app_url" --count "$rows" >/dev/null
pg_fill_s=$(( ($(date +%s%N) - fill_start) / 1000000000 ))
(cd "$work" && exec "$bin" serve --port "$pg_port" --storage "$pg_app_url" </dev/null >pg.out 2>pg.err) &
wait_for "$work/pg.err" listening
read -r pg_done pg_s pg_rps <<<"$(reencrypt "$work/pg-job.log")"
pkill -f "serve --port $pg_port" || true; sleep 1
base_start=$(date +%s%N)
psql "$pg_url" -qc "UPDATE kv_versions SET blob = blob || ''::bytea WHERE path LIKE 'bench/%'" >/dev/null
pg_base_ms=$(( ($(date +%s%N) - base_start) / 1000000 ))
pg_base_rps=$(( rows * 1000 / (pg_base_ms > 0 ? pg_base_ms : 1) ))
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", 100 * a / b}'; }

cat >Benchmarks/reencrypt/results.md <<RESULTS
# Re-encryption job throughput

Command: \`Benchmarks/reencrypt/run.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build). Each engine holds
$rows secrets (one version each, \`coffer operator kv-fill\`); the data key is rotated and \`coffer keyring reencrypt
--batch-size $batch --concurrency $concurrency\` runs the job to its end. Rows/s are the job's own: rows done over the time
from its creation to its completion (including the up to 1 s before the leader picks it up, the transit/asset re-seal
and the completion record). Baseline: the same rows given a new blob of the same length by one SQL \`UPDATE\` on the
stopped database (SQLite \`randomblob(length(blob))\`, PostgreSQL \`blob || ''\`) — the storage's floor for rewriting
each row once, with no crypto, no paging and one transaction.

| engine | rows re-encrypted | job time | job rows/s | baseline UPDATE rows/s | job / baseline | target |
| --- | --- | --- | --- | --- | --- | --- |
| SQLite (\`coffer dev\`, WAL, synchronous=FULL) | $sqlite_done | ${sqlite_s} s | **$sqlite_rps** | $sqlite_base_rps | $(ratio "$sqlite_rps" "$sqlite_base_rps")% | ≥ 50,000 |
| PostgreSQL (\`coffer serve\` as coffer_app under RLS; $pg_where) | $pg_done | ${pg_s} s | **$pg_rps** | $pg_base_rps | $(ratio "$pg_rps" "$pg_base_rps")% | ≥ 20,000 |

Fill times: SQLite ${sqlite_fill_s} s, PostgreSQL ${pg_fill_s} s. After each job \`coffer keyring audit --key-version 1\`
reports nothing left under the old key (checked by the script on SQLite; on PostgreSQL by the job's \`done\`).
RESULTS
cat Benchmarks/reencrypt/results.md
