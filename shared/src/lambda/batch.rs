//! The pipeline of a batched nested field (AppSync BatchInvoke): an array of events in, an array
//! of answers of the same length and order out, every item admitted on its own.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use super::invocation::{Outcome, Report};
use super::{App, Member};
use crate::error::AppError;
use crate::event::{Field, ResolverEvent};
use crate::identity::{Caller, parse_caller};

/// A nested field resolved in batches (AppSync BatchInvoke): the function receives an array of
/// events, one per parent object, and answers an array of the same length and order.
///
/// The glue admits every item on its own: an item whose caller is refused (a guest, an unknown
/// provider) or whose `source` cannot be read gets `null`, never another item's answer.
pub trait BatchResolver: Send + Sync {
    const FIELD: Field;
    /// The resolver's `MaxBatchSize` in template.yaml (a test keeps them equal). AppSync never
    /// sends more than 2,000; a longer array is a malformed event and is refused unprocessed.
    const MAX_BATCH_SIZE: usize = 2000;
    /// The parent object (`source`).
    type Source: DeserializeOwned + Send;
    type Output: Serialize + Send;
    fn resolve_batch(
        &self,
        app: &App,
        items: Vec<Option<(Member, Self::Source)>>,
    ) -> impl Future<Output = Result<Vec<Option<Self::Output>>, AppError>> + Send;
}

/// Runs a BatchInvoke payload (or a single event) through `resolver`.
pub async fn handle<R: BatchResolver>(
    app: &App,
    resolver: &R,
    payload: Result<Value, AppError>,
) -> Outcome {
    let mut report = Report::default();
    let result = run(app, resolver, payload, &mut report).await;
    (result, report)
}

/// Admits every batch item on its own: `None` for an item its caller may not have (answered
/// `null`). Each distinct provider is resolved once for the whole batch. An error only when the
/// store itself failed — then the whole batch fails rather than answering `null` for data that
/// exists.
async fn admit_items<R: BatchResolver>(
    app: &App,
    events: Vec<ResolverEvent>,
) -> Result<Vec<Option<(Member, R::Source)>>, AppError> {
    let refused = |why: &str, err: &dyn std::fmt::Display| {
        tracing::warn!(field = %R::FIELD, why, error = %err, "batch item refused");
        None
    };
    let pool = app.config.identity_pool_id.as_deref();
    let callers: Vec<(Result<Caller, AppError>, Option<Value>)> = events
        .into_iter()
        .map(|e| (parse_caller(e.identity.as_ref(), pool), e.source))
        .collect();
    let tenants = app
        .registry
        .tenants_of(callers.iter().filter_map(|(c, _)| match c {
            Ok(Caller::User(u)) => Some(u),
            _ => None,
        }))
        .await?;
    let mut items = Vec::with_capacity(callers.len());
    for (caller, source) in callers {
        let user = match caller {
            Ok(Caller::User(u)) => u,
            Ok(guest @ Caller::Guest(_)) => {
                items.push(refused("access", &Member::refuse_guest(&guest)));
                continue;
            }
            Err(e) => {
                items.push(refused("caller", &e));
                continue;
            }
        };
        let tenant = match tenants.get(&(user.provider.clone(), user.identity_pool.clone())) {
            Some(Ok(t)) => t.clone(),
            Some(Err(e)) => {
                items.push(refused("access", e));
                continue;
            }
            None => return Err(AppError::Internal("batch provider not resolved".into())),
        };
        let member = Member::of(app, user, tenant).await?;
        items.push(
            match serde_json::from_value::<R::Source>(source.unwrap_or_default()) {
                Ok(source) => Some((member, source)),
                Err(e) => refused("source", &e),
            },
        );
    }
    Ok(items)
}

async fn run<R: BatchResolver>(
    app: &App,
    resolver: &R,
    payload: Result<Value, AppError>,
    report: &mut Report,
) -> Result<Box<RawValue>, AppError> {
    let payload = payload?;
    // Batching off (or a hand-made event): one event in, one answer out.
    let (events, single) = match payload {
        Value::Array(events) => (events, false),
        one => (vec![one], true),
    };
    if events.len() > R::MAX_BATCH_SIZE {
        return Err(AppError::validation(format!(
            "A BatchInvoke of {} events exceeds {}'s MaxBatchSize of {}.",
            events.len(),
            R::FIELD,
            R::MAX_BATCH_SIZE
        )));
    }
    let events = events
        .into_iter()
        .map(|e| ResolverEvent::decode(e, R::FIELD))
        .collect::<Result<Vec<_>, _>>()?;
    let items = admit_items::<R>(app, events).await?;
    let n = items.len();
    report.caller = Some(if single { "batch-of-1" } else { "batch" });
    report.tenant = items
        .iter()
        .flatten()
        .next()
        .map(|(m, _)| m.store.tenant().id().to_string());
    let answers = resolver.resolve_batch(app, items).await?;
    if answers.len() != n {
        return Err(AppError::Internal(format!(
            "{} answered {} of {n} items",
            R::FIELD,
            answers.len()
        )));
    }
    // Straight to JSON text, as for single fields.
    let raw = if single {
        serde_json::value::to_raw_value(&answers.into_iter().next().flatten())
    } else {
        serde_json::value::to_raw_value(&answers)
    };
    raw.map_err(|e| AppError::internal("serializing the response", e))
}
