//! `scripts/bench.sh lists`: what listing costs before and after the listing index, in tenants
//! of 1k, 10k and 100k notes where the viewer may read 1 %, 10 % and 100 %. Loads the tenants
//! into DynamoDB Local (loopback only) and writes the table into bench/results.md, replacing
//! only its own section.

use std::path::PathBuf;

use bench::lists::{self, Measured, Meter, Scenario};
use shared::store::Db;

#[derive(clap::Parser)]
struct Opts {
    /// Tenant sizes (notes).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    sizes: Vec<usize>,
    /// Shares the viewer may read, in percent.
    #[arg(long, value_delimiter = ',', default_value = "1,10,100")]
    readable: Vec<u32>,
    /// Page sizes (`limit`).
    #[arg(long, value_delimiter = ',', default_value = "20,100")]
    limits: Vec<usize>,
    /// The results file; the section "## Lists" in it is replaced (or appended).
    #[arg(long, default_value = "bench/results.md")]
    out: PathBuf,
    /// Machine description for the report.
    #[arg(long, default_value = "this machine")]
    machine: String,
}

#[tokio::main]
async fn main() {
    let opts = <Opts as clap::Parser>::parse();
    let endpoint = match lists::loopback_endpoint() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("bench-lists: {e}");
            std::process::exit(2);
        }
    };
    let meter = Meter::default();
    let table = format!("notes-lists-{}", uuid::Uuid::new_v4().simple());
    let db = Db::new(lists::client(&endpoint, &meter), table);
    shared::store::admin::Admin::new(db.clone())
        .create_table()
        .await
        .expect("create table");
    let mut loaded = Vec::new();
    for &notes in &opts.sizes {
        for &readable_pct in &opts.readable {
            let scenario = Scenario {
                notes,
                readable_pct,
            };
            loaded.push(lists::load(&db, scenario, loaded.len()).await);
        }
    }
    let refs: Vec<&lists::Loaded> = loaded.iter().collect();
    let app = lists::app(db.clone(), &refs).await;
    let mut all = Vec::new();
    for l in &loaded {
        for &limit in &opts.limits {
            eprintln!(
                "  listing {} notes, {} % readable ({}), limit {limit}",
                l.scenario.notes, l.scenario.readable_pct, l.readable
            );
            let before = lists::list_before(&db, &meter, l, limit).await;
            let after = lists::list_after(&app, &meter, l, limit).await;
            all.push(Measured {
                loaded: l.clone(),
                limit,
                before,
                after,
            });
        }
    }
    let md = lists::markdown(&all, &opts.machine);
    println!("{md}");
    lists::replace_section(&opts.out, "bench-lists", &md).expect("writing results");
    eprintln!("wrote {}", opts.out.display());
    let _ = db
        .client()
        .delete_table()
        .table_name(db.table_name())
        .send()
        .await;
    if !lists::findings(&all).is_empty() {
        std::process::exit(1);
    }
}
