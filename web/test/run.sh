#!/usr/bin/env bash
# The front end's browser tests against a running stack:
#   OUTPUTS=.local/outputs.json WEB_URL=http://127.0.0.1:PORT/ web/test/run.sh
# OUTPUTS: the stack's outputs.json (with demo users: the local stack's); WEB_URL: where
# web/serve.mjs serves the app for that stack. Installs Debian's chromium if it is missing
# (apt-get, as root), installs the web/ packages and builds the app (web/build.sh: npm ci, pinned
# by package-lock.json, and vite build), then runs web/test/*.test.mjs with node --test. Extra
# arguments go to node --test. The server at WEB_URL serves web/dist, so it serves this build.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
WEB="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

: "${OUTPUTS:?set OUTPUTS to the stack's outputs.json}"
: "${WEB_URL:?set WEB_URL to the web app's URL (web/serve.mjs)}"
OUTPUTS="$(cd "$(dirname "$OUTPUTS")" && pwd)/$(basename "$OUTPUTS")"
export OUTPUTS WEB_URL

if [ -z "${CHROMIUM:-}" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    echo "installing Debian's chromium (apt-get)" >&2
    SUDO=""; if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  CHROMIUM="$(command -v chromium)"
fi
export CHROMIUM
echo "browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")" >&2

# The web/ packages (playwright-core among them), pinned; web/build.sh also builds web/dist.
"$WEB/build.sh"

cd "$WEB"
exec node --test --test-concurrency=1 "$@" test/*.test.mjs
