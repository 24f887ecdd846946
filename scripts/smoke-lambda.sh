#!/usr/bin/env bash
# End-to-end through the real Lambda runtime interface: DynamoDB Local + tenantctl +
# `cargo lambda watch`, then `cargo lambda invoke` with the sample events.
# Tenant A creates a note; tenant B fetching the same id gets null; a guest is refused.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CARGO_LAMBDA_VERSION=1.9.2
if ! cargo lambda --version 2>/dev/null | grep -q "$CARGO_LAMBDA_VERSION"; then
  python3 -m pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi

work="$(mktemp -d)"
export DDB_STATE_DIR="$work/ddb"
watch_pid=""
cleanup() {
  if [ -n "$watch_pid" ]; then kill -- "-$watch_pid" 2>/dev/null || kill "$watch_pid" 2>/dev/null || true; fi
  scripts/dynamodb-local.sh stop
  rm -rf "$work"
}
trap cleanup EXIT

scripts/dynamodb-local.sh start
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$(cat "$DDB_STATE_DIR/ddb.port")"
export AWS_REGION=eu-central-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export TABLE_NAME=notes-smoke IDENTITY_POOL_ID=eu-central-1:1cb638b4-0f0c-4078-9fe0-4dbd3582783d

cargo build --locked --quiet -p tenantctl
tenantctl=target/debug/tenantctl
$tenantctl create-table
$tenantctl register --tenant-id acme --name "Acme Corp" --provider cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1
$tenantctl register --tenant-id globex --name Globex --provider cognito-idp.eu-central-1.amazonaws.com/eu-central-1_GlobexPl1

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# Its own process group, so cleanup also stops the function processes it spawns.
setsid cargo lambda watch --invoke-port "$port" >"$work/watch.log" 2>&1 &
watch_pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.2
done

invoke() { cargo lambda invoke "$1" --data-file "$2" --invoke-port "$port"; }
fail() { echo "smoke: $*" >&2; tail -20 "$work/watch.log" >&2; exit 1; }

created="$(invoke create-note events/create-note/tenant-a.json)" || fail "create-note failed"
echo "tenant A created: $created"
id="$(printf '%s' "$created" | python3 -c 'import json,sys; n=json.load(sys.stdin); assert n["tenantId"]=="acme"; print(n["id"])')" \
  || fail "unexpected create-note answer"

with_id() { python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); e["arguments"]["id"]=sys.argv[2]; print(json.dumps(e))' "$1" "$id" >"$2"; }
with_id events/get-note/tenant-a.json "$work/get-a.json"
with_id events/get-note/tenant-b.json "$work/get-b.json"

[ "$(invoke get-note "$work/get-a.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')" = "$id" ] \
  || fail "tenant A cannot read its own note"
[ "$(invoke get-note "$work/get-b.json")" = "null" ] || fail "tenant B saw tenant A's note"
echo "tenant B fetching $id: null"
if out="$(invoke list-notes events/list-notes/guest.json 2>&1)"; then fail "guest listed notes: $out"; fi
printf '%s' "$out" | grep -q Unauthorized || fail "guest got no Unauthorized: $out"
echo "guest listing notes: Unauthorized"
echo "smoke: 3 passed, 0 failed"
