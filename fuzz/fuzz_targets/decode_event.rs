//! Arbitrary bytes through event decoding, caller parsing, ids and page tokens
//! (`shared::fuzzing::exercise`). Run: `scripts/fuzz.sh [SECONDS]`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shared::fuzzing::exercise(data));
