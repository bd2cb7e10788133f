#!/usr/bin/env bash
# scripts/bench.sh: clouddrive against nginx on this machine, over loopback.
#
#   scripts/bench.sh            full run: 1 GiB transfers, 4 GiB memory test,
#                               1M-node changes sync (about 15 minutes; needs
#                               about 12 GB of free disk in $TMPDIR)
#   scripts/bench.sh --quick    small sizes, about a minute
#   scripts/bench.sh --sections meta,changes --clients 16   (see clouddrive bench --help)
#   scripts/bench.sh --go       the Go micro-benchmarks, compared with the
#                               baseline in bench/ through benchstat
#   scripts/bench.sh --scale-out --sections changes
#                               also runs the changes section on a throwaway
#                               PostgreSQL and versitygw (scripts/ci-services.sh,
#                               started here and stopped on exit)
#
# nginx (Debian's nginx-light) is installed when missing; it runs in the
# foreground as a child of the benchmark with its own temporary prefix,
# and nothing under /etc is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

GO_BENCH_PKGS=(./internal/filter ./internal/meta/sqlstore ./internal/httpapi ./internal/changes ./internal/blob/localdir ./internal/formdata)
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

if [ "${1:-}" = "--go" ]; then
  out=${2:-bench/new.txt}
  go test -run '^$' -bench . -benchmem -count 6 -timeout 30m "${GO_BENCH_PKGS[@]}" | tee "$out"
  go run "$BENCHSTAT" bench/baseline.txt "$out"
  exit 0
fi

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "installing nginx-light (the reference server)"
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y nginx-light >/dev/null || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y nginx-light >/dev/null; }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=()
for a in "$@"; do
  if [ "$a" = "--scale-out" ]; then
    eval "$(scripts/ci-services.sh ports)"
    export CLOUDDRIVE_PG_PORT CLOUDDRIVE_S3_PORT
    trap 'scripts/ci-services.sh stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
    eval "$(scripts/ci-services.sh start)"
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
    args+=(--db "$CLOUDDRIVE_TEST_PG_DSN" --blobs "s3://clouddrive-bench?endpoint=$CLOUDDRIVE_TEST_S3&region=$AWS_REGION")
  else
    args+=("$a")
  fi
done
set -- "${args[@]}"
go build -o "$tmp/clouddrive" ./cmd/clouddrive
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
fs=$(df -T "$tmp" | awk 'NR==2 {print $2}')
"$tmp/clouddrive" bench --dir "$tmp" --machine "machine: $cpu, $(nproc) CPUs, $mem RAM, $fs file system, $(uname -sr)" "$@"
