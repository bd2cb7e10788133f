#!/usr/bin/env bash
# scripts/s3-test-stop.sh [port]: stop the server s3-test-start.sh started
# on PORT (default 7070), by the pid it recorded, and delete its data.
set -euo pipefail
PORT="${1:-7070}"
DATA="${S3_DATA:-/tmp/s3test-$PORT}"
if [ -f "$DATA.pid" ]; then
  pid="$(cat "$DATA.pid")"
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$DATA.pid"
fi
rm -rf "$DATA" "$DATA.log"
