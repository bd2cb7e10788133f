#!/usr/bin/env bash
# scripts/ci-services.sh ports|start|stop: the external servers the test suite
# needs, on loopback, started from this repository's own scripts:
#
#   PostgreSQL (Debian's package)  scripts/pg-test-start.sh / pg-test-stop.sh
#   versitygw (S3-compatible)      scripts/s3-test-start.sh / s3-test-stop.sh
#
# `ports` prints an 'export ...' line choosing CLOUDDRIVE_PG_PORT and
# CLOUDDRIVE_S3_PORT (the first free ports from 55432 and 7070, unless
# already set), which `start` and `stop` read. `start` prints 'export ...'
# lines to eval: CLOUDDRIVE_TEST_PG_DSN, CLOUDDRIVE_TEST_S3 and the AWS_*
# credentials of the S3 server. Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

PG_PORT="${CLOUDDRIVE_PG_PORT:-}"
S3_PORT="${CLOUDDRIVE_S3_PORT:-}"
case "${1:-}" in
ports)
  echo "export CLOUDDRIVE_PG_PORT=${PG_PORT:-$(free_port 55432)} CLOUDDRIVE_S3_PORT=${S3_PORT:-$(free_port 7070)}"
  ;;
start)
  PG_PORT="${PG_PORT:-$(free_port 55432)}"
  S3_PORT="${S3_PORT:-$(free_port 7070)}"
  t0=$SECONDS
  dsn="$(scripts/pg-test-start.sh "$PG_PORT")"
  echo "ci-services: PostgreSQL on 127.0.0.1:$PG_PORT ($((SECONDS - t0)) s)" >&2
  echo "export CLOUDDRIVE_TEST_PG_DSN='$dsn'"
  t0=$SECONDS
  s3env="$(scripts/s3-test-start.sh "$S3_PORT")"
  echo "ci-services: versitygw on 127.0.0.1:$S3_PORT ($((SECONDS - t0)) s)" >&2
  echo "$s3env"
  ;;
stop)
  # Only the servers `start` started: the ports must be given.
  : "${CLOUDDRIVE_PG_PORT:?set by '$0 ports'}" "${CLOUDDRIVE_S3_PORT:?set by '$0 ports'}"
  scripts/s3-test-stop.sh "$CLOUDDRIVE_S3_PORT" || true
  scripts/pg-test-stop.sh "$CLOUDDRIVE_PG_PORT" || true
  ;;
*)
  echo "usage: $0 ports|start|stop" >&2; exit 2 ;;
esac
