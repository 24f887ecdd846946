#!/usr/bin/env bash
# `sam build` with the rust-cargolambda build method, then checks that every function got an
# arm64 `bootstrap`. Installs what it needs (aws-sam-cli, cargo-lambda + ziglang from PyPI, the
# aarch64 Rust target). Takes several minutes on 2 cores (one LTO release build per function).
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SAM_VERSION=1.170.0
CARGO_LAMBDA_VERSION=1.9.2
sam --version 2>/dev/null | grep -q "$SAM_VERSION" \
  || python3 -m pip install --quiet --disable-pip-version-check "aws-sam-cli==$SAM_VERSION"
cargo lambda --version 2>/dev/null | grep -q "$CARGO_LAMBDA_VERSION" \
  || python3 -m pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu

export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-central-1}" SAM_CLI_TELEMETRY=0
# rust-cargolambda is a regular build method in SAM CLI 1.170 (no --beta-features).
sam build "$@"

python3 - <<'PY'
import pathlib, re, sys
template = pathlib.Path("template.yaml").read_text()
functions = re.findall(r"^  (\w+Function):\n    Type: AWS::Serverless::Function", template, re.M)
missing = []
for name in functions:
    boot = pathlib.Path(".aws-sam/build") / name / "bootstrap"
    if not boot.is_file():
        missing.append(f"{name}: no bootstrap")
        continue
    head = boot.read_bytes()[:20]
    machine = int.from_bytes(head[18:20], "little")
    if head[:4] != b"\x7fELF" or machine != 183:  # EM_AARCH64
        missing.append(f"{name}: bootstrap is not an arm64 ELF (e_machine={machine})")
    else:
        print(f"{name}: arm64 bootstrap, {boot.stat().st_size // 1024} KiB")
if missing or not functions:
    sys.exit("\n".join(missing) or "no functions found")
print(f"sam build: {len(functions)} passed, 0 failed")
PY
