//! The benchmark: cold start, warm latency against the DynamoDB floor, Node.js and Python peers,
//! and footprint, all through a loopback Lambda Runtime API against DynamoDB Local.
//!
//! Run by `scripts/bench.sh`, which builds the release binaries, starts DynamoDB Local, installs
//! the peers' SDKs and passes their commands here. Writes a markdown table to stdout and to
//! `bench/results.md`.

mod runtime_api;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use runtime_api::{Outcome, RuntimeApi};
use serde_json::{Value, json};
use shared::config::Config;
use shared::identity::ProviderKey;
use shared::lambda::App;
use shared::store::Db;
use shared::tenancy::TenantId;

const POOL: &str = "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1";
const IDENTITY_ID: &str = "eu-central-1:a11ce000-0000-4000-8000-00000000000a";

/// Cold start, warm latency against the DynamoDB floor, peers and footprint, through a
/// loopback Lambda Runtime API (`scripts/bench.sh` runs it with the right paths).
#[derive(clap::Parser)]
struct Opts {
    /// Where the release function binaries are.
    #[arg(long, default_value = "target/release")]
    bins: PathBuf,
    /// Cold starts per function.
    #[arg(long, default_value_t = 30)]
    cold: usize,
    /// Warm invocations per function.
    #[arg(long, default_value_t = 2000)]
    warm: usize,
    /// The results table (Markdown).
    #[arg(long, default_value = "bench/results.md")]
    out: PathBuf,
    /// The Node peer's command line (space-separated), if measured.
    #[arg(long, value_parser = words)]
    node: Option<Words>,
    /// The Python peer's command line (space-separated), if measured.
    #[arg(long, value_parser = words)]
    python: Option<Words>,
    /// Where `cargo lambda build` put the arm64 zips (for sizes).
    #[arg(long, default_value = "target/lambda")]
    lambda_dir: PathBuf,
}

/// A command line given as one argument. A newtype: clap reads an `Option<Vec<String>>` field as
/// a list of values and would not accept a parser that returns the whole `Vec` (it panics at run
/// time, not at build time — see `opts_parse` below).
#[derive(Clone, Debug, PartialEq)]
struct Words(Vec<String>);

fn words(s: &str) -> Result<Words, std::convert::Infallible> {
    Ok(Words(s.split(' ').map(str::to_owned).collect()))
}

fn parse_opts() -> Opts {
    <Opts as clap::Parser>::parse()
}

fn identity() -> Value {
    shared::fixtures::user_identity(
        POOL,
        IDENTITY_ID,
        Some("2f1c5a3e-8a3b-4b9e-9d2a-5f0c1e7d9b11"),
    )
}

fn event(type_name: &str, field: &str, args: Value) -> Value {
    json!({
        "arguments": args,
        "identity": identity(),
        "source": null,
        "request": {"headers": {"host": "bench.appsync-api.eu-central-1.amazonaws.com"}, "domainName": null},
        "info": {"parentTypeName": type_name, "fieldName": field, "variables": {}, "selectionSetList": ["id", "title"], "selectionSetGraphQL": "{ id title }"},
        "prev": null,
        "stash": {}
    })
}

/// One function under test: how to start it and what to send it.
struct Subject {
    label: String,
    command: Vec<String>,
    events: Box<dyn Fn(usize) -> Value>,
}

#[derive(Default, Clone)]
struct Stats(Vec<f64>);

impl Stats {
    fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1000.0);
    }
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        v
    }
    fn pct(&self, p: f64) -> f64 {
        let v = self.sorted();
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
        v[i.min(v.len() - 1)]
    }
    fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }
    fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }
}

fn function_env(api: &str, table: &str, name: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", api),
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("TABLE_NAME", table),
        ("LOG_LEVEL", "info"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for k in [
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "PATH",
        "HOME",
    ] {
        if let Ok(v) = std::env::var(k) {
            env.push((k.to_owned(), v));
        }
    }
    // Lambda sets both; boto3 reads only the latter.
    if let Ok(v) = std::env::var("AWS_REGION") {
        env.push(("AWS_DEFAULT_REGION".to_owned(), v));
    }
    env
}

/// Starts a function; its stderr goes to `target/bench-<label>.log` for when one fails to start.
fn spawn(cmd: &[String], env: &[(String, String)]) -> tokio::process::Child {
    let label = env
        .iter()
        .find(|(k, _)| k == "AWS_LAMBDA_FUNCTION_NAME")
        .map(|(_, v)| v.as_str())
        .unwrap_or("fn");
    let safe: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let log = std::fs::File::create(format!("target/bench-{safe}.log"))
        .map(Stdio::from)
        .unwrap_or(Stdio::null());
    tokio::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .env_clear()
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"))
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Fails the run on an error, and on a get-note that found nothing: a peer that answers null
/// quickly would otherwise look fast.
fn check(outcome: &Outcome, label: &str) {
    match outcome {
        Outcome::Err(e) => panic!("{label} failed: {e}"),
        Outcome::Ok(Value::Null) if label.starts_with("get-note") => {
            panic!("{label} answered null")
        }
        Outcome::Ok(_) => {}
    }
}

struct Cold {
    init: Stats,
    first: Stats,
}

async fn cold(subject: &Subject, table: &str, n: usize) -> Cold {
    let mut c = Cold {
        init: Stats::default(),
        first: Stats::default(),
    };
    for i in 0..n {
        cold_once(subject, table, i, &mut c).await;
    }
    c
}

/// Cold starts of two functions taken in turn, so both meet DynamoDB Local in the same state
/// (its JIT warms up over a run: one measured at the start and one at the end are not comparable).
async fn cold_interleaved(a: &Subject, b: &Subject, table: &str, n: usize) -> (Cold, Cold) {
    let new = || Cold {
        init: Stats::default(),
        first: Stats::default(),
    };
    let (mut ca, mut cb) = (new(), new());
    for i in 0..n {
        cold_once(a, table, i, &mut ca).await;
        cold_once(b, table, i, &mut cb).await;
    }
    (ca, cb)
}

async fn cold_once(subject: &Subject, table: &str, i: usize, c: &mut Cold) {
    let api = RuntimeApi::start().await.expect("runtime api");
    let env = function_env(&api.endpoint(), table, &subject.label);
    let started = Instant::now();
    let mut child = spawn(&subject.command, &env);
    let polled = api
        .first_poll(Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("{} never polled", subject.label));
    let (outcome, answered, _) = api.invoke((subject.events)(i)).await.expect("first invoke");
    check(&outcome, &subject.label);
    c.init.push(polled - started);
    c.first.push(answered - started);
    let _ = child.kill().await;
}

struct Warm {
    lat: Stats,
    rss_kib: Option<u64>,
}

async fn warm(subject: &Subject, table: &str, n: usize) -> Warm {
    let api = RuntimeApi::start().await.expect("runtime api");
    let env = function_env(&api.endpoint(), table, &subject.label);
    let mut child = spawn(&subject.command, &env);
    api.first_poll(Duration::from_secs(30))
        .await
        .expect("warm process never polled");
    for i in 0..50 {
        let (o, _, _) = api.invoke((subject.events)(i)).await.expect("warm-up");
        check(&o, &subject.label);
    }
    let mut lat = Stats::default();
    for i in 0..n {
        let (o, at, sent) = api
            .invoke((subject.events)(1000 + i))
            .await
            .expect("invoke");
        check(&o, &subject.label);
        lat.push(at - sent);
    }
    let rss_kib = child.id().and_then(peak_rss_kib);
    let _ = child.kill().await;
    Warm { lat, rss_kib }
}

/// The raw SDK call(s) a field needs, issued directly: the floor no resolver can beat.
async fn floor(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    field: &str,
    note_id: &str,
    n: usize,
) -> Stats {
    let mut s = Stats::default();
    let pk = AttributeValue::S("TENANT#acme".into());
    for i in 0..(n + 50) {
        let t = Instant::now();
        match field {
            "get-note" => {
                client
                    .get_item()
                    .table_name(table)
                    .key("pk", pk.clone())
                    .key("sk", AttributeValue::S(format!("NOTE#{note_id}")))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("GetItem");
            }
            "list-notes" => {
                // What the field reads: the tenant's shared range of the listing index, then the
                // caller's own PRIVATE range down to where that page ended (two Queries in turn).
                let range = |low: String, high: String| {
                    client
                        .query()
                        .table_name(table)
                        .index_name(shared::store::GSI2)
                        .key_condition_expression("#p = :p AND #s BETWEEN :low AND :high")
                        .expression_attribute_names("#p", "pk")
                        .expression_attribute_names("#s", "gsi2sk")
                        .expression_attribute_values(":p", pk.clone())
                        .expression_attribute_values(":low", AttributeValue::S(low))
                        .expression_attribute_values(":high", AttributeValue::S(high))
                        .scan_index_forward(false)
                        .limit(20)
                        .send()
                };
                let shared = range("SHARED#".into(), "SHARED#~".into())
                    .await
                    .expect("Query");
                let last = shared
                    .items()
                    .last()
                    .and_then(|i| i.get("id"))
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                range(
                    format!("PRIVATE#{IDENTITY_ID}#{last}"),
                    format!("PRIVATE#{IDENTITY_ID}#~"),
                )
                .await
                .expect("Query");
            }
            _ => {
                let id = uuid::Uuid::new_v4().to_string();
                let now = "2026-11-24T00:00:00.000Z";
                client
                    .put_item()
                    .table_name(table)
                    .item("pk", pk.clone())
                    .item("sk", AttributeValue::S(format!("NOTE#floor-{id}")))
                    .item("id", AttributeValue::S(id.clone()))
                    .item("tenantId", AttributeValue::S("acme".into()))
                    .item("ownerId", AttributeValue::S(IDENTITY_ID.into()))
                    .item("title", AttributeValue::S("floor".into()))
                    .item("body", AttributeValue::S("bench".into()))
                    .item("visibility", AttributeValue::S("PRIVATE".into()))
                    .item("version", AttributeValue::N("1".into()))
                    .item("createdAt", AttributeValue::S(now.into()))
                    .item("updatedAt", AttributeValue::S(now.into()))
                    .condition_expression("attribute_not_exists(pk)")
                    .send()
                    .await
                    .expect("PutItem");
            }
        }
        if i >= 50 {
            s.push(t.elapsed());
        }
    }
    s
}

fn file_size(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

/// The uncompressed size of entry `name` in the zip file at `path`, from the zip's central
/// directory (found through the end-of-central-directory record at the end of the file).
fn zipped_size(path: &Path, name: &str) -> Option<u64> {
    zip_entry_size(&std::fs::read(path).ok()?, name)
}

fn zip_entry_size(zip: &[u8], name: &str) -> Option<u64> {
    let u16_at = |at: usize| -> Option<usize> {
        Some(u16::from_le_bytes(zip.get(at..at + 2)?.try_into().ok()?).into())
    };
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(zip.get(at..at + 4)?.try_into().ok()?))
    };
    // The end record is 22 bytes plus a comment of at most 65,535.
    let eocd = (0..=zip.len().checked_sub(22)?)
        .rev()
        .take(22 + 65_535)
        .find(|&at| u32_at(at) == Some(0x0605_4b50))?;
    let entries = u16_at(eocd + 10)?;
    let mut at = usize::try_from(u32_at(eocd + 16)?).ok()?;
    for _ in 0..entries {
        if u32_at(at)? != 0x0201_4b50 {
            return None;
        }
        let size = u32_at(at + 24)?;
        let (name_len, extra_len, comment_len) =
            (u16_at(at + 28)?, u16_at(at + 30)?, u16_at(at + 32)?);
        if zip.get(at + 46..at + 46 + name_len)? == name.as_bytes() {
            return Some(size.into());
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    None
}

fn mib(bytes: Option<u64>) -> String {
    bytes
        .map(|b| format!("{:.2} MiB", b as f64 / 1048576.0))
        .unwrap_or_else(|| "n/a".into())
}

fn machine_info() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
                    / 1048576
            })
        })
        .unwrap_or(0);
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem} GiB; {rustc}; node {node}; DynamoDB Local on loopback")
}

fn f1(x: f64) -> String {
    format!("{x:.2}")
}

#[tokio::main]
async fn main() {
    let opts = parse_opts();
    let table = format!("notes-bench-{}", uuid::Uuid::new_v4().simple());
    let sdk = aws_config::load_from_env().await;
    // The floor uses the client exactly as the functions configure it (timeouts, retries).
    // Including the capacity meter: every request of a function asks for ConsumedCapacity (the
    // per-tenant metrics), and DynamoDB Local takes longer to answer when asked.
    let client = aws_sdk_dynamodb::Client::from_conf(
        shared::store::capacity::metered(
            shared::store::with_budget(aws_sdk_dynamodb::config::Builder::from(&sdk)),
            &std::sync::Arc::default(),
        )
        .build(),
    );
    let db = Db::new(client.clone(), table.clone());
    shared::store::admin::Admin::new(db.clone())
        .create_table()
        .await
        .expect("create table");
    shared::store::admin::Admin::new(db.clone())
        .registry_register(
            &TenantId::parse("acme").unwrap(),
            "Acme Corp",
            &ProviderKey::parse(POOL).unwrap(),
        )
        .await
        .expect("register");
    let config =
        Config::from_lookup(|k| (k == "TABLE_NAME").then(|| table.clone())).expect("config");
    let app = App::new(config, db);
    let mut note_id = String::new();
    for i in 0..30 {
        let n = shared::lambda::call(&app, &shared::api::CreateNote, event("Mutation", "createNote", json!({"input": {"title": format!("seed {i}"), "body": "x".repeat(200), "visibility": "TENANT"}})))
            .await
            .expect("seed note");
        note_id = n["id"].as_str().unwrap().to_owned();
    }

    let bin = |name: &str| vec![opts.bins.join(name).to_string_lossy().into_owned()];
    let get_event = {
        let id = note_id.clone();
        move |_: usize| event("Query", "note", json!({"id": id}))
    };
    let mut subjects: Vec<(String, Subject)> = vec![
        (
            "get-note".into(),
            Subject {
                label: "get-note".into(),
                command: bin("get-note"),
                events: Box::new(get_event.clone()),
            },
        ),
        (
            "list-notes".into(),
            Subject {
                label: "list-notes".into(),
                command: bin("list-notes"),
                events: Box::new(|_| event("Query", "notes", json!({"limit": 20}))),
            },
        ),
        (
            "create-note".into(),
            Subject {
                label: "create-note".into(),
                command: bin("create-note"),
                events: Box::new(|i| {
                    event(
                        "Mutation",
                        "createNote",
                        json!({"input": {"title": format!("bench {i}"), "body": "bench", "visibility": "PRIVATE"}}),
                    )
                }),
            },
        ),
    ];
    let raw_get = Subject {
        label: "raw GetItem function".into(),
        command: bin("raw-get-item"),
        events: Box::new(get_event.clone()),
    };
    let echo = Subject {
        label: "echo".into(),
        command: bin("echo"),
        events: Box::new(|_| event("Query", "note", json!({"id": "x"}))),
    };
    let mut peers: Vec<Subject> = Vec::new();
    if let Some(Words(cmd)) = &opts.node {
        peers.push(Subject {
            label: "get-note (Node.js 20, SDK v3)".into(),
            command: cmd.clone(),
            events: Box::new(get_event.clone()),
        });
    }
    if let Some(Words(cmd)) = &opts.python {
        peers.push(Subject {
            label: "get-note (Python 3.11, boto3)".into(),
            command: cmd.clone(),
            events: Box::new(get_event.clone()),
        });
    }

    let mut md = String::new();
    md.push_str("# Benchmark results\n\n");
    md.push_str(&format!("Machine: {}\n\n", machine_info()));
    md.push_str(&format!(
        "Cold: {} spawns per function (process start → first `next` poll = init; → first response = first invoke). Warm: {} invocations on one process after 50 warm-up calls. All through a loopback Lambda Runtime API served by the benchmark, against DynamoDB Local on loopback. Milliseconds.\n\n",
        opts.cold, opts.warm
    ));

    eprintln!("echo: warm");
    let echo_warm = warm(&echo, &table, opts.warm).await;
    md.push_str("## Rust resolvers\n\n| function | init min / median / p95 | first invoke min / median / p95 | warm p50 / p99 / max | floor p50 / p99 | p50 ÷ (floor + echo) | p99 ÷ (floor + echo) | in-process resolver p50 / p99 | peak RSS |\n|---|---|---|---|---|---|---|---|---|\n");
    let mut rust_get: Option<(Cold, Warm)> = None;
    // get-note's cold starts side by side with its floor: a function that does only the GetItem.
    // DynamoDB Local first warms up (its JVM answers the first few thousand requests several times
    // slower, which a cold start's extra read would pay at that rate, unlike DynamoDB's steady
    // state): 3,000 GetItems, then the two functions in turn.
    eprintln!("DynamoDB Local: warm-up (3000 GetItems)");
    floor(&client, &table, "get-note", &note_id, 3000).await;
    eprintln!("get-note and the raw GetItem function: cold, interleaved");
    let (get_cold, raw_cold) = cold_interleaved(&subjects[0].1, &raw_get, &table, opts.cold).await;
    let mut get_cold = Some(get_cold);
    for (field, subject) in subjects.drain(..) {
        eprintln!("{field}: cold");
        let c = match get_cold.take().filter(|_| field == "get-note") {
            Some(c) => c,
            None => cold(&subject, &table, opts.cold).await,
        };
        eprintln!("{field}: warm");
        let w = warm(&subject, &table, opts.warm).await;
        eprintln!("{field}: floor");
        let fl = floor(&client, &table, &field, &note_id, opts.warm).await;
        // The same resolver called in this process, without any runtime: our code's own cost.
        let mut inproc = Stats::default();
        for i in 0..(opts.warm + 50) {
            // JSON text in, as the runtime hands it over: decoding is part of our cost.
            let e = serde_json::value::to_raw_value(&(subject.events)(5000 + i))
                .expect("bench events serialize");
            let t = Instant::now();
            let r = match field.as_str() {
                "get-note" => shared::lambda::call_json(&app, &shared::api::GetNote, &e).await,
                "list-notes" => shared::lambda::call_json(&app, &shared::api::ListNotes, &e).await,
                _ => shared::lambda::call_json(&app, &shared::api::CreateNote, &e).await,
            };
            assert!(r.is_ok(), "{field} in-process: {r:?}");
            if i >= 50 {
                inproc.push(t.elapsed());
            }
        }
        let r50 = w.lat.pct(50.0) / (fl.pct(50.0) + echo_warm.lat.pct(50.0));
        let r99 = w.lat.pct(99.0) / (fl.pct(99.0) + echo_warm.lat.pct(99.0));
        md.push_str(&format!(
            "| {field} | {} / {} / {} | {} / {} / {} | {} / {} / {} | {} / {} | {:.2} | {:.2} | {} / {} | {} |\n",
            f1(c.init.min()), f1(c.init.pct(50.0)), f1(c.init.pct(95.0)),
            f1(c.first.min()), f1(c.first.pct(50.0)), f1(c.first.pct(95.0)),
            f1(w.lat.pct(50.0)), f1(w.lat.pct(99.0)), f1(w.lat.max()),
            f1(fl.pct(50.0)), f1(fl.pct(99.0)), r50, r99,
            f1(inproc.pct(50.0)), f1(inproc.pct(99.0)),
            mib(w.rss_kib.map(|k| k * 1024)),
        ));
        if field == "get-note" {
            rust_get = Some((c, w));
        }
    }
    // The floor of a cold get-note: one GetItem and nothing else, same client configuration.
    md.push_str(&format!(
        "| raw GetItem function (floor of a cold get-note) | {} / {} / {} | {} / {} / {} | | | | | | |\n",
        f1(raw_cold.init.min()),
        f1(raw_cold.init.pct(50.0)),
        f1(raw_cold.init.pct(95.0)),
        f1(raw_cold.first.min()),
        f1(raw_cold.first.pct(50.0)),
        f1(raw_cold.first.pct(95.0)),
    ));
    md.push_str(&format!(
        "| echo (no-op) | | | {} / {} / {} | | | | | {} |\n\n",
        f1(echo_warm.lat.pct(50.0)),
        f1(echo_warm.lat.pct(99.0)),
        f1(echo_warm.lat.max()),
        mib(echo_warm.rss_kib.map(|k| k * 1024))
    ));

    if let Some((rc, _)) = &rust_get {
        md.push_str(&format!(
            "Cold get-note's first invoke ÷ the raw GetItem function's, at the median: **{:.2}** (target ≤ 1.3; the tenant look-up is one GetItem of the provider item).\n\n",
            rc.first.pct(50.0) / raw_cold.first.pct(50.0)
        ));
    }

    if let Some((rc, rw)) = &rust_get {
        md.push_str("## Peers: the same get-note\n\n| implementation | init median | first invoke median | warm p50 / p99 | peak RSS | Rust is faster by (init / first / p50 / p99) | Rust RSS is smaller by |\n|---|---|---|---|---|---|---|\n");
        md.push_str(&format!(
            "| Rust (this project) | {} | {} | {} / {} | {} | | |\n",
            f1(rc.init.pct(50.0)),
            f1(rc.first.pct(50.0)),
            f1(rw.lat.pct(50.0)),
            f1(rw.lat.pct(99.0)),
            mib(rw.rss_kib.map(|k| k * 1024))
        ));
        for p in &peers {
            eprintln!("{}: cold", p.label);
            let c = cold(p, &table, opts.cold).await;
            eprintln!("{}: warm", p.label);
            let w = warm(p, &table, opts.warm).await;
            let ratio = |a: f64, b: f64| format!("{:.1}×", a / b);
            md.push_str(&format!(
                "| {} | {} | {} | {} / {} | {} | {} / {} / {} / {} | {} |\n",
                p.label,
                f1(c.init.pct(50.0)),
                f1(c.first.pct(50.0)),
                f1(w.lat.pct(50.0)),
                f1(w.lat.pct(99.0)),
                mib(w.rss_kib.map(|k| k * 1024)),
                ratio(c.init.pct(50.0), rc.init.pct(50.0)),
                ratio(c.first.pct(50.0), rc.first.pct(50.0)),
                ratio(w.lat.pct(50.0), rw.lat.pct(50.0)),
                ratio(w.lat.pct(99.0), rw.lat.pct(99.0)),
                match (w.rss_kib, rw.rss_kib) {
                    (Some(a), Some(b)) => ratio(a as f64, b as f64),
                    _ => "n/a".into(),
                },
            ));
        }
        md.push('\n');
    }

    md.push_str("## Footprint\n\n| function | x86_64 stripped binary | arm64 bootstrap | arm64 bootstrap.zip (deploy artifact) |\n|---|---|---|---|\n");
    for f in ["get-note", "list-notes", "create-note"] {
        md.push_str(&format!(
            "| {f} | {} | {} | {} |\n",
            mib(file_size(&opts.bins.join(f))),
            mib(
                file_size(&opts.lambda_dir.join(f).join("bootstrap")).or_else(|| {
                    // `--output-format zip` leaves only the zip: the size its directory records.
                    zipped_size(&opts.lambda_dir.join(f).join("bootstrap.zip"), "bootstrap")
                })
            ),
            mib(file_size(&opts.lambda_dir.join(f).join("bootstrap.zip"))),
        ));
    }
    println!("{md}");
    if let Some(dir) = opts.out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // The list-cost and simulation sections (`scripts/bench.sh lists`, `simulate-zipf`) are
    // other runs': keep them.
    let old = std::fs::read_to_string(&opts.out).unwrap_or_default();
    let mut md = md.trim_end().to_owned();
    for name in ["bench-lists", "simulate-zipf"] {
        let (begin, end) = (
            format!("<!-- {name}:begin -->"),
            format!("<!-- {name}:end -->"),
        );
        if let (Some(b), Some(e)) = (old.find(&begin), old.find(&end))
            && b < e
        {
            md.push_str("\n\n");
            md.push_str(&old[b..e + end.len()]);
        }
    }
    md.push('\n');
    std::fs::write(&opts.out, &md).expect("writing results");
    eprintln!("wrote {}", opts.out.display());
    let _ = client.delete_table().table_name(&table).send().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[test]
    fn zip_entry_sizes_come_from_the_central_directory() {
        // A deflated zip of two entries and a comment, as Python's zipfile writes one.
        let zip = std::process::Command::new("python3")
            .args([
                "-c",
                "import io,sys,zipfile\nb=io.BytesIO()\nz=zipfile.ZipFile(b,'w',zipfile.ZIP_DEFLATED)\nz.writestr('other','x'*10)\nz.writestr('bootstrap','y'*100000)\nz.comment=b'c'\nz.close()\nsys.stdout.buffer.write(b.getvalue())",
            ])
            .output()
            .expect("python3")
            .stdout;
        assert_eq!(zip_entry_size(&zip, "bootstrap"), Some(100_000));
        assert_eq!(zip_entry_size(&zip, "other"), Some(10));
        assert_eq!(zip_entry_size(&zip, "missing"), None);
        assert_eq!(zip_entry_size(&zip[..zip.len() / 2], "bootstrap"), None);
        assert_eq!(zip_entry_size(b"", "bootstrap"), None);
    }

    #[test]
    fn opts_parse() {
        Opts::command().debug_assert();
        let opts = Opts::try_parse_from([
            "bench",
            "--node",
            "node peers/node/index.mjs",
            "--python",
            "python bootstrap.py",
        ])
        .unwrap();
        assert_eq!(
            opts.node,
            Some(Words(vec!["node".into(), "peers/node/index.mjs".into()]))
        );
        assert_eq!(
            opts.python,
            Some(Words(vec!["python".into(), "bootstrap.py".into()]))
        );
    }
}
