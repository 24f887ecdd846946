//! Issue 10's contracts where the code meets its inputs: undecodable payloads, BatchInvoke
//! bounds, and the registry cost of a batch of many providers.

use integration_tests::*;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use shared::api::{GetNote, NoteAuthor};
use shared::lambda::BatchResolver;

/// A createNote-like event whose title is a lone UTF-16 surrogate escape: valid JSON syntax,
/// not valid Unicode.
fn lone_surrogate_event() -> String {
    let e = event("Query", "note", &Who::alice(), json!({"id": "PLACEHOLDER"}));
    e.to_string().replace("PLACEHOLDER", "\\ud800")
}

#[tokio::test]
async fn an_undecodable_payload_is_a_validation_error_without_crate_names() {
    let fx = Fixture::new().await;
    let text = lone_surrogate_event();
    // What the runtime does first (lambda_runtime's deserializer: serde_path_to_error over a
    // serde_json slice deserializer): into a raw value, which must not fail here…
    let raw: Box<RawValue> =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&text))
            .expect("a raw value skips string escapes");
    // …while decoding it into a `Value` (what the runtime used to do) does fail.
    assert!(serde_json::from_str::<Value>(&text).is_err());
    let err = shared::lambda::call_json(&fx.app, &GetNote, &raw)
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "ValidationError");
    assert!(
        err.error_message.starts_with("ValidationError: "),
        "{}",
        err.error_message
    );
    for crate_name in ["lambda_runtime", "serde", "DeserializeError", "::"] {
        assert!(
            !err.error_message.contains(crate_name),
            "{crate_name} in {}",
            err.error_message
        );
    }
    assert_eq!(fx.requests.total(), 0, "nothing read for a malformed event");
}

/// A batch resolver with AppSync's own ceiling (no MAX_BATCH_SIZE of its own) that answers
/// nothing: what is left to count is admission.
struct Wide;

impl BatchResolver for Wide {
    const FIELD: shared::event::Field = NoteAuthor::FIELD;
    type Source = Value;
    type Output = Value;
    async fn resolve_batch(
        &self,
        _: &shared::lambda::App,
        items: Vec<Option<(shared::lambda::Member, Value)>>,
    ) -> Result<Vec<Option<Value>>, shared::AppError> {
        Ok(items.into_iter().map(|_| None).collect())
    }
}

fn author_event(who: &Who) -> Value {
    let mut e = event("Note", "author", who, json!({}));
    e["source"] = json!({"id": "n1", "tenantId": "acme", "ownerId": who.identity_id()});
    e
}

#[tokio::test]
async fn a_batch_above_max_batch_size_is_refused_unprocessed() {
    let fx = Fixture::new().await;
    let max = NoteAuthor::MAX_BATCH_SIZE;
    let at_max = vec![author_event(&Who::alice()); max];
    let ok = shared::lambda::call_batch(&fx.app, &NoteAuthor, Value::Array(at_max))
        .await
        .unwrap();
    assert_eq!(ok.as_array().map(Vec::len), Some(max));

    fx.requests.reset();
    let over = vec![author_event(&Who::alice()); max + 1];
    let err = shared::lambda::call_batch(&fx.app, &NoteAuthor, Value::Array(over))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "ValidationError");
    assert!(
        err.error_message.contains("MaxBatchSize"),
        "{}",
        err.error_message
    );
    assert_eq!(fx.requests.total(), 0, "a refused batch reads nothing");
    // AppSync's own ceiling is the default for batch resolvers that declare none.
    assert_eq!(Wide::MAX_BATCH_SIZE, 2000);
    let over = vec![author_event(&Who::guest("g")); 2001];
    let err = shared::lambda::call_batch(&fx.app, &Wide, Value::Array(over))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "ValidationError");
}

#[tokio::test]
async fn a_batch_of_many_providers_reads_the_registry_once_per_100_distinct_keys() {
    let fx = Fixture::new().await;
    // 100 items: 70 distinct unknown pools (some named twice), alice (acme) and bob (globex).
    let mut events = Vec::new();
    for i in 0..90 {
        let pool = format!(
            "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Unknown{:03}",
            i % 70
        );
        events.push(author_event(&Who::user(&pool, &format!("u{i}"))));
    }
    for _ in 0..5 {
        events.push(author_event(&Who::alice()));
        events.push(author_event(&Who::bob()));
    }
    // 72 distinct keys → one BatchGetItem for providers, one for the two tenants they name.
    let answers = shared::lambda::call_batch(&fx.app, &NoteAuthor, Value::Array(events))
        .await
        .unwrap();
    assert!(answers.as_array().unwrap().iter().all(Value::is_null));
    assert_eq!(
        fx.requests.count("GetItem"),
        0,
        "{:?}",
        fx.requests.snapshot()
    );
    let registry_reads = fx.requests.count("BatchGetItem");
    // + at most one BatchGetItem for the authors' profiles of each admitted tenant.
    assert!(registry_reads <= 2 + 2, "{:?}", fx.requests.snapshot());

    // A fresh process (cold cache): 250 distinct unknown providers cost ⌈250/100⌉ = 3 reads.
    let cold = Fixture::new().await;
    let events: Vec<Value> = (0..250)
        .map(|i| {
            let pool = format!("cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Cold{i:04}");
            author_event(&Who::user(&pool, "x"))
        })
        .collect();
    // Above NoteAuthor's MaxBatchSize: run it through a resolver with AppSync's ceiling.
    let big = Value::Array(events);
    cold.requests.reset();
    shared::lambda::call_batch(&cold.app, &Wide, big.clone())
        .await
        .unwrap();
    assert_eq!(
        cold.requests.snapshot(),
        [("BatchGetItem".to_string(), 3)].into_iter().collect(),
        "⌈250 distinct / 100⌉ registry reads, nothing else"
    );
    // Warm: the unknown providers are cached, the same batch reads nothing.
    cold.requests.reset();
    shared::lambda::call_batch(&cold.app, &Wide, big)
        .await
        .unwrap();
    assert_eq!(cold.requests.total(), 0);
}
