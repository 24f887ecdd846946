//! DynamoDB: the only module that builds keys, conditions or `AttributeValue`s.
//!
//! [`Db`] is the table handle built once per process. Note data is reachable only through a
//! [`TenantStore`] (read/write, for a user of an active tenant) or a [`PublicNotes`] view
//! (read-only, PUBLIC notes of one active tenant); both are made from an
//! [`ActiveTenant`](crate::tenancy::ActiveTenant), and every key they build starts from it.

mod batch;
mod keys;
mod notes;
mod profiles;
mod registry;
mod schema;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

pub use batch::BATCH_GET_MAX_KEYS;
pub use keys::{GSI1, TENANT_PREFIX, TTL_ATTRIBUTE};
pub use notes::{CreateOutcome, Page, PublicNotes, TenantStore, Writer};
pub use registry::RegistryEntry;
pub use schema::{TableSpec, table_spec};

use crate::error::AppError;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The table and the client that reaches it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    client: Client,
    table: String,
}

impl Db {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Db {
            client,
            table: table.into(),
        }
    }

    /// A client from the standard AWS environment (`AWS_REGION`, credentials,
    /// `AWS_ENDPOINT_URL_DYNAMODB`), so the same binary runs against DynamoDB Local and AWS.
    pub async fn from_env(table: impl Into<String>) -> Self {
        let sdk = aws_config::load_from_env().await;
        let conf = with_budget(aws_sdk_dynamodb::config::Builder::from(&sdk)).build();
        Db::new(Client::from_conf(conf), table)
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Timeouts and retries that keep every DynamoDB call inside the function's budget (the
/// template's Lambda timeout is 10 s): a connection gets 1 s, an attempt 2 s, the whole call with
/// its retries 5 s. Throttling and 5xx are retried (standard mode, 3 attempts, jittered backoff
/// from 50 ms); then the caller gets `Unavailable` well before Lambda would kill the invocation.
pub fn with_budget(
    builder: aws_sdk_dynamodb::config::Builder,
) -> aws_sdk_dynamodb::config::Builder {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    use std::time::Duration;
    builder
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(50)),
        )
}

/// Maps an SDK failure: an unreachable, slow or throttling DynamoDB (after the SDK's retries)
/// is `Unavailable` (retryable), anything else `InternalError`. The detail is for the log only.
pub(crate) fn sdk_err<E, R>(op: &'static str, e: SdkError<E, R>) -> AppError
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    let transient = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => matches!(
            s.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    };
    if transient {
        tracing::warn!(operation = op, detail = %DisplayErrorContext(&e), "DynamoDB unavailable");
        AppError::Unavailable(format!("{op}: {}", DisplayErrorContext(&e)))
    } else {
        AppError::internal(op, DisplayErrorContext(&e))
    }
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, AppError> {
    serde_dynamo::from_item(item).map_err(|e| AppError::internal("decoding an item", e))
}

pub(crate) fn to_item<T: serde::Serialize>(value: &T) -> Result<Item, AppError> {
    serde_dynamo::to_item(value).map_err(|e| AppError::internal("encoding an item", e))
}
