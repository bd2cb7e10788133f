#!/usr/bin/env bash
# scripts/rclone-compat.sh: runs the real rclone against the server.
#
# rclone v1.65.2 is the last release with the "amazon cloud drive" backend.
# This script builds it once with `go install` (through the Go module proxy,
# unmodified, with the Go toolchain on PATH) into ~/.cache/clouddrive-ci/bin
# ($CLOUDDRIVE_CI_BIN overrides), then runs the rclone end-to-end tests
# (internal/e2e/rclone_test.go: TestRclone, TestRcloneMove, TestRclonePaging,
# TestRcloneTokenRefresh; internal/e2e/connect_test.go: TestRcloneConnect, rclone
# set up by `clouddrive connect rclone` and run through `clouddrive shim`) with
# CLOUDDRIVE_TEST_RCLONE pointing at it.
# Without that variable those tests skip, so `go test ./...` never needs rclone.
#
#   scripts/rclone-compat.sh           build if needed, run the tests
#   scripts/rclone-compat.sh -v        extra arguments go to `go test`
#
# CLOUDDRIVE_TEST_RCLONE_LOGS=DIR keeps every rclone command's -vv log in DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

RCLONE_VERSION=v1.65.2
BIN="${CLOUDDRIVE_CI_BIN:-$HOME/.cache/clouddrive-ci/bin}"
RCLONE="$BIN/rclone"
mkdir -p "$BIN"

have=""
if [ -x "$RCLONE" ]; then
  have="$("$RCLONE" version 2>/dev/null || true)"
  have="${have%%$'\n'*}"   # first line: "rclone v1.65.2-DEV" when built with go install
fi
if [ "$have" != "rclone $RCLONE_VERSION" ] && [ "$have" != "rclone $RCLONE_VERSION-DEV" ]; then
  echo "=== building rclone $RCLONE_VERSION into $BIN (cold: several minutes)"
  start=$(date +%s)
  rm -f "$RCLONE"   # go install will not replace a file that is not a Go binary
  GOBIN="$BIN" go install "github.com/rclone/rclone@$RCLONE_VERSION"
  echo "built in $(( $(date +%s) - start )) s: $("$RCLONE" version | sed -n 1p)"
fi

echo "=== go test -run TestRclone ./internal/e2e/ with $RCLONE"
CLOUDDRIVE_TEST_RCLONE="$RCLONE" go test -run '^TestRclone' -count=1 -timeout 20m "$@" ./internal/e2e/
