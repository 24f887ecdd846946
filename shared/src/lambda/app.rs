//! Cold start: what a warm function keeps between invocations.

use std::sync::Arc;

use super::metrics::MetricsSink;
use crate::config::Config;
use crate::error::AppError;
use crate::store::Db;
use crate::store::TenantRegistry;
use crate::store::capacity::{CapacityMeter, metered};
use crate::tenancy::ActiveTenant;
use crate::tenant_credentials::TenantCredentials;

/// What a warm function keeps between invocations: configuration, the table, the tenant cache.
pub struct App {
    pub config: Config,
    pub db: Db,
    pub registry: TenantRegistry,
    /// Set in the tenant-scoped credentials mode (`TENANT_ROLE_ARN`).
    pub tenant_credentials: Option<TenantCredentials>,
    /// DynamoDB capacity consumed by this process's clients (metered when they were built with
    /// [`crate::store::capacity::metered`]), taken per invocation for the EMF line.
    pub capacity: Arc<CapacityMeter>,
    /// Where each invocation's EMF line goes (stdout in a function).
    pub metrics: MetricsSink,
}

impl App {
    pub fn new(config: Config, db: Db) -> Self {
        App::with_meter(config, db, Arc::default())
    }

    /// An app whose `db` client reports into `capacity` (see [`crate::store::capacity`]).
    pub fn with_meter(config: Config, db: Db, capacity: Arc<CapacityMeter>) -> Self {
        let registry = TenantRegistry::new(db.clone(), config.tenant_cache_ttl)
            .with_first_pool(config.identity_pool_id.clone());
        App {
            config,
            db,
            registry,
            tenant_credentials: None,
            capacity,
            metrics: MetricsSink::Stdout,
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
        let capacity = Arc::<CapacityMeter>::default();
        let base = metered(
            crate::store::with_budget(aws_sdk_dynamodb::config::Builder::from(&sdk)),
            &capacity,
        );
        let db = Db::new(
            aws_sdk_dynamodb::Client::from_conf(base.clone().build()),
            config.table_name.clone(),
        );
        let tenant_credentials = config
            .tenant_role_arn
            .clone()
            .map(|arn| TenantCredentials::new(&sdk, base, arn, config.table_name.clone()));
        Ok(App {
            tenant_credentials,
            ..App::with_meter(config, db, capacity)
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
