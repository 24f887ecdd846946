#!/usr/bin/env bash
# Cargo's runner for the functions under `cargo lambda watch` (scripts/local.sh sets
# CARGO_TARGET_<host triple>_RUNNER to this file for the watch process only): cargo lambda runs
# each function as `cargo run --bin <name>`, and cargo runs `<runner> target/debug/<name>`. This
# gives the function the credentials of its own role's session ($LOCAL_IAM_DIR/env/<name>.env,
# written by local/iam/principals.mjs), as Lambda gives each function its role's keys in
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. The functions' code learns
# nothing about the local stack. A binary without credentials there is refused rather than run
# with the stack's admin key.
set -euo pipefail
bin="$1"
name="$(basename "$bin")"
env="${LOCAL_IAM_DIR:?LOCAL_IAM_DIR is not set}/env/$name.env"
if [ ! -f "$env" ]; then
  echo "local/iam/run-as-function.sh: no credentials for '$name' in $LOCAL_IAM_DIR/env (not a function of template.yaml?)" >&2
  exit 1
fi
set -a
# shellcheck disable=SC1090
. "$env"
set +a
exec "$@"
