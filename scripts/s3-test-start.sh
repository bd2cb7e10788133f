#!/usr/bin/env bash
# scripts/s3-test-start.sh [port]: start an S3-compatible server (versitygw,
# posix backend) on 127.0.0.1:PORT (default 7070) and print, on stdout,
# 'export ...' lines to eval:
#
#   CLOUDDRIVE_TEST_S3           the endpoint URL (tests use it when set)
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
#   S3_PID                       for scripts/s3-test-stop.sh
#
# versitygw is built once with `go install` at a pinned version (2-3 min on
# 2 cores) into $BIN_DIR (default ~/.cache/clouddrive-ci/bin) and reused
# while that binary reports the pinned version.
set -euo pipefail
PORT="${1:-7070}"
BIN_DIR="${BIN_DIR:-${CLOUDDRIVE_CI_BIN:-$HOME/.cache/clouddrive-ci/bin}}"
VGW_VERSION="${VGW_VERSION:-v1.8.0}"
DATA="${S3_DATA:-/tmp/s3test-$PORT}"
AK=clouddrive-test SK=clouddrive-test-secret
mkdir -p "$BIN_DIR"
stamp="$BIN_DIR/versitygw.version"
if [ ! -x "$BIN_DIR/versitygw" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$VGW_VERSION" ]; then
  echo "s3-test-start: building versitygw $VGW_VERSION (once; cached in $BIN_DIR)" >&2
  GOBIN="$BIN_DIR" GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION" >&2
  echo "$VGW_VERSION" >"$stamp"
fi
if [ -f "$DATA.pid" ]; then kill "$(cat "$DATA.pid")" 2>/dev/null || true; fi
rm -rf "$DATA"; mkdir -p "$DATA"
ROOT_ACCESS_KEY="$AK" ROOT_SECRET_KEY="$SK" \
  nohup "$BIN_DIR/versitygw" --port "127.0.0.1:$PORT" posix "$DATA" >"$DATA.log" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$DATA.pid"
up=
for _ in $(seq 1 100); do
  # Any HTTP reply (403 without credentials) means it is up.
  if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then up=1; break; fi
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$up" ]; then
  echo "s3-test-start: versitygw did not start; log:" >&2; cat "$DATA.log" >&2; exit 1
fi
echo "export CLOUDDRIVE_TEST_S3=http://127.0.0.1:$PORT AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_REGION=us-east-1 S3_PID=$PID"
