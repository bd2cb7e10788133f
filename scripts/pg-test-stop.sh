#!/usr/bin/env bash
# scripts/pg-test-stop.sh [port]: stop the cluster pg-test-start.sh started
# on PORT (default 55432) and delete its data. Stopping one that is not
# running is not an error.
set -euo pipefail
cd / # the postgres user may not enter the caller's directory
PGPORT="${1:-55432}"
PGDATA="${PGDATA:-/tmp/pgtest-$PGPORT}"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); else AS=(); fi
if [ -n "$PGBIN" ] && [ -f "$PGDATA/postmaster.pid" ]; then
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
fi
rm -rf "$PGDATA" "$PGDATA.log"
