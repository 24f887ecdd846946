//! Profiles, roles and the batched `Note.author` on real DynamoDB Local.

use std::collections::BTreeSet;

use integration_tests::*;
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use shared::api::{
    DeleteNote, GetNote, MyProfile, NoteAuthor, SetRole, Tenant, UpdateMyProfile, UpdateNote,
};

fn author_event(who: &Who, note: &Value) -> Value {
    let mut e = event("Note", "author", who, json!({}));
    e["source"] = note.clone();
    e
}

async fn authors(fx: &Fixture, events: Vec<Value>) -> Result<Value, Diagnostic> {
    shared::lambda::call_batch(&fx.app, &NoteAuthor, Value::Array(events)).await
}

async fn name(fx: &Fixture, who: &Who, display_name: &str) -> Value {
    fx.call(
        UpdateMyProfile,
        who,
        json!({"input": {"displayName": display_name}}),
    )
    .await
    .unwrap()
}

async fn set_role(fx: &Fixture, by: &Who, target: &Who, role: &str) -> Result<Value, Diagnostic> {
    fx.call(
        SetRole,
        by,
        json!({"identityId": target.identity_id(), "role": role}),
    )
    .await
}

#[tokio::test]
async fn a_full_batch_of_authors_is_answered_in_order_with_one_batch_get() {
    let fx = Fixture::new().await;
    let (alice, carol, dave, erin, bob) = (
        Who::alice(),
        Who::carol(),
        Who::user(POOL_A, "dave"),
        Who::user(POOL_A, "erin"),
        Who::bob(),
    );
    for (who, n) in [(&alice, "Alice"), (&carol, "Carol"), (&dave, "Dave")] {
        name(&fx, who, n).await;
    }
    let notes = [
        fx.create(&alice, "a", "TENANT").await,
        fx.create(&carol, "c", "TENANT").await,
        fx.create(&dave, "d", "TENANT").await,
    ];
    let foreign = fx.create(&bob, "globex secret", "TENANT").await;
    name(&fx, &bob, "Bob").await;
    let no_profile = fx.create(&erin, "e", "TENANT").await;

    let mut events = Vec::new();
    let mut expected = Vec::new();
    // A full batch: Note.author's MaxBatchSize (100, the largest page).
    for i in 0..100 {
        let (note, want) = match i {
            37 => (&foreign, Value::Null),
            70 => (&no_profile, Value::Null),
            _ => {
                let n = &notes[i % 3];
                (n, json!(["Alice", "Carol", "Dave"][i % 3]))
            }
        };
        events.push(author_event(&alice, note));
        expected.push(want);
    }
    fx.requests.reset();
    let got = authors(&fx, events).await.unwrap();
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), 100);
    for (i, (g, want)) in got.iter().zip(&expected).enumerate() {
        if want.is_null() {
            assert_eq!(g, &Value::Null, "item {i}");
        } else {
            assert_eq!(&g["displayName"], want, "item {i}");
            assert_eq!(g["role"], "MEMBER");
        }
    }
    assert_eq!(
        fx.requests.count("BatchGetItem"),
        1,
        "{:?}",
        fx.requests.snapshot()
    );
    assert_eq!(
        fx.requests.count("GetItem"),
        0,
        "registry reads are cached; no per-note reads"
    );
}

#[tokio::test]
async fn distinct_authors_cost_one_batch_get_per_100() {
    let fx = Fixture::new().await;
    let reader = Who::alice();
    let mut events = Vec::new();
    let mut authors_ids = std::collections::BTreeSet::new();
    for i in 0..150 {
        let who = Who::user(POOL_A, &format!("u{i:03}"));
        name(&fx, &who, &format!("User {i}")).await;
        authors_ids.insert(shared::identity::IdentityId::parse(who.identity_id()).unwrap());
        if i < 60 {
            let note =
                json!({"id": format!("n{i}"), "tenantId": "acme", "ownerId": who.identity_id()});
            events.push(author_event(&reader, &note));
        }
    }
    // The same authors again: duplicates are read once.
    events.extend(events[..40].to_vec());
    fx.requests.reset();
    let got = authors(&fx, events).await.unwrap();
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), 100);
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g["displayName"], format!("User {}", i % 60));
    }
    assert_eq!(
        fx.requests.count("BatchGetItem"),
        1,
        "{:?}",
        fx.requests.snapshot()
    );
    // More distinct authors than one request takes (the store, below any one batch): 2.
    let registry = shared::store::TenantRegistry::new(fx.db().clone(), std::time::Duration::ZERO);
    let acme = registry
        .active_by_id(&shared::tenancy::TenantId::parse("acme").unwrap())
        .await
        .unwrap();
    let store = shared::store::TenantStore::new(fx.db().clone(), acme);
    fx.requests.reset();
    let found = store.get_profiles(&authors_ids).await.unwrap();
    assert_eq!(found.len(), 150);
    assert_eq!(
        fx.requests.snapshot(),
        [("BatchGetItem".to_string(), 2)].into_iter().collect()
    );
}

#[tokio::test]
async fn author_also_resolves_single_events_and_refuses_outsiders() {
    let fx = Fixture::new().await;
    let alice = Who::alice();
    name(&fx, &alice, "Alice").await;
    let note = fx.create(&alice, "n", "PUBLIC").await;
    // Batching off: one event in, one answer out.
    let one = shared::lambda::call_batch(&fx.app, &NoteAuthor, author_event(&alice, &note))
        .await
        .unwrap();
    assert_eq!(one["displayName"], "Alice");
    // A guest or another tenant's user reading acme's public notes gets no author: it is not
    // their tenant's data.
    for who in [Who::guest("g"), Who::bob(), Who::user(POOL_UNKNOWN, "eve")] {
        let got = authors(&fx, vec![author_event(&who, &note)]).await.unwrap();
        assert_eq!(got, json!([null]));
    }
    // A parent note of another tenant handed to acme's user: nothing, and a security log line.
    let mut forged = note.clone();
    forged["tenantId"] = json!("globex");
    assert_eq!(
        authors(&fx, vec![author_event(&alice, &forged)])
            .await
            .unwrap(),
        json!([null])
    );
    // A misrouted batch is refused as a whole.
    let mut wrong = author_event(&alice, &note);
    wrong["info"]["fieldName"] = json!("title");
    assert_err(&authors(&fx, vec![wrong]).await, "ValidationError");
}

#[tokio::test]
async fn profiles_and_tenant() {
    let fx = Fixture::new().await;
    let alice = Who::alice();
    assert_eq!(
        fx.call(MyProfile, &alice, json!({})).await.unwrap(),
        Value::Null
    );
    let p = name(&fx, &alice, "Alice").await;
    assert_eq!(
        (p["role"].clone(), p["displayName"].clone()),
        (json!("MEMBER"), json!("Alice"))
    );
    assert_eq!(p["identityId"], alice.identity_id());
    let p2 = name(&fx, &alice, "Alice B.").await;
    assert_eq!(p2["displayName"], "Alice B.");
    assert_eq!(fx.call(MyProfile, &alice, json!({})).await.unwrap(), p2);
    let t = fx.call(Tenant, &alice, json!({})).await.unwrap();
    assert_eq!(
        t,
        json!({"id": "acme", "name": "Acme Corp", "memberCount": 1})
    );
    assert_eq!(
        fx.call(Tenant, &Who::bob(), json!({})).await.unwrap()["memberCount"],
        0
    );
    for bad in ["", "   ", &"x".repeat(101)] {
        assert_err(
            &fx.call(
                UpdateMyProfile,
                &alice,
                json!({"input": {"displayName": bad}}),
            )
            .await,
            "ValidationError",
        );
    }
    for f in [
        fx.call(MyProfile, &Who::guest("g"), json!({})).await,
        fx.call(Tenant, &Who::guest("g"), json!({})).await,
    ] {
        assert_err(&f, "Unauthorized");
    }
}

#[tokio::test]
async fn concurrent_first_profiles_keep_member_count_exact() {
    let fx = Fixture::new().await;
    let users: Vec<Who> = (0..20)
        .map(|i| Who::user(POOL_A, &format!("c{i:02}")))
        .collect();
    // Every user saves its first profile three times at once.
    let calls = users
        .iter()
        .flat_map(|u| (0..3).map(move |k| (u, k)))
        .map(|(u, k)| {
            let fx = &fx;
            async move {
                fx.call(
                    UpdateMyProfile,
                    u,
                    json!({"input": {"displayName": format!("name {k}")}}),
                )
                .await
            }
        });
    for r in futures::future::join_all(calls).await {
        assert_eq!(kind(&r), "ok", "{r:?}");
    }
    let t = fx.call(Tenant, &users[0], json!({})).await.unwrap();
    assert_eq!(t["memberCount"], 20);
}

#[tokio::test]
async fn admins_change_any_note_of_their_tenant_and_members_only_their_own() {
    let fx = Fixture::new().await;
    let (alice, carol, dave, bob) = (
        Who::alice(),
        Who::carol(),
        Who::user(POOL_A, "dave"),
        Who::bob(),
    );
    grant_admin(&fx, "acme", &alice).await;
    name(&fx, &dave, "Dave").await;
    let shared_note = fx.create(&carol, "tenant note", "TENANT").await;
    let private = fx.create(&carol, "private note", "PRIVATE").await;
    let bobs = fx.create(&bob, "globex note", "TENANT").await;

    // A member may not change another member's notes.
    let upd = |n: &Value, v: i64| json!({"input": {"id": n["id"], "title": "edited", "expectedVersion": v}});
    assert_err(
        &fx.call(UpdateNote, &dave, upd(&shared_note, 1)).await,
        "Forbidden",
    );
    assert_err(
        &fx.call(DeleteNote, &dave, json!({"id": private["id"]}))
            .await,
        "NotFound",
    );

    // An admin may, still bound by versions.
    let edited = fx
        .call(UpdateNote, &alice, upd(&shared_note, 1))
        .await
        .unwrap();
    assert_eq!(
        (edited["title"].clone(), edited["ownerId"].clone()),
        (json!("edited"), shared_note["ownerId"].clone())
    );
    assert_err(
        &fx.call(UpdateNote, &alice, upd(&shared_note, 1)).await,
        "ConflictError",
    );
    // PRIVATE notes are their owner's alone: for an admin, a colleague's PRIVATE note does not
    // exist — on read, on update and on delete, at its current version or a stale one, with
    // exactly the answer a missing note gets.
    assert_eq!(
        fx.call(GetNote, &alice, json!({"id": private["id"]}))
            .await
            .unwrap(),
        Value::Null
    );
    let missing = fx
        .call(DeleteNote, &alice, json!({"id": "no-such-note"}))
        .await
        .unwrap_err();
    let as_missing = |r: Result<Value, Diagnostic>| {
        let e = r.unwrap_err();
        assert_eq!(
            (e.error_type.as_str(), e.error_message.as_str()),
            (missing.error_type.as_str(), missing.error_message.as_str())
        );
    };
    let republish = |v: i64| json!({"input": {"id": private["id"], "visibility": "PUBLIC", "expectedVersion": v}});
    as_missing(fx.call(UpdateNote, &alice, republish(1)).await);
    as_missing(fx.call(UpdateNote, &alice, republish(7)).await);
    as_missing(
        fx.call(
            DeleteNote,
            &alice,
            json!({"id": private["id"], "expectedVersion": 1}),
        )
        .await,
    );
    as_missing(
        fx.call(
            DeleteNote,
            &alice,
            json!({"id": private["id"], "expectedVersion": 7}),
        )
        .await,
    );
    as_missing(
        fx.call(DeleteNote, &alice, json!({"id": private["id"]}))
            .await,
    );
    // Untouched: still carol's, PRIVATE, at version 1.
    assert_eq!(
        fx.call(GetNote, &carol, json!({"id": private["id"]}))
            .await
            .unwrap(),
        private
    );
    // The admin still moderates what it can read: carol's TENANT note goes.
    let gone = fx
        .call(
            DeleteNote,
            &alice,
            json!({"id": shared_note["id"], "expectedVersion": 2}),
        )
        .await
        .unwrap();
    assert_eq!(gone["id"], shared_note["id"]);
    // An admin of acme is nobody in globex.
    assert_err(
        &fx.call(UpdateNote, &alice, upd(&bobs, 1)).await,
        "NotFound",
    );
    assert_err(
        &fx.call(DeleteNote, &alice, json!({"id": bobs["id"]})).await,
        "NotFound",
    );
    assert_eq!(
        fx.call(GetNote, &bob, json!({"id": bobs["id"]}))
            .await
            .unwrap(),
        bobs
    );
}

#[tokio::test]
async fn only_admins_set_roles_and_the_last_admin_stays() {
    let fx = Fixture::new().await;
    let (alice, carol, dave, bob) = (
        Who::alice(),
        Who::carol(),
        Who::user(POOL_A, "dave"),
        Who::bob(),
    );
    grant_admin(&fx, "acme", &alice).await;
    name(&fx, &carol, "Carol").await;
    name(&fx, &dave, "Dave").await;
    name(&fx, &bob, "Bob").await;

    assert_err(&set_role(&fx, &carol, &dave, "ADMIN").await, "Forbidden");
    assert_err(
        &set_role(&fx, &alice, &Who::user(POOL_A, "nobody"), "ADMIN").await,
        "NotFound",
    );
    assert_err(&set_role(&fx, &alice, &bob, "ADMIN").await, "NotFound");
    assert_err(
        &fx.call(
            SetRole,
            &alice,
            json!({"identityId": "a#b", "role": "ADMIN"}),
        )
        .await,
        "ValidationError",
    );
    assert_err(
        &fx.call(
            SetRole,
            &alice,
            json!({"identityId": carol.identity_id(), "role": "OWNER"}),
        )
        .await,
        "ValidationError",
    );

    assert_eq!(
        set_role(&fx, &alice, &carol, "ADMIN").await.unwrap()["role"],
        "ADMIN"
    );
    assert_eq!(
        set_role(&fx, &carol, &alice, "MEMBER").await.unwrap()["role"],
        "MEMBER"
    );
    // Carol is now the only admin: she cannot step down.
    assert_err(
        &set_role(&fx, &carol, &carol, "MEMBER").await,
        "ConflictError",
    );
    assert_err(&set_role(&fx, &alice, &carol, "MEMBER").await, "Forbidden");

    // Two admins demoting each other at once: never zero admins.
    set_role(&fx, &carol, &alice, "ADMIN").await.unwrap();
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            set_role(&fx, &alice, &carol, "MEMBER"),
            set_role(&fx, &carol, &alice, "MEMBER")
        );
        let oks = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(oks, 1, "{a:?} {b:?}");
        for r in [&a, &b] {
            if let Err(d) = r {
                assert!(
                    ["ConflictError", "Forbidden"].contains(&d.error_type.as_str()),
                    "{d:?}"
                );
            }
        }
        // Restore two admins for the next round.
        let (admin, demoted) = if a.is_ok() {
            (&alice, &carol)
        } else {
            (&carol, &alice)
        };
        set_role(&fx, admin, demoted, "ADMIN").await.unwrap();
    }
    let mut admins = BTreeSet::new();
    for w in [&alice, &carol, &dave] {
        if fx.call(MyProfile, w, json!({})).await.unwrap()["role"] == "ADMIN" {
            admins.insert(w.identity_id().to_owned());
        }
    }
    assert_eq!(
        admins.len(),
        2,
        "both admins restored, never fewer than one in between"
    );
}
