//! The isolation matrix: every field × every kind of caller × hostile arguments, each cell with
//! its expected outcome, and on top a leak check: no answer to any caller may contain a marker
//! of data that caller may not see. Prints `isolation: N cells, N held`. The two tenants live in
//! different Identity Pools, and identities that cross them are callers of their own.

use integration_tests::*;
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use shared::api::{ListNotes, UpdateMyProfile};
use shared::identity::ProviderKey;
use shared::tenancy::{TenantId, TenantStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Alice,
    Carol,
    /// An ADMIN of acme: moderates the notes it can read, never a colleague's PRIVATE one.
    Dave,
    Bob,
    Guest,
    UnknownProvider,
    SuspendedTenant,
    ForeignPool,
    /// Bob's provider (globex, bound to the second pool) with credentials of the first pool.
    CrossPool,
    /// Alice (acme, bound to the first pool) with credentials of the stack's second pool.
    OtherTenantsPool,
    PlainIam,
    ApiKey,
    MissingIdentity,
    UserPoolJwt,
}

const KINDS: [Kind; 14] = [
    Kind::Alice,
    Kind::Carol,
    Kind::Dave,
    Kind::Bob,
    Kind::Guest,
    Kind::UnknownProvider,
    Kind::SuspendedTenant,
    Kind::ForeignPool,
    Kind::CrossPool,
    Kind::OtherTenantsPool,
    Kind::PlainIam,
    Kind::ApiKey,
    Kind::MissingIdentity,
    Kind::UserPoolJwt,
];

/// The stack's second Identity Pool: globex is bound to it, acme to the first.
const SECOND_POOL: &str = "eu-central-1:2d2d2d2d-0000-4000-8000-000000000002";

/// Bob of globex, signed in through globex's pool.
fn bob() -> Who {
    Who::bob().from_pool(SECOND_POOL)
}

fn who(k: Kind) -> Option<Who> {
    Some(match k {
        Kind::Alice => Who::alice(),
        Kind::Carol => Who::carol(),
        Kind::Dave => Who::user(POOL_A, "dave"),
        Kind::Bob => bob(),
        Kind::Guest => Who::guest("guest"),
        Kind::UnknownProvider => Who::user(POOL_UNKNOWN, "eve"),
        Kind::SuspendedTenant => Who::user(POOL_C, "ivan"),
        Kind::CrossPool => Who::bob().from_pool(IDENTITY_POOL),
        Kind::OtherTenantsPool => Who::alice().from_pool(SECOND_POOL),
        Kind::ForeignPool => {
            Who::alice().from_pool("eu-central-1:00000000-0000-4000-8000-0000000000ff")
        }
        Kind::PlainIam => Who::raw(
            json!({"accountId": "123456789012", "cognitoIdentityAuthProvider": null, "cognitoIdentityAuthType": null, "cognitoIdentityId": null, "cognitoIdentityPoolId": null, "sourceIp": ["1.2.3.4"], "userArn": "arn:aws:iam::123456789012:role/admin", "username": "AROA"}),
        ),
        Kind::ApiKey => Who::raw(Value::Null),
        Kind::UserPoolJwt => Who::raw(
            json!({"sub": "s", "issuer": format!("https://{POOL_A}"), "claims": {"custom:tenant": "globex"}, "username": "alice", "sourceIp": ["1.2.3.4"], "defaultAuthStrategy": "ALLOW"}),
        ),
        Kind::MissingIdentity => return None,
    })
}

/// Markers each caller may see in an answer; every other marker is a leak.
const MARKERS: [&str; 6] = [
    "A-PRIVATE-SECRET",
    "A-TENANT-SECRET",
    "A-PUBLIC",
    "B-PRIVATE-SECRET",
    "B-TENANT-SECRET",
    "B-PUBLIC",
];

fn may_see(k: Kind, marker: &str) -> bool {
    match k {
        Kind::Alice => marker.starts_with("A-") || marker == "B-PUBLIC",
        Kind::Carol | Kind::Dave => marker == "A-TENANT-SECRET" || marker.ends_with("PUBLIC"),
        Kind::Bob => marker.starts_with("B-") || marker == "A-PUBLIC",
        _ => marker.ends_with("PUBLIC"),
    }
}

/// A field of the registry, `Type.field`.
type F = &'static str;

/// Fields anyone may call, guests and users of unknown or suspended tenants included.
fn open_to_anyone(f: F) -> bool {
    matches!(
        f,
        "Query.me" | "Query.publicNotes" | "Subscription.onPublicNoteChanged"
    )
}

/// What happens before arguments matter: refused callers.
fn gate(f: F, k: Kind) -> Option<&'static str> {
    let open = open_to_anyone(f);
    match k {
        Kind::Alice | Kind::Carol | Kind::Dave | Kind::Bob => None,
        // Batch items of refused callers are answered null, never an error for the whole page.
        _ if f == "Note.author" => Some("null"),
        Kind::ForeignPool
        | Kind::OtherTenantsPool
        | Kind::PlainIam
        | Kind::ApiKey
        | Kind::MissingIdentity
        | Kind::UserPoolJwt => Some("Unauthorized"),
        Kind::Guest if open => None,
        Kind::Guest => Some("Unauthorized"),
        // A provider the first pool does not list, through the first pool: public data only
        // (Cognito would not mint such an identity; a misrouted event is still held to this).
        Kind::UnknownProvider | Kind::CrossPool if open && f != "Query.me" => None,
        Kind::UnknownProvider | Kind::CrossPool => Some("Unauthorized"),
        Kind::SuspendedTenant if open && f != "Query.me" => None,
        Kind::SuspendedTenant => Some("Forbidden"),
    }
}

struct World {
    priv_a: Value,
    ten_a: Value,
    pub_a: Value,
    priv_b: Value,
    token_alice: String,
    token_bob: String,
}

const HOSTILE_IDS: [&str; 7] = [
    "a#b",
    "../globex",
    "x/y",
    "nul\u{0}",
    "ＮＯＴＥ",
    "n\u{200b}",
    "",
];

/// The cells of one field: (label, arguments, expected outcome per admitted caller).
#[allow(clippy::type_complexity)]
fn cells(f: F, w: &World) -> Vec<(String, Value, Box<dyn Fn(Kind) -> &'static str>)> {
    let mut out: Vec<(String, Value, Box<dyn Fn(Kind) -> &'static str>)> = Vec::new();
    let big = "x".repeat(10_240);
    let id = |n: &Value| n["id"].clone();
    let by_owner = |owner: Kind,
                    other_same_tenant: &'static str,
                    shared: bool|
     -> Box<dyn Fn(Kind) -> &'static str> {
        Box::new(move |k| match (k, owner) {
            (k, o) if k == o => "ok",
            (Kind::Carol | Kind::Dave, Kind::Alice) if shared => "ok",
            (Kind::Carol | Kind::Dave, Kind::Alice) => other_same_tenant,
            _ => "null",
        })
    };
    match f {
        "Query.me" | "Query.tenant" => {
            out.push(("no arguments".into(), json!({}), Box::new(|_| "ok")))
        }
        // Carol has no profile yet (updateMyProfile cells run later).
        "Query.myProfile" => out.push((
            "no arguments".into(),
            json!({}),
            Box::new(|k| if k == Kind::Carol { "null" } else { "ok" }),
        )),
        "Query.note" => {
            out.push((
                "A's private".into(),
                json!({"id": id(&w.priv_a)}),
                by_owner(Kind::Alice, "null", false),
            ));
            out.push((
                "A's tenant note".into(),
                json!({"id": id(&w.ten_a)}),
                by_owner(Kind::Alice, "ok", true),
            ));
            out.push((
                "A's public".into(),
                json!({"id": id(&w.pub_a)}),
                by_owner(Kind::Alice, "ok", true),
            ));
            out.push((
                "B's private".into(),
                json!({"id": id(&w.priv_b)}),
                by_owner(Kind::Bob, "null", false),
            ));
            out.push((
                "unknown id".into(),
                json!({"id": "does-not-exist"}),
                Box::new(|_| "null"),
            ));
            let key = format!("TENANT#globex#NOTE#{}", w.priv_b["id"].as_str().unwrap());
            for h in HOSTILE_IDS
                .iter()
                .map(|s| s.to_string())
                .chain([big.clone(), key])
            {
                out.push((
                    format!("hostile id {:?}", h.chars().take(20).collect::<String>()),
                    json!({"id": h}),
                    Box::new(|_| "ValidationError"),
                ));
            }
        }
        "Query.notes" => {
            out.push(("defaults".into(), json!({}), Box::new(|_| "ok")));
            for l in [
                json!(-1),
                json!(0),
                json!(101),
                json!(1i64 << 40),
                json!("5"),
            ] {
                out.push((
                    format!("limit {l}"),
                    json!({"limit": l}),
                    Box::new(|_| "ValidationError"),
                ));
            }
            let ta = w.token_alice.clone();
            out.push((
                "alice's token".into(),
                json!({"limit": 1, "nextToken": ta}),
                Box::new(|k| {
                    if k == Kind::Alice {
                        "ok"
                    } else {
                        "ValidationError"
                    }
                }),
            ));
            out.push((
                "bob's token".into(),
                json!({"limit": 1, "nextToken": w.token_bob}),
                Box::new(|k| {
                    if k == Kind::Bob {
                        "ok"
                    } else {
                        "ValidationError"
                    }
                }),
            ));
            let mut tampered = w.token_alice.clone().into_bytes();
            tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
            out.push((
                "tampered token".into(),
                json!({"nextToken": String::from_utf8(tampered).unwrap()}),
                Box::new(|_| "ValidationError"),
            ));
            out.push((
                "garbage token".into(),
                json!({"nextToken": big}),
                Box::new(|_| "ValidationError"),
            ));
        }
        "Query.publicNotes" => {
            out.push((
                "acme".into(),
                json!({"tenantId": "acme"}),
                Box::new(|_| "ok"),
            ));
            out.push((
                "globex".into(),
                json!({"tenantId": "globex"}),
                Box::new(|_| "ok"),
            ));
            for t in ["initech", "nosuch", "acme#x", "ACME", "../globex", ""] {
                out.push((
                    format!("tenant {t:?}"),
                    json!({"tenantId": t}),
                    Box::new(|_| "NotFound"),
                ));
            }
            out.push((
                "a notes token".into(),
                json!({"tenantId": "acme", "nextToken": w.token_alice}),
                Box::new(|_| "ValidationError"),
            ));
            out.push((
                "limit 0".into(),
                json!({"tenantId": "acme", "limit": 0}),
                Box::new(|_| "ValidationError"),
            ));
        }
        "Mutation.createNote" => {
            out.push((
                "valid".into(),
                json!({"input": {"title": "matrix"}}),
                Box::new(|_| "ok"),
            ));
            out.push((
                "empty title".into(),
                json!({"input": {"title": ""}}),
                Box::new(|_| "ValidationError"),
            ));
            out.push((
                "10 kB title".into(),
                json!({"input": {"title": big}}),
                Box::new(|_| "ValidationError"),
            ));
            out.push((
                "huge body".into(),
                json!({"input": {"title": "t", "body": "b".repeat(10_001)}}),
                Box::new(|_| "ValidationError"),
            ));
            out.push((
                "hostile clientToken".into(),
                json!({"input": {"title": "t", "clientToken": "TOKEN#x"}}),
                Box::new(|_| "ValidationError"),
            ));
        }
        "Mutation.updateNote" | "Mutation.deleteNote" => {
            let args = |n: &Value| {
                if f == "Mutation.updateNote" {
                    json!({"input": {"id": n["id"], "title": "pwned", "expectedVersion": 99}})
                } else {
                    json!({"id": n["id"], "expectedVersion": 99})
                }
            };
            // Stale versions only: the matrix must not change what later cells read.
            out.push((
                "A's tenant note".into(),
                args(&w.ten_a),
                Box::new(|k| match k {
                    // The admin may moderate it: its stale version is a conflict.
                    Kind::Alice | Kind::Dave => "ConflictError",
                    Kind::Carol => "Forbidden",
                    _ => "NotFound",
                }),
            ));
            out.push((
                "A's private".into(),
                args(&w.priv_a),
                Box::new(|k| {
                    if k == Kind::Alice {
                        "ConflictError"
                    } else {
                        "NotFound"
                    }
                }),
            ));
            out.push((
                "B's private".into(),
                args(&w.priv_b),
                Box::new(|k| {
                    if k == Kind::Bob {
                        "ConflictError"
                    } else {
                        "NotFound"
                    }
                }),
            ));
            for h in HOSTILE_IDS.iter().map(|s| s.to_string()).chain([big]) {
                let a = if f == "Mutation.updateNote" {
                    json!({"input": {"id": h, "title": "x", "expectedVersion": 1}})
                } else {
                    json!({"id": h})
                };
                out.push((
                    format!("hostile id {:?}", h.chars().take(20).collect::<String>()),
                    a,
                    Box::new(|_| "ValidationError"),
                ));
            }
        }
        "Mutation.updateMyProfile" => {
            out.push((
                "valid".into(),
                json!({"input": {"displayName": "Matrix"}}),
                Box::new(|_| "ok"),
            ));
            out.push((
                "blank".into(),
                json!({"input": {"displayName": " "}}),
                Box::new(|_| "ValidationError"),
            ));
        }
        "Mutation.setRole" => {
            // Cells that leave roles as they are, so later cells see the same world.
            out.push((
                "alice stays MEMBER".into(),
                json!({"identityId": Who::alice().identity_id(), "role": "MEMBER"}),
                Box::new(|k| if k == Kind::Dave { "ok" } else { "Forbidden" }),
            ));
            out.push((
                "dave stays ADMIN".into(),
                json!({"identityId": Who::user(POOL_A, "dave").identity_id(), "role": "ADMIN"}),
                Box::new(|k| if k == Kind::Dave { "ok" } else { "Forbidden" }),
            ));
            out.push((
                "hostile id".into(),
                json!({"identityId": "x#TENANT#globex", "role": "ADMIN"}),
                Box::new(|_| "ValidationError"),
            ));
        }
        "Note.author" => {
            out.push((
                "A's public note".into(),
                w.pub_a.clone(),
                Box::new(|k| {
                    if matches!(k, Kind::Alice | Kind::Carol | Kind::Dave) {
                        "ok"
                    } else {
                        "null"
                    }
                }),
            ));
            out.push((
                "B's private note".into(),
                w.priv_b.clone(),
                Box::new(|k| if k == Kind::Bob { "ok" } else { "null" }),
            ));
            let mut forged = w.priv_b.clone();
            forged["tenantId"] = json!("acme");
            out.push((
                "B's note relabelled acme".into(),
                forged,
                Box::new(|_| "null"),
            ));
        }
        // The subscriptions answer filters, not data: `ok` cells are checked by what their filter
        // lets through (`subscription_leaks`), whatever the client sent.
        "Subscription.onNoteChanged" => {
            out.push(("no arguments".into(), json!({}), Box::new(|_| "ok")));
            out.push((
                "forged filter and tenantId".into(),
                json!({"filter": "{\"tenantId\":{\"ne\":\"x\"}}", "tenantId": "globex", "ownerId": bob().identity_id()}),
                Box::new(|_| "ok"),
            ));
        }
        "Subscription.onPublicNoteChanged" => {
            for t in ["acme", "globex"] {
                out.push((t.into(), json!({"tenantId": t}), Box::new(|_| "ok")));
            }
            out.push((
                "acme with a forged filter".into(),
                json!({"tenantId": "acme", "filter": "{}", "visibility": "PRIVATE"}),
                Box::new(|_| "ok"),
            ));
            for t in ["initech", "nosuch", "acme#x", "ACME", "../globex", ""] {
                out.push((
                    format!("tenant {t:?}"),
                    json!({"tenantId": t}),
                    Box::new(|_| "NotFound"),
                ));
            }
        }
        other => panic!(
            "the isolation matrix has no cells for {other}: add them to `cells` (every field of \
             shared::api::FIELDS needs its hostile arguments and expected outcomes)"
        ),
    }
    out
}

/// Who a subscription's events are for: (tenant, identity id) of a user, or a tenant's public
/// channel.
fn subscriber(f: F, k: Kind, args: &Value) -> Option<(String, Option<String>)> {
    if f == "Subscription.onPublicNoteChanged" {
        return Some((args["tenantId"].as_str()?.to_owned(), None));
    }
    let tenant = match k {
        Kind::Alice | Kind::Carol | Kind::Dave => "acme",
        Kind::Bob => "globex",
        _ => return None,
    };
    Some((tenant.to_owned(), Some(who(k)?.identity_id().to_owned())))
}

/// For a subscription field's answer: every event it would deliver that `k` may not have, as a
/// finding. Runs every transition (none / PRIVATE / TENANT / PUBLIC → the same) of notes of both
/// tenants, by their users and by the caller itself, through the answered filter with AppSync's
/// semantics (`shared::realtime::filter`), against the read rule: an event with a body only if
/// the subscriber may read the note now, a removal only if it could read it before.
fn subscription_leaks(f: F, k: Kind, args: &Value, answer: &Value) -> Vec<String> {
    use shared::notes::{Note, NoteId, Title, Visibility, can_read};
    use shared::realtime::{changes, filter};
    let Some((tenant, viewer)) = subscriber(f, k, args) else {
        return vec![format!("{f} answered {k:?}, who may not subscribe")];
    };
    let reads = |n: &Note| {
        n.tenant_id.as_str() == tenant
            && match &viewer {
                Some(v) => can_read(n, &shared::identity::IdentityId::parse(v).unwrap()),
                None => n.visibility == Visibility::Public,
            }
    };
    let mut owners = vec![
        ("acme", Who::alice().identity_id().to_owned()),
        ("acme", Who::carol().identity_id().to_owned()),
        ("globex", bob().identity_id().to_owned()),
    ];
    if let Some(v) = &viewer {
        owners.push(("acme", v.clone()));
        owners.push(("globex", v.clone()));
    }
    let vis = [Visibility::Private, Visibility::Tenant, Visibility::Public];
    let note = |t: &str, o: &str, v: Visibility, version: i64| Note {
        id: NoteId::parse("n-1").unwrap(),
        tenant_id: TenantId::parse(t).unwrap(),
        owner_id: shared::identity::IdentityId::parse(o).unwrap(),
        title: Title::parse("t".into()).unwrap(),
        body: None,
        visibility: v,
        version,
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
    };
    let mut out = Vec::new();
    for (t, o) in &owners {
        let states: Vec<Option<Note>> = std::iter::once(None)
            .chain(vis.iter().map(|v| Some(note(t, o, *v, 1))))
            .collect();
        for old in &states {
            for new in &states {
                let new = new.clone().map(|mut n| {
                    n.version = 2;
                    n
                });
                for e in changes(old.as_ref(), new.as_ref()) {
                    let delivered =
                        filter::matches(&answer["filter"], &serde_json::to_value(&e).unwrap());
                    let allowed = match &e.note {
                        Some(n) => reads(n),
                        None => old.as_ref().is_some_and(&reads),
                    };
                    if delivered && !allowed {
                        out.push(format!("{t}/{o}: {old:?} -> {new:?} delivers {e:?}"));
                    }
                }
            }
        }
    }
    if answer["tenantId"].as_str() != Some(tenant.as_str()) {
        out.push(format!("grant for tenant {}", answer["tenantId"]));
    }
    if let Err(e) = filter::check_limits(&answer["filter"]) {
        out.push(format!("filter beyond AppSync's limits: {e}"));
    }
    out
}

async fn call(fx: &Fixture, f: F, caller: Option<&Who>, args: Value) -> Result<Value, Diagnostic> {
    let entry = shared::api::FIELDS
        .iter()
        .find(|e| e.field.to_string() == f)
        .expect("a registry field");
    let batch = entry.kind == shared::api::Kind::Batch;
    let (ty, field) = (entry.field.type_name, entry.field.field_name);
    let mut e = event(
        ty,
        field,
        caller.unwrap_or(&Who::raw(Value::Null)),
        if batch { json!({}) } else { args.clone() },
    );
    if caller.is_none() {
        e.as_object_mut().unwrap().remove("identity");
    }
    if !batch {
        return shared::api::dispatch(entry.function, &fx.app, e).await;
    }
    e["source"] = args;
    // As AppSync sends it with batching on: an array (of one).
    shared::api::dispatch(entry.function, &fx.app, Value::Array(vec![e]))
        .await
        .map(|v| {
            v.as_array()
                .and_then(|a| a.first().cloned())
                .unwrap_or(Value::Null)
        })
}

#[tokio::test]
async fn isolation_matrix() {
    let fx = Fixture::with(Options {
        identity_pool: Some(IDENTITY_POOL),
        ..Options::default()
    })
    .await;
    let (alice, bob) = (Who::alice(), bob());
    // Tenants in different Identity Pools: acme in the stack's first, globex in a second.
    for (tenant, pool) in [("acme", IDENTITY_POOL), ("globex", SECOND_POOL)] {
        fx.admin()
            .registry_bind_identity_pool(&TenantId::parse(tenant).unwrap(), pool)
            .await
            .unwrap();
    }
    // A third tenant, suspended.
    let initech = TenantId::parse("initech").unwrap();
    fx.admin()
        .registry_register(&initech, "Initech", &ProviderKey::parse(POOL_C).unwrap())
        .await
        .unwrap();
    fx.admin()
        .registry_set_status(&initech, TenantStatus::Suspended)
        .await
        .unwrap();

    let dave = Who::user(POOL_A, "dave");
    for (w, n) in [
        (&alice, "A-PRIVATE-SECRET Alice"),
        (&bob, "B-PRIVATE-SECRET Bob"),
        (&dave, "Dave"),
    ] {
        fx.call(UpdateMyProfile, w, json!({"input": {"displayName": n}}))
            .await
            .unwrap();
    }
    grant_admin(&fx, "acme", &dave).await;
    let world = World {
        priv_a: fx.create(&alice, "A-PRIVATE-SECRET", "PRIVATE").await,
        ten_a: fx.create(&alice, "A-TENANT-SECRET", "TENANT").await,
        pub_a: fx.create(&alice, "A-PUBLIC", "PUBLIC").await,
        priv_b: fx.create(&bob, "B-PRIVATE-SECRET", "PRIVATE").await,
        token_alice: String::new(),
        token_bob: String::new(),
    };
    fx.create(&bob, "B-TENANT-SECRET", "TENANT").await;
    fx.create(&bob, "B-PUBLIC", "PUBLIC").await;
    let token = |w: &Who| {
        let w = w.clone();
        let fx = &fx;
        async move {
            let page = fx.call(ListNotes, &w, json!({"limit": 1})).await.unwrap();
            page["nextToken"].as_str().unwrap().to_owned()
        }
    };
    let world = World {
        token_alice: token(&alice).await,
        token_bob: token(&bob).await,
        ..world
    };

    let fields: Vec<F> = shared::api::FIELDS
        .iter()
        .map(|e| &*e.field.to_string().leak())
        .collect();
    let (mut total, mut held) = (0usize, 0usize);
    let mut failures = Vec::new();
    for f in fields {
        for (label, args, expect) in cells(f, &world) {
            for k in KINDS {
                total += 1;
                let caller = who(k);
                let want = gate(f, k).unwrap_or_else(|| expect(k));
                let got = call(&fx, f, caller.as_ref(), args.clone()).await;
                let outcome = match &got {
                    Ok(Value::Null) => "null".to_owned(),
                    Ok(_) => "ok".to_owned(),
                    Err(d) => d.error_type.clone(),
                };
                let text = match &got {
                    Ok(v) => v.to_string(),
                    Err(d) => d.error_message.clone(),
                };
                let mut leaked: Vec<String> = MARKERS
                    .iter()
                    .copied()
                    .filter(|m| text.contains(m) && !may_see(k, m))
                    .map(str::to_owned)
                    .collect();
                if let (true, Ok(answer)) = (f.starts_with("Subscription."), &got) {
                    leaked.extend(subscription_leaks(f, k, &args, answer));
                }
                if outcome == want && leaked.is_empty() {
                    held += 1;
                } else {
                    failures.push(format!(
                        "{f:?} / {label} / {k:?}: expected {want}, got {outcome}; leaked {leaked:?}"
                    ));
                }
            }
        }
    }
    println!("isolation: {total} cells, {held} held");
    assert!(
        failures.is_empty(),
        "{} cells failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 700, "the matrix shrank to {total} cells");
}
