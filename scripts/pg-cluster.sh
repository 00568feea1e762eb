#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for tests (see shared dbbench.md).
#   scripts/pg-cluster.sh start ROOT PORT   -> prints the admin URL on stdout
#   scripts/pg-cluster.sh stop ROOT
set -euo pipefail
cmd=${1:?start|stop}; root=${2:?root folder}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
start)
  port=${3:?port}
  if [ -f "$root/data/postmaster.pid" ]; then as_pg "$PGBIN/pg_ctl" -D "$root/data" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$root"
  mkdir -p "$root/data"
  pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '%s\n' "$pw" > "$root/pw"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$root"; fi
  chmod 700 "$root" "$root/data"
  as_pg "$PGBIN/initdb" -D "$root/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --pwfile="$root/pw" >"$root/initdb.log" 2>&1 \
    || { cat "$root/initdb.log" >&2; exit 1; }
  as_pg "$PGBIN/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$root -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$root/server.log" >&2; exit 1; }
  echo "postgresql+psycopg://postgres:$pw@127.0.0.1:$port/postgres"
  ;;
stop)
  [ -d "$root/data" ] && as_pg "$PGBIN/pg_ctl" -D "$root/data" -m fast stop >/dev/null 2>&1 || true
  ;;
esac
