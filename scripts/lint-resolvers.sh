#!/usr/bin/env bash
# Lints the APPSYNC_JS resolver handlers with AWS's @aws-appsync/eslint-plugin (recommended
# rules, pinned in tools/lint-appsync/package-lock.json): code the AppSync runtime would reject
# at deploy time (try/catch, recursion, unsupported built-ins, ...) fails here first.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
(cd tools/lint-appsync && npm ci --silent --no-audit --no-fund)
tools/lint-appsync/node_modules/.bin/eslint --max-warnings 0 -c tools/lint-appsync/eslint.config.mjs \
  resolvers/*.js
echo "resolvers: @aws-appsync/eslint-plugin recommended clean"
