//! What listing a tenant costs, before and after the listing index: requests, items evaluated
//! (`ScannedCount`) and read capacity (`ConsumedCapacity`) per page and to list everything a
//! viewer may read, in tenants of a given size where the viewer may read a given share.
//!
//! "Before" is the old read path, kept here only as the baseline: one Query over the tenant's
//! whole partition with the filter `visibility <> PRIVATE OR ownerId = me`, up to 8 rounds per
//! page. "After" is `Query.notes` itself, called in-process through the resolver.
//!
//! Used by `bench-lists` (the full run, `scripts/bench.sh lists`) and by `tests/list_cost.rs`
//! (CI: small tenants, the targets asserted).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use serde_json::{Value, json};
use shared::config::Config;
use shared::identity::{IdentityId, ProviderKey};
use shared::lambda::App;
use shared::lambda::metrics::MetricsSink;
use shared::notes::{Body, Note, NoteId, Title, Visibility};
use shared::store::TenantRegistry;
use shared::store::capacity::Observer;
use shared::store::{Db, TenantStore};
use shared::tenancy::TenantId;

type Item = HashMap<String, AttributeValue>;

/// Users of a bench tenant besides the viewer.
const OTHER_USERS: usize = 99;
/// Rounds of the old filtered query per page (its `MAX_QUERY_ROUNDS`).
const BASELINE_ROUNDS: usize = 8;
/// Parallel BatchWriteItem requests while loading.
const LOAD_CONCURRENCY: usize = 4;

/// Requests, items evaluated and capacity, as DynamoDB answered them (read from the raw
/// responses by the capacity interceptor's [`Observer`]: independent of the functions' meter).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Counts {
    pub requests: u64,
    pub scanned: u64,
    pub rcu: f64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, o: Counts) -> Counts {
        Counts {
            requests: self.requests - o.requests,
            scanned: self.scanned - o.scanned,
            rcu: self.rcu - o.rcu,
        }
    }
}

/// Fills [`Counts`]: a view of the functions' capacity interceptor with an [`Observer`].
#[derive(Debug, Default, Clone)]
pub struct Meter(Observer);

impl Meter {
    pub fn now(&self) -> Counts {
        let seen = self.0.now();
        Counts {
            requests: seen.total() as u64,
            scanned: seen.scanned,
            rcu: seen.reported,
        }
    }
}

/// A client for DynamoDB Local at `endpoint` (loopback only), metered by `meter`, with the
/// functions' timeouts and retries and their capacity interceptor (which asks every request
/// for `ReturnConsumedCapacity`).
pub fn client(endpoint: &str, meter: &Meter) -> Client {
    let builder = shared::store::with_budget(aws_sdk_dynamodb::Config::builder());
    let conf = shared::store::capacity::observed(builder, &Arc::default(), &meter.0)
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "bench",
        ))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(conf)
}

/// Refuses anything but DynamoDB Local on this machine: the bench writes 100,000s of items.
pub fn loopback_endpoint() -> Result<String, String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .map_err(|_| "AWS_ENDPOINT_URL_DYNAMODB is not set (DynamoDB Local's URL)".to_owned())?;
    let host = endpoint
        .strip_prefix("http://")
        .and_then(|r| r.split([':', '/']).next())
        .unwrap_or_default();
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        Ok(endpoint)
    } else {
        Err(format!(
            "{endpoint} is not a loopback http:// endpoint: this writes large tenants, it runs against DynamoDB Local only"
        ))
    }
}

/// A small deterministic generator (the same tenants on every run).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A tenant of `notes` notes where the viewer may read `readable_pct` percent.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub notes: usize,
    pub readable_pct: u32,
}

impl Scenario {
    pub fn tenant(&self) -> String {
        format!("n{}-p{}", self.notes, self.readable_pct)
    }
}

/// A loaded tenant and who looks at it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub scenario: Scenario,
    pub tenant: TenantId,
    pub provider: String,
    pub viewer: String,
    /// What the viewer may read: shared notes (anyone's) and its own PRIVATE ones.
    pub readable: usize,
    pub own_private: usize,
}

/// The identity id of bench user `i` (0 is the viewer of a loaded tenant).
pub fn identity(i: usize) -> String {
    format!("eu-central-1:{i:08x}-0000-4000-8000-0000000be4c8")
}

/// A note id that sorts by `seq`, shaped like the UUIDv7 ids the API makes.
fn note_id(seq: u64, salt: u64) -> String {
    format!(
        "{:08x}-{:04x}-7000-8000-{:012x}",
        seq >> 16,
        seq & 0xffff,
        salt & 0xffff_ffff_ffff
    )
}

/// Registers the scenario's tenant and loads its notes with BatchWriteItem (25 a request,
/// `LOAD_CONCURRENCY` in flight), printing a progress line. Readable notes are 3/4 shared (by
/// anyone, the viewer included) and 1/4 the viewer's PRIVATE ones, spread evenly in time among
/// the other users' PRIVATE notes.
pub async fn load(db: &Db, scenario: Scenario, index: usize) -> Loaded {
    let tenant = TenantId::parse(&scenario.tenant()).expect("bench tenant id");
    let provider = format!("cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Bench{index:04}");
    shared::store::admin::Admin::new(db.clone())
        .registry_register(
            &tenant,
            "Bench",
            &ProviderKey::parse(&provider).expect("bench provider"),
        )
        .await
        .expect("register bench tenant");
    let active = TenantRegistry::new(db.clone(), Duration::ZERO)
        .active_by_id(&tenant)
        .await
        .expect("bench tenant active");
    let store = TenantStore::new(db.clone(), active);
    let viewer = identity(0);
    let mut rng = Rng(0x5eed_0000 + index as u64 * 7919 + 1);
    let body = Body::parse("lorem ipsum dolor sit amet ".repeat(11)).expect("bench body");
    let mut readable = 0;
    let mut own_private = 0;
    let mut items: Vec<Item> = Vec::with_capacity(scenario.notes);
    for seq in 0..scenario.notes as u64 {
        let is_readable = rng.below(10_000) < u64::from(scenario.readable_pct) * 100;
        let (owner, visibility) = if !is_readable {
            (
                identity(1 + rng.below(OTHER_USERS as u64) as usize),
                Visibility::Private,
            )
        } else if rng.below(4) == 0 {
            own_private += 1;
            (viewer.clone(), Visibility::Private)
        } else {
            let vis = if rng.below(3) == 0 {
                Visibility::Public
            } else {
                Visibility::Tenant
            };
            (identity(rng.below(OTHER_USERS as u64 + 1) as usize), vis)
        };
        readable += usize::from(is_readable);
        let note = Note {
            id: NoteId::parse(&note_id(1_000_000 + seq, rng.next_u64())).expect("bench note id"),
            tenant_id: tenant.clone(),
            owner_id: IdentityId::parse(&owner).expect("bench identity"),
            title: Title::parse(format!("Note {seq}")).expect("bench title"),
            body: Some(body.clone()),
            visibility,
            version: 1,
            created_at: "2026-11-24T00:00:00.000Z".into(),
            updated_at: "2026-11-24T00:00:00.000Z".into(),
        };
        items.push(store.note_item(&note).expect("bench note item"));
    }
    write_all(db, &tenant.to_string(), items).await;
    Loaded {
        scenario,
        tenant,
        provider,
        viewer,
        readable,
        own_private,
    }
}

async fn write_all(db: &Db, label: &str, items: Vec<Item>) {
    // Loading is not what is measured: a patient client, so a busy DynamoDB Local (a 25-item
    // batch with two indexes can take seconds on a loaded machine) slows the load down instead
    // of failing it.
    let patient = db
        .client()
        .config()
        .to_builder()
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(120))
                .operation_timeout(Duration::from_secs(600))
                .build(),
        )
        .build();
    let db = &Db::new(Client::from_conf(patient), db.table_name());
    let total = items.len();
    let started = Instant::now();
    let mut batches = items.chunks(25).map(<[Item]>::to_vec);
    let mut running = tokio::task::JoinSet::new();
    let mut written = 0usize;
    let mut last_print = Instant::now();
    loop {
        while running.len() < LOAD_CONCURRENCY {
            let Some(batch) = batches.next() else { break };
            running.spawn(write_batch(db.clone(), batch));
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        written += done.expect("load task");
        if last_print.elapsed() > Duration::from_millis(500) || written == total {
            last_print = Instant::now();
            let rate = written as f64 / started.elapsed().as_secs_f64().max(1e-3);
            eprint!("\r  loading {label}: {written}/{total} items ({rate:.0} items/s)   ");
        }
    }
    eprintln!();
}

/// One BatchWriteItem of up to 25 puts, retrying unprocessed items; returns how many it wrote.
async fn write_batch(db: Db, batch: Vec<Item>) -> usize {
    let n = batch.len();
    let mut pending: Vec<WriteRequest> = batch
        .into_iter()
        .map(|item| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("put request"),
                )
                .build()
        })
        .collect();
    for attempt in 0..20u32 {
        let out = db
            .client()
            .batch_write_item()
            .request_items(db.table_name(), pending.clone())
            .send()
            .await
            .expect("BatchWriteItem");
        pending = out
            .unprocessed_items
            .and_then(|mut u| u.remove(db.table_name()))
            .unwrap_or_default();
        if pending.is_empty() {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
    }
    panic!("BatchWriteItem left items unprocessed after 20 attempts");
}

/// DynamoDB's size of an item: attribute names plus values (strings: UTF-8 bytes; numbers:
/// one byte per two significant digits, plus one).
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, v)| {
            name.len()
                + match v {
                    AttributeValue::S(s) => s.len(),
                    AttributeValue::N(n) => {
                        let digits = n.trim_start_matches(['-', '0']).replace('.', "").len();
                        digits.div_ceil(2) + 1
                    }
                    AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
                    _ => 0,
                }
        })
        .sum()
}

/// The read capacity of reading exactly these bytes in one eventually consistent Query: what a
/// page's items cost at the least.
pub fn ideal_rcu(bytes: usize) -> f64 {
    bytes.div_ceil(4096) as f64 * 0.5
}

/// One page: what it cost and what it returned.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageCost {
    pub counts: Counts,
    pub items: usize,
    pub ideal_rcu: f64,
}

/// Listing everything a viewer may read, page by page.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub pages: Vec<PageCost>,
    pub elapsed: Duration,
}

impl Listing {
    pub fn total(&self) -> PageCost {
        self.pages
            .iter()
            .fold(PageCost::default(), |a, p| PageCost {
                counts: Counts {
                    requests: a.counts.requests + p.counts.requests,
                    scanned: a.counts.scanned + p.counts.scanned,
                    rcu: a.counts.rcu + p.counts.rcu,
                },
                items: a.items + p.items,
                ideal_rcu: a.ideal_rcu + p.ideal_rcu,
            })
    }

    pub fn first(&self) -> PageCost {
        self.pages.first().copied().unwrap_or_default()
    }

    /// RCU of the whole listing ÷ the least its items could cost, page by page.
    pub fn rcu_ratio(&self) -> f64 {
        let t = self.total();
        if t.ideal_rcu == 0.0 {
            1.0
        } else {
            t.counts.rcu / t.ideal_rcu
        }
    }

    /// Mean RCU of the pages that came back full.
    pub fn rcu_per_full_page(&self, limit: usize) -> Option<f64> {
        let full: Vec<&PageCost> = self.pages.iter().filter(|p| p.items == limit).collect();
        (!full.is_empty())
            .then(|| full.iter().map(|p| p.counts.rcu).sum::<f64>() / full.len() as f64)
    }
}

/// The old read path: the whole partition, filtered, newest first, up to 8 rounds a page.
pub async fn list_before(db: &Db, meter: &Meter, loaded: &Loaded, limit: usize) -> Listing {
    let started = Instant::now();
    let mut listing = Listing::default();
    let partition = format!("TENANT#{}", loaded.tenant);
    let mut start: Option<Item> = None;
    loop {
        let before = meter.now();
        let mut items: Vec<Item> = Vec::new();
        for _ in 0..BASELINE_ROUNDS {
            let want = limit - items.len();
            let out = db
                .client()
                .query()
                .table_name(db.table_name())
                .key_condition_expression("#p = :p AND begins_with(#s, :note)")
                .filter_expression("visibility <> :private OR ownerId = :me")
                .expression_attribute_names("#p", "pk")
                .expression_attribute_names("#s", "sk")
                .expression_attribute_values(":p", AttributeValue::S(partition.clone()))
                .expression_attribute_values(":note", AttributeValue::S("NOTE#".into()))
                .expression_attribute_values(":private", AttributeValue::S("PRIVATE".into()))
                .expression_attribute_values(":me", AttributeValue::S(loaded.viewer.clone()))
                .scan_index_forward(false)
                .limit(want as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("baseline Query");
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() || items.len() >= limit {
                break;
            }
        }
        let bytes: usize = items.iter().map(item_size).sum();
        listing.pages.push(PageCost {
            counts: meter.now() - before,
            items: items.len(),
            ideal_rcu: ideal_rcu(bytes),
        });
        if start.is_none() {
            break;
        }
    }
    listing.elapsed = started.elapsed();
    listing
}

/// An App whose client is metered by `meter`, as a warm function is (registry cached).
pub async fn app(db: Db, loaded: &[&Loaded]) -> App {
    let config = Config::from_lookup(|k| match k {
        "TABLE_NAME" => Some(db.table_name().to_owned()),
        "TENANT_CACHE_TTL_SECONDS" => Some("3600".into()),
        _ => None,
    })
    .expect("bench config");
    let app = App {
        metrics: MetricsSink::Memory(Default::default()),
        ..App::new(config, db)
    };
    for l in loaded {
        let event = list_event(l, json!({"limit": 1}));
        shared::lambda::call(&app, &shared::api::ListNotes, event)
            .await
            .expect("warm-up call");
    }
    app
}

fn list_event(loaded: &Loaded, args: Value) -> Value {
    json!({
        "arguments": args,
        "identity": shared::fixtures::user_identity(
            &loaded.provider,
            &loaded.viewer,
            Some("2f1c5a3e-8a3b-4b9e-9d2a-5f0c1e7d9b11"),
        ),
        "source": null,
        "request": {"headers": {}, "domainName": null},
        "info": {"parentTypeName": "Query", "fieldName": "notes", "variables": {}, "selectionSetList": ["id"], "selectionSetGraphQL": "{ id }"},
        "prev": null,
        "stash": {}
    })
}

/// `Query.notes` itself, page by page, until it returns no `nextToken`.
pub async fn list_after(app: &App, meter: &Meter, loaded: &Loaded, limit: usize) -> Listing {
    let started = Instant::now();
    let mut listing = Listing::default();
    let store = TenantStore::new(
        app.db.clone(),
        app.registry
            .active_by_id(&loaded.tenant)
            .await
            .expect("bench tenant"),
    );
    let mut token = Value::Null;
    loop {
        let before = meter.now();
        let page = shared::lambda::call(
            app,
            &shared::api::ListNotes,
            list_event(loaded, json!({"limit": limit, "nextToken": token})),
        )
        .await
        .expect("Query.notes");
        let counts = meter.now() - before;
        let notes: Vec<Note> =
            serde_json::from_value(page["items"].clone()).expect("a page of notes");
        let bytes: usize = notes
            .iter()
            .map(|n| item_size(&store.note_item(n).expect("item of a listed note")))
            .sum();
        listing.pages.push(PageCost {
            counts,
            items: notes.len(),
            ideal_rcu: ideal_rcu(bytes),
        });
        if let MetricsSink::Memory(lines) = &app.metrics {
            lines.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        token = page["nextToken"].clone();
        if token.is_null() {
            break;
        }
    }
    listing.elapsed = started.elapsed();
    listing
}

/// One scenario measured both ways at one page size.
#[derive(Debug, Clone)]
pub struct Measured {
    pub loaded: Loaded,
    pub limit: usize,
    pub before: Listing,
    pub after: Listing,
}

/// What misses the targets (empty: all met):
/// - after, RCU of a listing ≤ 1.5 × the least its pages' items cost (`ideal_rcu` per page), for
///   listings with at least one full page (below that, DynamoDB's 4 KB rounding per Query
///   dominates: see the report);
/// - after, items evaluated ≤ 1.5 × items returned;
/// - after, a full listing in ⌈readable / limit⌉ pages, +1;
/// - at 1 % readable and one page size, RCU per full page flat (±20 % of the mean) across sizes.
pub fn findings(all: &[Measured]) -> Vec<String> {
    let mut out = Vec::new();
    for m in all {
        let name = format!(
            "{} notes, {} % readable, limit {}",
            m.loaded.scenario.notes, m.loaded.scenario.readable_pct, m.limit
        );
        let t = m.after.total();
        if t.items != m.loaded.readable {
            out.push(format!(
                "{name}: listed {} of {} readable notes",
                t.items, m.loaded.readable
            ));
        }
        if m.after.rcu_per_full_page(m.limit).is_some() && m.after.rcu_ratio() > 1.5 {
            out.push(format!(
                "{name}: RCU {:.1} is {:.2}× the items' {:.1}",
                t.counts.rcu,
                m.after.rcu_ratio(),
                t.ideal_rcu
            ));
        }
        if t.counts.scanned as f64 > 1.5 * t.items.max(1) as f64 {
            out.push(format!(
                "{name}: {} items evaluated for {} returned",
                t.counts.scanned, t.items
            ));
        }
        let bound = m.loaded.readable.div_ceil(m.limit) + 1;
        if m.after.pages.len() > bound {
            out.push(format!(
                "{name}: {} pages, more than ⌈readable/limit⌉ + 1 = {bound}",
                m.after.pages.len()
            ));
        }
    }
    let mut limits: Vec<usize> = all.iter().map(|m| m.limit).collect();
    limits.sort_unstable();
    limits.dedup();
    for limit in limits {
        let per_page: Vec<(usize, f64)> = all
            .iter()
            .filter(|m| m.limit == limit && m.loaded.scenario.readable_pct == 1)
            .filter_map(|m| {
                m.after
                    .rcu_per_full_page(limit)
                    .map(|r| (m.loaded.scenario.notes, r))
            })
            .collect();
        if per_page.len() < 2 {
            continue;
        }
        let mean = per_page.iter().map(|(_, r)| r).sum::<f64>() / per_page.len() as f64;
        for (notes, r) in &per_page {
            if (r - mean).abs() > 0.2 * mean {
                out.push(format!(
                    "1 % readable, limit {limit}: {r:.2} RCU per full page at {notes} notes, mean {mean:.2} (±20 %)"
                ));
            }
        }
    }
    out
}

fn f2(x: f64) -> String {
    format!("{x:.2}")
}

/// The results as Markdown (a section of bench/results.md).
pub fn markdown(all: &[Measured], machine: &str) -> String {
    let mut md = String::new();
    md.push_str("## Lists: cost per page and to list everything readable\n\n");
    md.push_str(&format!(
        "`scripts/bench.sh lists` on {machine}. Tenants of N notes (title + 300-character body, \
         ~560 bytes an item) where the viewer may read p %: 3/4 of those shared (TENANT/PUBLIC, \
         by anyone), 1/4 the viewer's own PRIVATE notes, spread evenly in time among 99 other \
         users' PRIVATE notes. **Before**: the old read path (the tenant's partition queried \
         with the filter `visibility <> PRIVATE OR ownerId = me`, up to 8 rounds a page), kept \
         in the bench as the baseline. **After**: `Query.notes` through the resolver. Requests \
         are DynamoDB requests; items evaluated is `ScannedCount`; RCU is \
         `ConsumedCapacity` as DynamoDB Local reports it; \"least RCU\" is what the returned \
         items cost read in one Query per page (⌈bytes/4 KB⌉ × 0.5).\n\n"
    ));
    md.push_str("| N | readable | limit | | pages | requests | items evaluated | RCU | least RCU | RCU ÷ least | first page: requests / evaluated / returned / RCU | RCU per full page | time |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for m in all {
        for (label, l) in [("before", &m.before), ("after", &m.after)] {
            let t = l.total();
            let f = l.first();
            md.push_str(&format!(
                "| {} | {} ({} %) | {} | {label} | {} | {} | {} | {} | {} | {} | {} / {} / {} / {} | {} | {:.1} s |\n",
                m.loaded.scenario.notes,
                m.loaded.readable,
                m.loaded.scenario.readable_pct,
                m.limit,
                l.pages.len(),
                t.counts.requests,
                t.counts.scanned,
                f2(t.counts.rcu),
                f2(t.ideal_rcu),
                f2(l.rcu_ratio()),
                f.counts.requests,
                f.counts.scanned,
                f.items,
                f2(f.counts.rcu),
                l.rcu_per_full_page(m.limit).map(f2).unwrap_or_else(|| "–".into()),
                l.elapsed.as_secs_f64(),
            ));
        }
    }
    let findings = findings(all);
    md.push('\n');
    if findings.is_empty() {
        md.push_str("Targets (after: RCU ≤ 1.5 × least on listings with a full page, items evaluated ≤ 1.5 × returned, ⌈readable/limit⌉ + 1 pages, RCU per full page flat ±20 % across N at 1 %): **met**.\n");
    } else {
        md.push_str("Targets missed:\n\n");
        for f in findings {
            md.push_str(&format!("- {f}\n"));
        }
    }
    md
}

/// Replaces the section between `<!-- NAME:begin -->` and `<!-- NAME:end -->` of the results
/// file (appending it when there is none), leaving the other runs' sections alone.
pub fn replace_section(path: &std::path::Path, name: &str, md: &str) -> std::io::Result<()> {
    let (begin, end) = (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    );
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{begin}\n{md}{end}\n");
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(b), Some(e)) if b < e => format!(
            "{}{section}{}",
            &old[..b],
            old[e + end.len()..].trim_start_matches('\n')
        ),
        _ => format!("{}\n\n{section}", old.trim_end()),
    };
    std::fs::write(path, new)
}
