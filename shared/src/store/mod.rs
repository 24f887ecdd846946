//! DynamoDB: the only module that builds keys, conditions or `AttributeValue`s.
//!
//! [`Db`] is the table handle built once per process. Note data is reachable only through a
//! [`TenantStore`] (read/write, for a user of an active tenant) or a [`PublicReader`] view
//! (read-only, PUBLIC notes of one active tenant); both are made from an
//! [`ActiveTenant`](crate::tenancy::ActiveTenant), and every key they build starts from it.
//!
//! - `tenant_store`: the [`TenantStore`] handle and what its aggregates share.
//! - `notes`: notes and idempotency tokens; the [`PublicReader`] view.
//! - `profiles`: profiles and the tenant's counters item.
//! - `registry`: reading tenants and provider mappings; [`TenantRegistry`], the per-process
//!   cache a function admits callers through. `batch`: BatchGetItem. `write`: every
//!   conditional write and transaction, and their one retry policy.
//! - [`admin`] (feature `operator`, tenantctl only): the registry's writes, a tenant's whole
//!   partition (export, purge, import), the backfill and the table's schema.

#[cfg(feature = "operator")]
pub mod admin;
mod batch;
pub mod capacity;
mod keys;
mod notes;
mod profiles;
mod registry;
mod tenant_registry;
mod tenant_store;
mod write;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

pub use batch::BATCH_GET_MAX_KEYS;
pub use keys::{GSI1, GSI2, NOTE_PREFIX, TENANT_PREFIX, TTL_ATTRIBUTE};
pub use notes::{CreateOutcome, Page, PublicReader, Writer};
pub use tenant_registry::{TenantAnswers, TenantRegistry};
pub use tenant_store::TenantStore;

use crate::error::AppError;

pub type Item = HashMap<String, AttributeValue>;

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

    /// The item with this key, if there is one. `op` names the read in errors and logs.
    pub(crate) async fn get(
        &self,
        op: &'static str,
        key: Item,
        consistent: bool,
    ) -> Result<Option<Item>, AppError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| sdk_err(op, e))?;
        Ok(out.item)
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

/// A value as the table stores it, through its serde form: an enum is written as the string its
/// serde renames give it (`PRIVATE`, `ADMIN`, `ACTIVE`), the same one its items carry.
pub(crate) fn value<T: serde::Serialize>(v: &T) -> Result<AttributeValue, AppError> {
    serde_dynamo::to_attribute_value(v).map_err(|e| AppError::internal("encoding a value", e))
}

/// The primary key of an item.
pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}

pub(crate) fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, AppError> {
    serde_dynamo::from_item(item).map_err(|e| AppError::internal("decoding an item", e))
}

pub(crate) fn to_item<T: serde::Serialize>(value: &T) -> Result<Item, AppError> {
    serde_dynamo::to_item(value).map_err(|e| AppError::internal("encoding an item", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::Visibility;
    use crate::profiles::Role;
    use crate::tenancy::TenantStatus;

    /// Expression values come from the same serde renames as the stored items.
    #[test]
    fn enum_values_are_their_serde_strings() {
        assert_eq!(value(&Visibility::Private).unwrap(), s("PRIVATE"));
        assert_eq!(value(&Visibility::Public).unwrap(), s("PUBLIC"));
        assert_eq!(value(&Role::Admin).unwrap(), s("ADMIN"));
        assert_eq!(value(&Role::Member).unwrap(), s("MEMBER"));
        assert_eq!(value(&TenantStatus::Active).unwrap(), s("ACTIVE"));
    }
}
