//! Tenants bound to Identity Pools: a tenant's users are admitted only with credentials of the
//! pool the registry records for it, so an identity of pool A naming a provider registered in
//! pool B is refused (`Unauthorized`), whatever the field, single or batched; guests come from the
//! stack's first pool only; a tenant registered before the binding is held to the first pool. The
//! cold look-up stays one read (the binding is on the provider item's copy of the record).

use integration_tests::*;
use serde_json::json;
use shared::api::{GetNote, ListNotes, Me, NoteAuthor, PublicNotes, UpdateMyProfile};
use shared::tenancy::TenantId;

const FIRST: &str = IDENTITY_POOL;
const SECOND: &str = "eu-central-1:2d2d2d2d-0000-4000-8000-000000000002";
const FOREIGN: &str = "eu-west-1:0f0f0f0f-0000-4000-8000-0000000000ff";

async fn fixture() -> Fixture {
    let fx = Fixture::with(Options {
        identity_pool: Some(FIRST),
        ..Options::default()
    })
    .await;
    // acme in the first pool, globex in the second.
    let admin = fx.admin();
    admin
        .registry_bind_identity_pool(&TenantId::parse("acme").unwrap(), FIRST)
        .await
        .unwrap();
    admin
        .registry_bind_identity_pool(&TenantId::parse("globex").unwrap(), SECOND)
        .await
        .unwrap();
    fx
}

#[tokio::test]
async fn each_tenants_users_are_admitted_only_through_its_own_pool() {
    let fx = fixture().await;
    let alice = Who::alice(); // acme, first pool
    let bob = Who::bob().from_pool(SECOND); // globex, second pool
    let me = fx.call(Me, &alice, json!({})).await.unwrap();
    assert_eq!(me["tenantId"], "acme");
    let me = fx.call(Me, &bob, json!({})).await.unwrap();
    assert_eq!(me["tenantId"], "globex");
    let note = fx.create(&bob, "globex plan", "TENANT").await;
    let got = fx
        .call(GetNote, &bob, json!({"id": note["id"]}))
        .await
        .unwrap();
    assert_eq!(got["title"], "globex plan");

    // The same users with credentials of a pool that is not their tenant's: refused, typed,
    // on every kind of field.
    for (who, pool) in [
        (Who::alice().from_pool(SECOND), "second"),
        (Who::alice().from_pool(FOREIGN), "foreign"),
        (Who::bob(), "first"),
        (Who::bob().from_pool(FOREIGN), "foreign"),
        (Who::dana(), "first"), // globex's OIDC provider, through the first pool
    ] {
        for r in [
            fx.call(Me, &who, json!({})).await,
            fx.call(ListNotes, &who, json!({})).await,
            fx.call(GetNote, &who, json!({"id": note["id"]})).await,
        ] {
            assert_err(&r, "Unauthorized");
            let message = format!("{r:?}");
            assert!(
                message.to_lowercase().contains("identity pool"),
                "{pool}: {message}"
            );
        }
    }
    // Dana through globex's own pool is globex's.
    let me = fx
        .call(Me, &Who::dana().from_pool(SECOND), json!({}))
        .await
        .unwrap();
    assert_eq!(me["tenantId"], "globex");
}

#[tokio::test]
async fn a_user_of_a_pool_not_their_tenants_is_refused_on_public_fields_too() {
    let fx = fixture().await;
    for who in [
        Who::alice().from_pool(SECOND),
        Who::alice().from_pool(FOREIGN),
        Who::bob().from_pool(FOREIGN),
        Who::user(POOL_UNKNOWN, "eve").from_pool(SECOND),
    ] {
        let r = fx
            .call(PublicNotes, &who, json!({"tenantId": "acme"}))
            .await;
        assert_err(&r, "Unauthorized");
    }
    // Through their own pools, both read public notes.
    for who in [Who::alice(), Who::bob().from_pool(SECOND)] {
        let r = fx
            .call(PublicNotes, &who, json!({"tenantId": "acme"}))
            .await;
        assert_eq!(kind(&r), "ok", "{r:?}");
    }
}

#[tokio::test]
async fn guests_come_from_the_first_pool_only() {
    let fx = fixture().await;
    let guest = Who::guest("gus");
    let r = fx
        .call(PublicNotes, &guest, json!({"tenantId": "globex"}))
        .await;
    assert_eq!(kind(&r), "ok", "{r:?}");
    for pool in [SECOND, FOREIGN] {
        let r = fx
            .call(
                PublicNotes,
                &guest.clone().from_pool(pool),
                json!({"tenantId": "globex"}),
            )
            .await;
        assert_err(&r, "Unauthorized");
    }
}

#[tokio::test]
async fn a_tenant_registered_before_the_binding_is_held_to_the_first_pool() {
    let fx = Fixture::with(Options {
        identity_pool: Some(FIRST),
        ..Options::default()
    })
    .await;
    // acme's record names no pool.
    let me = fx.call(Me, &Who::alice(), json!({})).await.unwrap();
    assert_eq!(me["tenantId"], "acme");
    let r = fx
        .call(Me, &Who::alice().from_pool(SECOND), json!({}))
        .await;
    assert_err(&r, "Unauthorized");
    // A rebinding to another pool is refused: its providers would have to move first.
    let admin = fx.admin();
    let acme = TenantId::parse("acme").unwrap();
    admin
        .registry_bind_identity_pool(&acme, FIRST)
        .await
        .unwrap();
    admin
        .registry_bind_identity_pool(&acme, FIRST)
        .await
        .unwrap();
    let moved = admin.registry_bind_identity_pool(&acme, SECOND).await;
    assert!(
        matches!(moved, Err(shared::AppError::Conflict(_))),
        "{moved:?}"
    );
}

#[tokio::test]
async fn a_batch_refuses_only_the_items_of_another_pool() {
    let fx = fixture().await;
    let bob = Who::bob().from_pool(SECOND);
    let note = fx.create(&bob, "by bob", "TENANT").await;
    fx.call(
        UpdateMyProfile,
        &bob,
        json!({"input": {"displayName": "Bob B."}}),
    )
    .await
    .unwrap();
    let item = |who: &Who| {
        let mut e = event("Note", "author", who, json!({}));
        e["source"] = note.clone();
        e
    };
    let batch = json!([item(&bob), item(&Who::bob()), item(&bob)]);
    let got = fx.call_raw(NoteAuthor, batch).await.unwrap();
    let answers = got.as_array().unwrap();
    assert_eq!(answers.len(), 3);
    // The item from the first pool is refused (null), without failing its neighbours.
    assert_eq!(answers[0]["displayName"], "Bob B.", "{answers:?}");
    assert!(answers[1].is_null(), "{answers:?}");
    assert_eq!(answers[2]["displayName"], "Bob B.", "{answers:?}");
}

#[tokio::test]
async fn the_cold_look_up_of_a_bound_tenant_is_one_read() {
    let fx = fixture().await;
    fx.requests.reset();
    let me = fx
        .call(Me, &Who::bob().from_pool(SECOND), json!({}))
        .await
        .unwrap();
    assert_eq!(me["tenantId"], "globex");
    assert_eq!(fx.requests.total(), 1, "{:?}", fx.requests.snapshot());
}

// ---------------------------------------------------------------- placement over several pools

use shared::store::admin::Placement;

fn tid(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}

async fn placed(admin: &shared::store::admin::Admin, t: &str, capacity: u32) -> Placement {
    admin.pools_place(&tid(t), capacity).await.unwrap()
}

/// Opens pool number `seq` as onboard does under the lease (begin, then open).
async fn open_pool(admin: &shared::store::admin::Admin, seq: u32, id: &str) {
    let lease = admin.pools_lease("test", 60_000).await.unwrap().unwrap();
    assert_eq!(lease.last_seq, seq - 1);
    admin.pools_begin("test", seq, id).await.unwrap();
    admin.pools_open("test", id).await.unwrap();
    admin.pools_unlease("test").await.unwrap();
}

fn pool_of(p: &Placement) -> &str {
    match p {
        Placement::Placed {
            identity_pool_id, ..
        } => identity_pool_id,
        Placement::NoRoom => "none",
    }
}

#[tokio::test]
async fn tenants_fill_the_oldest_pool_with_room_and_a_freed_slot_is_reused_first() {
    let fx = fixture().await;
    let admin = fx.admin();
    assert!(!admin.pools_known().await.unwrap());
    // The first pool lists one tenant already (onboarded before pools were counted).
    admin.pools_bootstrap(FIRST, 1).await.unwrap();
    admin.pools_bootstrap(FIRST, 7).await.unwrap(); // once only
    assert!(admin.pools_known().await.unwrap());
    assert_eq!(pool_of(&placed(&admin, "t1", 2).await), FIRST);
    assert_eq!(placed(&admin, "t2", 2).await, Placement::NoRoom);
    open_pool(&admin, 2, SECOND).await;
    assert_eq!(pool_of(&placed(&admin, "t2", 2).await), SECOND);
    // A rerun stays where it was, and is not counted twice.
    assert_eq!(
        placed(&admin, "t2", 2).await,
        Placement::Placed {
            identity_pool_id: SECOND.into(),
            new: false
        }
    );
    assert_eq!(pool_of(&placed(&admin, "t3", 2).await), SECOND);
    assert_eq!(placed(&admin, "t4", 2).await, Placement::NoRoom);
    let counts: Vec<(u32, u32)> = admin
        .pools_list()
        .await
        .unwrap()
        .iter()
        .map(|p| (p.seq, p.tenants))
        .collect();
    assert_eq!(counts, [(1, 2), (2, 2)]);

    // Offboarding t1 frees its slot in the first pool: the next tenant goes there, not into a
    // newer pool; a second release changes nothing.
    assert_eq!(
        admin.pools_release(&tid("t1")).await.unwrap().as_deref(),
        Some(FIRST)
    );
    assert_eq!(admin.pools_release(&tid("t1")).await.unwrap(), None);
    assert_eq!(pool_of(&placed(&admin, "t4", 2).await), FIRST);
    assert_eq!(
        admin.pools_placement(&tid("t4")).await.unwrap().as_deref(),
        Some(FIRST)
    );
}

#[tokio::test]
async fn concurrent_onboardings_never_overfill_a_pool() {
    let fx = fixture().await;
    let admin = fx.admin();
    admin.pools_bootstrap(FIRST, 0).await.unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let admin = admin.clone();
            tokio::spawn(async move { admin.pools_place(&tid(&format!("c{i}")), 5).await })
        })
        .collect();
    let mut into_first = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Placement::Placed {
                identity_pool_id, ..
            } => {
                assert_eq!(identity_pool_id, FIRST);
                into_first += 1;
            }
            Placement::NoRoom => {}
        }
    }
    assert_eq!(into_first, 5, "exactly the capacity");
    assert_eq!(admin.pools_get(FIRST).await.unwrap().unwrap().tenants, 5);
}

#[tokio::test]
async fn one_tenantctl_at_a_time_creates_a_pool() {
    let fx = fixture().await;
    let admin = fx.admin();
    admin.pools_bootstrap(FIRST, 0).await.unwrap();
    let a = admin.pools_lease("a", 60_000).await.unwrap();
    assert!(a.is_some());
    assert!(admin.pools_lease("b", 60_000).await.unwrap().is_none());
    // A holder that stopped after creating a pool: the next holder is told to finish it.
    admin.pools_begin("a", 2, SECOND).await.unwrap();
    assert!(
        admin.pools_begin("b", 3, "eu-central-1:x").await.is_err(),
        "only the holder records a pool"
    );
    // Expired: another tenantctl takes over and sees the unfinished pool.
    let b = admin.pools_lease("b", -1).await.unwrap();
    assert!(b.is_none(), "a's lease has not expired");
    admin.pools_unlease("a").await.unwrap();
    let b = admin.pools_lease("b", 60_000).await.unwrap().unwrap();
    assert_eq!(b.creating.as_deref(), Some(SECOND));
    assert_eq!(b.last_seq, 2);
    admin.pools_open("b", SECOND).await.unwrap();
    assert_eq!(pool_of(&placed(&admin, "t1", 1).await), FIRST);
    assert_eq!(pool_of(&placed(&admin, "t2", 1).await), SECOND);
}

#[tokio::test]
async fn a_registry_change_reads_one_tenant_not_every_provider() {
    let fx = fixture().await;
    let admin = fx.admin();
    // Many other tenants in the registry.
    for i in 0..30 {
        let t = tid(&format!("other{i}"));
        let p = shared::identity::ProviderKey::parse(&format!(
            "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Other{i}"
        ))
        .unwrap();
        admin.registry_register(&t, "Other", &p).await.unwrap();
    }
    let t = tid("newco");
    let p = shared::identity::ProviderKey::parse(
        "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Newco",
    )
    .unwrap();
    admin.registry_register(&t, "Newco", &p).await.unwrap();
    fx.requests.reset();
    admin.registry_bind_identity_pool(&t, SECOND).await.unwrap();
    let entry = admin.registry_entry(&t).await.unwrap().unwrap();
    assert_eq!(entry.providers, [p]);
    assert_eq!(
        fx.requests.count("Query"),
        0,
        "{:?}",
        fx.requests.snapshot()
    );
}
