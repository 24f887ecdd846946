//! The pipeline of a root field: decode → field guard → caller → access → arguments → handler.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use super::invocation::{Outcome, Report};
use super::{Access, App};
use crate::error::AppError;
use crate::event::{Field, ResolverEvent};
use crate::identity::parse_caller;
use crate::tenancy::TenantId;
use crate::text::shorten;

/// One GraphQL field's resolver.
pub trait Resolver: Send + Sync {
    const FIELD: Field;
    type Access: Access;
    type Args: DeserializeOwned + Send;
    type Output: Serialize;
    /// The tenant whose data a call touches when the caller has none (a guest reading a
    /// tenant's public notes): the `tenant` its metrics are billed to — once the registry has
    /// admitted it as active (see `run`).
    fn data_tenant(_args: &Self::Args) -> Option<TenantId> {
        None
    }

    fn resolve(
        &self,
        app: &App,
        who: Self::Access,
        args: Self::Args,
    ) -> impl Future<Output = Result<Self::Output, AppError>> + Send;
}

/// Runs one event through `resolver`, with what the log line needs.
pub async fn handle<R: Resolver>(
    app: &App,
    resolver: &R,
    payload: Result<Value, AppError>,
) -> Outcome {
    let mut report = Report::default();
    let result = run(app, resolver, payload, &mut report).await;
    (result, report)
}

async fn run<R: Resolver>(
    app: &App,
    resolver: &R,
    payload: Result<Value, AppError>,
    report: &mut Report,
) -> Result<Box<RawValue>, AppError> {
    let payload = payload?;
    let event = ResolverEvent::decode(payload, R::FIELD)?;
    let caller = parse_caller(
        event.identity.as_ref(),
        app.config.identity_pool_id.as_deref(),
    )?;
    report.caller = Some(caller.kind());
    let who = R::Access::admit(app, caller).await?;
    report.tenant = who.tenant().map(|t| t.id().to_string());
    // A field without arguments may arrive with `arguments: null` or none at all.
    let arguments = match event.arguments {
        Value::Null => Value::Object(serde_json::Map::new()),
        other => other,
    };
    let args: R::Args = serde_json::from_value(arguments).map_err(|e| {
        let msg = shorten(&e.to_string(), 200);
        AppError::validation(format!("Invalid arguments for {}: {msg}.", R::FIELD))
    })?;
    let data_tenant = if report.tenant.is_none() {
        R::data_tenant(&args)
    } else {
        None
    };
    let output = resolver.resolve(app, who, args).await;
    // Only a tenant the registry admitted becomes a metric dimension. The id comes from the
    // caller (a guest may send any string): billing it before admission would let anyone create
    // CloudWatch metrics at will, one per value (cost, and noise in every per-tenant view).
    if let Some(id) = data_tenant
        && app.registry.admitted_by_id(&id)
    {
        report.tenant = Some(id.to_string());
    }
    let output = output?;
    // Straight to JSON text: no intermediate `Value` tree to build and walk again.
    serde_json::value::to_raw_value(&output)
        .map_err(|e| AppError::internal("serializing the response", e))
}
