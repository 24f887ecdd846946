//! The sample events in `events/<function>/<caller>.json`: what AppSync sends each function
//! (Direct Lambda, AWS_IAM, Identity Pool credentials) for four callers, built from the field
//! table ([`shared::api::FIELDS`]: which functions exist and the field each resolves) and the
//! identity fixtures ([`shared::fixtures`]: the one shape of the identity object). Written by
//! `cargo run -p integration-tests --bin gen-events`; `tests/tests/events.rs` fails when the
//! files differ from what this builds.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use shared::fixtures::{guest_identity, user_identity};

const REGION: &str = "eu-central-1";
const NOTE_ID: &str = "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b";
const NOTE_FIELDS: &[&str] = &[
    "id",
    "tenantId",
    "ownerId",
    "title",
    "body",
    "visibility",
    "version",
    "createdAt",
    "updatedAt",
];
const PROFILE_FIELDS: &[&str] = &["identityId", "displayName", "role", "updatedAt"];

/// The sample callers: (file name, provider key or `None` for a guest, identity id suffix, sub).
pub const CALLERS: &[(&str, Option<&str>, &str, Option<&str>)] = &[
    (
        "tenant-a",
        // Registered as tenant "acme" (integration_tests::POOL_A).
        Some("cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1"),
        "a11ce000-0000-4000-8000-00000000000a",
        Some("2f1c5a3e-8a3b-4b9e-9d2a-5f0c1e7d9b11"),
    ),
    (
        "tenant-b",
        // Registered as tenant "globex" (integration_tests::POOL_B).
        Some("cognito-idp.eu-central-1.amazonaws.com/eu-central-1_GlobexPl1"),
        "b0b00000-0000-4000-8000-00000000000b",
        Some("7d4e2c1a-3b5f-4a6d-8e9f-0a1b2c3d4e5f"),
    ),
    ("guest", None, "9e570000-0000-4000-8000-000000000009", None),
    (
        "unknown-provider",
        // Registered nowhere.
        Some("cognito-idp.eu-central-1.amazonaws.com/eu-central-1_NoTenant9"),
        "0000dead-0000-4000-8000-0000000000ff",
        Some("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
    ),
];

fn identity(caller: &str) -> Value {
    let Some(&(_, provider, id, sub)) = CALLERS.iter().find(|c| c.0 == caller) else {
        panic!("no sample caller {caller}");
    };
    let id = format!("{REGION}:{id}");
    match provider {
        Some(provider) => user_identity(provider, &id, sub),
        None => guest_identity(&id),
    }
}

fn with_items(fields: &[&str], under: &str) -> Vec<String> {
    std::iter::once(under.to_owned())
        .chain(fields.iter().map(|f| format!("{under}/{f}")))
        .collect()
}

fn strings(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| (*f).to_owned()).collect()
}

/// Sample arguments and selection of each function. A function the field table lists and this
/// does not is a panic naming it: a new field gets its sample here.
fn sample(function: &str) -> (Value, Vec<String>) {
    let list = || {
        let mut s = with_items(NOTE_FIELDS, "items");
        s.push("nextToken".into());
        s
    };
    match function {
        "me" => (
            json!({}),
            strings(&[
                "identityId",
                "authenticated",
                "tenantId",
                "provider",
                "userSub",
            ]),
        ),
        "get-note" => (json!({"id": NOTE_ID}), strings(NOTE_FIELDS)),
        "list-notes" => (json!({"limit": 10}), list()),
        "public-notes" => (json!({"tenantId": "acme", "limit": 10}), list()),
        "create-note" => (
            json!({"input": {"title": "Quarterly plan", "body": "Ship the multi-tenant notes API.",
                             "visibility": "PRIVATE", "clientToken": "c0ffee00-quarterly-plan"}}),
            strings(NOTE_FIELDS),
        ),
        "update-note" => (
            json!({"input": {"id": NOTE_ID, "title": "Quarterly plan (v2)", "visibility": "TENANT",
                             "expectedVersion": 1}}),
            strings(NOTE_FIELDS),
        ),
        "delete-note" => (
            json!({"id": NOTE_ID, "expectedVersion": 2}),
            strings(NOTE_FIELDS),
        ),
        "my-profile" | "update-my-profile" | "set-role" | "note-author" => (
            match function {
                "update-my-profile" => json!({"input": {"displayName": "Alice A."}}),
                "set-role" => json!({
                    "identityId": format!("{REGION}:ca201000-0000-4000-8000-00000000000c"),
                    "role": "ADMIN"
                }),
                _ => json!({}),
            },
            strings(PROFILE_FIELDS),
        ),
        "tenant" => (json!({}), strings(&["id", "name", "memberCount"])),
        // Subscriptions: the function runs once when a client subscribes and answers its filters.
        "on-note-changed" => {
            let mut s = strings(&["kind", "noteId", "tenantId", "visibility", "revoked"]);
            s.extend(with_items(NOTE_FIELDS, "note"));
            (json!({}), s)
        }
        "on-public-note-changed" => {
            let mut s = strings(&["kind", "noteId"]);
            s.extend(with_items(NOTE_FIELDS, "note"));
            (json!({"tenantId": "acme"}), s)
        }
        other => panic!("tests/src/events.rs: add a sample for the function {other}"),
    }
}

/// A parent note of tenant A's user, as a `Note.author` event carries it in `source`.
fn acme_note(i: u8) -> Value {
    json!({
        "id": format!("0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a{i:02x}"),
        "tenantId": "acme",
        "ownerId": format!("{REGION}:a11ce000-0000-4000-8000-00000000000a"),
        "title": format!("Note {i}"),
        "body": null,
        "visibility": "TENANT",
        "version": 1,
        "createdAt": "2026-11-24T18:00:00.000Z",
        "updatedAt": "2026-11-24T18:00:00.000Z",
    })
}

/// `{ a b { c } }` from AppSync's `selectionSetList` (`b/c` is `c` under `b`).
fn selection_graphql(fields: &[String]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .filter(|f| !f.contains('/'))
        .map(|top| {
            let nested: Vec<&str> = fields
                .iter()
                .filter_map(|f| f.strip_prefix(&format!("{top}/")))
                .collect();
            if nested.is_empty() {
                top.clone()
            } else {
                format!("{top} {{ {} }}", nested.join(" "))
            }
        })
        .collect();
    format!("{{ {} }}", parts.join(" "))
}

/// What `resolvers/invoke.js` sends a function: the Direct Lambda event without `request`,
/// `prev` and `stash` (AppSync would log them with failed fields; the functions never read them).
fn event(
    caller: &str,
    field: shared::event::Field,
    sample: &(Value, Vec<String>),
    source: Value,
) -> Value {
    json!({
        "arguments": sample.0,
        "identity": identity(caller),
        "source": source,
        "info": {
            "parentTypeName": field.type_name,
            "fieldName": field.field_name,
            "variables": {},
            "selectionSetList": sample.1,
            "selectionSetGraphQL": selection_graphql(&sample.1),
        },
    })
}

/// Every sample file, by its path under `events/`, with its JSON text.
pub fn sample_events() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let text = |v: &Value| serde_json::to_string_pretty(v).map(|s| s + "\n");
    for entry in shared::api::FIELDS {
        let sample = sample(entry.function);
        let nested = entry.field.type_name == "Note";
        let source = if nested { acme_note(1) } else { Value::Null };
        for (caller, ..) in CALLERS {
            let e = event(caller, entry.field, &sample, source.clone());
            out.insert(
                format!("{}/{caller}.json", entry.function),
                text(&e).expect("JSON of a sample event"),
            );
        }
        if nested {
            // What AppSync sends with batching on: one array, one event per parent note.
            let batch: Vec<Value> = (0..3)
                .map(|i| event("tenant-a", entry.field, &sample, acme_note(i)))
                .collect();
            out.insert(
                format!("{}/batch-tenant-a.json", entry.function),
                text(&Value::from(batch)).expect("JSON of a sample batch"),
            );
        }
    }
    out
}
