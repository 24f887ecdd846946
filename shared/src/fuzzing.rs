//! One entry point that feeds arbitrary bytes through every parser a request meets: the event
//! decoder, the caller parser, provider keys, ids and page tokens. The `cargo fuzz` target
//! (`fuzz/fuzz_targets/decode_event.rs`) calls it, and so does a unit test over the saved
//! regression inputs in `fuzz/regressions/`, so a finding stays fixed without the fuzzer.
//! Its contract: it returns, whatever the input. A panic is a finding.

use serde_json::Value;

use crate::error::AppError;
use crate::event::{Field, ResolverEvent};
use crate::identity::{Caller, ProviderKey, parse_caller, parse_provider};
use crate::notes::NoteId;
use crate::pagination::{Binding, open};
use crate::tenancy::TenantId;

const FIELDS: [Field; 3] = [
    Field {
        type_name: "Query",
        field_name: "note",
    },
    Field {
        type_name: "Mutation",
        field_name: "createNote",
    },
    Field {
        type_name: "Note",
        field_name: "author",
    },
];

pub fn exercise(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        for field in FIELDS {
            if let Ok(e) = ResolverEvent::decode(v.clone(), field) {
                check_caller(parse_caller(e.identity.as_ref(), None));
                check_caller(parse_caller(e.identity.as_ref(), Some("eu-central-1:pool")));
            }
        }
        check_caller(parse_caller(Some(&v), None));
    }
    let text = String::from_utf8_lossy(data);
    if let Ok((key, _)) = parse_provider(&text) {
        // Whatever the event path accepts, an operator can register, and it is key-safe.
        assert!(
            ProviderKey::parse(key.as_str()).is_ok(),
            "accepted key {key} does not re-parse"
        );
        assert!(!key.as_str().contains('#'));
    }
    let _ = ProviderKey::parse(&text);
    if let Ok(id) = NoteId::parse(&text) {
        assert!(!id.as_str().contains('#'));
    }
    let _ = TenantId::parse(&text);
    let b = Binding {
        query: "notes".into(),
        tenant: "acme".into(),
        caller: "c".into(),
    };
    assert!(
        open(b"key", &b, &text).is_err(),
        "a token nobody minted opened"
    );
}

fn check_caller(r: Result<Caller, AppError>) {
    match r {
        Ok(_) | Err(AppError::Unauthorized(_)) => {}
        Err(other) => panic!("untyped caller error {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    /// Every input the fuzzer ever saved (crashes fixed since, and seeds) still passes.
    #[test]
    fn saved_fuzz_inputs_stay_fixed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).expect("fuzz/regressions") {
            let path = entry.unwrap().path();
            super::exercise(&std::fs::read(&path).unwrap());
            n += 1;
        }
        assert!(n > 0, "no regression inputs in {}", dir.display());
    }
}
