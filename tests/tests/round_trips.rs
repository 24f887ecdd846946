//! DynamoDB requests per field on a warm function (the registry cache primed), counted by the
//! SDK interceptor in the fixture. The table "Round trips per field" of docs/performance.md is
//! this test: a change that adds a call fails here.

use integration_tests::*;
use serde_json::{Value, json};
use shared::api::{
    CreateNote, DeleteNote, GetNote, ListNotes, Me, MyProfile, NoteAuthor, PublicNotes, SetRole,
    Tenant, UpdateMyProfile, UpdateNote,
};
use std::collections::BTreeMap;

fn expect(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[tokio::test]
async fn every_field_costs_the_documented_round_trips() {
    let fx = Fixture::new().await;
    let (alice, carol) = (Who::alice(), Who::carol());
    // Warm: the registry answers for both tenants are cached after one call each.
    fx.call(Me, &alice, json!({})).await.unwrap();
    fx.call(Me, &carol, json!({})).await.unwrap();
    fx.call(PublicNotes, &Who::guest("g"), json!({"tenantId": "acme"}))
        .await
        .unwrap();
    fx.call(
        UpdateMyProfile,
        &carol,
        json!({"input": {"displayName": "Carol"}}),
    )
    .await
    .unwrap();
    let note = fx.create(&alice, "n", "TENANT").await;
    for i in 0..5 {
        fx.create(&alice, &format!("more {i}"), "PUBLIC").await;
    }
    // carol's own PRIVATE notes, newer than alice's shared ones.
    for i in 0..2 {
        fx.create(&carol, &format!("mine {i}"), "PRIVATE").await;
    }
    // carol's listing, three at a time: her two PRIVATE notes and the newest shared one, then
    // (her range now leads, is read first and found exhausted) three shared notes, then the
    // last two from the shared range alone.
    let mut carol_pages = Vec::new();
    let mut token = Value::Null;
    for _ in 0..3 {
        let (page, counted) = fx_call(&fx, |fx| {
            fx.call(ListNotes, &carol, json!({"limit": 3, "nextToken": token}))
        })
        .await;
        let page = page.unwrap();
        token = page["nextToken"].clone();
        carol_pages.push((page["items"].as_array().unwrap().len(), counted));
    }
    assert_eq!(
        carol_pages,
        vec![
            (3, expect(&[("Query", 2)])),
            (3, expect(&[("Query", 2)])),
            (2, expect(&[("Query", 1)])),
        ],
        "Query.notes, page by page"
    );
    assert_eq!(token, Value::Null, "the last page says so");

    type Counted = (
        Result<Value, lambda_runtime::Diagnostic>,
        BTreeMap<String, usize>,
    );
    let cases: Vec<(&str, Counted, BTreeMap<String, usize>)> = vec![
        (
            "Query.me",
            fx_call(&fx, |fx| fx.call(Me, &alice, json!({}))).await,
            expect(&[]),
        ),
        (
            "Query.note",
            fx_call(&fx, |fx| {
                fx.call(GetNote, &alice, json!({"id": note["id"]}))
            })
            .await,
            expect(&[("GetItem", 1)]),
        ),
        (
            "Query.notes",
            fx_call(&fx, |fx| fx.call(ListNotes, &alice, json!({"limit": 5}))).await,
            // Her shared range, then her own PRIVATE range down to where that page ended.
            expect(&[("Query", 2)]),
        ),
        (
            "Query.publicNotes",
            fx_call(&fx, |fx| {
                fx.call(PublicNotes, &alice, json!({"tenantId": "acme", "limit": 5}))
            })
            .await,
            expect(&[("Query", 1)]),
        ),
        (
            "Mutation.createNote",
            fx_call(&fx, |fx| {
                fx.call(CreateNote, &alice, json!({"input": {"title": "t"}}))
            })
            .await,
            expect(&[("PutItem", 1)]),
        ),
        (
            "Mutation.createNote (clientToken)",
            fx_call(&fx, |fx| {
                fx.call(
                    CreateNote,
                    &alice,
                    json!({"input": {"title": "t", "clientToken": "k1"}}),
                )
            })
            .await,
            expect(&[("TransactWriteItems", 1)]),
        ),
        (
            "Mutation.updateNote",
            fx_call(&fx, |fx| {
                fx.call(
                    UpdateNote,
                    &alice,
                    json!({"input": {"id": note["id"], "title": "u", "expectedVersion": 1}}),
                )
            })
            .await,
            expect(&[("UpdateItem", 1)]),
        ),
        (
            "Mutation.deleteNote",
            fx_call(&fx, |fx| {
                fx.call(
                    DeleteNote,
                    &alice,
                    json!({"id": note["id"], "expectedVersion": 2}),
                )
            })
            .await,
            expect(&[("DeleteItem", 1)]),
        ),
        (
            "Query.myProfile",
            fx_call(&fx, |fx| fx.call(MyProfile, &carol, json!({}))).await,
            expect(&[("GetItem", 1)]),
        ),
        (
            "Query.tenant",
            fx_call(&fx, |fx| fx.call(Tenant, &carol, json!({}))).await,
            expect(&[("GetItem", 1)]),
        ),
        (
            "Mutation.updateMyProfile (existing)",
            fx_call(&fx, |fx| {
                fx.call(
                    UpdateMyProfile,
                    &carol,
                    json!({"input": {"displayName": "C"}}),
                )
            })
            .await,
            expect(&[("UpdateItem", 1)]),
        ),
        (
            "Mutation.updateMyProfile (first)",
            fx_call(&fx, |fx| {
                fx.call(
                    UpdateMyProfile,
                    &alice,
                    json!({"input": {"displayName": "A"}}),
                )
            })
            .await,
            expect(&[("UpdateItem", 1), ("TransactWriteItems", 1)]),
        ),
        (
            "Mutation.setRole (refused: not admin)",
            fx_call(&fx, |fx| {
                fx.call(
                    SetRole,
                    &carol,
                    json!({"identityId": alice.identity_id(), "role": "ADMIN"}),
                )
            })
            .await,
            expect(&[("GetItem", 1)]),
        ),
    ];
    for (field, result, want) in cases {
        let (result, got) = result;
        assert!(
            result.is_ok() || field.contains("refused"),
            "{field}: {result:?}"
        );
        assert_eq!(got, want, "{field}");
    }

    // Note.author: one BatchGetItem for a page, whatever its size.
    fx.requests.reset();
    let events: Vec<Value> = (0..40)
        .map(|i| {
            let mut e = event("Note", "author", &alice, json!({}));
            e["source"] = json!({"id": format!("n{i}"), "tenantId": "acme", "ownerId": if i % 2 == 0 { alice.identity_id() } else { carol.identity_id() }});
            e
        })
        .collect();
    shared::lambda::call_batch(&fx.app, &NoteAuthor, Value::Array(events))
        .await
        .unwrap();
    assert_eq!(
        fx.requests.snapshot(),
        expect(&[("BatchGetItem", 1)]),
        "Note.author"
    );

    // A cold function adds the registry look-up: one GetItem (the provider item carries its
    // tenant's record), once per provider per TTL.
    let cold = Fixture::new().await;
    cold.call(ListNotes, &alice, json!({})).await.unwrap();
    assert_eq!(
        cold.requests.snapshot(),
        expect(&[("GetItem", 1), ("Query", 2)]),
        "cold Query.notes"
    );
}

/// Runs one call with the counter reset, returning its result and the requests it sent.
async fn fx_call<'a, F, Fut>(
    fx: &'a Fixture,
    f: F,
) -> (
    Result<Value, lambda_runtime::Diagnostic>,
    BTreeMap<String, usize>,
)
where
    F: FnOnce(&'a Fixture) -> Fut,
    Fut: std::future::Future<Output = Result<Value, lambda_runtime::Diagnostic>>,
{
    fx.requests.reset();
    let r = f(fx).await;
    (r, fx.requests.snapshot())
}
