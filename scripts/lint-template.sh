#!/usr/bin/env bash
# Offline checks of template.yaml: cfn-lint and `sam validate --lint` (pinned; see docs/operations/deploy.md).
# cfn-lint applies the SAM transform itself; the template needs no ignore_checks.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SAM_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
if ! sam --version 2>/dev/null | grep -q "$SAM_VERSION" || ! cfn-lint --version 2>/dev/null | grep -q "$CFN_LINT_VERSION"; then
  python3 -m pip install --quiet --disable-pip-version-check "aws-sam-cli==$SAM_VERSION" "cfn-lint==$CFN_LINT_VERSION"
fi
# Neither needs AWS access; both want a region, and sam skips its telemetry prompt with this.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-central-1}" SAM_CLI_TELEMETRY=0
cfn-lint template.yaml
sam validate --lint --template-file template.yaml
echo "template: cfn-lint and sam validate --lint clean"
