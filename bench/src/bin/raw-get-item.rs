//! get-note's raw function: the one strongly consistent GetItem of the note and nothing else
//! (see `bench::raw`). get-note's cold first invoke and its warm calls are compared with this
//! one's, interleaved.
use serde_json::json;

fn main() -> Result<(), lambda_runtime::Error> {
    bench::raw::serve(|db, event| async move {
        let id = event["arguments"]["id"].as_str().unwrap_or_default();
        let found = bench::raw::get_note(db, id).await?;
        Ok(json!({ "found": found }))
    })
}
