//! The operator's surface of the table, for `tenantctl` (and tests): compiled only with the
//! `operator` feature, which no function crate enables, so a function cannot purge a partition
//! or create a table — `tests/tests/boundaries.rs` builds a function-like crate that tries and
//! fails.
//!
//! [`Admin`] is the handle; it wraps the same [`Db`] a function holds, and adds:
//!
//! - `registry`: every write of the tenant registry (registering a provider, a change of a
//!   tenant's record, the onboarding and offboarding bookkeeping) and `tenantctl list`.
//! - `lifecycle`: a tenant's whole partition at once (export, purge, import).
//! - `identity_pools`: which Identity Pool each tenant lives in, and which pools have room.
//! - `backfill`: `tenantctl backfill-indexes`.
//! - `schema`: the table's definition (`tenantctl create-table`; the template test compares it
//!   with `template.yaml`).

mod backfill;
mod identity_pools;
mod lifecycle;
mod registry;
mod schema;

pub use backfill::{BackfillReport, MAX_BACKFILL_SEGMENTS};
pub use identity_pools::{IDENTITY_POOLS_PK, Placement, PoolLease, PoolRecord, UserPoolRecord};
pub use lifecycle::{
    BATCH_WRITE_MAX_ITEMS, ImportReport, ImportTarget, export_line, import_marker,
    parse_export_line, restore_roles, retarget, source_tenant,
};
pub use registry::{MAX_PROVIDERS_PER_TENANT, OffboardState, RegistryEntry, RegistryRemoval};
pub use schema::{TableSpec, table_spec};

use super::Db;

/// The operator's handle on the table: what [`Db`] offers a function, and the operator's
/// writes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Admin {
    db: Db,
}

impl Admin {
    pub fn new(db: Db) -> Self {
        Admin { db }
    }

    /// [`Db::from_env`], as the operator's handle.
    pub async fn from_env(table: impl Into<String>) -> Self {
        Admin::new(Db::from_env(table).await)
    }

    /// The function's view of the same table (registry reads, tenant stores).
    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// An `Admin` is a [`Db`] with the operator's writes added, so it reads like one (an operator
/// command reads the registry as a function does). Only one way: a `Db` never becomes an `Admin`
/// except through [`Admin::new`], which a function crate cannot name.
impl std::ops::Deref for Admin {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}
