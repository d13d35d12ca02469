#!/usr/bin/env bash
# Login latency of each auth method (userpass with Argon2id, AppRole, JWT with an RS256 key), 1,000
# sequential logins each, on `coffer dev` (SQLite) and `coffer serve` on PostgreSQL as the application
# role, beside health and a plain token creation on the same server; and TLS client-certificate logins
# on `coffer serve` (SQLite) over TLS asking for client certificates. Writes results.md.
# Usage: Benchmarks/identity/run.sh [path/to/coffer]   (POSTGRES_URL optional: else a throwaway cluster)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-.build/release/coffer}")
count=${COUNT:-1000}
coffer_port=18451; pg_port=18452; tls_port=18454
threads=1; connections=1; duration=1s
source Benchmarks/lib.sh
root_dir=$(pwd)
python3 -c "import cryptography" 2>/dev/null || python3 -m pip install -q cryptography

own_cluster=""
pg_where="the server at \$POSTGRES_URL"
if [ -z "${POSTGRES_URL:-}" ]; then
    own_cluster="$work/pg"
    POSTGRES_URL=$(scripts/pg-cluster.sh start "$own_cluster" 18453)
    pg_where="a local cluster the script starts (fsync off, as in the tests)"
fi
db="coffer_identity_$$"
psql "$POSTGRES_URL" -qc "CREATE DATABASE $db" >/dev/null
trap 'pkill -f "serve --port $pg_port" || true; pkill -f "serve --port $tls_port" || true; psql "$POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true;
      [ -n "$own_cluster" ] && "$root_dir/scripts/pg-cluster.sh" stop "$own_cluster"; cleanup' EXIT
pg_url=$(python3 -c "import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path='/$db').geturl())" "$POSTGRES_URL")

mkdir -p "$work/coffer/home" "$work/pgserve/home"
export HOME="$work/coffer/home"
start_coffer out
sqlite_token=$(grep -o 'cft_[0-9A-Za-z]*' "$work/coffer/out" | head -1)
sqlite=$(python3 Benchmarks/identity/logins.py "http://127.0.0.1:$coffer_port" "$sqlite_token" --count "$count")

export HOME="$work/pgserve/home" COFFER_ROOT_KEY=$(head -c 32 /dev/urandom | base64)
pg_app_url=$(scripts/pg-cluster.sh roles "$pg_url")
pg_token=$(COFFER_STORAGE_MIGRATION_URL=$pg_url "$bin" operator init --storage "$pg_app_url" | grep -o 'cft_[0-9A-Za-z]*' | head -1)
(cd "$work/pgserve" && exec "$bin" serve --port "$pg_port" --storage "$pg_app_url" </dev/null >serve.out 2>serve.err) &
wait_for "$work/pgserve/serve.err" listening
postgres=$(python3 Benchmarks/identity/logins.py "http://127.0.0.1:$pg_port" "$pg_token" --count "$count")

# TLS with client certificates: `coffer serve` on SQLite; certificates made by openssl.
certs="$work/certs"; mkdir -p "$certs" "$work/tlsserve/home"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
for ca in ca clientca; do openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=$ca" -keyout "$certs/$ca.key" -out "$certs/$ca.crt" 2>/dev/null; done
printf 'subjectAltName=IP:127.0.0.1\n' >"$certs/server.ext"; printf 'extendedKeyUsage=clientAuth\n' >"$certs/client.ext"
for pair in server:ca client:clientca; do
    name=${pair%%:*}; ca=${pair#*:}
    openssl req "${ec[@]}" -subj "/CN=$name" -keyout "$certs/$name.key" -out "$certs/$name.csr" 2>/dev/null
    openssl x509 -req -in "$certs/$name.csr" -CA "$certs/$ca.crt" -CAkey "$certs/$ca.key" -CAcreateserial -days 1 \
        -extfile "$certs/$name.ext" -out "$certs/$name.crt" 2>/dev/null
done
export HOME="$work/tlsserve/home" COFFER_ROOT_KEY=$(head -c 32 /dev/urandom | base64)
tls_storage="sqlite://$work/tlsserve/coffer.db"
tls_token=$("$bin" operator init --storage "$tls_storage" | grep -o 'cft_[0-9A-Za-z]*' | head -1)
(cd "$work/tlsserve" && COFFER_TLS_CERT_FILE="$certs/server.crt" COFFER_TLS_KEY_FILE="$certs/server.key" \
    COFFER_TLS_REQUEST_CLIENT_CERTIFICATES=true exec "$bin" serve --port "$tls_port" --storage "$tls_storage" </dev/null >serve.out 2>serve.err) &
wait_for "$work/tlsserve/serve.err" listening
certificates=$(python3 Benchmarks/identity/logins.py "https://127.0.0.1:$tls_port" "$tls_token" --count "$count" --cert-dir "$certs")

cat >Benchmarks/identity/results.md <<RESULTS
# Login latency per auth method

Command: \`Benchmarks/identity/run.sh\` ($(nproc) cores, $(date -u +%Y-%m-%d), release build, audit on). One client,
$count sequential requests per target over one keep-alive connection after 20 warm-up requests; the client
(Python), Coffer and PostgreSQL share the cores. PostgreSQL: $pg_where, Coffer as \`coffer_app\` under
Row-Level Security. Every login writes its session token and its audit entry durably before answering.
userpass hashes with Argon2id (19 MiB, 2 passes, 1 lane); AppRole checks a keyed hash; JWT verifies an
RS256 signature against a configured PEM key.

## SQLite (\`coffer dev\`)

$(echo "$sqlite" | grep '^|')

## PostgreSQL (\`coffer serve\`)

$(echo "$postgres" | grep '^|')

## TLS client certificates (\`coffer serve\` on SQLite over TLS, asking for client certificates)

The chain is checked with swift-certificates at each login (no CRL configured); the connection is kept
alive, so the TLS handshake is paid once.

$(echo "$certificates" | grep '^|')
RESULTS
cat Benchmarks/identity/results.md
