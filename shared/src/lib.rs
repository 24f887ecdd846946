//! Everything the notes API's functions share: the request path
//! `event → field guard → Caller → Tenant → TenantStore → domain rule → response / typed error`,
//! one module per arrow.
//!
//! - [`event`]: decoding the AppSync Direct Lambda event, and the field guard.
//! - [`identity`]: the caller, parsed from the AWS_IAM identity.
//! - [`tenancy`]: provider key → tenant, cached.
//! - [`store`]: DynamoDB, reachable for notes only through a tenant-scoped handle.
//! - [`notes`]: the domain types and rules. [`pagination`]: page sizes and tokens.
//! - [`api`]: one resolver per field. [`lambda`]: the glue that runs a resolver.
//! - [`realtime`]: what a note change publishes and which subscriber receives it.
//! - [`error`]: the one error type and its mapping to the Lambda error shape.
//! - [`validated`]: the checked-string newtype the ids and names above are made of.
//!
//! Cargo features, by who uses what (a function crate enables none):
//! - `operator` (tenantctl, tests): [`store::admin`], the registry's writes and a tenant's whole
//!   partition; `pool_settings`, the settings of every tenant's User Pool and app client (onboard
//!   and the template share them).
//! - `test-support` (tests, bench, fuzz): `fixtures` (AppSync events as the service sends them)
//!   and `fuzzing` (entry points for the fuzz targets).

pub mod api;
pub mod config;
pub mod error;
pub mod event;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
#[cfg(any(test, feature = "test-support"))]
pub mod fuzzing;
pub mod identity;
pub mod lambda;
pub mod notes;
pub mod pagination;
#[cfg(feature = "operator")]
pub mod pool_settings;
pub mod profiles;
pub mod realtime;
pub mod store;
pub mod tenancy;
pub mod tenant_credentials;
pub mod text;
pub mod validated;

pub use error::AppError;
