#!/usr/bin/env bash
# checkov on template.yaml, offline: checks that do not apply are skipped by id in .checkov.yaml,
# each with its reason; any other finding fails. Installs the pinned checkov into its own
# virtualenv (its dependency pins clash with aws-sam-cli's), once per machine.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CHECKOV_VERSION=3.3.30
VENV="${CHECKOV_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/notes-api/checkov-$CHECKOV_VERSION}"
if ! "$VENV/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
# Nothing from the network: no guideline mapping (also --skip-download in .checkov.yaml), no
# version check against PyPI, no platform API key.
export BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE
unset BC_API_KEY PRISMA_API_URL
"$VENV/bin/checkov" --config-file .checkov.yaml
echo "template: checkov clean"
