#!/usr/bin/env bash
# Installs podman (+ runc, busybox-static) so the container-backend tests can run; never fails the build.
# Idempotent: does nothing when podman is already on PATH. Exits 0 in every case and says why it did or did not install.
set -u

if command -v podman >/dev/null 2>&1; then
  echo "install-podman: podman already installed ($(podman --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  echo "install-podman: podman is missing and we are not root: container tests will be skipped"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-podman: podman is missing and apt-get is not available: container tests will be skipped"
  exit 0
fi

echo "install-podman: installing podman, runc and busybox-static with apt-get (runc: crun fails on this host's hybrid cgroups)"
log="$(mktemp "${TMPDIR:-/tmp}/install-podman.XXXXXX.log")"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq >"$log" 2>&1; then
  echo "install-podman: 'apt-get update' failed (see $log): container tests will be skipped"
  tail -n 3 "$log" | sed 's/^/install-podman:   /'
  exit 0
fi
if ! apt-get install -y -qq --no-install-recommends podman runc busybox-static >>"$log" 2>&1; then
  echo "install-podman: 'apt-get install podman runc busybox-static' failed (see $log): container tests will be skipped"
  tail -n 3 "$log" | sed 's/^/install-podman:   /'
  exit 0
fi
rm -f "$log"
echo "install-podman: installed $(podman --version 2>/dev/null || echo podman)"
exit 0
