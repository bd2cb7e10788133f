#!/usr/bin/env bash
# scripts/crash.sh: the reliability suite against the real binary.
#
#   scripts/crash.sh            the long run: crash test with 60 SIGKILLs,
#                               256 clients of load for a minute, and the
#                               blob-store fault injection tests
#   scripts/crash.sh --short    the CI version (5 kills, 3 s of load); plain
#                               `go test ./...` runs it too
#   KILLS=200 LOAD=5m scripts/crash.sh   longer still
#   CRASHTEST_SEED=N            repeat a run's random choices
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/clouddrive" ./cmd/clouddrive
export CLOUDDRIVE_BIN="$tmp/clouddrive"

if [ "${1:-}" = "--short" ]; then
  go test -count=1 -v -run 'TestCrashShort|TestLoadShort|TestCheckStoreDetects' ./internal/crashtest/
  go test -count=1 ./internal/blob/faulty/
  exit 0
fi
go test -count=1 -v -timeout 60m -tags reliability -run 'TestCrashLong|TestLoadLong' ./internal/crashtest/ \
  -args -kills "${KILLS:-60}" -load-duration "${LOAD:-1m}"
go test -count=1 -v ./internal/blob/faulty/
