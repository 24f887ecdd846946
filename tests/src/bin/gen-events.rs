//! Writes `events/<function>/<caller>.json` from the field table and the identity fixtures
//! (`integration_tests::events`). Run after adding a field:
//! `cargo run -p integration-tests --bin gen-events`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("events");
    let events = integration_tests::events::sample_events();
    for (path, text) in &events {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
    }
    println!("wrote {} sample events under events/", events.len());
    Ok(())
}
