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
//! - [`pool_settings`]: the settings of every tenant's User Pool and app client (onboard and the
//!   template share them).

pub mod api;
pub mod config;
pub mod error;
pub mod event;
#[doc(hidden)]
pub mod fixtures;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod lambda;
pub mod notes;
pub mod pagination;
pub mod pool_settings;
pub mod profiles;
pub mod realtime;
pub mod store;
pub mod tenancy;
pub mod tenant_credentials;
pub mod text;

pub use error::AppError;
