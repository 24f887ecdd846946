//! The tenant registry items: `REGISTRY / TENANT#<id>` and `REGISTRY / PROVIDER#<key>`.
//!
//! A provider item carries a copy of its tenant's record (`tenantId`, `name`, `status`, and any
//! other field of [`TenantRecord`]), so a cold function admits a caller with one GetItem of its
//! provider item instead of two reads in a row (provider → tenant id, then the tenant). The copies
//! are never written on their own: every change of a tenant's record goes through
//! [`Db::registry_change`], one transaction over the tenant item and every provider item of the
//! tenant, conditioned on the tenant item's `registryVersion` — which every change of the tenant's
//! provider list (a registration) increases — so a provider added meanwhile is never left with an
//! old copy: the transaction fails and is made again from a fresh read. A provider item without a
//! copy (written before copies existed; `tenantctl backfill-indexes` adds them) is looked up the
//! old way, in two reads.

use std::collections::{BTreeSet, HashMap};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::keys::{self, REGISTRY_PK};
use super::{Db, Item, from_item, key};
use crate::error::AppError;
use crate::identity::ProviderKey;
use crate::tenancy::{TenantId, TenantRecord};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProviderItem {
    pub(crate) pk: String,
    pub(crate) sk: String,
    pub(crate) provider_key: ProviderKey,
    pub(crate) tenant_id: TenantId,
}

/// A tenant's record as its provider item copies it, if the item has a copy.
fn copied_record(item: &Item) -> Option<TenantRecord> {
    // A copy has every required field of the record; a provider item from before copies has
    // only `tenantId`, and decoding it as a record fails.
    (item.contains_key("name") && item.contains_key("status"))
        .then(|| from_item::<TenantRecord>(item.clone()).ok())
        .flatten()
}

impl Db {
    /// The tenant a provider key maps to, if any: one read of the provider item, which carries
    /// its tenant's record (a provider item from before copies: a second read, of the tenant).
    /// Callers cache.
    pub async fn registry_lookup_provider(
        &self,
        key: &ProviderKey,
    ) -> Result<Option<TenantRecord>, AppError> {
        let sk = keys::registry_provider_sk(key);
        let Some(item) = self
            .get("GetItem provider", registry_key(sk), false)
            .await?
        else {
            return Ok(None);
        };
        if let Some(record) = copied_record(&item) {
            return Ok(Some(record));
        }
        let mapping: ProviderItem = from_item(item)?;
        self.registry_get_tenant(&mapping.tenant_id).await
    }

    /// The tenants of many provider keys at once: one BatchGetItem per 100 provider keys (their
    /// items carry the tenants' records; for provider items from before copies, one more per 100
    /// distinct tenants). A key that maps to nothing maps to `None`.
    pub async fn registry_lookup_providers(
        &self,
        providers: &[ProviderKey],
    ) -> Result<HashMap<ProviderKey, Option<TenantRecord>>, AppError> {
        // BatchGetItem refuses a request that names one key twice.
        let providers: Vec<&ProviderKey> = providers
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let provider_sks = providers.iter().map(|p| keys::registry_provider_sk(p));
        let mut out: HashMap<ProviderKey, Option<TenantRecord>> =
            providers.iter().map(|p| ((*p).clone(), None)).collect();
        let mut mappings: Vec<ProviderItem> = Vec::new();
        for item in self
            .batch_get(
                "BatchGetItem providers",
                provider_sks.map(registry_key).collect(),
            )
            .await?
        {
            let copy = copied_record(&item);
            let mapping: ProviderItem = from_item(item)?;
            match copy {
                // Keyed by what the item says it maps.
                Some(record) => {
                    out.insert(mapping.provider_key, Some(record));
                }
                None => mappings.push(mapping),
            }
        }
        if mappings.is_empty() {
            return Ok(out);
        }
        let tenant_ids: BTreeSet<&TenantId> = mappings.iter().map(|m| &m.tenant_id).collect();
        let tenant_sks = tenant_ids.into_iter().map(keys::registry_tenant_sk);
        let tenants: HashMap<TenantId, TenantRecord> = self
            .registry_items::<TenantRecord>("BatchGetItem tenants", tenant_sks)
            .await?
            .into_iter()
            .map(|r| (r.tenant_id.clone(), r))
            .collect();
        for m in mappings {
            // Keyed by what the item says it maps.
            out.insert(m.provider_key, tenants.get(&m.tenant_id).cloned());
        }
        Ok(out)
    }

    /// The registry items with these sort keys that exist, decoded (no request for none).
    async fn registry_items<T: DeserializeOwned>(
        &self,
        op: &'static str,
        sks: impl Iterator<Item = String>,
    ) -> Result<Vec<T>, AppError> {
        let keys = sks.map(registry_key).collect();
        self.batch_get(op, keys)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    pub async fn registry_get_tenant(
        &self,
        id: &TenantId,
    ) -> Result<Option<TenantRecord>, AppError> {
        let key = registry_key(keys::registry_tenant_sk(id));
        let item = self.get("GetItem tenant", key, false).await?;
        item.map(from_item::<TenantRecord>).transpose()
    }
}

/// The key of a registry item.
pub(crate) fn registry_key(sk: String) -> Item {
    key(REGISTRY_PK, sk)
}
