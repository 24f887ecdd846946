//! Test harness: a fresh table on DynamoDB Local per test, two registered tenants, and callers
//! whose identities look exactly like what AppSync sends.
//!
//! `scripts/test.sh` starts DynamoDB Local and exports `AWS_ENDPOINT_URL_DYNAMODB`; these tests
//! talk to it with the real `aws-sdk-dynamodb` client.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub mod events;
pub mod fault_proxy;

use aws_sdk_dynamodb::Client;
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use shared::config::Config;
use shared::fixtures;
use shared::identity::ProviderKey;
use shared::lambda::{App, Handler};
use shared::store::Db;
use shared::store::admin::Admin;
use shared::store::capacity::Observer;
use shared::tenancy::TenantId;

pub const REGION: &str = "eu-central-1";
pub const IDENTITY_POOL: &str = "eu-central-1:1cb638b4-0f0c-4078-9fe0-4dbd3582783d";
pub const POOL_A: &str = "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1";
pub const POOL_B: &str = "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_GlobexPl1";
pub const OIDC_B: &str = "arn:aws:iam::123456789012:oidc-provider/login.globex.example";
pub const POOL_UNKNOWN: &str = "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_NoTenant9";
pub const POOL_C: &str = "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Initech01";

/// A caller, as the identity object AppSync would put in the event.
#[derive(Debug, Clone)]
pub struct Who {
    pub identity: Value,
}

impl Who {
    /// A User Pool user of `pool`, as AppSync quotes the provider list.
    pub fn user(pool: &str, name: &str) -> Who {
        let sub = format!("{:0>8}-0000-4000-8000-000000000000", hex(name));
        Who {
            identity: fixtures::user_identity(pool, &identity_id(name), Some(&sub)),
        }
    }

    /// A federated user whose provider string is `provider` (no User Pool sub).
    pub fn federated(provider: &str, name: &str) -> Who {
        let mut w = Who::user(POOL_A, name);
        w.identity["cognitoIdentityAuthProvider"] = json!(provider);
        w
    }

    pub fn guest(name: &str) -> Who {
        Who {
            identity: fixtures::guest_identity(&identity_id(name)),
        }
    }

    pub fn alice() -> Who {
        Who::user(POOL_A, "alice")
    }
    /// A second user of tenant A.
    pub fn carol() -> Who {
        Who::user(POOL_A, "carol")
    }
    pub fn bob() -> Who {
        Who::user(POOL_B, "bob")
    }
    /// Tenant B through its OIDC provider.
    pub fn dana() -> Who {
        Who::federated(&format!("\"{OIDC_B}\""), "dana")
    }

    pub fn identity_id(&self) -> &str {
        self.identity["cognitoIdentityId"]
            .as_str()
            .unwrap_or_default()
    }

    /// The same caller with an identity from another identity pool.
    pub fn from_pool(mut self, pool: &str) -> Who {
        self.identity["cognitoIdentityPoolId"] = json!(pool);
        self
    }

    pub fn raw(identity: Value) -> Who {
        Who { identity }
    }
}

fn hex(name: &str) -> String {
    name.bytes().take(4).map(|b| format!("{b:02x}")).collect()
}

pub fn identity_id(name: &str) -> String {
    format!("{REGION}:{:0>8}-1111-4222-8333-444455556666", hex(name))
}

/// The event AppSync sends for `Type.field` with these arguments.
pub fn event(type_name: &str, field: &str, who: &Who, args: Value) -> Value {
    json!({
        "arguments": args,
        "identity": who.identity,
        "source": null,
        "request": {"headers": {"host": "example.appsync-api.eu-central-1.amazonaws.com"}, "domainName": null},
        "info": {
            "parentTypeName": type_name,
            "fieldName": field,
            "variables": {},
            "selectionSetList": ["id"],
            "selectionSetGraphQL": "{ id }"
        },
        "prev": null,
        "stash": {}
    })
}

/// A fresh table on DynamoDB Local with tenants `acme` (POOL_A) and `globex` (POOL_B, OIDC_B).
pub struct Fixture {
    pub app: App,
    /// Every DynamoDB request the fixture's client sent.
    pub requests: RequestCounter,
    /// The capacity DynamoDB Local reported to the fixture's client.
    pub capacity_reported: CapacityWitness,
}

impl Fixture {
    /// The EMF lines the calls so far wrote, parsed, and start again.
    pub fn emf_lines(&self) -> Vec<Value> {
        match &self.app.metrics {
            shared::lambda::metrics::MetricsSink::Memory(lines) => {
                std::mem::take(&mut *lines.lock().unwrap())
                    .iter()
                    .map(|l| serde_json::from_str(l).expect("an EMF line is JSON"))
                    .collect()
            }
            shared::lambda::metrics::MetricsSink::Stdout => Vec::new(),
        }
    }
}

/// Counts the HTTP requests a client sends, per DynamoDB operation (retries included): how the
/// tests pin the round trips a field costs. A view of the capacity interceptor's [`Observer`].
#[derive(Debug, Default, Clone)]
pub struct RequestCounter(pub Observer);

impl RequestCounter {
    pub fn count(&self, operation: &str) -> usize {
        self.0.now().requests.get(operation).copied().unwrap_or(0)
    }

    pub fn total(&self) -> usize {
        self.0.now().total()
    }

    pub fn snapshot(&self) -> BTreeMap<String, usize> {
        self.0.now().requests
    }

    pub fn reset(&self) {
        self.0.reset_requests()
    }
}

/// What DynamoDB Local itself reported as consumed capacity, read from the raw HTTP answers —
/// an independent witness for the functions' capacity meter (which reads the parsed outputs).
#[derive(Debug, Clone, Default)]
pub struct CapacityWitness(pub Observer);

impl CapacityWitness {
    /// The units reported since the last call, and start again from zero.
    pub fn take(&self) -> f64 {
        self.0.take_reported()
    }
}

pub fn client() -> Client {
    counted_client(RequestCounter::default())
}

/// DynamoDB Local's endpoint, from `scripts/test.sh`.
pub fn ddb_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| {
        panic!("AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with scripts/test.sh, which starts DynamoDB Local")
    })
}

pub fn counted_client(counter: RequestCounter) -> Client {
    client_at(&ddb_endpoint(), counter)
}

/// A client as the functions build it (same timeouts and retries), at `endpoint`.
pub fn client_at(endpoint: &str, counter: RequestCounter) -> Client {
    client_metered(endpoint, counter, &Arc::default())
}

/// [`client_at`] whose consumed capacity is metered into `meter`, as the functions' client is.
pub fn client_metered(
    endpoint: &str,
    counter: RequestCounter,
    meter: &Arc<shared::store::capacity::CapacityMeter>,
) -> Client {
    client_keyed(endpoint, &counter.0, meter, "local")
}

/// A client of a DynamoDB Local database of its own. DynamoDB Local (without `-sharedDb`)
/// keeps one database per access key, and each database runs its background jobs on a fixed
/// pool of 10 threads; every table with TTL holds one of them for good. After seven such tables
/// a GlobalSecondaryIndex added by UpdateTable stays CREATING forever (seen: a CI run waited an
/// hour). Tests that add an index to an existing table use this.
pub fn client_of_own_database() -> Client {
    let key = format!("db{}", uuid::Uuid::new_v4().simple());
    client_keyed(&ddb_endpoint(), &Observer::default(), &Arc::default(), &key)
}

/// A table as an older version of `tenantctl create-table` made it: the keys and `indexes`
/// (name, hash key, range key; all attributes projected), no stream, no TTL — what
/// `Db::create_table` must bring up to date.
pub async fn create_older_table(client: &Client, table: &str, indexes: &[(&str, &str, &str)]) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let mut req = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"));
    for (name, hash, range) in indexes {
        req = req
            .attribute_definitions(attr(hash))
            .attribute_definitions(attr(range))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(*name)
                    .key_schema(key(hash, KeyType::Hash))
                    .key_schema(key(range, KeyType::Range))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            );
    }
    req.send().await.unwrap();
}

/// The functions' client (timeouts, retries, capacity meter) whose requests and answers
/// `observer` records.
fn client_keyed(
    endpoint: &str,
    observer: &Observer,
    meter: &Arc<shared::store::capacity::CapacityMeter>,
    access_key: &str,
) -> Client {
    let builder = shared::store::with_budget(aws_sdk_dynamodb::Config::builder());
    let conf = shared::store::capacity::observed(builder, meter, observer)
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            access_key, "local", None, None, "tests",
        ))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(conf)
}

pub struct Options {
    pub cache_ttl: Duration,
    pub identity_pool: Option<&'static str>,
    /// Where the functions' client sends requests (a fault proxy); set-up always goes direct.
    pub endpoint: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_ttl: Duration::from_secs(60),
            identity_pool: None,
            endpoint: None,
        }
    }
}

impl Fixture {
    pub async fn new() -> Fixture {
        Fixture::with(Options::default()).await
    }

    pub async fn with(opts: Options) -> Fixture {
        let table = format!("notes-test-{}", uuid::Uuid::new_v4().simple());
        let observer = Observer::default();
        let setup = Admin::new(Db::new(client(), table.clone()));
        setup.create_table().await.expect("create table");
        let endpoint = opts.endpoint.clone().unwrap_or_else(ddb_endpoint);
        let capacity = Arc::default();
        let db = Db::new(
            client_keyed(&endpoint, &observer, &capacity, "local"),
            table.clone(),
        );
        for (tenant, name, provider) in [
            ("acme", "Acme Corp", POOL_A),
            ("globex", "Globex", POOL_B),
            ("globex", "Globex", OIDC_B),
        ] {
            Admin::new(db.clone())
                .registry_register(
                    &TenantId::parse(tenant).unwrap(),
                    name,
                    &ProviderKey::parse(provider).unwrap(),
                )
                .await
                .expect("register tenant");
        }
        let ttl = opts.cache_ttl.as_secs().to_string();
        let config = Config::from_lookup(|k| match k {
            "TABLE_NAME" => Some(table.clone()),
            "TENANT_CACHE_TTL_SECONDS" => Some(ttl.clone()),
            "IDENTITY_POOL_ID" => opts.identity_pool.map(str::to_owned),
            _ => None,
        })
        .expect("config");
        observer.reset_requests();
        Fixture {
            requests: RequestCounter(observer.clone()),
            capacity_reported: CapacityWitness(observer),
            app: App {
                metrics: shared::lambda::metrics::MetricsSink::Memory(Arc::default()),
                ..App::with_meter(config, db, capacity)
            },
        }
    }

    pub fn db(&self) -> &Db {
        &self.app.db
    }

    /// The operator's handle on the same table (registry writes, partitions).
    pub fn admin(&self) -> Admin {
        Admin::new(self.app.db.clone())
    }

    /// Invokes `resolver` with the event AppSync would send for its field.
    pub async fn call<R: Handler>(
        &self,
        resolver: R,
        who: &Who,
        args: Value,
    ) -> Result<Value, Diagnostic> {
        let f = R::FIELD;
        shared::lambda::call(
            &self.app,
            &resolver,
            event(f.type_name, f.field_name, who, args),
        )
        .await
    }

    /// Invokes with a raw event payload (for malformed and misrouted events).
    pub async fn call_raw<R: Handler>(
        &self,
        resolver: R,
        payload: Value,
    ) -> Result<Value, Diagnostic> {
        shared::lambda::call(&self.app, &resolver, payload).await
    }

    /// Creates a note as `who` and returns it.
    pub async fn create(&self, who: &Who, title: &str, visibility: &str) -> Value {
        self.call(
            shared::api::CreateNote,
            who,
            json!({"input": {"title": title, "body": "b", "visibility": visibility}}),
        )
        .await
        .unwrap_or_else(|e| panic!("createNote failed: {e:?}"))
    }
}

/// The `errorType` of a failed call, or "ok".
pub fn kind(r: &Result<Value, Diagnostic>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(d) => d.error_type.clone(),
    }
}

#[track_caller]
pub fn assert_err(r: &Result<Value, Diagnostic>, error_type: &str) {
    match r {
        Err(d) if d.error_type == error_type => {}
        other => panic!("expected {error_type}, got {other:?}"),
    }
}

/// What `tenantctl grant-admin` does: makes `who` an ADMIN of `tenant`.
pub async fn grant_admin(fx: &Fixture, tenant: &str, who: &Who) {
    let registry = shared::store::TenantRegistry::new(fx.db().clone(), Duration::ZERO);
    let tenant = registry
        .active_by_id(&TenantId::parse(tenant).unwrap())
        .await
        .unwrap();
    let store = shared::store::TenantStore::new(fx.db().clone(), tenant);
    let p = store
        .grant_admin(
            &shared::identity::IdentityId::parse(who.identity_id()).unwrap(),
            "2026-01-01T00:00:00.000Z",
        )
        .await
        .unwrap();
    assert_eq!(p.role, shared::profiles::Role::Admin);
}

/// The User Pool sub AppSync reports for `who` (`...:CognitoSignIn:<sub>`).
pub fn user_sub(who: &Who) -> String {
    let provider = who.identity["cognitoIdentityAuthProvider"]
        .as_str()
        .unwrap();
    let (_, rest) = provider.split_once(":CognitoSignIn:").unwrap();
    rest.trim_end_matches('"').to_owned()
}

/// Records `who` (of `pool`) as `tenant`'s pending first admin, as `tenantctl onboard` does.
pub async fn pend_admin(db: &shared::store::Db, tenant: &str, pool: &str, who: &Who) {
    Admin::new(db.clone())
        .registry_set_pending_admin(
            &TenantId::parse(tenant).unwrap(),
            &shared::tenancy::PendingAdmin {
                provider: pool.to_owned(),
                sub: user_sub(who),
                email: "admin@example.test".into(),
            },
        )
        .await
        .unwrap();
}

/// Items per partition key (DynamoDB Local, a full scan: tests only).
pub async fn partition_counts(db: &shared::store::Db) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    let items = db
        .client()
        .scan()
        .table_name(db.table_name())
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    for item in items {
        let pk = item["pk"].as_s().unwrap().clone();
        *out.entry(pk).or_default() += 1;
    }
    out
}
