#!/bin/sh
# install-chromium.sh installs Debian's chromium for the web UI browser tests
# (internal/webui). It does nothing when /usr/bin/chromium already exists.
# It needs root (CI runs as root); otherwise it prints what to run and exits 1.
set -eu
if [ -x /usr/bin/chromium ]; then
	echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || true)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-chromium.sh: not root; run: sudo apt-get install -y chromium" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "installed: $(/usr/bin/chromium --version 2>/dev/null || true)"
