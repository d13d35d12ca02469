#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for Coffer's tests.
#   scripts/pg-cluster.sh start DIR PORT   -> prints the COFFER_TEST_POSTGRES_URL
#   scripts/pg-cluster.sh restart DIR   (pg_ctl restart -m fast: the chaos test's database restart)
#   scripts/pg-cluster.sh stop DIR
#   scripts/pg-cluster.sh roles URL   (creates the roles of README "Database roles" if missing, as URL's
#                                      superuser, and prints URL with the application role coffer_app)
# Runs the server as the unprivileged `postgres` user when invoked as root (initdb refuses root).
set -euo pipefail
action=${1:?start|stop}
dir=${2:?cluster directory}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bindir" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
roles)
    url=$dir
    psql "$url" -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DO $$ BEGIN CREATE ROLE coffer_system NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE coffer_app LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN
  IF NOT pg_has_role('coffer_app', 'coffer_system', 'MEMBER') THEN GRANT coffer_system TO coffer_app; END IF;
EXCEPTION WHEN OTHERS THEN NULL;  -- a concurrent grant of the same membership
END $$;
SQL
    echo "$url" | sed -E 's#^(postgres(ql)?://)[^@/]*@#\1coffer_app@#'
    ;;
start)
    port=${3:?port}
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /usr/sbin/nologin postgres
        chown postgres "$dir"
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=1000" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
restart)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w restart -l "$dir/server.log" >/dev/null
    ;;
stop)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
esac
