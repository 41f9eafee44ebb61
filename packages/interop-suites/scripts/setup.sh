#!/usr/bin/env bash
# Installs what the interop suites need outside npm: a redis-server binary for the
# transport-interop ping matrix (the test starts and stops its own instance on a free loopback
# port; no service is enabled). Idempotent: does nothing when redis-server is already on PATH.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "redis-server present: $(redis-server --version)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "redis-server is missing and apt-get is not available: install redis-server (>= 6) by hand" >&2
  exit 1
fi

SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  SUDO='sudo'
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# The package may start a system service on the default port; the tests do not use it.
if command -v service >/dev/null 2>&1; then
  $SUDO service redis-server stop >/dev/null 2>&1 || true
fi
echo "installed: $(redis-server --version)"
