#!/usr/bin/env bash
# Installs Debian's chromium so the console's browser tests (test/ui.test.ts, puppeteer-core) can run; never fails the
# build. Idempotent: does nothing when /usr/bin/chromium is there. Exits 0 in every case and says why it did or did not
# install. puppeteer-core never downloads a browser of its own.
set -u

if [ -x /usr/bin/chromium ]; then
  echo "install-chromium: chromium already installed ($(/usr/bin/chromium --version 2>/dev/null | head -n 1 || echo 'version unknown'))"
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  echo "install-chromium: /usr/bin/chromium is missing and we are not root: the browser tests will be skipped"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: /usr/bin/chromium is missing and apt-get is not available: the browser tests will be skipped"
  exit 0
fi

echo "install-chromium: installing chromium with apt-get"
log="$(mktemp "${TMPDIR:-/tmp}/install-chromium.XXXXXX.log")"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq >"$log" 2>&1; then
  echo "install-chromium: 'apt-get update' failed (see $log): the browser tests will be skipped"
  tail -n 3 "$log" | sed 's/^/install-chromium:   /'
  exit 0
fi
if ! apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >>"$log" 2>&1; then
  echo "install-chromium: 'apt-get install chromium' failed (see $log): the browser tests will be skipped"
  tail -n 3 "$log" | sed 's/^/install-chromium:   /'
  exit 0
fi
rm -f "$log"
echo "install-chromium: installed $(/usr/bin/chromium --version 2>/dev/null | head -n 1 || echo chromium)"
exit 0
