#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (tests/ui), only when it is missing and we are root.
# Playwright drives this browser (executable_path=/usr/bin/chromium); `playwright install` is never run.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "install_chromium: /usr/bin/chromium is missing and we are not root; the browser tests will be skipped" >&2
  exit 0
fi
echo "install_chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
