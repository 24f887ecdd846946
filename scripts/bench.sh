#!/usr/bin/env bash
# The benchmark (not part of the test command):
#   scripts/bench.sh [--cold N] [--warm N]     (defaults: 30 spawns, 2000 warm invocations)
# Builds the release binaries (and the arm64 deploy artifacts, for their size), installs the
# peers' SDKs (Node.js @aws-sdk/client-dynamodb v3, Python boto3; pinned), starts DynamoDB Local,
# and runs bench/ — which serves a Lambda Runtime API on loopback, spawns each function against
# it, and writes the table to stdout and bench/results.md.
#
#   scripts/bench.sh lists [--sizes 1000,10000,100000] [--readable 1,10,100] [--limits 20,100]
# What listing costs before (the old filtered query) and after (the listing index): loads
# tenants of each size into DynamoDB Local (BatchWriteItem, with a progress line; 100k notes take
# a few minutes), lists everything the viewer may read both ways, and replaces the "Lists"
# section of bench/results.md. CI runs a small version as a test (bench/tests/list_cost.rs).
#
#   scripts/bench.sh zipf [--ops 20000] [--tenants 100] [--s 1.1] [--notes 50000] [--workers 4]
# 100 tenants with Zipf-distributed traffic replayed through the resolvers against DynamoDB
# Local: per-tenant latency and capacity, and where the busiest tenant meets a partition's
# limits (bench/src/bin/simulate-zipf.rs; the "Simulation" section of bench/results.md).
#
#   scripts/bench.sh profile [CALLS]      (default 300)
# Where a warm get-note's instructions go: get-note and its raw function (bench/src/raw.rs)
# under valgrind's callgrind, CALLS warm calls each after 20 uncounted, through the same
# loopback runtime API. Builds both with their symbols in a profile of their own
# (target/profiling/: release plus symbols; a full build the first time), writes
# target/callgrind.*.out and prints the top functions of each
# (callgrind_annotate --inclusive=yes). The "Warm path: profile" section of bench/results.md
# is written from it by hand.
#
#   scripts/bench.sh onboarding [--tenants 1200] [--capacity 50]
# Onboarding at scale, against a running local stack (start `scripts/local.sh` first; this reads
# its .local/outputs.json and .local/operator.env): `tenantctl onboard` for each tenant, as the
# stack's operator, with its AWS calls (onboard's awsCalls) and time; then sign-in and isolation
# between the first, a middle and the last tenant (bench/src/bin/onboarding.rs). Prints the
# summary; the "Onboarding at scale" section of bench/results.md is written from it by hand.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }

# A DynamoDB Local of the run's own, stopped on exit; the environment that points the SDK at it.
start_ddb() {
  work="$(mktemp -d)"
  export DDB_STATE_DIR="$work/ddb"
  trap 'scripts/dynamodb-local.sh stop; rm -rf "$work"' EXIT
  scripts/dynamodb-local.sh start
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$(cat "$DDB_STATE_DIR/ddb.port")"
  export AWS_REGION=eu-central-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
}

if [ "${1:-}" = onboarding ]; then
  shift
  [ -s .local/operator.env ] && [ -s .local/outputs.json ] \
    || { echo "start the local stack first (scripts/local.sh): no .local/operator.env" >&2; exit 1; }
  say "build (tenantctl, notes-client, the onboarding benchmark)"
  cargo build --locked -p tenantctl -p notes-client -p bench --bin onboarding 2>&1 | tail -1
  set -a
  # shellcheck disable=SC1091
  . .local/operator.env
  set +a
  target/debug/onboarding --outputs .local/outputs.json "$@"
  exit 0
fi

if [ "${1:-}" = lists ] || [ "${1:-}" = zipf ]; then
  mode="$1"
  shift
  bin=bench-lists
  [ "$mode" = zipf ] && bin=simulate-zipf
  say "release build ($bin)"
  cargo build --release --locked -p bench --bin "$bin" 2>&1 | tail -1
  start_ddb
  cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs || echo unknown)"
  if [ "$mode" = lists ]; then
    say "list costs"
    target/release/bench-lists --out "$ROOT/bench/results.md" \
      --machine "$cpu, $(nproc) cores, DynamoDB Local on loopback" "$@"
  else
    say "Zipf simulation"
    target/release/simulate-zipf --out "$ROOT/bench/results.md" "$@"
  fi
  exit 0
fi
if [ "${1:-}" = profile ]; then
  calls="${2:-300}"
  say "release build with symbols (get-note, raw-get-item, bench)"
  # The same packages as the default mode's build, so the same features.
  cargo build --locked --config 'profile.profiling.inherits="release"' \
    --config 'profile.profiling.strip=false' --profile profiling \
    -p bench -p get-note -p list-notes -p create-note \
    --bin get-note --bin raw-get-item --bin bench 2>&1 | tail -1
  start_ddb
  rm -f target/callgrind.*.out*
  target/profiling/bench --bins "$ROOT/target/profiling" --profile "$calls"
  for f in target/callgrind.*.out*; do
    say "$f (instructions over $calls warm calls)"
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null | head -60
  done
  exit 0
fi
FUNCS=(get-note list-notes create-note)

say "release build (x86_64, this machine)"
pkgs=(-p bench)
for f in "${FUNCS[@]}"; do pkgs+=(-p "$f"); done
cargo build --release --locked "${pkgs[@]}" --bins 2>&1 | tail -1

say "arm64 deploy artifacts (cargo lambda build --release --arm64 --output-format zip)"
CARGO_LAMBDA_VERSION=1.9.2
cargo lambda --version 2>/dev/null | grep -q "$CARGO_LAMBDA_VERSION" \
  || python3 -m pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
for f in "${FUNCS[@]}"; do
  cargo lambda build --release --arm64 --output-format zip --bin "$f" -p "$f" 2>&1 | tail -1
done

say "peers: Node.js (AWS SDK v3) and Python (boto3)"
(cd bench/peers/node && npm ci --silent --no-audit --no-fund)
if [ ! -x .local/bench-venv/bin/python ]; then python3 -m venv .local/bench-venv; fi
.local/bench-venv/bin/python -m pip install --quiet --disable-pip-version-check boto3==1.44.8

start_ddb

say "benchmark"
target/release/bench --bins "$ROOT/target/release" --lambda-dir "$ROOT/target/lambda" \
  --node "node $ROOT/bench/peers/node/index.mjs" \
  --python "$ROOT/.local/bench-venv/bin/python $ROOT/bench/peers/python/bootstrap.py" \
  --out "$ROOT/bench/results.md" "$@"
