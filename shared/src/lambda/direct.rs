//! Calling a field in-process, without a runtime: what tests, the benchmark and
//! [`crate::api::dispatch`] use. The same [`invoke`] the deployed function runs, so a test sees
//! exactly the function's answer and error shape.

use lambda_runtime::Diagnostic;
use serde_json::Value;
use serde_json::value::RawValue;

use super::App;
use super::batch::{self, BatchResolver};
use super::invocation::{Handler, decode_payload, invoke};
use crate::error::AppError;

/// Resolves one event (the JSON AppSync sends) into the function's result or its typed error.
pub async fn call<H: Handler>(app: &App, handler: &H, payload: Value) -> Result<Value, Diagnostic> {
    let raw = invoke(app, H::FIELD, "-", handler.handle(app, Ok(payload))).await?;
    reread(&raw)
}

/// [`call`] from JSON text, as the runtime hands it over, to the JSON text the function sends.
pub async fn call_json<H: Handler>(
    app: &App,
    handler: &H,
    payload: &RawValue,
) -> Result<Box<RawValue>, Diagnostic> {
    invoke(
        app,
        H::FIELD,
        "-",
        handler.handle(app, decode_payload(payload)),
    )
    .await
}

/// Resolves a BatchInvoke payload (or a single event) with any [`BatchResolver`], listed in the
/// registry or not.
pub async fn call_batch<R: BatchResolver>(
    app: &App,
    resolver: &R,
    payload: Value,
) -> Result<Value, Diagnostic> {
    let raw = invoke(
        app,
        R::FIELD,
        "-",
        Box::pin(batch::handle(app, resolver, Ok(payload))),
    )
    .await?;
    reread(&raw)
}

fn reread(raw: &RawValue) -> Result<Value, Diagnostic> {
    serde_json::from_str(raw.get())
        .map_err(|e| AppError::internal("re-reading the response", e).into_diagnostic())
}
