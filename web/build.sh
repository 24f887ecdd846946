#!/usr/bin/env bash
# Builds the web app into web/dist: `npm ci` (pinned by package-lock.json; skipped when
# node_modules was installed from this very lock file) and `npm run build` (tsc + vite build).
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
stamp=node_modules/.installed-from-lock
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --silent --no-audit --no-fund
  echo "$want" >"$stamp"
fi
if ! out="$(npm run --silent build 2>&1)"; then echo "$out" >&2; exit 1; fi
