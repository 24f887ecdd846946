//! create-note's raw function: the one conditional PutItem of the note and nothing else (see
//! `bench::raw`).
use serde_json::json;

fn main() -> Result<(), lambda_runtime::Error> {
    bench::raw::serve(|db, event| async move {
        let input = &event["arguments"]["input"];
        let id = bench::raw::create_note(db, bench::raw::caller(&event), input).await?;
        Ok(json!({ "id": id }))
    })
}
