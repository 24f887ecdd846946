//! CI's small version of `scripts/bench.sh lists`: tenants of 1,000 and 2,000 notes where the
//! viewer may read 1 % and 10 %, listed before (the old filtered query) and after (the listing
//! index), with the targets asserted (`bench::lists::findings`) and the old path shown to be
//! what the issue measured: many items evaluated for few returned.

use bench::lists::{self, Measured, Meter, Scenario};
use shared::store::Db;

#[tokio::test]
async fn a_page_costs_what_it_returns_whatever_the_tenant_holds() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| {
        panic!("AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with scripts/test.sh, which starts DynamoDB Local")
    });
    assert!(lists::loopback_endpoint().is_ok(), "{endpoint}");
    let meter = Meter::default();
    let db = Db::new(
        lists::client(&endpoint, &meter),
        format!("notes-list-cost-{}", uuid::Uuid::new_v4().simple()),
    );
    shared::store::admin::Admin::new(db.clone())
        .create_table()
        .await
        .unwrap();
    let mut loaded = Vec::new();
    for notes in [1000, 2000] {
        for readable_pct in [1, 10] {
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
        for limit in [20, 100] {
            all.push(Measured {
                loaded: l.clone(),
                limit,
                before: lists::list_before(&db, &meter, l, limit).await,
                after: lists::list_after(&app, &meter, l, limit).await,
            });
        }
    }
    eprintln!("{}", lists::markdown(&all, "CI"));
    assert_eq!(lists::findings(&all), Vec::<String>::new());
    for m in &all {
        let (before, after) = (m.before.total(), m.after.total());
        assert_eq!(before.items, after.items, "both list everything readable");
        if m.loaded.scenario.readable_pct == 1 {
            // The old path evaluated the whole partition to find 1 % of it.
            assert!(
                before.counts.scanned >= 50 * after.counts.scanned,
                "{} vs {}",
                before.counts.scanned,
                after.counts.scanned
            );
        }
    }
    let _ = db
        .client()
        .delete_table()
        .table_name(db.table_name())
        .send()
        .await;
}
