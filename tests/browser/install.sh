#!/usr/bin/env bash
# Installs what the browser end-to-end test needs, idempotently: Debian's
# chromium (only when /usr/bin/chromium is missing) and this folder's npm
# packages (only when node_modules is missing or older than the lock file).
# Meant for CI on a fresh Debian 12 machine, run as root. Quiet unless a
# step fails, when it prints that step's output.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

quietly() {
  if ! "$@" >"$log" 2>&1; then
    echo "install.sh: '$*' failed:" >&2
    cat "$log" >&2
    exit 1
  fi
}

if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  quietly apt-get update -q
  quietly apt-get install -y -q chromium
fi

# npm ci writes node_modules/.package-lock.json; it is stale when the
# committed lock file is newer.
marker="$here/node_modules/.package-lock.json"
if [ ! -f "$marker" ] || [ "$here/package-lock.json" -nt "$marker" ]; then
  cd "$here"
  quietly npm ci --no-audit --no-fund
fi
