//! One invocation, whatever the field: the payload decoded by us, the pipeline run, one log line
//! written, the error mapped — the part every function shares, written once.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use lambda_runtime::Diagnostic;
use serde_json::Value;
use serde_json::value::RawValue;

use super::App;
use super::metrics::InvocationRecord;
use crate::error::AppError;
use crate::event::Field;
use crate::text::shorten;

/// What the log line of one invocation reports.
#[derive(Debug, Default)]
pub struct Report {
    pub(super) caller: Option<&'static str>,
    pub(super) tenant: Option<String>,
}

/// A pipeline's answer and what its log line says.
pub type Outcome = (Result<Box<RawValue>, AppError>, Report);

/// A boxed pipeline future. Boxed behind `dyn`: the SDK's futures nest deeply, and without this
/// indirection every function binary would hit rustc's layout recursion limit.
pub type Pipeline<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// A field a function serves: its resolver with the pipeline it runs (single or batch). The
/// registry in [`crate::api`] implements it for every resolver it lists.
pub trait Handler: Send + Sync + 'static {
    const FIELD: Field;
    fn handle<'a>(&'a self, app: &'a App, payload: Result<Value, AppError>) -> Pipeline<'a>;
}

/// The invocation's payload, decoded by us rather than by the runtime, so that text the runtime
/// could not decode (valid JSON syntax that is not valid Unicode, e.g. a lone surrogate escape
/// `\ud800` in a title) gets our `ValidationError` instead of a crate's error type. Lambda itself
/// refuses a payload that is not JSON syntax before the function runs, and a raw JSON value
/// skips over string escapes without decoding them, so the runtime's own step cannot fail.
pub fn decode_payload(raw: &RawValue) -> Result<Value, AppError> {
    serde_json::from_str(raw.get()).map_err(|e| {
        AppError::validation(format!(
            "The event is not valid JSON text ({}); strings must be valid Unicode.",
            shorten(&e.to_string(), 120)
        ))
    })
}

/// Runs one invocation: the pipeline, then its one line (an EMF document: the log line and
/// the tenant's metrics at once), then the Lambda error shape.
pub async fn invoke(
    app: &App,
    field: Field,
    request_id: &str,
    pipeline: Pipeline<'_>,
) -> Result<Box<RawValue>, Diagnostic> {
    let started = Instant::now();
    // What earlier work in this process consumed is not this invocation's.
    app.capacity.take();
    let (result, report) = pipeline.await;
    let mut record = InvocationRecord::new(field, request_id);
    record.tenant = report.tenant.as_deref().unwrap_or("-");
    record.caller = report.caller.unwrap_or("-");
    record.outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.error_type(),
    };
    record.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    record.consumed_capacity = app.capacity.take();
    app.metrics.emit(&record);
    result.map_err(AppError::into_diagnostic)
}
