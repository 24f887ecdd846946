//! Onboarding at scale: `tenantctl onboard` for N tenants (1,200 by default) against the running
//! local stack at an Identity Pool capacity of 50 (so ~24 pools, each created by onboard when the
//! last one filled), each run's AWS calls (its `awsCalls` report) and wall time recorded; then
//! the admins of the first, a middle and the last tenant sign in through their own pools and the
//! isolation checks run between them.
//!
//! ```text
//! scripts/local.sh &                                   # the stack, .local/outputs.json
//! scripts/bench.sh onboarding [--tenants 1200]         # this, with the stack's environment
//! ```
//!
//! Prints a markdown summary (bench/results.md keeps the last one); progress on stderr.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use aws_sdk_cognitoidentity as identity;
use aws_sdk_cognitoidentityprovider as idp;
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Onboard N tenants against the local stack; calls and time per onboarding")]
struct Args {
    /// The local stack's outputs file.
    #[arg(long, default_value = ".local/outputs.json")]
    outputs: PathBuf,
    #[arg(long, default_value_t = 1200)]
    tenants: usize,
    /// Tenants per Identity Pool (TENANTCTL_IDENTITY_POOL_CAPACITY).
    #[arg(long, default_value_t = 50)]
    capacity: usize,
    /// onboard's settle wait (TENANTCTL_SETTLE_MS): one operator here, nothing to wait for; on
    /// AWS the default 3 s is added twice per Identity Pool change (reported apart).
    #[arg(long, default_value_t = 0)]
    settle_ms: u64,
    /// Tenant ids are `<prefix>-<n>`.
    #[arg(long, default_value = "scale")]
    prefix: String,
}

struct Run {
    ms: f64,
    calls: u64,
    by_call: BTreeMap<String, u64>,
    pool: String,
    created_pool: bool,
    report: Value,
}

fn bin(name: &str) -> PathBuf {
    // Beside this binary (target/<profile>/), as cargo builds the workspace's binaries.
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default()
        .join(name)
}

fn get<'a>(o: &'a Value, k: &str) -> &'a str {
    o[k].as_str()
        .unwrap_or_else(|| panic!("the outputs file has no {k}"))
}

fn onboard(args: &Args, o: &Value, tenant: &str, password: &str) -> Run {
    let started = Instant::now();
    let out = Command::new(bin("tenantctl"))
        .args(["--json", "onboard", "--tenant-id", tenant, "--name"])
        .arg(format!("Tenant {tenant}"))
        .arg("--admin-email")
        .arg(format!("admin@{tenant}.example"))
        .args(["--temporary-password", password])
        .env("IDENTITY_POOL_ID", get(o, "identityPoolId"))
        .env("AWS_REGION", get(o, "region"))
        .env(
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
            get(o, "cognitoIdpEndpoint"),
        )
        .env(
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY",
            get(o, "cognitoIdentityEndpoint"),
        )
        .env("AWS_ENDPOINT_URL_IAM", get(o, "cognitoIdpEndpoint"))
        .env("TENANTCTL_SETTLE_MS", args.settle_ms.to_string())
        .env(
            "TENANTCTL_IDENTITY_POOL_CAPACITY",
            args.capacity.to_string(),
        )
        .stdin(Stdio::null())
        .output()
        .expect("tenantctl (cargo build -p tenantctl)");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert!(
        out.status.success(),
        "onboard {tenant}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("onboard --json");
    let by_call: BTreeMap<String, u64> = report["awsCalls"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    Run {
        ms,
        calls: by_call.values().sum(),
        by_call,
        pool: report["identityPoolId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        created_pool: report.get("createdIdentityPool").is_some(),
        report,
    }
}

/// The onboardings that did not create a pool.
fn plain(rs: &[Run]) -> Vec<&Run> {
    rs.iter().filter(|r| !r.created_pool).collect()
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn summary(label: &str, runs: &[&Run]) -> String {
    let mut calls: Vec<u64> = runs.iter().map(|r| r.calls).collect();
    calls.sort_unstable();
    let (lo, hi) = (calls.first().copied(), calls.last().copied());
    format!(
        "| {label} | {} | {:.1} ({}–{}) | {:.0} |",
        runs.len(),
        mean(runs.iter().map(|r| r.calls as f64)),
        lo.unwrap_or(0),
        hi.unwrap_or(0),
        mean(runs.iter().map(|r| r.ms)),
    )
}

struct Client {
    outputs: PathBuf,
    sessions: PathBuf,
}

impl Client {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let mut child = Command::new(bin("notes-client"))
            .arg("--outputs")
            .arg(&self.outputs)
            .arg("--sessions-dir")
            .arg(&self.sessions)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("notes-client (cargo build -p notes-client)");
        if let (Some(mut pipe), Some(s)) = (child.stdin.take(), stdin) {
            pipe.write_all(s.as_bytes()).expect("stdin");
        }
        let out = child.wait_with_output().expect("notes-client");
        assert!(
            out.status.success(),
            "notes-client {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let o: Value = serde_json::from_str(
        &std::fs::read_to_string(&args.outputs).expect("the outputs file (scripts/local.sh)"),
    )
    .expect("outputs JSON");
    let temp = "Scale-Temp-Pass-1";
    let started = Instant::now();
    let mut runs: Vec<Run> = Vec::with_capacity(args.tenants);
    for i in 1..=args.tenants {
        let tenant = format!("{}-{i:05}", args.prefix);
        runs.push(onboard(&args, &o, &tenant, temp));
        if i % 25 == 0 || i == args.tenants {
            let pools: std::collections::BTreeSet<&str> =
                runs.iter().map(|r| r.pool.as_str()).collect();
            let last = &runs[i - 1];
            eprintln!(
                "onboarded {i}/{} in {:.0} s: {} Identity Pools; last {:.0} ms, {} calls",
                args.tenants,
                started.elapsed().as_secs_f64(),
                pools.len(),
                last.ms,
                last.calls
            );
        }
    }
    let total = started.elapsed().as_secs_f64();
    let pools: std::collections::BTreeSet<&str> = runs.iter().map(|r| r.pool.as_str()).collect();
    let window = 50.min(runs.len());
    let creating: Vec<&Run> = runs.iter().filter(|r| r.created_pool).collect();
    println!(
        "{} tenants onboarded in {:.0} s ({:.2} s each) into {} Identity Pools at capacity {} \
         (settle {} ms)\n",
        runs.len(),
        total,
        total / runs.len() as f64,
        pools.len(),
        args.capacity,
        args.settle_ms
    );
    println!("| onboardings | n | AWS calls, mean (min–max) | ms, mean |");
    println!("|---|---:|---:|---:|");
    println!(
        "{}",
        summary(
            &format!("first {window} (no pool created)"),
            &plain(&runs[..window])
        )
    );
    println!(
        "{}",
        summary(
            &format!("last {window} (no pool created)"),
            &plain(&runs[runs.len() - window..])
        )
    );
    println!("{}", summary("those that created the next pool", &creating));
    // The calls of one ordinary onboarding at the start and at the end, by operation.
    let show = |r: &Run| {
        r.by_call
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let (Some(a), Some(b)) = (
        plain(&runs[..window]).first(),
        plain(&runs[runs.len() - window..]).last(),
    ) {
        println!("\nfirst ordinary onboarding: {}", show(a));
        println!("last ordinary onboarding:  {}", show(b));
    }
    if let Some(c) = creating.last() {
        println!("last pool-creating one:    {}", show(c));
    }

    // Sign-in and isolation between tenants of different pools.
    let picks = [0, runs.len() / 2, runs.len() - 1];
    let region = get(&o, "region").to_owned();
    let creds = idp::config::Credentials::new("local", "local", None, None, "bench");
    let idp = idp::Client::from_conf(
        idp::Config::builder()
            .behavior_version(idp::config::BehaviorVersion::latest())
            .region(idp::config::Region::new(region.clone()))
            .credentials_provider(creds.clone())
            .endpoint_url(get(&o, "cognitoIdpEndpoint"))
            .build(),
    );
    let ident = identity::Client::from_conf(
        identity::Config::builder()
            .behavior_version(identity::config::BehaviorVersion::latest())
            .region(identity::config::Region::new(region))
            .credentials_provider(creds)
            .endpoint_url(get(&o, "cognitoIdentityEndpoint"))
            .build(),
    );
    let password = "Scale-Admin-Local-1";
    let dir = std::env::temp_dir().join(format!("bench-onboarding-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut outputs = o.clone();
    let mut entries = Vec::new();
    for &i in &picks {
        let r = &runs[i].report;
        let tenant = r["tenantId"].as_str().unwrap_or_default();
        idp.admin_set_user_password()
            .user_pool_id(r["userPoolId"].as_str().unwrap_or_default())
            .username(format!("admin@{tenant}.example"))
            .password(password)
            .permanent(true)
            .send()
            .await
            .expect("AdminSetUserPassword");
        entries.push(json!({
            "tenantId": tenant,
            "userPoolId": r["userPoolId"],
            "userPoolClientId": r["userPoolClientId"],
            "identityPoolId": r["identityPoolId"],
            "users": [{"username": format!("admin@{tenant}.example"), "password": password, "name": "admin"}],
        }));
    }
    outputs["tenants"] = Value::Array(entries);
    let file = dir.join("outputs.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&outputs).expect("json")).expect("write");
    let client = Client {
        outputs: file,
        sessions: dir.join("sessions"),
    };
    let mut notes = Vec::new();
    println!();
    for &i in &picks {
        let r = &runs[i].report;
        let tenant = r["tenantId"].as_str().unwrap_or_default();
        client.run(
            &[
                "sign-in",
                "--tenant",
                tenant,
                "--username",
                "admin",
                "--password-stdin",
            ],
            Some(&format!("{password}\n")),
        );
        let who = format!("{tenant}/admin");
        let me = client.run(
            &[
                "--as",
                &who,
                "query",
                "{ me { tenantId } myProfile { role } }",
            ],
            None,
        );
        assert_eq!(me["data"]["me"]["tenantId"], tenant, "{me}");
        assert_eq!(me["data"]["myProfile"]["role"], "ADMIN", "{me}");
        let made = client.run(
            &[
                "--as",
                &who,
                "query",
                &format!(
                    r#"mutation {{ createNote(input: {{title: "{tenant} note", visibility: TENANT}}) {{ id }} }}"#
                ),
            ],
            None,
        );
        let id = made["data"]["createNote"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("createNote as {who}: {made}"))
            .to_owned();
        notes.push((tenant.to_owned(), who, id));
        println!(
            "tenant #{} {tenant}: signed in through Identity Pool {}, ADMIN, wrote a note",
            i + 1,
            r["identityPoolId"].as_str().unwrap_or_default()
        );
    }
    let mut cells = 0;
    for (tenant, who, _) in &notes {
        let listed = client.run(
            &["--as", who, "query", "{ notes { items { title } } }"],
            None,
        );
        let titles: Vec<&str> = listed["data"]["notes"]["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|n| n["title"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(titles, [format!("{tenant} note").as_str()], "{listed}");
        cells += 1;
        for (other, _, id) in notes.iter().filter(|(t, _, _)| t != tenant) {
            let got = client.run(
                &[
                    "--as",
                    who,
                    "query",
                    &format!(r#"{{ note(id: "{id}") {{ title }} }}"#),
                ],
                None,
            );
            assert!(
                got["data"]["note"].is_null(),
                "{tenant} read {other}'s note: {got}"
            );
            cells += 1;
        }
    }
    // A tenant's token is refused by another tenant's pool.
    let (first, last) = (&runs[picks[0]].report, &runs[picks[2]].report);
    let auth = idp
        .admin_initiate_auth()
        .user_pool_id(first["userPoolId"].as_str().unwrap_or_default())
        .client_id(first["userPoolClientId"].as_str().unwrap_or_default())
        .auth_flow(idp::types::AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters(
            "USERNAME",
            format!(
                "admin@{}.example",
                first["tenantId"].as_str().unwrap_or_default()
            ),
        )
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .expect("AdminInitiateAuth");
    let token = auth
        .authentication_result()
        .and_then(|a| a.id_token())
        .unwrap_or_default()
        .to_owned();
    let refused = ident
        .get_id()
        .identity_pool_id(last["identityPoolId"].as_str().unwrap_or_default())
        .logins(first["providerKey"].as_str().unwrap_or_default(), token)
        .send()
        .await;
    assert!(
        refused.is_err(),
        "the first tenant's token was accepted by the last tenant's pool"
    );
    cells += 1;
    println!(
        "isolation between tenants of {} different pools: {cells} checks held (each lists only its \
         own note, reads none of the others', and the first tenant's token is refused by the last \
         tenant's pool)",
        picks
            .iter()
            .map(|&i| runs[i].pool.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
