#!/usr/bin/env bash
# Fuzz event decoding + caller parsing (+ ids, provider keys, page tokens) for a bounded time:
#   scripts/fuzz.sh [SECONDS]        (default 60)
# Installs cargo-fuzz if missing. Runs on the stable toolchain with --sanitizer none (safe Rust:
# the finding we look for is a panic, which libFuzzer catches without ASan). New corpus entries go
# to fuzz/corpus/ (ignored by git); fuzz/regressions/ holds the inputs worth keeping, which
# `cargo test -p shared` replays on every run. A crash lands in fuzz/artifacts/decode_event/:
# fix it, then copy the input into fuzz/regressions/.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"
SECONDS_TO_RUN="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
mkdir -p corpus/decode_event
cargo fuzz run decode_event --sanitizer none corpus/decode_event regressions -- \
  -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -print_final_stats=1
