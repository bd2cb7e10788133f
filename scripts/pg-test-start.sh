#!/usr/bin/env bash
# scripts/pg-test-start.sh [port]: start a throwaway PostgreSQL cluster on
# 127.0.0.1:PORT (default 55432) and print its DSN on stdout.
#
# Uses Debian's package (installed with apt-get if missing). As root the
# server runs as the OS user 'postgres' (initdb and pg_ctl refuse root); as
# any other user it runs as that user. The cluster is created with the C
# collation so text sorts by bytes, as on SQLite, and with fsync off: it is
# for tests only. The server log is $PGDATA.log (kept after a failed start,
# its tail printed). Stop it with scripts/pg-test-stop.sh PORT.
set -euo pipefail
cd / # the postgres user may not enter the caller's directory
PGPORT="${1:-55432}"
PGDATA="${PGDATA:-/tmp/pgtest-$PGPORT}"
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "pg-test-start: PostgreSQL is not installed; run as root to apt-get install it" >&2; exit 1
  fi
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"   # not on PATH on Debian
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); else AS=(); fi
if [ -f "$PGDATA/postmaster.pid" ]; then
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
fi
# The server log lives beside the data directory, not in it, so that a
# failed start (whose cleanup removes the data) keeps it to read.
PGLOG="$PGDATA.log"
start_cluster() {
  rm -rf "$PGDATA"; mkdir -p "$PGDATA"; : >"$PGLOG"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGDATA" "$PGLOG"; fi
  chmod 700 "$PGDATA"
  "${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null &&
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 120 -o \
    "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDATA -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
}
# One retry: a first start on a fresh machine has been seen to fail
# (pg_ctl: could not start server); its log tail says why.
if ! start_cluster; then
  echo "pg-test-start: PostgreSQL did not start on port $PGPORT; server log ($PGLOG):" >&2
  tail -n 30 "$PGLOG" >&2 || true
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
  sleep 2
  echo "pg-test-start: retrying once" >&2
  if ! start_cluster; then
    echo "pg-test-start: PostgreSQL did not start again; server log ($PGLOG):" >&2
    tail -n 30 "$PGLOG" >&2 || true
    exit 1
  fi
fi
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE clouddrive_test" >/dev/null
echo "postgres://postgres@127.0.0.1:$PGPORT/clouddrive_test?sslmode=disable"
