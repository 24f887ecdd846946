//! The notes API's behaviour on real DynamoDB Local: CRUD, idempotency, versions, validation,
//! pagination, the tenant cache.

use std::collections::HashSet;
use std::time::Duration;

use integration_tests::*;
use serde_json::{Value, json};
use shared::api::{CreateNote, DeleteNote, GetNote, ListNotes, Me, UpdateNote};
use shared::tenancy::{TenantId, TenantStatus};

#[tokio::test]
async fn create_read_update_delete() {
    let fx = Fixture::new().await;
    let alice = Who::alice();
    let n = fx
        .call(
            CreateNote,
            &alice,
            json!({"input": {"title": "Plan", "body": "text", "visibility": "TENANT"}}),
        )
        .await
        .unwrap();
    assert_eq!(n["tenantId"], "acme");
    assert_eq!(n["ownerId"], alice.identity_id());
    assert_eq!(
        (n["version"].clone(), n["visibility"].clone()),
        (json!(1), json!("TENANT"))
    );
    assert_eq!(n["createdAt"], n["updatedAt"]);

    // Defaults: PRIVATE, no body.
    let d = fx
        .call(CreateNote, &alice, json!({"input": {"title": "bare"}}))
        .await
        .unwrap();
    assert_eq!(
        (d["visibility"].clone(), d["body"].clone()),
        (json!("PRIVATE"), Value::Null)
    );

    assert_eq!(
        fx.call(GetNote, &alice, json!({"id": n["id"]}))
            .await
            .unwrap(),
        n
    );
    assert_eq!(
        fx.call(GetNote, &alice, json!({"id": "does-not-exist"}))
            .await
            .unwrap(),
        Value::Null
    );

    let u = fx
        .call(
            UpdateNote,
            &alice,
            json!({"input": {"id": n["id"], "title": "Plan v2", "expectedVersion": 1}}),
        )
        .await
        .unwrap();
    assert_eq!(
        (u["title"].clone(), u["body"].clone(), u["version"].clone()),
        (json!("Plan v2"), json!("text"), json!(2))
    );
    let u = fx
        .call(
            UpdateNote,
            &alice,
            json!({"input": {"id": n["id"], "body": null, "expectedVersion": 2}}),
        )
        .await
        .unwrap();
    assert_eq!(
        (u["body"].clone(), u["version"].clone()),
        (Value::Null, json!(3))
    );

    let gone = fx
        .call(
            DeleteNote,
            &alice,
            json!({"id": n["id"], "expectedVersion": 3}),
        )
        .await
        .unwrap();
    assert_eq!(gone, u);
    assert_eq!(
        fx.call(GetNote, &alice, json!({"id": n["id"]}))
            .await
            .unwrap(),
        Value::Null
    );
    assert_err(
        &fx.call(DeleteNote, &alice, json!({"id": n["id"]})).await,
        "NotFound",
    );
    assert_err(
        &fx.call(
            UpdateNote,
            &alice,
            json!({"input": {"id": n["id"], "title": "x", "expectedVersion": 3}}),
        )
        .await,
        "NotFound",
    );
}

#[tokio::test]
async fn me_reports_the_caller_and_its_tenant() {
    let fx = Fixture::new().await;
    let me = fx.call(Me, &Who::alice(), json!({})).await.unwrap();
    assert_eq!(me["authenticated"], true);
    assert_eq!(me["tenantId"], "acme");
    assert_eq!(me["provider"], POOL_A);
    assert_eq!(me["identityId"], Who::alice().identity_id());
    assert!(me["userSub"].as_str().is_some_and(|s| !s.is_empty()));
    let me = fx.call(Me, &Who::dana(), json!({})).await.unwrap();
    assert_eq!(
        (
            me["tenantId"].clone(),
            me["provider"].clone(),
            me["userSub"].clone()
        ),
        (json!("globex"), json!(OIDC_B), Value::Null)
    );
}

#[tokio::test]
async fn a_client_token_creates_exactly_one_note() {
    let fx = Fixture::new().await;
    let (alice, carol) = (Who::alice(), Who::carol());
    let args = json!({"input": {"title": "once", "clientToken": "tok-1"}});
    let first = fx.call(CreateNote, &alice, args.clone()).await.unwrap();
    let again = fx.call(CreateNote, &alice, args.clone()).await.unwrap();
    assert_eq!(first, again);
    // The token is the caller's own: another user with the same token gets its own note.
    let carols = fx.call(CreateNote, &carol, args.clone()).await.unwrap();
    assert_ne!(carols["id"], first["id"]);

    // Concurrent retries of one request: one note.
    let args = json!({"input": {"title": "race", "clientToken": "tok-race"}});
    let results = futures_join(&fx, &alice, &args, 8).await;
    let ids: HashSet<String> = results
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    let list = fx
        .call(ListNotes, &alice, json!({"limit": 100}))
        .await
        .unwrap();
    let titles: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["title"].as_str())
        .collect();
    assert_eq!(titles.iter().filter(|t| **t == "race").count(), 1);

    // A token whose note was deleted cannot silently create a second one.
    fx.call(DeleteNote, &alice, json!({"id": first["id"]}))
        .await
        .unwrap();
    assert_err(
        &fx.call(
            CreateNote,
            &alice,
            json!({"input": {"title": "once", "clientToken": "tok-1"}}),
        )
        .await,
        "ConflictError",
    );
    assert_err(
        &fx.call(
            CreateNote,
            &alice,
            json!({"input": {"title": "x", "clientToken": "bad#token"}}),
        )
        .await,
        "ValidationError",
    );
}

/// Runs `n` identical createNote calls concurrently (one task, interleaved I/O).
async fn futures_join(fx: &Fixture, who: &Who, args: &Value, n: usize) -> Vec<Value> {
    let calls = (0..n).map(|_| fx.call(CreateNote, who, args.clone()));
    futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("concurrent create failed: {e:?}")))
        .collect()
}

#[tokio::test]
async fn stale_versions_conflict_and_never_overwrite() {
    let fx = Fixture::new().await;
    let alice = Who::alice();
    let n = fx.create(&alice, "v1", "PRIVATE").await;
    let v2 = fx
        .call(
            UpdateNote,
            &alice,
            json!({"input": {"id": n["id"], "title": "v2", "expectedVersion": 1}}),
        )
        .await
        .unwrap();
    let stale = fx
        .call(
            UpdateNote,
            &alice,
            json!({"input": {"id": n["id"], "title": "lost", "expectedVersion": 1}}),
        )
        .await;
    assert_err(&stale, "ConflictError");
    assert!(stale.unwrap_err().error_message.contains("version 2"));
    assert_err(
        &fx.call(
            DeleteNote,
            &alice,
            json!({"id": n["id"], "expectedVersion": 1}),
        )
        .await,
        "ConflictError",
    );
    assert_eq!(
        fx.call(GetNote, &alice, json!({"id": n["id"]}))
            .await
            .unwrap(),
        v2
    );
}

#[tokio::test]
async fn validation_limits() {
    let fx = Fixture::new().await;
    let alice = Who::alice();
    let create = |input: Value| fx.call(CreateNote, &alice, json!({"input": input}));
    assert_eq!(
        kind(&create(json!({"title": "t".repeat(200), "body": "b".repeat(10_000)})).await),
        "ok"
    );
    assert_eq!(kind(&create(json!({"title": "é".repeat(200)})).await), "ok");
    for bad in [
        json!({"title": ""}),
        json!({"title": "t".repeat(201)}),
        json!({"title": "t", "body": "b".repeat(10_001)}),
        json!({"title": "t", "visibility": "SECRET"}),
        json!({"title": 5}),
        json!({}),
    ] {
        assert_err(&create(bad).await, "ValidationError");
    }
    for limit in [
        json!(0),
        json!(-1),
        json!(101),
        json!(1_000_000_000_000i64),
        json!("ten"),
    ] {
        assert_err(
            &fx.call(ListNotes, &alice, json!({"limit": limit})).await,
            "ValidationError",
        );
    }
    for token in ["", "garbage", "eyJxIjoibm90ZXMifQ.AAAA"] {
        assert_err(
            &fx.call(ListNotes, &alice, json!({"nextToken": token}))
                .await,
            "ValidationError",
        );
    }
    let n = fx.create(&alice, "n", "PRIVATE").await;
    for bad in [
        json!({"id": n["id"], "title": "", "expectedVersion": 1}),
        json!({"id": n["id"], "title": null, "expectedVersion": 1}),
        json!({"id": n["id"], "expectedVersion": 0}),
        json!({"id": n["id"], "title": "x"}),
    ] {
        assert_err(
            &fx.call(UpdateNote, &alice, json!({"input": bad})).await,
            "ValidationError",
        );
    }
    // Rejected writes wrote nothing.
    assert_eq!(
        fx.call(GetNote, &alice, json!({"id": n["id"]}))
            .await
            .unwrap(),
        n
    );
}

#[tokio::test]
async fn pages_cover_every_readable_note_once() {
    let fx = Fixture::new().await;
    let (alice, carol) = (Who::alice(), Who::carol());
    let mut visible_to_carol = HashSet::new();
    for i in 0..23 {
        let vis = if i % 3 == 0 { "PRIVATE" } else { "TENANT" };
        let n = fx.create(&alice, &format!("n{i}"), vis).await;
        if vis == "TENANT" {
            visible_to_carol.insert(n["id"].as_str().unwrap().to_owned());
        }
    }
    for (who, expected) in [(&alice, 23usize), (&carol, visible_to_carol.len())] {
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..20 {
            let mut args = json!({"limit": 5});
            if let Some(t) = &token {
                args["nextToken"] = json!(t);
            }
            let page = fx.call(ListNotes, who, args).await.unwrap();
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 5);
            seen.extend(items.iter().map(|n| n["id"].as_str().unwrap().to_owned()));
            match page["nextToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
        }
        let unique: HashSet<_> = seen.iter().cloned().collect();
        assert_eq!((seen.len(), unique.len()), (expected, expected));
        // Newest first.
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.reverse();
        assert_eq!(seen, sorted);
    }
    // Default page size is 20.
    let page = fx.call(ListNotes, &alice, json!({})).await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn the_tenant_cache_serves_warm_calls_and_expires() {
    let fx = Fixture::with(Options {
        cache_ttl: Duration::from_secs(3),
        ..Options::default()
    })
    .await;
    let alice = Who::alice();
    assert_eq!(kind(&fx.call(ListNotes, &alice, json!({})).await), "ok");
    fx.admin()
        .registry_set_status(&TenantId::parse("acme").unwrap(), TenantStatus::Suspended)
        .await
        .unwrap();
    // Still cached: a warm function does not read the registry on every call.
    assert_eq!(kind(&fx.call(ListNotes, &alice, json!({})).await), "ok");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_err(&fx.call(ListNotes, &alice, json!({})).await, "Forbidden");
}

#[tokio::test]
async fn misrouted_and_malformed_events_are_typed_errors() {
    let fx = Fixture::new().await;
    let alice = Who::alice();
    let wrong_field = event("Query", "notes", &alice, json!({"id": "x"}));
    assert_err(&fx.call_raw(GetNote, wrong_field).await, "ValidationError");
    let wrong_type = event("Mutation", "note", &alice, json!({"id": "x"}));
    assert_err(&fx.call_raw(GetNote, wrong_type).await, "ValidationError");
    for payload in [
        json!(null),
        json!("x"),
        json!({}),
        json!([event("Query", "note", &alice, json!({"id": "x"}))]),
    ] {
        assert_err(&fx.call_raw(GetNote, payload).await, "ValidationError");
    }
    // Guests are refused before their arguments are even looked at.
    let guest_bad_args = event("Query", "note", &Who::guest("g"), json!({"nope": 1}));
    assert_err(&fx.call_raw(GetNote, guest_bad_args).await, "Unauthorized");
    let missing_args = event("Query", "note", &alice, json!(null));
    assert_err(&fx.call_raw(GetNote, missing_args).await, "ValidationError");
    let mut no_args = event("Query", "me", &alice, json!(null));
    assert_eq!(kind(&fx.call_raw(Me, no_args.clone()).await), "ok");
    no_args.as_object_mut().unwrap().remove("arguments");
    assert_eq!(kind(&fx.call_raw(Me, no_args).await), "ok");
}
