//! The glue every function runs: decode → field guard → caller → tenant → handler → response,
//! written once, in parts with one job each:
//!
//! - [`app`]: cold start — configuration, the table, the tenant cache.
//! - [`access`]: who a resolver admits ([`Caller`](crate::identity::Caller), [`Member`],
//!   [`Claimant`] (a member whose call settles the first-admin claim) or [`TenantUser`]).
//! - [`single`]: the pipeline of a root field ([`Resolver`]).
//! - [`batch`]: the pipeline of a batched nested field ([`BatchResolver`]).
//! - [`invocation`]: one invocation whatever the field — payload decoding, the log line, the
//!   error mapping. [`metrics`]: that line, an EMF document (per-tenant metrics).
//! - [`serve`](mod@serve): the runtime; a function's `main` is `shared::lambda::serve(GetNote)`.
//! - [`direct`]: the same invocation in-process, for tests, the benchmark and `api::dispatch`.

pub mod access;
pub mod app;
pub mod batch;
pub mod direct;
pub mod invocation;
pub mod metrics;
pub mod serve;
pub mod single;

pub use access::{Access, Claimant, Member, TenantUser};
pub use app::App;
pub use batch::BatchResolver;
pub use direct::{call, call_batch, call_json};
pub use invocation::{Handler, Pipeline, decode_payload};
pub use serve::{init_tracing, serve};
pub use single::Resolver;
