use std::process::ExitCode;

use clap::Parser;
use notes_client::Error;
use notes_client::cli::{Cli, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(code) => code,
        // The answer (already printed on stdout) says why.
        Err(Error::Status { status, .. }) => {
            eprintln!("notes-client: the GraphQL endpoint answered HTTP {status}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("notes-client: {e}");
            ExitCode::FAILURE
        }
    }
}
