//! list-notes' raw function: the two Queries of a first page and nothing else (see
//! `bench::raw`).
use serde_json::json;

fn main() -> Result<(), lambda_runtime::Error> {
    bench::raw::serve(|db, event| async move {
        let limit = event["arguments"]["limit"].as_i64().unwrap_or(20) as i32;
        let read = bench::raw::list_notes(db, bench::raw::caller(&event), limit).await?;
        Ok(json!({ "read": read }))
    })
}
