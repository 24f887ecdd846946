//! A tenant's lifecycle in the table (what `tenantctl onboard` / `offboard` / `export` /
//! `import` do to DynamoDB), on real DynamoDB Local: the first admin recorded at onboarding, the
//! partition export, purge and import, and the registry removal. The Cognito half is tested
//! against the local stack (tools/tenantctl/tests/lifecycle.rs).

use integration_tests::*;
use serde_json::{Value, json};
use shared::api::{CreateNote, GetNote, ListNotes, Me, MyProfile, PublicNotes, SetRole, Tenant};
use shared::error::AppError;
use shared::identity::ProviderKey;
use shared::store::Db;
use shared::store::admin::{ImportTarget, export_line, parse_export_line, retarget, source_tenant};
use shared::tenancy::TenantId;

/// A fresh function container (empty caches) on the same table.
fn cold(db: &Db) -> Fixture {
    let table = db.table_name().to_owned();
    let config = shared::config::Config::from_lookup(|k| match k {
        "TABLE_NAME" => Some(table.clone()),
        _ => None,
    })
    .unwrap();
    Fixture {
        app: shared::lambda::App::new(config, db.clone()),
        requests: RequestCounter::default(),
        capacity_reported: CapacityWitness::default(),
    }
}

fn tid(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}

async fn role(fx: &Fixture, who: &Who) -> Value {
    fx.call(MyProfile, who, json!({})).await.unwrap()["role"].clone()
}

#[tokio::test]
async fn onboards_first_admin_is_made_admin_by_their_first_call_once() {
    let fx = Fixture::new().await;
    let dave = Who::user(POOL_A, "dave");
    pend_admin(fx.db(), "acme", POOL_A, &dave).await;
    // Another user of the pool, and the same sub in another tenant's pool: not the admin.
    let alice = Who::alice();
    assert_eq!(role(&fx, &alice).await, Value::Null);
    let same_sub_elsewhere = Who::user(POOL_B, "dave");
    assert_eq!(role(&fx, &same_sub_elsewhere).await, Value::Null);

    // Dave's first call makes him ADMIN before it runs: his profile, counted once.
    assert_eq!(role(&fx, &dave).await, json!("ADMIN"));
    assert_eq!(role(&fx, &dave).await, json!("ADMIN"));
    let tenant = fx.call(Tenant, &dave, json!({})).await.unwrap();
    assert_eq!(tenant["memberCount"], json!(1), "{tenant}");

    // He can do what an ADMIN does: make alice one, who then demotes him.
    fx.call(
        shared::api::UpdateMyProfile,
        &alice,
        json!({"input": {"displayName": "Alice"}}),
    )
    .await
    .unwrap();
    fx.call(
        SetRole,
        &dave,
        json!({"identityId": alice.identity_id(), "role": "ADMIN"}),
    )
    .await
    .unwrap();
    fx.call(
        SetRole,
        &alice,
        json!({"identityId": dave.identity_id(), "role": "MEMBER"}),
    )
    .await
    .unwrap();
    // A cold container (fresh caches) still sees the registry's pending admin, and does not
    // undo the demotion: the claim holds only while the tenant has no ADMIN.
    let cold = cold(fx.db());
    assert_eq!(role(&cold, &dave).await, json!("MEMBER"));
    assert_eq!(role(&fx, &dave).await, json!("MEMBER"));
}

/// The claim is a TransactWriteItems (the profile's Put or Update, the counters' Update) and only
/// my-profile's role may write those (template: `only_the_claiming_function_may_write_…`). So a
/// pending admin's first call of any other field must not try it — on AWS, IAM refuses it and the
/// admin could never use the API — and their first `myProfile` makes them ADMIN.
#[tokio::test]
async fn only_my_profile_claims_the_first_admin_other_fields_never_write_for_it() {
    let fx = Fixture::new().await;
    let frank = Who::user(POOL_A, "frank");
    pend_admin(fx.db(), "acme", POOL_A, &frank).await;
    let note = fx.create(&Who::alice(), "shared", "TENANT").await;
    // Each call from a fresh container (the claim is due on every one); the container's
    // client is the fixture's, so the fixture's counter sees its requests.
    let tried_the_claim = |field: &str, r: Result<Value, lambda_runtime::Diagnostic>| {
        r.unwrap_or_else(|e| panic!("{field}: {e:?}"));
        let n = fx.requests.count("TransactWriteItems");
        fx.requests.reset();
        assert_eq!(n, 0, "{field} tried the first-admin claim");
    };
    fx.requests.reset();
    tried_the_claim("Query.me", cold(fx.db()).call(Me, &frank, json!({})).await);
    let id = json!({"id": note["id"]});
    tried_the_claim("Query.note", cold(fx.db()).call(GetNote, &frank, id).await);
    tried_the_claim(
        "Query.notes",
        cold(fx.db()).call(ListNotes, &frank, json!({})).await,
    );
    tried_the_claim(
        "Query.tenant",
        cold(fx.db()).call(Tenant, &frank, json!({})).await,
    );
    let input = json!({"input": {"title": "t", "body": "b", "visibility": "PRIVATE"}});
    tried_the_claim(
        "Mutation.createNote",
        cold(fx.db()).call(CreateNote, &frank, input).await,
    );
    let c = cold(fx.db());
    assert_eq!(role(&c, &frank).await, json!("ADMIN"));
    assert_eq!(
        fx.requests.count("TransactWriteItems"),
        1,
        "myProfile made the claim"
    );
    let tenant = c.call(Tenant, &frank, json!({})).await.unwrap();
    assert_eq!(tenant["memberCount"], json!(1), "{tenant}");
}

#[tokio::test]
async fn a_pending_admin_who_already_has_a_member_profile_is_promoted() {
    let fx = Fixture::new().await;
    let erin = Who::user(POOL_A, "erin");
    // A profile first (MEMBER), the pending admin recorded afterwards (a resumed onboard).
    fx.call(
        shared::api::UpdateMyProfile,
        &erin,
        json!({"input": {"displayName": "Erin"}}),
    )
    .await
    .unwrap();
    pend_admin(fx.db(), "acme", POOL_A, &erin).await;
    let cold = cold(fx.db());
    assert_eq!(role(&cold, &erin).await, json!("ADMIN"));
    let tenant = cold.call(Tenant, &erin, json!({})).await.unwrap();
    assert_eq!(tenant["memberCount"], json!(1), "{tenant}");
}

/// An import killed half way through is resumed by running it again, though the tenant now holds
/// its first items; another export is refused meanwhile, and so is any import into a tenant that
/// holds data of its own (acme's items unchanged by every refusal).
#[tokio::test]
async fn an_interrupted_import_resumes_and_nothing_else_writes_into_that_tenant() {
    let fx = Fixture::new().await;
    let db = &fx.admin();
    let alice = Who::alice();
    for i in 0..4 {
        fx.create(&alice, &format!("n{i}"), "TENANT").await;
    }
    let mut out = Vec::new();
    db.export_partition(&tid("acme"), &mut out).await.unwrap();
    let items: Vec<_> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| parse_export_line(l).unwrap())
        .collect();
    let to = |t: &str| -> Vec<_> {
        items
            .iter()
            .cloned()
            .map(|i| retarget(i, &tid("acme"), &tid(t)).unwrap())
            .collect()
    };
    let before = partition_counts(db).await;
    // Into acme itself (it holds data): refused, nothing written.
    let err = db
        .import_items(&tid("acme"), to("acme"), ImportTarget::EmptyTenant)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    assert_eq!(partition_counts(db).await, before);

    // "Killed" after the marker and two items: what a first run leaves behind.
    let moved = to("acme3");
    let first_two: Vec<_> = moved.iter().take(2).cloned().collect();
    let partial = db
        .import_items(&tid("acme3"), first_two, ImportTarget::EmptyTenant)
        .await
        .unwrap();
    assert_eq!(partial.written, 2);
    put_marker_of(db, "acme3", &moved).await;
    // Another file meanwhile: refused, whatever the target.
    let mut other = moved.clone();
    other.pop();
    for target in [ImportTarget::EmptyTenant, ImportTarget::ExistingData] {
        let err = db
            .import_items(&tid("acme3"), other.clone(), target)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AppError::Conflict(m) if m.contains("interrupted")),
            "{err:?}"
        );
    }
    // The same import again: resumes, writes the rest, and clears its marker.
    let resumed = db
        .import_items(&tid("acme3"), moved.clone(), ImportTarget::EmptyTenant)
        .await
        .unwrap();
    assert_eq!(
        (resumed.written as usize, resumed.present),
        (moved.len() - 2, 2)
    );
    let mut again = Vec::new();
    let n = db
        .export_partition(&tid("acme3"), &mut again)
        .await
        .unwrap();
    assert_eq!(
        n as usize,
        moved.len(),
        "the marker is gone and never exported"
    );
    let mut expected = before.clone();
    expected.insert("TENANT#acme3".into(), moved.len());
    assert_eq!(partition_counts(db).await, expected);
}

/// The marker a run of importing `items` writes first and removes last: as if it was killed.
async fn put_marker_of(db: &Db, tenant: &str, items: &[shared::store::Item]) {
    let marker = shared::store::admin::import_marker(&tid(tenant), items).unwrap();
    db.client()
        .put_item()
        .table_name(db.table_name())
        .set_item(Some(marker))
        .send()
        .await
        .unwrap();
}

async fn seed(fx: &Fixture) {
    let (alice, carol, bob) = (Who::alice(), Who::carol(), Who::bob());
    for (who, name) in [(&alice, "Alice"), (&carol, "Carol"), (&bob, "Bob")] {
        fx.call(
            shared::api::UpdateMyProfile,
            who,
            json!({"input": {"displayName": name}}),
        )
        .await
        .unwrap();
    }
    for (who, n) in [(&alice, 3), (&carol, 2), (&bob, 4)] {
        for i in 0..n {
            let visibility = ["PRIVATE", "TENANT", "PUBLIC"][i % 3];
            fx.create(who, &format!("note {i}"), visibility).await;
        }
    }
    // An idempotency token item too.
    fx.call(
        shared::api::CreateNote,
        &alice,
        json!({"input": {"title": "once", "body": "b", "clientToken": "tok-1"}}),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn export_purge_and_import_move_one_tenant_and_touch_no_other() {
    let fx = Fixture::new().await;
    seed(&fx).await;
    let db = &fx.admin();
    let before = partition_counts(db).await;
    let acme_items = before["TENANT#acme"];
    assert!(acme_items >= 9, "{before:?}");
    assert_eq!(
        db.partition_count(&tid("acme")).await.unwrap() as usize,
        acme_items
    );

    // Export: one line per item, every item of the partition.
    let mut out = Vec::new();
    let n = db.export_partition(&tid("acme"), &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(n as usize, acme_items);
    assert_eq!(text.lines().count(), acme_items);
    let items: Vec<_> = text
        .lines()
        .map(|l| parse_export_line(l).unwrap())
        .collect();
    assert_eq!(source_tenant(&items).unwrap(), tid("acme"));

    // Purge: acme's partition is empty, everything else is as it was.
    let purged = db.purge_partition(&tid("acme")).await.unwrap();
    assert_eq!(purged as usize, acme_items);
    let after = partition_counts(db).await;
    assert!(!after.contains_key("TENANT#acme"), "{after:?}");
    let mut expected = before.clone();
    expected.remove("TENANT#acme");
    assert_eq!(after, expected, "a purge touched another partition");
    // globex's public index is intact; acme's public notes are gone with their items.
    let globex_public = fx
        .call(PublicNotes, &Who::guest("g"), json!({"tenantId": "globex"}))
        .await
        .unwrap();
    assert_eq!(globex_public["items"].as_array().unwrap().len(), 1);
    let acme_public = fx
        .call(PublicNotes, &Who::guest("g"), json!({"tenantId": "acme"}))
        .await
        .unwrap();
    assert_eq!(acme_public["items"].as_array().unwrap().len(), 0);
    // Purging again finds nothing.
    assert_eq!(db.purge_partition(&tid("acme")).await.unwrap(), 0);

    // Import into a new tenant: the same items under its keys.
    let moved: Vec<_> = items
        .iter()
        .cloned()
        .map(|i| retarget(i, &tid("acme"), &tid("acme2")).unwrap())
        .collect();
    let report = db
        .import_items(&tid("acme2"), moved.clone(), ImportTarget::EmptyTenant)
        .await
        .unwrap();
    assert_eq!((report.written as usize, report.present), (acme_items, 0));
    let mut again = Vec::new();
    db.export_partition(&tid("acme2"), &mut again)
        .await
        .unwrap();
    let mut restored: Vec<String> = String::from_utf8(again)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let mut wanted: Vec<String> = moved.iter().map(|i| export_line(i).unwrap()).collect();
    restored.sort();
    wanted.sort();
    assert_eq!(restored, wanted);
    // A second import is refused: acme2 holds data now (the first import finished). Into
    // existing data, on purpose, it writes nothing and overwrites nothing.
    let refused = db
        .import_items(&tid("acme2"), moved.clone(), ImportTarget::EmptyTenant)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, AppError::Conflict(m) if m.contains("already holds data") && m.contains("--into-existing")),
        "{refused:?}"
    );
    let report = db
        .import_items(&tid("acme2"), moved, ImportTarget::ExistingData)
        .await
        .unwrap();
    assert_eq!((report.written, report.present as usize), (0, acme_items));
    // The restored PUBLIC notes are in acme2's public index.
    db.registry_register(
        &tid("acme2"),
        "Acme again",
        &ProviderKey::parse(POOL_C).unwrap(),
    )
    .await
    .unwrap();
    let cold = cold(db);
    let acme2_public = cold
        .call(PublicNotes, &Who::guest("g"), json!({"tenantId": "acme2"}))
        .await
        .unwrap();
    assert_eq!(acme2_public["items"].as_array().unwrap().len(), 1);
    assert_eq!(acme2_public["items"][0]["tenantId"], json!("acme2"));
}

#[tokio::test]
async fn removing_a_tenant_from_the_registry_removes_only_its_entries() {
    let fx = Fixture::new().await;
    let db = &fx.admin();
    db.registry_mark_exported(&tid("globex"), "/tmp/globex.jsonl", 3)
        .await
        .unwrap();
    let state = db.registry_offboard_state(&tid("globex")).await.unwrap();
    assert_eq!(
        state.unwrap().exported,
        Some(("/tmp/globex.jsonl".to_owned(), 3))
    );
    let removal = db.registry_remove_tenant(&tid("globex")).await.unwrap();
    assert!(removal.tenant);
    let mut providers = removal.providers.clone();
    providers.sort();
    assert_eq!(providers, vec![OIDC_B.to_owned(), POOL_B.to_owned()]);
    let left = db.registry_list().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].tenant.tenant_id, tid("acme"));
    assert_eq!(left[0].providers.len(), 1);
    // Again: nothing left to remove, and no error.
    let again = db.registry_remove_tenant(&tid("globex")).await.unwrap();
    assert!(!again.tenant && again.providers.is_empty());
    assert!(
        db.registry_offboard_state(&tid("globex"))
            .await
            .unwrap()
            .is_none()
    );
    // Marking a tenant that is not registered is NotFound.
    assert!(
        db.registry_mark_exported(&tid("globex"), "x", 1)
            .await
            .is_err()
    );
}
