#!/bin/sh
# Debian packages the test suite needs: the PostgreSQL 15 server (the PostgreSQL leg of `make test`)
# and Chromium (the browser journeys in tests/web/, driven by Playwright).
# Installs only what is missing; needs root (or sudo) only when something is missing.
set -eu
missing=""
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing="$missing postgresql-15"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -n "$missing" ] || exit 0
echo "installing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "need root to install:$missing" >&2; exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
