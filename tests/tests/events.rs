//! Every sample event in `events/` runs through its function's resolver on DynamoDB Local with
//! the outcome its caller should get, and every function crate has the four sample callers.

use std::path::{Path, PathBuf};

use integration_tests::*;
use lambda_runtime::Diagnostic;
use serde_json::Value;
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn invoke(fx: &Fixture, function: &str, payload: Value) -> Result<Value, Diagnostic> {
    shared::api::dispatch(function, &fx.app, payload).await
}

/// What each sample caller gets from each function on a table where the event's note id does
/// not exist.
fn expected(function: &str, caller: &str) -> &'static str {
    match (caller, function) {
        (_, "public-notes" | "note-author" | "on-public-note-changed") => "ok",
        ("guest", "me") => "ok",
        ("guest", _) | ("unknown-provider", _) => "Unauthorized",
        (_, "update-note" | "delete-note") => "NotFound",
        (_, "set-role") => "Forbidden",
        _ => "ok",
    }
}

#[tokio::test]
async fn every_sample_event_gets_its_callers_outcome() {
    let fx = Fixture::new().await;
    let mut functions: Vec<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    functions.sort();
    // One folder per row of the field table, and nothing else.
    let mut listed: Vec<String> = shared::api::FIELDS
        .iter()
        .map(|e| e.function.to_owned())
        .collect();
    listed.sort();
    assert_eq!(functions, listed, "functions/ and shared::api::FIELDS");
    let mut checked = 0;
    for function in &functions {
        for caller in ["tenant-a", "tenant-b", "guest", "unknown-provider"] {
            let path = root()
                .join("events")
                .join(function)
                .join(format!("{caller}.json"));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let payload: Value = serde_json::from_str(&text).unwrap();
            let got = invoke(&fx, function, payload).await;
            assert_eq!(
                kind(&got),
                expected(function, caller),
                "{function}/{caller}: {got:?}"
            );
            if let Ok(v) = &got {
                match (function.as_str(), caller) {
                    ("me", "tenant-a") => assert_eq!(v["tenantId"], "acme"),
                    ("me", "tenant-b") => assert_eq!(v["tenantId"], "globex"),
                    ("create-note", "tenant-a") => assert_eq!(v["tenantId"], "acme"),
                    ("create-note", "tenant-b") => assert_eq!(v["tenantId"], "globex"),
                    ("tenant", "tenant-a") => assert_eq!(v["id"], "acme"),
                    ("update-my-profile", _) => assert_eq!(v["role"], "MEMBER"),
                    // No profiles exist for these authors, and tenant B's caller gets nothing
                    // of tenant A's note either way.
                    ("note-author", _) => assert_eq!(v, &Value::Null),
                    _ => {}
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * listed.len());

    // The batch sample: three of tenant A's notes in one invocation, three answers — by now the
    // author has a profile (update-my-profile/tenant-a ran above).
    let text =
        std::fs::read_to_string(root().join("events/note-author/batch-tenant-a.json")).unwrap();
    let got = invoke(&fx, "note-author", serde_json::from_str(&text).unwrap())
        .await
        .unwrap();
    let answers = got.as_array().unwrap();
    assert_eq!(answers.len(), 3);
    for a in answers {
        assert_eq!(a["displayName"], "Alice A.");
    }
}

/// `events/` is exactly what `integration_tests::events` builds from the field table and the
/// identity fixtures (`cargo run -p integration-tests --bin gen-events` writes it).
#[test]
fn the_sample_events_are_generated_from_the_field_table() {
    let expected = integration_tests::events::sample_events();
    let mut on_disk = std::collections::BTreeMap::new();
    for dir in std::fs::read_dir(root().join("events")).unwrap() {
        let dir = dir.unwrap().path();
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let name = format!(
                "{}/{}",
                dir.file_name().unwrap().to_string_lossy(),
                file.file_name().unwrap().to_string_lossy()
            );
            on_disk.insert(name, std::fs::read_to_string(&file).unwrap());
        }
    }
    let stale: Vec<&String> = on_disk
        .iter()
        .filter(|(k, v)| expected.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .chain(expected.keys().filter(|k| !on_disk.contains_key(*k)))
        .collect();
    assert!(
        stale.is_empty(),
        "events/ differs from the field table and fixtures in {stale:?}: run \
         `cargo run -p integration-tests --bin gen-events`"
    );
}
