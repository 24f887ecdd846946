//! The glue every function runs: decode → field guard → caller → tenant → handler → response,
//! written once. A function's `main` is `shared::lambda::serve(shared::api::GetNote)`.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Config;
use crate::error::AppError;
use crate::event::{Field, ResolverEvent};
use crate::identity::{Caller, User, parse_caller};
use crate::store::{Db, TenantStore};
use crate::tenancy::{ActiveTenant, TenantRegistry};

/// What a warm function keeps between invocations: configuration, the table, the tenant cache.
pub struct App {
    pub config: Config,
    pub db: Db,
    pub registry: TenantRegistry,
}

impl App {
    pub fn new(config: Config, db: Db) -> Self {
        let registry = TenantRegistry::new(db.clone(), config.tenant_cache_ttl);
        App {
            config,
            db,
            registry,
        }
    }

    /// Cold start: configuration and the SDK client from the environment.
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let config = Config::from_env()?;
        let db = Db::from_env(config.table_name.clone()).await;
        Ok(App::new(config, db))
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

impl Access for Member {
    async fn admit(app: &App, caller: Caller) -> Result<Self, AppError> {
        match caller {
            Caller::Guest(_) => Err(AppError::Unauthorized(
                "Sign in to call this field; guests may call only Query.me and Query.publicNotes."
                    .into(),
            )),
            Caller::User(user) => {
                let tenant = app.registry.tenant_of(&user).await?;
                Ok(Member {
                    user,
                    store: TenantStore::new(app.db.clone(), tenant),
                })
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

async fn run<R: Resolver>(
    app: &App,
    resolver: &R,
    payload: Value,
    report: &mut Report,
) -> Result<Value, AppError> {
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
        let msg: String = e.to_string().chars().take(200).collect();
        AppError::validation(format!("Invalid arguments for {}: {msg}.", R::FIELD))
    })?;
    let output = resolver.resolve(app, who, args).await?;
    serde_json::to_value(output).map_err(|e| AppError::internal("serializing the response", e))
}

/// Resolves one event (the JSON AppSync sends) into the function's result or its typed error.
/// This is exactly what the deployed function does, minus the runtime; tests call it directly.
pub async fn call<R: Resolver>(
    app: &App,
    resolver: &R,
    payload: Value,
) -> Result<Value, Diagnostic> {
    call_logged(app, resolver, payload, "-").await
}

async fn call_logged<R: Resolver>(
    app: &App,
    resolver: &R,
    payload: Value,
    request_id: &str,
) -> Result<Value, Diagnostic> {
    let started = Instant::now();
    let mut report = Report::default();
    // Boxed behind `dyn`: the SDK's futures nest deeply, and without this indirection every
    // function binary would hit rustc's layout recursion limit.
    let fut: Pin<Box<dyn Future<Output = Result<Value, AppError>> + Send + '_>> =
        Box::pin(run(app, resolver, payload, &mut report));
    let result = fut.await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.error_type(),
    };
    tracing::info!(
        request_id,
        field = %R::FIELD,
        tenant = report.tenant.as_deref().unwrap_or("-"),
        caller = report.caller.unwrap_or("-"),
        outcome,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "invocation"
    );
    result.map_err(AppError::into_diagnostic)
}

/// JSON logs, one object per line; `LOG_LEVEL` (or `RUST_LOG`) sets the level, default `info`.
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("LOG_LEVEL"))
        .unwrap_or_else(|_| "info".to_owned())
        .to_lowercase();
    // lambda_runtime's catch-panic layer logs every handler error at ERROR, so each client
    // mistake (a guest calling a private field) would look like an outage. Our own line per
    // invocation already reports the outcome, and internal errors are logged where they are
    // mapped; a real panic still reaches stderr through the panic hook.
    let filter = format!("{level},lambda_runtime::layers::panic=off");
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_target(false)
        .with_current_span(false)
        .with_span_list(false)
        .flatten_event(true)
        .try_init();
}

/// Runs `resolver` as a Lambda function: builds everything once, then serves invocations.
pub async fn serve<R: Resolver>(resolver: R) -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let app = App::from_env().await?;
    let app = &app;
    let resolver = &resolver;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        call_logged(app, resolver, event.payload, &event.context.request_id).await
    }))
    .await
}
