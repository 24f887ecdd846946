//! `simulate-zipf`: 100 tenants whose traffic follows a Zipf law (tenant of rank r gets a share
//! ∝ 1/r^s), replayed against DynamoDB Local (loopback only) through the resolvers in-process,
//! with per-tenant latency and capacity. What it shows: the cost of a request does not grow
//! with its tenant (a page of the biggest tenant costs what a page of the smallest does), and
//! how far the busiest tenant is from a partition's limits at a given total rate.
//!
//! ```text
//! scripts/bench.sh zipf [--ops 20000] [--tenants 100] [--s 1.1] [--notes 50000] [--workers 4]
//! ```
//!
//! Bounded: `--ops` operations, `--notes` preloaded notes, at most 1,000 tenants; a progress
//! line every second. Each worker owns its client and capacity meter and runs one operation at
//! a time, so each operation's capacity is its own.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench::lists::{self, Loaded, Meter, Rng, Scenario};
use serde_json::{Value, json};
use shared::config::Config;
use shared::lambda::App;
use shared::lambda::metrics::MetricsSink;
use shared::store::Db;
use shared::store::capacity::CapacityMeter;

#[derive(clap::Parser)]
struct Opts {
    /// Tenants (ranks 1..=N of the Zipf law).
    #[arg(long, default_value_t = 100)]
    tenants: usize,
    /// The Zipf exponent s.
    #[arg(long, default_value_t = 1.1)]
    s: f64,
    /// Operations to replay.
    #[arg(long, default_value_t = 20_000)]
    ops: usize,
    /// Notes preloaded, shared among the tenants by the same law.
    #[arg(long, default_value_t = 50_000)]
    notes: usize,
    /// Concurrent workers.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Users per tenant.
    #[arg(long, default_value_t = 20)]
    users: usize,
    /// The results file; its "simulate-zipf" section is replaced. Empty: stdout only.
    #[arg(long, default_value = "bench/results.md")]
    out: PathBuf,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    List,
    Get,
    Create,
}

/// One operation's outcome.
struct Done {
    tenant: usize,
    op: Op,
    latency: Duration,
    capacity: f64,
}

fn event(loaded: &Loaded, user: usize, field: (&str, &str), args: Value) -> Value {
    json!({
        "arguments": args,
        "identity": shared::fixtures::user_identity(
            &loaded.provider,
            &lists::identity(user),
            Some("2f1c5a3e-8a3b-4b9e-9d2a-5f0c1e7d9b11"),
        ),
        "source": null,
        "request": {"headers": {}, "domainName": null},
        "info": {"parentTypeName": field.0, "fieldName": field.1, "variables": {}, "selectionSetList": ["id"], "selectionSetGraphQL": "{ id }"},
        "prev": null,
        "stash": {}
    })
}

/// Ranks drawn by the Zipf law: the cumulative weights, searched with a uniform draw.
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let weights: Vec<f64> = (1..=n).map(|r| 1.0 / (r as f64).powf(s)).collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        Zipf(
            weights
                .iter()
                .map(|w| {
                    acc += w / total;
                    acc
                })
                .collect(),
        )
    }
    fn share(&self, rank: usize) -> f64 {
        self.0[rank] - if rank == 0 { 0.0 } else { self.0[rank - 1] }
    }
    fn draw(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.0.partition_point(|c| *c < u).min(self.0.len() - 1)
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[(((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize).min(v.len() - 1)]
}

#[tokio::main]
async fn main() {
    let opts = <Opts as clap::Parser>::parse();
    if opts.tenants == 0 || opts.tenants > 1000 || opts.workers == 0 || opts.workers > 64 {
        eprintln!("simulate-zipf: 1-1000 tenants and 1-64 workers");
        std::process::exit(2);
    }
    let endpoint = match lists::loopback_endpoint() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("simulate-zipf: {e}");
            std::process::exit(2);
        }
    };
    let zipf = Zipf::new(opts.tenants, opts.s);
    let table = format!("notes-zipf-{}", uuid::Uuid::new_v4().simple());
    let setup = Db::new(lists::client(&endpoint, &Meter::default()), table.clone());
    shared::store::admin::Admin::new(setup.clone())
        .create_table()
        .await
        .expect("create table");
    eprintln!(
        "preloading {} notes over {} tenants (Zipf s = {})",
        opts.notes, opts.tenants, opts.s
    );
    let mut tenants = Vec::with_capacity(opts.tenants);
    for rank in 0..opts.tenants {
        let notes = ((opts.notes as f64) * zipf.share(rank)).round().max(1.0) as usize;
        let scenario = Scenario {
            notes,
            readable_pct: 10,
        };
        tenants.push(lists::load(&setup, scenario, rank).await);
    }
    let tenants = Arc::new(tenants);

    // Each worker: its own client, capacity meter and App (registry warmed), one op at a time.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Done>();
    let mut workers = tokio::task::JoinSet::new();
    let per_worker = opts.ops.div_ceil(opts.workers);
    for w in 0..opts.workers {
        let tenants = tenants.clone();
        let tx = tx.clone();
        let (endpoint, table) = (endpoint.clone(), table.clone());
        let zipf = Zipf(zipf.0.clone());
        let (users, seed, ops) = (
            opts.users,
            opts.seed,
            per_worker.min(opts.ops - (w * per_worker).min(opts.ops)),
        );
        workers.spawn(async move {
            let meter = Arc::new(CapacityMeter::default());
            let builder = shared::store::with_budget(aws_sdk_dynamodb::Config::builder());
            let conf = shared::store::capacity::metered(builder, &meter)
                .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    "local", "local", None, None, "zipf",
                ))
                .endpoint_url(&endpoint)
                .build();
            let db = Db::new(aws_sdk_dynamodb::Client::from_conf(conf), table.clone());
            let config = Config::from_lookup(|k| match k {
                "TABLE_NAME" => Some(table.clone()),
                "TENANT_CACHE_TTL_SECONDS" => Some("3600".into()),
                _ => None,
            })
            .expect("config");
            let app = App {
                metrics: MetricsSink::Memory(Default::default()),
                ..App::with_meter(config, db, meter.clone())
            };
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9) + w as u64 + 1);
            // Recently created or listed note ids per tenant, for reads by id.
            let mut known: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
            for _ in 0..ops {
                let t = zipf.draw(&mut rng);
                let loaded = &tenants[t];
                let user = rng.below(users as u64) as usize;
                let roll = rng.below(100);
                let op = match roll {
                    0..20 => Op::Create,
                    20..40 if known.get(&t).is_some_and(|k| !k.is_empty()) => Op::Get,
                    _ => Op::List,
                };
                let started = Instant::now();
                let out = match op {
                    Op::Create => {
                        let vis = ["PRIVATE", "TENANT", "PUBLIC"][rng.below(3) as usize];
                        shared::lambda::call(
                            &app,
                            &shared::api::CreateNote,
                            event(loaded, user, ("Mutation", "createNote"), json!({"input": {"title": "sim", "body": "lorem ipsum ".repeat(25), "visibility": vis}})),
                        )
                        .await
                    }
                    Op::Get => {
                        let ids = &known[&t];
                        let id = ids[rng.below(ids.len() as u64) as usize].clone();
                        shared::lambda::call(
                            &app,
                            &shared::api::GetNote,
                            event(loaded, user, ("Query", "note"), json!({"id": id})),
                        )
                        .await
                    }
                    Op::List => {
                        shared::lambda::call(
                            &app,
                            &shared::api::ListNotes,
                            event(loaded, user, ("Query", "notes"), json!({"limit": 20})),
                        )
                        .await
                    }
                };
                let latency = started.elapsed();
                // The invocation's EMF line carries what it consumed (the glue takes the meter
                // at the end of every invocation).
                let capacity = match &app.metrics {
                    MetricsSink::Memory(lines) => std::mem::take(
                        &mut *lines.lock().unwrap_or_else(|p| p.into_inner()),
                    )
                    .iter()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .filter_map(|v| v["ConsumedCapacity"].as_f64())
                    .sum(),
                    MetricsSink::Stdout => 0.0,
                };
                let out = out.unwrap_or_else(|e| panic!("{op:?} on tenant {t}: {e:?}"));
                let ids = known.entry(t).or_default();
                match op {
                    Op::Create => ids.push(out["id"].clone()),
                    Op::List => ids.extend(out["items"].as_array().into_iter().flatten().take(3).map(|n| n["id"].clone())),
                    Op::Get => {}
                }
                if ids.len() > 64 {
                    ids.drain(..32);
                }
                if tx.send(Done { tenant: t, op, latency, capacity }).is_err() {
                    return;
                }
            }
        });
    }
    drop(tx);
    let started = Instant::now();
    let mut done: Vec<Done> = Vec::with_capacity(opts.ops);
    let mut last = Instant::now();
    while let Some(d) = rx.recv().await {
        done.push(d);
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            eprint!(
                "\r  replaying: {}/{} operations ({:.0}/s)   ",
                done.len(),
                opts.ops,
                done.len() as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!();
    while let Some(w) = workers.join_next().await {
        w.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let md = report(&opts, &zipf, &tenants, &done, elapsed);
    println!("{md}");
    if !opts.out.as_os_str().is_empty() {
        lists::replace_section(&opts.out, "simulate-zipf", &md).expect("writing results");
        eprintln!("wrote {}", opts.out.display());
    }
    let _ = setup
        .client()
        .delete_table()
        .table_name(&table)
        .send()
        .await;
}

fn report(opts: &Opts, zipf: &Zipf, tenants: &[Loaded], done: &[Done], elapsed: f64) -> String {
    let rate = done.len() as f64 / elapsed;
    let mut md = String::new();
    md.push_str("## Simulation: 100 tenants, Zipf traffic\n\n");
    md.push_str(&format!(
        "`scripts/bench.sh zipf`: {} tenants, traffic share of the tenant of rank r ∝ 1/r^{}; {} notes preloaded by the same law (10 % readable by each user: 3/4 shared, 1/4 own PRIVATE); {} operations (20 % createNote, 20 % note(id), 60 % notes(limit: 20)) by {} users per tenant from {} workers, through the resolvers in-process against DynamoDB Local: {:.0} operations/s on this machine. Latency in ms; capacity as the functions' meter reads it (RCU for reads, WCU for writes).\n\n",
        opts.tenants, opts.s, opts.notes, done.len(), opts.users, opts.workers, rate
    ));
    md.push_str("| rank | notes | share of ops | ops | list p50 / p99 | list RCU / page | get p50 / p99 | get RCU | create p50 / p99 | create WCU |\n|---|---|---|---|---|---|---|---|---|---|\n");
    let mut rows: Vec<usize> = (0..tenants.len().min(10)).collect();
    for r in [24, 49, 99, 199, 499, 999] {
        if r < tenants.len() && !rows.contains(&r) {
            rows.push(r);
        }
    }
    let mut list_rcu_by_rank = Vec::new();
    for t in rows {
        let of = |op: Op| done.iter().filter(move |d| d.tenant == t && d.op == op);
        let lat = |op: Op| -> String {
            let mut v: Vec<f64> = of(op).map(|d| d.latency.as_secs_f64() * 1000.0).collect();
            if v.is_empty() {
                "–".into()
            } else {
                format!("{:.2} / {:.2}", pct(&mut v, 50.0), pct(&mut v, 99.0))
            }
        };
        let cap = |op: Op| -> Option<f64> {
            let v: Vec<f64> = of(op).map(|d| d.capacity).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let ops = done.iter().filter(|d| d.tenant == t).count();
        if let Some(r) = cap(Op::List) {
            list_rcu_by_rank.push((t + 1, tenants[t].scenario.notes, r));
        }
        let show = |x: Option<f64>| x.map_or("–".to_owned(), |x| format!("{x:.2}"));
        md.push_str(&format!(
            "| {} | {} | {:.1} % | {} | {} | {} | {} | {} | {} | {} |\n",
            t + 1,
            tenants[t].scenario.notes,
            100.0 * zipf.share(t),
            ops,
            lat(Op::List),
            show(cap(Op::List)),
            lat(Op::Get),
            show(cap(Op::Get)),
            lat(Op::Create),
            show(cap(Op::Create)),
        ));
    }
    let top = zipf.share(0);
    md.push_str(&format!(
        "\nThe busiest tenant gets {:.1} % of all traffic. Against the partition limits (1,000 WCU/s and 3,000 RCU/s per partition; docs/scale.md), counting conservatively all of a write's capacity (table and indexes) against one partition, with this mix it would reach its write ceiling at about {:.0} operations/s of its own ({:.0}/s for the whole API), and its read ceiling at about {:.0}/s of its own.\n",
        100.0 * top,
        ceiling(done, 0, Op::Create, 1000.0),
        ceiling(done, 0, Op::Create, 1000.0) / top,
        ceiling_reads(done, 0, 3000.0),
    ));
    if let Some(first) = list_rcu_by_rank.first() {
        let max = list_rcu_by_rank
            .iter()
            .map(|(_, _, r)| *r)
            .fold(0.0, f64::max);
        md.push_str(&format!(
            "A `notes` page (limit 20) cost {:.2} RCU on average in the biggest tenant ({} notes) and at most {max:.2} in any tenant shown: bounded by the page, not the tenant (smaller tenants' pages hold fewer notes, as they have fewer to read).\n",
            first.2, first.1
        ));
    }
    md
}

/// Operations/s of this tenant, in this mix, at which its writes reach `limit` WCU/s.
fn ceiling(done: &[Done], tenant: usize, op: Op, limit: f64) -> f64 {
    let mine: Vec<&Done> = done.iter().filter(|d| d.tenant == tenant).collect();
    let wcu: f64 = mine.iter().filter(|d| d.op == op).map(|d| d.capacity).sum();
    if wcu == 0.0 {
        f64::INFINITY
    } else {
        limit * mine.len() as f64 / wcu
    }
}

/// Operations/s of this tenant, in this mix, at which its reads reach `limit` RCU/s.
fn ceiling_reads(done: &[Done], tenant: usize, limit: f64) -> f64 {
    let mine: Vec<&Done> = done.iter().filter(|d| d.tenant == tenant).collect();
    let rcu: f64 = mine
        .iter()
        .filter(|d| d.op != Op::Create)
        .map(|d| d.capacity)
        .sum();
    if rcu == 0.0 {
        f64::INFINITY
    } else {
        limit * mine.len() as f64 / rcu
    }
}
