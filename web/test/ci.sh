#!/usr/bin/env bash
# CI: the web app's browser tests against a fresh local stack. Starts scripts/local.sh --port 0 in
# the background (its own process group), waits until it is up and its tour has run (it prints
# the web app's URL before the tour and "Ctrl-C stops ..." after it), runs web/test/run.sh against
# it, and stops the stack.
#   web/test/ci.sh [node --test arguments]
# The notes screen's screenshot goes to a temporary file unless SCREENSHOT says otherwise, so CI
# leaves the committed web/screenshot.png alone.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

tmp="$(mktemp -d)"
log="$tmp/local.log"
stack=""
stop() {
  if [ -n "$stack" ] && kill -0 "$stack" 2>/dev/null; then
    kill -TERM -- "-$stack" 2>/dev/null || kill -TERM "$stack" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$stack" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 130' INT TERM

setsid scripts/local.sh --port 0 >"$log" 2>&1 &
stack=$!
plain() { sed 's/\x1b\[[0-9;]*m//g' "$log"; }
# The first start builds the Rust functions and the app: allow it half an hour.
for _ in $(seq 1 1800); do
  if plain | grep -q '^Ctrl-C stops'; then break; fi
  if ! kill -0 "$stack" 2>/dev/null; then echo "scripts/local.sh exited early:" >&2; cat "$log" >&2; exit 1; fi
  sleep 1
done
WEB_URL="$(plain | sed -n 's/^Web app: *\([^ ]*\).*/\1/p' | head -n1)"
OUTPUTS="$(plain | sed -n 's/^Everything a client needs: *//p' | head -n1)"
if [ -z "$WEB_URL" ] || [ ! -f "$OUTPUTS" ]; then echo "no web app URL or outputs file from scripts/local.sh:" >&2; cat "$log" >&2; exit 1; fi
# A copy: another stack started on this checkout would replace .local/outputs.json.
cp "$OUTPUTS" "$tmp/outputs.json"
echo "stack up: $WEB_URL (outputs $OUTPUTS)" >&2

status=0
OUTPUTS="$tmp/outputs.json" WEB_URL="$WEB_URL" SCREENSHOT="${SCREENSHOT:-$tmp/notes.png}" web/test/run.sh "$@" || status=$?
if [ "$status" != 0 ]; then echo "--- scripts/local.sh log (tail)" >&2; plain | tail -n 60 >&2; fi
exit "$status"
