#!/usr/bin/env bash
# scripts/install-fuse.sh: make FUSE mounts possible for the mount tests.
# Installs Debian's fuse3 package (fusermount3) with apt-get when
# fusermount3 is missing and we run as root; otherwise it changes nothing.
# It always says what it did. scripts/test.sh calls it before go test.
set -euo pipefail

if command -v fusermount3 >/dev/null 2>&1; then
  echo "install-fuse: fusermount3 present ($(command -v fusermount3)); nothing to do"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-fuse: fusermount3 missing and not root; not installing (the mount tests will skip)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-fuse: fusermount3 missing and no apt-get; install fuse3 by hand (the mount tests will skip)"
  exit 0
fi
echo "install-fuse: installing fuse3 with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q fuse3 >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q fuse3 >/dev/null; }
echo "install-fuse: installed $(dpkg-query -W -f='fuse3 ${Version}' fuse3 2>/dev/null || echo fuse3); fusermount3 at $(command -v fusermount3)"
