//! The glue every function runs: decode → field guard → caller → tenant → handler → response,
//! written once. A function's `main` is `shared::lambda::serve(shared::api::GetNote)`.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::config::Config;
use crate::error::AppError;
use crate::event::{Field, ResolverEvent};
use crate::identity::{Caller, User, parse_caller};
use crate::store::{Db, TenantStore};
use crate::tenancy::{ActiveTenant, TenantRegistry};
use crate::tenant_credentials::TenantCredentials;
use crate::text::shorten;

/// What a warm function keeps between invocations: configuration, the table, the tenant cache.
pub struct App {
    pub config: Config,
    pub db: Db,
    pub registry: TenantRegistry,
    /// Set in the tenant-scoped credentials mode (`TENANT_ROLE_ARN`).
    pub tenant_credentials: Option<TenantCredentials>,
}

impl App {
    pub fn new(config: Config, db: Db) -> Self {
        let registry = TenantRegistry::new(db.clone(), config.tenant_cache_ttl);
        App {
            config,
            db,
            registry,
            tenant_credentials: None,
        }
    }

    /// Cold start: configuration and the SDK client from the environment, and the page-token
    /// secret from Secrets Manager when `PAGE_TOKEN_SECRET_ARN` names one (read once here, so a
    /// warm function never calls Secrets Manager).
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let mut config = Config::from_env()?;
        let sdk = aws_config::load_from_env().await;
        if let Some(arn) = &config.page_token_secret_arn {
            let secret = aws_sdk_secretsmanager::Client::new(&sdk)
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "reading PAGE_TOKEN_SECRET_ARN: {}",
                        aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                    )
                })?;
            let value = secret.secret_string.unwrap_or_default().into_bytes();
            config.page_token_secret =
                crate::config::page_token_key(value, "PAGE_TOKEN_SECRET_ARN")?;
        }
        let conf = crate::store::with_budget(aws_sdk_dynamodb::config::Builder::from(&sdk)).build();
        let db = Db::new(
            aws_sdk_dynamodb::Client::from_conf(conf),
            config.table_name.clone(),
        );
        let tenant_credentials = config
            .tenant_role_arn
            .clone()
            .map(|arn| TenantCredentials::new(&sdk, arn, config.table_name.clone()));
        Ok(App {
            tenant_credentials,
            ..App::new(config, db)
        })
    }

    /// The handle a tenant's data is reached with: scoped credentials in that mode, else the
    /// shared one.
    pub async fn db_for(&self, tenant: &ActiveTenant) -> Result<Db, AppError> {
        match &self.tenant_credentials {
            Some(tc) => tc.db_for(tenant.id()).await,
            None => Ok(self.db.clone()),
        }
    }
}

/// Who a resolver admits. The glue turns the parsed [`Caller`] into this before the handler
/// runs, so a handler's signature states its access rule.
pub trait Access: Sized + Send {
    fn admit(app: &App, caller: Caller) -> impl Future<Output = Result<Self, AppError>> + Send;
    /// The tenant, for the log line.
    fn tenant(&self) -> Option<&ActiveTenant>;
}

/// Anyone with Identity Pool credentials, guests included.
impl Access for Caller {
    async fn admit(_: &App, caller: Caller) -> Result<Self, AppError> {
        Ok(caller)
    }

    fn tenant(&self) -> Option<&ActiveTenant> {
        None
    }
}

/// A signed-in user of an active tenant, with the only handle that can touch that tenant's notes.
pub struct Member {
    pub user: User,
    pub store: TenantStore,
}

impl Member {
    /// The refusal a guest gets from every field that needs a signed-in user.
    fn refuse_guest(_: &Caller) -> AppError {
        AppError::Unauthorized(
            "Sign in to call this field; guests may call only Query.me and Query.publicNotes."
                .into(),
        )
    }

    /// A user whose tenant the registry has already admitted.
    async fn of(app: &App, user: User, tenant: ActiveTenant) -> Result<Self, AppError> {
        let db = app.db_for(&tenant).await?;
        Ok(Member {
            user,
            store: TenantStore::new(db, tenant),
        })
    }
}

impl Access for Member {
    async fn admit(app: &App, caller: Caller) -> Result<Self, AppError> {
        match caller {
            guest @ Caller::Guest(_) => Err(Member::refuse_guest(&guest)),
            Caller::User(user) => {
                let tenant = app.registry.tenant_of(&user).await?;
                Member::of(app, user, tenant).await
            }
        }
    }

    fn tenant(&self) -> Option<&ActiveTenant> {
        Some(self.store.tenant())
    }
}

/// One GraphQL field's resolver.
pub trait Resolver: Send + Sync {
    const FIELD: Field;
    type Access: Access;
    type Args: DeserializeOwned + Send;
    type Output: Serialize;
    fn resolve(
        &self,
        app: &App,
        who: Self::Access,
        args: Self::Args,
    ) -> impl Future<Output = Result<Self::Output, AppError>> + Send;
}

/// What the log line of one invocation reports.
#[derive(Debug, Default)]
struct Report {
    caller: Option<&'static str>,
    tenant: Option<String>,
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

async fn run<R: Resolver>(
    app: &App,
    resolver: &R,
    payload: Result<Value, AppError>,
    report: &mut Report,
) -> Result<Box<RawValue>, AppError> {
    let event = ResolverEvent::decode(payload?, R::FIELD)?;
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
    let output = resolver.resolve(app, who, args).await?;
    // Straight to JSON text: no intermediate `Value` tree to build and walk again.
    serde_json::value::to_raw_value(&output)
        .map_err(|e| AppError::internal("serializing the response", e))
}

/// Resolves one event (the JSON AppSync sends) into the function's result or its typed error.
/// This is exactly what the deployed function does, minus the runtime; tests call it directly.
pub async fn call<R: Resolver>(
    app: &App,
    resolver: &R,
    payload: Value,
) -> Result<Value, Diagnostic> {
    let raw = call_logged(app, resolver, Ok(payload), "-").await?;
    serde_json::from_str(raw.get())
        .map_err(|e| AppError::internal("re-reading the response", e).into_diagnostic())
}

/// [`call`] without turning the answer back into a `Value`: the JSON text the function sends.
pub async fn call_json<R: Resolver>(
    app: &App,
    resolver: &R,
    payload: &RawValue,
) -> Result<Box<RawValue>, Diagnostic> {
    call_logged(app, resolver, decode_payload(payload), "-").await
}

async fn call_logged<R: Resolver>(
    app: &App,
    resolver: &R,
    payload: Result<Value, AppError>,
    request_id: &str,
) -> Result<Box<RawValue>, Diagnostic> {
    let started = Instant::now();
    let mut report = Report::default();
    // Boxed behind `dyn`: the SDK's futures nest deeply, and without this indirection every
    // function binary would hit rustc's layout recursion limit.
    let fut: Pin<Box<dyn Future<Output = Result<Box<RawValue>, AppError>> + Send + '_>> =
        Box::pin(run(app, resolver, payload, &mut report));
    let result = fut.await;
    log_invocation(R::FIELD, request_id, &report, &result, started);
    result.map_err(AppError::into_diagnostic)
}

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
        let tenant = match tenants.get(&user.provider) {
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

async fn run_batch<R: BatchResolver>(
    app: &App,
    resolver: &R,
    payload: Result<Value, AppError>,
    report: &mut Report,
) -> Result<Value, AppError> {
    // Batching off (or a hand-made event): one event in, one answer out.
    let (events, single) = match payload? {
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
    let mut values = answers
        .into_iter()
        .map(|a| {
            serde_json::to_value(a).map_err(|e| AppError::internal("serializing the response", e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if single {
        values.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(values)
    })
}

/// Resolves a BatchInvoke payload (or a single event) for a [`BatchResolver`].
pub async fn call_batch<R: BatchResolver>(
    app: &App,
    resolver: &R,
    payload: Value,
) -> Result<Value, Diagnostic> {
    call_batch_logged(app, resolver, Ok(payload), "-").await
}

async fn call_batch_logged<R: BatchResolver>(
    app: &App,
    resolver: &R,
    payload: Result<Value, AppError>,
    request_id: &str,
) -> Result<Value, Diagnostic> {
    let started = Instant::now();
    let mut report = Report::default();
    let fut: Pin<Box<dyn Future<Output = Result<Value, AppError>> + Send + '_>> =
        Box::pin(run_batch(app, resolver, payload, &mut report));
    let result = fut.await;
    log_invocation(R::FIELD, request_id, &report, &result, started);
    result.map_err(AppError::into_diagnostic)
}

/// Runs a [`BatchResolver`] as a Lambda function.
pub async fn serve_batch<R: BatchResolver>(resolver: R) -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let app = App::from_env().await?;
    let app = &app;
    let resolver = &resolver;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let payload = decode_payload(&event.payload);
            call_batch_logged(app, resolver, payload, &event.context.request_id).await
        },
    ))
    .await
}

fn log_invocation<T>(
    field: Field,
    request_id: &str,
    report: &Report,
    result: &Result<T, AppError>,
    started: Instant,
) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(e) => e.error_type(),
    };
    tracing::info!(
        request_id,
        field = %field,
        tenant = report.tenant.as_deref().unwrap_or("-"),
        caller = report.caller.unwrap_or("-"),
        outcome,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "invocation"
    );
}

/// JSON logs, one object per line; `LOG_LEVEL` (or `RUST_LOG`) sets the level, default `info`.
pub fn init_tracing() {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;

    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("LOG_LEVEL"))
        .unwrap_or_else(|_| "info".to_owned())
        .to_lowercase();
    // lambda_runtime's catch-panic layer logs every handler error at ERROR, so each client
    // mistake (a guest calling a private field) would look like an outage. Our own line per
    // invocation already reports the outcome, and internal errors are logged where they are
    // mapped; a real panic still reaches stderr through the panic hook.
    // `Targets` rather than `EnvFilter`: the same `level,target=level` syntax without a regex
    // engine in every binary.
    // The runtime's own per-invocation spans and info lines cost time on every call and say
    // nothing our line does not; its warnings and errors still show.
    let filter: Targets = format!(
        "{level},lambda_runtime=warn,lambda_runtime_api_client=warn,lambda_runtime::layers::panic=off"
    )
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_target(false)
        .with_current_span(false)
        .with_span_list(false)
        .flatten_event(true);
    let _ = tracing_subscriber::registry()
        .with(json.with_filter(filter))
        .try_init();
}

/// Runs `resolver` as a Lambda function: builds everything once, then serves invocations.
pub async fn serve<R: Resolver>(resolver: R) -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let app = App::from_env().await?;
    let app = &app;
    let resolver = &resolver;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let payload = decode_payload(&event.payload);
            call_logged(app, resolver, payload, &event.context.request_id).await
        },
    ))
    .await
}
