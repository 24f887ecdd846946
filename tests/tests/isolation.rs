//! Tenant isolation on real DynamoDB Local: nothing of tenant A is visible to or changeable by
//! tenant B, guests, unknown providers, suspended tenants or foreign identity pools.

use integration_tests::*;
use serde_json::{Value, json};
use shared::api::{
    CreateNote, DeleteNote, GetNote, ListNotes, Me, MyProfile, PublicNotes, Tenant, UpdateNote,
};
use shared::tenancy::{TenantId, TenantStatus};

fn ids(conn: &Value) -> Vec<String> {
    conn["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn other_tenant_cannot_get_list_update_delete_or_page_into_notes() {
    let fx = Fixture::new().await;
    let (alice, bob, dana) = (Who::alice(), Who::bob(), Who::dana());
    let private = fx.create(&alice, "private", "PRIVATE").await;
    let shared = fx.create(&alice, "tenant", "TENANT").await;
    let public = fx.create(&alice, "public", "PUBLIC").await;
    for _ in 0..3 {
        fx.create(&alice, "more", "TENANT").await;
    }

    for b in [&bob, &dana] {
        for note in [&private, &shared, &public] {
            let id = note["id"].clone();
            assert_eq!(
                fx.call(GetNote, b, json!({"id": id})).await.unwrap(),
                Value::Null
            );
            let upd = fx
                .call(
                    UpdateNote,
                    b,
                    json!({"input": {"id": id, "title": "pwned", "expectedVersion": 1}}),
                )
                .await;
            assert_err(&upd, "NotFound");
            assert_err(&fx.call(DeleteNote, b, json!({"id": id})).await, "NotFound");
            assert_err(
                &fx.call(DeleteNote, b, json!({"id": id, "expectedVersion": 1}))
                    .await,
                "NotFound",
            );
        }
        let list = fx.call(ListNotes, b, json!({})).await.unwrap();
        assert_eq!(ids(&list), Vec::<String>::new());
    }

    // A page token of alice's is refused for bob (another tenant) and for carol (another caller).
    let page = fx
        .call(ListNotes, &alice, json!({"limit": 2}))
        .await
        .unwrap();
    let token = page["nextToken"]
        .as_str()
        .expect("a second page")
        .to_owned();
    for other in [&bob, &Who::carol()] {
        let r = fx
            .call(ListNotes, other, json!({"limit": 2, "nextToken": token}))
            .await;
        assert_err(&r, "ValidationError");
    }
    // Nor may it continue a different query.
    let r = fx
        .call(
            PublicNotes,
            &bob,
            json!({"tenantId": "acme", "nextToken": token}),
        )
        .await;
    assert_err(&r, "ValidationError");

    // Nothing changed for alice.
    for note in [&private, &shared, &public] {
        let got = fx
            .call(GetNote, &alice, json!({"id": note["id"]}))
            .await
            .unwrap();
        assert_eq!(&got, note);
    }
    // Bob's own notes live in bob's tenant and alice cannot see them.
    let bobs = fx.create(&bob, "bob's", "TENANT").await;
    assert_eq!(bobs["tenantId"], "globex");
    assert_eq!(
        fx.call(GetNote, &alice, json!({"id": bobs["id"]}))
            .await
            .unwrap(),
        Value::Null
    );
    let dana_sees = fx
        .call(GetNote, &dana, json!({"id": bobs["id"]}))
        .await
        .unwrap();
    assert_eq!(
        dana_sees["id"], bobs["id"],
        "two providers of one tenant share its notes"
    );
}

#[tokio::test]
async fn same_tenant_rules_private_shared_and_owner_only_writes() {
    let fx = Fixture::new().await;
    let (alice, carol) = (Who::alice(), Who::carol());
    let private = fx.create(&alice, "private", "PRIVATE").await;
    let shared = fx.create(&alice, "tenant", "TENANT").await;

    assert_eq!(
        fx.call(GetNote, &carol, json!({"id": private["id"]}))
            .await
            .unwrap(),
        Value::Null
    );
    assert_eq!(
        fx.call(GetNote, &carol, json!({"id": shared["id"]}))
            .await
            .unwrap(),
        shared
    );
    assert_eq!(
        ids(&fx.call(ListNotes, &carol, json!({})).await.unwrap()),
        vec![shared["id"].as_str().unwrap()]
    );
    assert_eq!(
        ids(&fx.call(ListNotes, &alice, json!({})).await.unwrap()).len(),
        2
    );

    // Carol may not change either: the hidden one is NotFound, the visible one Forbidden.
    let upd = |n: &Value| json!({"input": {"id": n["id"], "title": "x", "expectedVersion": 1}});
    assert_err(
        &fx.call(UpdateNote, &carol, upd(&private)).await,
        "NotFound",
    );
    assert_err(
        &fx.call(UpdateNote, &carol, upd(&shared)).await,
        "Forbidden",
    );
    assert_err(
        &fx.call(DeleteNote, &carol, json!({"id": private["id"]}))
            .await,
        "NotFound",
    );
    assert_err(
        &fx.call(DeleteNote, &carol, json!({"id": shared["id"]}))
            .await,
        "Forbidden",
    );
    assert_eq!(
        fx.call(GetNote, &alice, json!({"id": shared["id"]}))
            .await
            .unwrap(),
        shared
    );
}

#[tokio::test]
async fn guests_reach_only_me_and_public_notes() {
    let fx = Fixture::new().await;
    let alice = Who::alice();
    let guest = Who::guest("guest");
    let private = fx.create(&alice, "private", "PRIVATE").await;
    let shared = fx.create(&alice, "tenant", "TENANT").await;
    let public = fx.create(&alice, "public", "PUBLIC").await;

    let me = fx.call(Me, &guest, json!({})).await.unwrap();
    assert_eq!(me["authenticated"], false);
    assert_eq!(me["tenantId"], Value::Null);

    let conn = fx
        .call(PublicNotes, &guest, json!({"tenantId": "acme"}))
        .await
        .unwrap();
    assert_eq!(ids(&conn), vec![public["id"].as_str().unwrap()]);
    assert_eq!(conn["items"][0]["title"], "public");
    // Other tenants' users see the same public list, and nothing else.
    let conn = fx
        .call(PublicNotes, &Who::bob(), json!({"tenantId": "acme"}))
        .await
        .unwrap();
    assert_eq!(ids(&conn), vec![public["id"].as_str().unwrap()]);
    let conn = fx
        .call(PublicNotes, &guest, json!({"tenantId": "globex"}))
        .await
        .unwrap();
    assert_eq!(ids(&conn), Vec::<String>::new());

    let args = [
        json!({"id": private["id"]}),
        json!({"id": shared["id"]}),
        json!({"id": public["id"]}),
    ];
    for a in &args {
        assert_err(&fx.call(GetNote, &guest, a.clone()).await, "Unauthorized");
        assert_err(
            &fx.call(DeleteNote, &guest, a.clone()).await,
            "Unauthorized",
        );
    }
    assert_err(&fx.call(ListNotes, &guest, json!({})).await, "Unauthorized");
    assert_err(
        &fx.call(CreateNote, &guest, json!({"input": {"title": "x"}}))
            .await,
        "Unauthorized",
    );
    assert_err(
        &fx.call(
            UpdateNote,
            &guest,
            json!({"input": {"id": public["id"], "title": "x", "expectedVersion": 1}}),
        )
        .await,
        "Unauthorized",
    );

    // Unknown, suspended or malformed tenants serve nothing: NotFound.
    for t in ["initech", "ACME", "acme#x", "", "../globex"] {
        assert_err(
            &fx.call(PublicNotes, &guest, json!({"tenantId": t})).await,
            "NotFound",
        );
    }
}

async fn public_ids(fx: &Fixture, who: &Who) -> Vec<String> {
    ids(&fx
        .call(PublicNotes, who, json!({"tenantId": "acme"}))
        .await
        .unwrap())
}

#[tokio::test]
async fn visibility_changes_move_notes_in_and_out_of_the_public_list() {
    let fx = Fixture::new().await;
    let alice = Who::alice();
    let guest = Who::guest("g");
    let n = fx.create(&alice, "n", "PRIVATE").await;
    assert!(public_ids(&fx, &guest).await.is_empty());
    let v2 = fx
        .call(
            UpdateNote,
            &alice,
            json!({"input": {"id": n["id"], "visibility": "PUBLIC", "expectedVersion": 1}}),
        )
        .await
        .unwrap();
    assert_eq!(
        public_ids(&fx, &guest).await,
        vec![n["id"].as_str().unwrap()]
    );
    fx.call(
        UpdateNote,
        &alice,
        json!({"input": {"id": n["id"], "visibility": "TENANT", "expectedVersion": v2["version"]}}),
    )
    .await
    .unwrap();
    assert!(public_ids(&fx, &guest).await.is_empty());
}

#[tokio::test]
async fn unknown_providers_suspended_tenants_and_foreign_pools_are_refused() {
    let fx = Fixture::with(Options {
        cache_ttl: std::time::Duration::ZERO,
        identity_pool: Some(IDENTITY_POOL),
        ..Options::default()
    })
    .await;
    let alice = Who::alice();
    let note = fx.create(&alice, "n", "TENANT").await;

    let stranger = Who::user(POOL_UNKNOWN, "eve");
    let google = Who::federated("accounts.google.com", "gina");
    for who in [&stranger, &google] {
        assert_err(
            &fx.call(GetNote, who, json!({"id": note["id"]})).await,
            "Unauthorized",
        );
        assert_err(&fx.call(ListNotes, who, json!({})).await, "Unauthorized");
        assert_err(&fx.call(Me, who, json!({})).await, "Unauthorized");
    }

    let foreign = Who::alice().from_pool("eu-central-1:00000000-0000-4000-8000-000000000000");
    assert_err(
        &fx.call(GetNote, &foreign, json!({"id": note["id"]})).await,
        "Unauthorized",
    );
    assert_err(
        &fx.call(Me, &Who::guest("g").from_pool("us-east-1:x"), json!({}))
            .await,
        "Unauthorized",
    );

    let acme = TenantId::parse("acme").unwrap();
    fx.admin()
        .registry_set_status(&acme, TenantStatus::Suspended)
        .await
        .unwrap();
    assert_err(
        &fx.call(GetNote, &alice, json!({"id": note["id"]})).await,
        "Forbidden",
    );
    assert_err(
        &fx.call(CreateNote, &alice, json!({"input": {"title": "x"}}))
            .await,
        "Forbidden",
    );
    assert_err(
        &fx.call(PublicNotes, &Who::guest("g"), json!({"tenantId": "acme"}))
            .await,
        "NotFound",
    );
    // Other tenants are unaffected.
    assert_eq!(
        kind(&fx.call(ListNotes, &Who::bob(), json!({})).await),
        "ok"
    );
    fx.admin()
        .registry_set_status(&acme, TenantStatus::Active)
        .await
        .unwrap();
    assert_eq!(
        fx.call(GetNote, &alice, json!({"id": note["id"]}))
            .await
            .unwrap()["id"],
        note["id"]
    );
}

#[tokio::test]
async fn non_cognito_identities_are_unauthorized() {
    let fx = Fixture::new().await;
    let identities = [
        Value::Null,
        json!({"sub": "s", "issuer": "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1", "claims": {"custom:tenant": "acme"}, "username": "alice", "sourceIp": ["1.2.3.4"], "defaultAuthStrategy": "ALLOW"}),
        json!({"resolverContext": {"tenantId": "acme"}}),
        json!({"accountId": "123456789012", "cognitoIdentityAuthProvider": null, "cognitoIdentityAuthType": null, "cognitoIdentityId": null, "cognitoIdentityPoolId": null, "sourceIp": ["1.2.3.4"], "userArn": "arn:aws:iam::123456789012:user/admin", "username": "AIDA"}),
        json!({"cognitoIdentityId": "eu-central-1:x", "cognitoIdentityAuthType": "authenticated", "cognitoIdentityAuthProvider": ""}),
        json!({"cognitoIdentityId": "eu-central-1:x", "cognitoIdentityAuthType": "authenticated", "cognitoIdentityAuthProvider": "\"TENANT#globex\""}),
    ];
    for identity in identities {
        let who = Who::raw(identity);
        assert_err(&fx.call(Me, &who, json!({})).await, "Unauthorized");
        assert_err(&fx.call(ListNotes, &who, json!({})).await, "Unauthorized");
        assert_err(
            &fx.call(PublicNotes, &who, json!({"tenantId": "acme"}))
                .await,
            "Unauthorized",
        );
    }
}

#[tokio::test]
async fn crafted_ids_never_reach_another_partition() {
    let fx = Fixture::new().await;
    let (alice, bob) = (Who::alice(), Who::bob());
    let bobs = fx.create(&bob, "secret", "TENANT").await;
    let bob_id = bobs["id"].as_str().unwrap();
    let crafted = [
        format!("TENANT#globex#NOTE#{bob_id}"),
        format!("{bob_id}#"),
        format!("../globex/{bob_id}"),
        format!("{bob_id}\u{0}"),
        format!("{bob_id}\u{200b}"),
        "ＮＯＴＥ".to_owned(),
        "x".repeat(10_240),
        String::new(),
    ];
    for id in &crafted {
        assert_err(
            &fx.call(GetNote, &alice, json!({"id": id})).await,
            "ValidationError",
        );
        assert_err(
            &fx.call(DeleteNote, &alice, json!({"id": id})).await,
            "ValidationError",
        );
        assert_err(
            &fx.call(
                UpdateNote,
                &alice,
                json!({"input": {"id": id, "title": "x", "expectedVersion": 1}}),
            )
            .await,
            "ValidationError",
        );
    }
    assert_eq!(
        fx.call(GetNote, &bob, json!({"id": bob_id})).await.unwrap(),
        bobs
    );
}

/// Onboard's pending first admin is a (pool, sub) of one tenant: the same sub arriving through
/// another tenant's pool, or any user of another tenant, is never made ADMIN, and the claim
/// writes only its own tenant's partition (the profile and the counters).
#[tokio::test]
async fn the_first_admin_claim_never_crosses_tenants() {
    let fx = Fixture::new().await;
    let db = fx.db();
    let dave = Who::user(POOL_A, "dave");
    pend_admin(db, "acme", POOL_A, &dave).await;
    let globex_members =
        fx.call(Tenant, &Who::bob(), json!({})).await.unwrap()["memberCount"].clone();
    let before = partition_counts(db).await;
    // (Recording the pending admin was a transaction too.)
    fx.requests.reset();
    // The same sub through globex's pool, and bob of globex: plain users there, nothing written.
    for who in [Who::user(POOL_B, "dave"), Who::bob()] {
        let profile = fx.call(MyProfile, &who, json!({})).await.unwrap();
        assert_eq!(profile, Value::Null, "{profile}");
    }
    assert_eq!(fx.requests.count("TransactWriteItems"), 0);
    assert_eq!(
        partition_counts(db).await,
        before,
        "a claim outside acme wrote something"
    );
    // In acme, dave's first myProfile claims ADMIN: acme's partition alone changes.
    let profile = fx.call(MyProfile, &dave, json!({})).await.unwrap();
    assert_eq!(profile["role"], "ADMIN", "{profile}");
    let after = partition_counts(db).await;
    for (pk, n) in &after {
        if pk != "TENANT#acme" {
            assert_eq!(before.get(pk), Some(n), "{pk} changed");
        }
    }
    assert!(after["TENANT#acme"] > before.get("TENANT#acme").copied().unwrap_or(0));
    let globex = fx.call(Tenant, &Who::bob(), json!({})).await.unwrap();
    assert_eq!(
        globex["memberCount"], globex_members,
        "globex counted no one new: {globex}"
    );
}
