//! One list of fields: `schema.graphql`, `template.yaml` and `functions/*` are checked against
//! each other, and the template's table against `tenantctl create-table`. Adding a field is a
//! folder, a template block and a handler; this test says which one is missing.
//!
//! Where the code meets AWS: every function's grants (in both credential modes), the tenant data
//! role, the page-token secret, logs, retention policies and the API's abuse limits are checked
//! as documents here; AWS enforces them (docs/security.md).
//!
//! One test binary, a module per concern:
//! - [`support`]: the template as a document, the schema's fields, grants per credentials mode;
//! - [`wiring`]: schema, template, functions and the field table tie together;
//! - [`iam`]: grants and roles, in both credentials modes;
//! - [`cognito`]: User Pools, app clients, the Identity Pool;
//! - [`limits`]: abuse limits, alarms, concurrency, retention, logs;
//! - [`realtime`]: subscriptions and the note publisher.

mod cognito;
mod iam;
mod limits;
mod realtime;
mod support;
mod wiring;
