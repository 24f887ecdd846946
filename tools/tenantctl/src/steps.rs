//! The numbered steps of onboard and offboard, what each did, and the fault hook.
//!
//! `TENANTCTL_STOP_AFTER_STEP=N` (tests only) ends a run right after step N has finished, with
//! exit code 3 — a run killed between two steps. Running the command again must finish the job:
//! the kill-and-resume tests (tools/tenantctl/tests/lifecycle.rs) do this at every boundary.

use serde::Serialize;

use crate::error::{Error, Result};

/// The environment variable of the fault hook.
pub const STOP_AFTER_STEP: &str = "TENANTCTL_STOP_AFTER_STEP";

/// One finished step, for the report (`--json`) and the progress lines on stderr.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub step: u32,
    pub name: &'static str,
    pub outcome: String,
}

#[derive(Debug)]
pub struct Steps {
    total: u32,
    stop_after: Option<u32>,
    pub done: Vec<StepReport>,
}

impl Steps {
    /// Steps of a run of `total` steps, with the hook read from the environment.
    pub fn new(total: u32) -> Result<Self> {
        let stop_after = match std::env::var(STOP_AFTER_STEP) {
            Ok(v) if !v.trim().is_empty() => Some(v.trim().parse::<u32>().map_err(|_| {
                Error::Usage(format!(
                    "{STOP_AFTER_STEP} must be a step number, got {v:?}"
                ))
            })?),
            _ => None,
        };
        Ok(Steps {
            total,
            stop_after,
            done: Vec::new(),
        })
    }

    /// Records step `step` as finished (progress on stderr), then stops the run if the hook
    /// asks for a stop after it.
    pub fn finish(
        &mut self,
        step: u32,
        name: &'static str,
        outcome: impl Into<String>,
    ) -> Result<()> {
        let outcome = outcome.into();
        eprintln!("step {step}/{} {name}: {outcome}", self.total);
        self.done.push(StepReport {
            step,
            name,
            outcome,
        });
        if self.stop_after == Some(step) {
            return Err(Error::Stopped { step, name });
        }
        Ok(())
    }
}
