//! [`TenantStore`]: read/write access to one active tenant's partition.
//!
//! This file holds the handle and what every aggregate of the partition shares: its keys, its
//! reads and the tenant check on what comes back. The aggregates' methods live with their items:
//! notes and idempotency tokens in `notes.rs`, profiles and the counters item in `profiles.rs`.

use super::{Db, Item, key};
use crate::error::AppError;
use crate::tenancy::{ActiveTenant, TenantId};

/// Read/write access to the items of one active tenant: every key it builds starts from the
/// tenant's partition, and every item it reads back must name the same tenant.
#[derive(Debug, Clone)]
pub struct TenantStore {
    db: Db,
    tenant: ActiveTenant,
    partition: String,
}

impl TenantStore {
    pub fn new(db: Db, tenant: ActiveTenant) -> Self {
        let partition = super::keys::tenant_partition(tenant.id());
        TenantStore {
            db,
            tenant,
            partition,
        }
    }

    pub fn tenant(&self) -> &ActiveTenant {
        &self.tenant
    }

    /// The table, for building this tenant's writes (their keys come from [`Self::key`]).
    pub(super) fn db(&self) -> &Db {
        &self.db
    }

    /// `TENANT#<tenantId>`: the partition key of every item of this tenant.
    pub(super) fn partition(&self) -> &str {
        &self.partition
    }

    /// The key of this tenant's item with sort key `sk`.
    pub(super) fn key(&self, sk: impl Into<String>) -> Item {
        key(&self.partition, sk)
    }

    /// This tenant's item with sort key `sk`, if there is one.
    pub(super) async fn get(
        &self,
        op: &'static str,
        sk: impl Into<String>,
        consistent: bool,
    ) -> Result<Option<Item>, AppError> {
        self.db.get(op, self.key(sk), consistent).await
    }

    /// Refuses an item of another tenant read through this store, even though the key layout
    /// cannot produce one (belt and braces for the product's one promise).
    pub(super) fn check_tenant(&self, item_tenant: &TenantId, what: &str) -> Result<(), AppError> {
        if item_tenant == self.tenant.id() {
            Ok(())
        } else {
            Err(AppError::Internal(format!(
                "{what} of tenant {item_tenant} read through the store of {}",
                self.tenant.id()
            )))
        }
    }
}
