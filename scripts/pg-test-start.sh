#!/usr/bin/env bash
# scripts/pg-test-start.sh [port]: start a throwaway PostgreSQL cluster on
# 127.0.0.1:PORT (default 55432) and print its DSN on stdout.
#
# Uses Debian's package (installed with apt-get if missing). As root the
# server runs as the OS user 'postgres' (initdb and pg_ctl refuse root); as
# any other user it runs as that user. The cluster is created with the C
# collation so text sorts by bytes, as on SQLite, and with fsync off: it is
# for tests only. Stop it with scripts/pg-test-stop.sh PORT.
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
rm -rf "$PGDATA"; mkdir -p "$PGDATA"
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGDATA"; fi
"${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDATA -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE clouddrive_test" >/dev/null
echo "postgres://postgres@127.0.0.1:$PGPORT/clouddrive_test?sslmode=disable"
