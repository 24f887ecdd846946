//! The first call of a fresh container: the caller's tenant in one GetItem (the provider item
//! carries the tenant's record), kept equal to the tenant item by every registry change; and
//! `tenantctl backfill-indexes` for tables written before the listing index and the copies.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::*;
use serde_json::{Value, json};
use shared::api::{GetNote, ListNotes};
use shared::identity::ProviderKey;
use shared::lambda::App;
use shared::lambda::metrics::MetricsSink;
use shared::store::TenantRegistry;
use shared::store::admin::{Admin, BackfillReport};
use shared::tenancy::{TenantId, TenantStatus};

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

/// A cold look-up of `provider`: its answer and the requests it cost.
async fn cold_lookup(fx: &Fixture, provider: &str) -> (Option<TenantStatus>, usize, usize) {
    fx.requests.reset();
    let record = fx
        .db()
        .registry_lookup_provider(&ProviderKey::parse(provider).unwrap())
        .await
        .unwrap();
    (
        record.map(|r| r.status),
        fx.requests.count("GetItem"),
        fx.requests.total(),
    )
}

#[tokio::test]
async fn a_cold_call_admits_its_caller_with_one_get_item() {
    let fx = Fixture::new().await;
    let alice = Who::alice();
    let n = fx.create(&alice, "n", "TENANT").await;
    // A fresh function on the same table: a new App, nothing cached.
    let cold = App {
        metrics: MetricsSink::Memory(Default::default()),
        ..App::new(fx.app.config.clone(), fx.db().clone())
    };
    fx.requests.reset();
    let got = shared::lambda::call(
        &cold,
        &GetNote,
        event("Query", "note", &alice, json!({"id": n["id"]})),
    )
    .await
    .unwrap();
    assert_eq!(got["id"], n["id"]);
    // One GetItem for the provider (with its tenant's record), one for the note.
    assert_eq!(
        fx.requests.snapshot(),
        [("GetItem".to_owned(), 2)].into(),
        "cold Query.note"
    );
    // The look-up alone, for a User Pool, an OIDC provider and an unknown one.
    assert_eq!(
        cold_lookup(&fx, POOL_A).await,
        (Some(TenantStatus::Active), 1, 1)
    );
    assert_eq!(
        cold_lookup(&fx, OIDC_B).await,
        (Some(TenantStatus::Active), 1, 1)
    );
    assert_eq!(cold_lookup(&fx, POOL_UNKNOWN).await, (None, 1, 1));
}

#[tokio::test]
async fn suspension_reaches_every_provider_copy_and_new_providers_copy_it() {
    let fx = Fixture::new().await;
    let globex = TenantId::parse("globex").unwrap();
    fx.admin()
        .registry_set_status(&globex, TenantStatus::Suspended)
        .await
        .unwrap();
    for p in [POOL_B, OIDC_B] {
        assert_eq!(
            cold_lookup(&fx, p).await,
            (Some(TenantStatus::Suspended), 1, 1),
            "{p}"
        );
    }
    // A provider registered while suspended starts suspended.
    let third = "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_GlobexPl2";
    // Registering under another name is refused (a rerun with a typo must not rename a tenant);
    // renaming is its own operation.
    assert_err_app(
        fx.admin()
            .registry_register(&globex, "Globex Corp", &ProviderKey::parse(third).unwrap())
            .await,
        "ConflictError",
    );
    fx.admin()
        .registry_register(&globex, "Globex", &ProviderKey::parse(third).unwrap())
        .await
        .unwrap();
    fx.admin()
        .registry_rename(&globex, "Globex Corp")
        .await
        .unwrap();
    assert_eq!(
        cold_lookup(&fx, third).await,
        (Some(TenantStatus::Suspended), 1, 1)
    );
    fx.admin()
        .registry_set_status(&globex, TenantStatus::Active)
        .await
        .unwrap();
    for p in [POOL_B, OIDC_B, third] {
        let record = fx
            .db()
            .registry_lookup_provider(&ProviderKey::parse(p).unwrap())
            .await
            .unwrap()
            .unwrap();
        // The rename reached every copy too.
        assert_eq!(
            (record.status, record.name.as_str()),
            (TenantStatus::Active, "Globex Corp"),
            "{p}"
        );
    }
    // A provider of another tenant is still refused, and nothing changed.
    assert_err_app(
        fx.admin()
            .registry_register(&acme(), "Acme", &ProviderKey::parse(third).unwrap())
            .await,
        "ConflictError",
    );
    assert_eq!(
        cold_lookup(&fx, third).await,
        (Some(TenantStatus::Active), 1, 1)
    );
}

fn assert_err_app(r: Result<(), shared::error::AppError>, kind: &str) {
    match r {
        Err(e) if e.error_type() == kind => {}
        other => panic!("expected {kind}, got {other:?}"),
    }
}

#[tokio::test]
async fn concurrent_suspensions_and_registrations_leave_every_copy_equal_to_the_tenant() {
    let fx = Fixture::new().await;
    let db = fx.admin();
    let pools: Vec<String> = (0..6)
        .map(|i| format!("cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Acme{i:05}"))
        .collect();
    let mut tasks = Vec::new();
    for (i, pool) in pools.iter().enumerate() {
        let db = db.clone();
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            db.registry_register(&acme(), "Acme Corp", &ProviderKey::parse(&pool).unwrap())
                .await
                .unwrap();
            let status = if i % 2 == 0 {
                TenantStatus::Suspended
            } else {
                TenantStatus::Active
            };
            db.registry_set_status(&acme(), status).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let tenant = db.registry_get_tenant(&acme()).await.unwrap().unwrap();
    for p in pools.iter().map(String::as_str).chain([POOL_A]) {
        let copy = db
            .registry_lookup_provider(&ProviderKey::parse(p).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(copy, tenant, "{p}");
    }
}

#[tokio::test]
async fn suspension_takes_effect_within_the_cache_ttl_on_the_one_read_path() {
    let fx = Fixture::with(Options {
        cache_ttl: Duration::from_secs(2),
        ..Options::default()
    })
    .await;
    let alice = Who::alice();
    assert_eq!(kind(&fx.call(ListNotes, &alice, json!({})).await), "ok");
    fx.admin()
        .registry_set_status(&acme(), TenantStatus::Suspended)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    fx.requests.reset();
    assert_err(&fx.call(ListNotes, &alice, json!({})).await, "Forbidden");
    assert_eq!(fx.requests.snapshot(), [("GetItem".to_owned(), 1)].into());
}

/// Removes what this version adds to an item, as an older version wrote it.
async fn make_legacy(fx: &Fixture, pk: &str, sk: &str, attributes: &[&str]) {
    let names: Vec<String> = (0..attributes.len()).map(|i| format!("#a{i}")).collect();
    let mut req = fx
        .db()
        .client()
        .update_item()
        .table_name(fx.db().table_name())
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .update_expression(format!("REMOVE {}", names.join(", ")));
    for (n, a) in names.iter().zip(attributes) {
        req = req.expression_attribute_names(n, *a);
    }
    req.send().await.unwrap();
}

fn listed(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn backfill_indexes_migrates_an_older_table_and_then_writes_nothing() {
    let fx = Fixture::new().await;
    let (alice, carol) = (Who::alice(), Who::carol());
    let mut ids = Vec::new();
    for (i, vis) in ["PRIVATE", "TENANT", "PUBLIC", "PRIVATE", "TENANT"]
        .iter()
        .enumerate()
    {
        let n = fx.create(&alice, &format!("n{i}"), vis).await;
        ids.push(n["id"].as_str().unwrap().to_owned());
    }
    let before_carol = listed(&fx.call(ListNotes, &carol, json!({})).await.unwrap());
    let before_alice = listed(&fx.call(ListNotes, &alice, json!({})).await.unwrap());
    // As an older version left the table: no listing keys, one key in the wrong range, and
    // provider items without their tenant's record.
    for id in &ids[..4] {
        make_legacy(&fx, "TENANT#acme", &format!("NOTE#{id}"), &["gsi2sk"]).await;
    }
    fx.db()
        .client()
        .update_item()
        .table_name(fx.db().table_name())
        .key("pk", AttributeValue::S("TENANT#acme".into()))
        .key("sk", AttributeValue::S(format!("NOTE#{}", ids[4])))
        .update_expression("SET gsi2sk = :k")
        .expression_attribute_values(":k", AttributeValue::S(format!("PRIVATE#x#{}", ids[4])))
        .send()
        .await
        .unwrap();
    for p in [POOL_A, POOL_B, OIDC_B] {
        make_legacy(
            &fx,
            "REGISTRY",
            &format!("PROVIDER#{p}"),
            &["name", "status"],
        )
        .await;
    }
    assert!(listed(&fx.call(ListNotes, &carol, json!({})).await.unwrap()).is_empty());
    // Before the backfill, a provider without a copy still works, in two reads.
    assert_eq!(
        cold_lookup(&fx, POOL_A).await,
        (Some(TenantStatus::Active), 2, 2)
    );

    let mut seen = Vec::new();
    let report = fx
        .admin()
        .backfill_indexes(3, |r: &BackfillReport| seen.push(*r))
        .await
        .unwrap();
    // (A write whose answer was lost and that was retried finds its key in place: correct.)
    assert_eq!(
        (
            report.notes,
            report.updated + report.correct,
            report.changed,
            report.skipped
        ),
        (5, 5, 0, 0),
        "{report:?}"
    );
    assert!(report.updated >= 4, "{report:?}");
    assert_eq!(report.tenants, 2);
    assert!(!seen.is_empty(), "progress is reported");
    assert_eq!(
        listed(&fx.call(ListNotes, &carol, json!({})).await.unwrap()),
        before_carol
    );
    assert_eq!(
        listed(&fx.call(ListNotes, &alice, json!({})).await.unwrap()),
        before_alice
    );
    for p in [POOL_A, POOL_B, OIDC_B] {
        assert_eq!(
            cold_lookup(&fx, p).await,
            (Some(TenantStatus::Active), 1, 1),
            "{p}"
        );
    }
    // Again: every key is right, nothing is written.
    fx.requests.reset();
    let again = fx.admin().backfill_indexes(1, |_| {}).await.unwrap();
    assert_eq!((again.notes, again.updated, again.correct), (5, 0, 5));
    assert_eq!(fx.requests.count("UpdateItem"), 0);
    // The suspension cache still sees the registry as it is.
    let registry = TenantRegistry::new(fx.db().clone(), Duration::ZERO);
    assert!(registry.active_by_id(&acme()).await.is_ok());
}

#[tokio::test]
async fn create_table_adds_the_listing_index_to_a_table_made_before_it() {
    // Adds an index to an existing table: a database of its own (see client_of_own_database).
    let client = integration_tests::client_of_own_database();
    let table = format!("notes-old-{}", uuid::Uuid::new_v4().simple());
    // The table as the previous version made it: keys and the public index only.
    integration_tests::create_older_table(&client, &table, &[("gsi1", "gsi1pk", "gsi1sk")]).await;
    let db = Admin::new(shared::store::Db::new(client.clone(), table.clone()));
    assert!(!db.create_table().await.unwrap(), "it existed");
    let indexes: Vec<String> = client
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .global_secondary_indexes()
        .iter()
        .filter_map(|g| g.index_name().map(str::to_owned))
        .collect();
    assert_eq!(indexes.len(), 2, "{indexes:?}");
    assert!(indexes.contains(&shared::store::GSI2.to_owned()));
    // Again: nothing to add.
    assert_eq!(
        db.ensure_indexes(&shared::store::admin::table_spec())
            .await
            .unwrap(),
        Vec::<&str>::new()
    );
}
