//! Faults between the functions and DynamoDB, through a loopback proxy in front of DynamoDB
//! Local: throttling and 500s are retried, an unreachable or slow DynamoDB is a typed
//! `Unavailable` within the function's budget, nothing is half-written, and a create retried
//! with its clientToken after a timeout makes exactly one note.

use std::time::{Duration, Instant};

use integration_tests::fault_proxy::{Fault, FaultProxy};
use integration_tests::*;
use serde_json::{Value, json};
use shared::api::{CreateNote, GetNote, ListNotes, UpdateNote};

/// The function's own budget (shared::store::with_budget: 5 s per call) plus slack; the
/// template's Lambda timeout is 10 s.
const BOUND: Duration = Duration::from_secs(8);

async fn proxied() -> (Fixture, FaultProxy) {
    let proxy = FaultProxy::start(&ddb_endpoint()).await;
    let fx = Fixture::with(Options {
        endpoint: Some(proxy.endpoint.clone()),
        ..Options::default()
    })
    .await;
    // Warm the registry cache so the faults hit the field's own calls.
    fx.call(ListNotes, &Who::alice(), json!({})).await.unwrap();
    (fx, proxy)
}

async fn count_notes(fx: &Fixture) -> usize {
    fx.call(ListNotes, &Who::alice(), json!({"limit": 100}))
        .await
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_until_they_clear() {
    let (fx, proxy) = proxied().await;
    let alice = Who::alice();
    for fault in [
        Fault::Throttle(2),
        Fault::Throttling(2),
        Fault::ServerError(2),
    ] {
        proxy.set(fault.clone());
        let before = proxy.seen();
        let n = fx
            .call(
                CreateNote,
                &alice,
                json!({"input": {"title": format!("{fault:?}")}}),
            )
            .await;
        assert_eq!(kind(&n), "ok", "{fault:?}: {n:?}");
        assert_eq!(
            proxy.seen() - before,
            3,
            "{fault:?}: two refused attempts and one that went through"
        );
        let id = n.unwrap()["id"].clone();
        proxy.set(fault);
        assert_eq!(
            fx.call(GetNote, &alice, json!({"id": id})).await.unwrap()["id"],
            id
        );
    }
}

#[tokio::test]
async fn persistent_throttling_or_a_dead_dynamodb_is_unavailable_in_bounded_time() {
    let (fx, proxy) = proxied().await;
    let alice = Who::alice();
    let note = fx.create(&alice, "n", "PRIVATE").await;
    let notes_before = count_notes(&fx).await;
    for fault in [
        Fault::Throttle(usize::MAX),
        Fault::Throttling(usize::MAX),
        Fault::ServerError(usize::MAX),
        Fault::Drop,
    ] {
        proxy.set(fault.clone());
        for call in 0..3 {
            let started = Instant::now();
            let r = match call {
                0 => fx.call(CreateNote, &alice, json!({"input": {"title": "lost?"}})).await,
                1 => fx.call(UpdateNote, &alice, json!({"input": {"id": note["id"], "title": "lost?", "expectedVersion": 1}})).await,
                _ => fx.call(GetNote, &alice, json!({"id": note["id"]})).await,
            };
            assert_err(&r, "Unavailable");
            assert!(
                !r.unwrap_err().error_message.contains("Throughput"),
                "internal detail leaked"
            );
            assert!(
                started.elapsed() < BOUND,
                "{fault:?} took {:?}",
                started.elapsed()
            );
        }
        proxy.set(Fault::None);
        // Nothing was half-written.
        assert_eq!(count_notes(&fx).await, notes_before);
        assert_eq!(
            fx.call(GetNote, &alice, json!({"id": note["id"]}))
                .await
                .unwrap(),
            note
        );
    }
}

#[tokio::test]
async fn a_create_retried_after_a_timeout_with_its_client_token_makes_one_note() {
    let (fx, proxy) = proxied().await;
    let alice = Who::alice();
    let before = count_notes(&fx).await;
    // DynamoDB takes the write but answers too late: the caller sees a timeout.
    proxy.set(Fault::SlowResponse(Duration::from_secs(3)));
    let started = Instant::now();
    let args = json!({"input": {"title": "exactly once", "clientToken": "retry-after-timeout"}});
    let first = fx.call(CreateNote, &alice, args.clone()).await;
    assert_err(&first, "Unavailable");
    assert!(started.elapsed() < BOUND);
    proxy.set(Fault::None);
    let retried = fx.call(CreateNote, &alice, args.clone()).await.unwrap();
    let again = fx.call(CreateNote, &alice, args).await.unwrap();
    assert_eq!(retried, again);
    let items: Vec<Value> = fx
        .call(ListNotes, &alice, json!({"limit": 100}))
        .await
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .clone();
    let copies = items
        .iter()
        .filter(|n| n["title"] == "exactly once")
        .count();
    assert_eq!(copies, 1, "one note, not one per attempt");
    assert_eq!(items.len(), before + 1);
}

#[tokio::test]
async fn a_batch_fails_as_a_whole_rather_than_answering_null_for_existing_authors() {
    // Registry cached, then DynamoDB goes away: the BatchGetItem fails.
    let (fx, proxy) = proxied().await;
    let alice = Who::alice();
    let mut e = event("Note", "author", &alice, json!({}));
    e["source"] = json!({"id": "n1", "tenantId": "acme", "ownerId": alice.identity_id()});
    proxy.set(Fault::Drop);
    let r = shared::lambda::call_batch(
        &fx.app,
        &shared::api::NoteAuthor,
        json!([e.clone(), e.clone()]),
    )
    .await;
    assert_err(&r, "Unavailable");

    // Cold registry and DynamoDB unreachable: the caller cannot be resolved, and that is not a
    // refusal either.
    let proxy = FaultProxy::start(&ddb_endpoint()).await;
    let cold = Fixture::with(Options {
        endpoint: Some(proxy.endpoint.clone()),
        ..Options::default()
    })
    .await;
    proxy.set(Fault::Drop);
    let r = shared::lambda::call_batch(&cold.app, &shared::api::NoteAuthor, json!([e])).await;
    assert_err(&r, "Unavailable");
}

#[tokio::test]
async fn unprocessed_keys_are_retried_a_bounded_number_of_times() {
    let (fx, proxy) = proxied().await;
    let alice = Who::alice();
    fx.call(
        shared::api::UpdateMyProfile,
        &alice,
        json!({"input": {"displayName": "Alice"}}),
    )
    .await
    .unwrap();
    let mut e = event("Note", "author", &alice, json!({}));
    e["source"] = json!({"id": "n1", "tenantId": "acme", "ownerId": alice.identity_id()});
    let batch = json!([e.clone(), e]);

    // Twice handed back unprocessed, then served: the answer is complete.
    proxy.set(Fault::UnprocessedKeys(2));
    fx.requests.reset();
    let got = shared::lambda::call_batch(&fx.app, &shared::api::NoteAuthor, batch.clone())
        .await
        .unwrap();
    assert_eq!(got[0]["displayName"], "Alice");
    assert_eq!(got[1]["displayName"], "Alice");
    assert_eq!(fx.requests.count("BatchGetItem"), 3);

    // Never served: a typed error after a bounded number of rounds, not a hang or a null.
    proxy.set(Fault::UnprocessedKeys(usize::MAX));
    fx.requests.reset();
    let started = Instant::now();
    let r = shared::lambda::call_batch(&fx.app, &shared::api::NoteAuthor, batch).await;
    assert_err(&r, "Unavailable");
    assert_eq!(fx.requests.count("BatchGetItem"), 6);
    assert!(started.elapsed() < BOUND);
}
