//! The tenant registry items: `REGISTRY / TENANT#<id>` and `REGISTRY / PROVIDER#<key>`.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem, Update};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::keys::{self, PROVIDER_PREFIX, REGISTRY_PK, SK, TENANT_PREFIX};
use super::write;
use super::{Db, Item, from_item, key, s, sdk_err, to_item, value};
use crate::error::AppError;
use crate::identity::ProviderKey;
use crate::tenancy::{TenantId, TenantRecord, TenantStatus};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProviderItem {
    pk: String,
    sk: String,
    provider_key: ProviderKey,
    tenant_id: TenantId,
}

/// A tenant and the providers that map to it, as `tenantctl list` shows them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryEntry {
    #[serde(flatten)]
    pub tenant: TenantRecord,
    pub providers: Vec<ProviderKey>,
}

impl Db {
    /// The tenant a provider key maps to, if any (two reads; callers cache).
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
        let mapping: ProviderItem = from_item(item)?;
        self.registry_get_tenant(&mapping.tenant_id).await
    }

    /// The tenants of many provider keys at once: one BatchGetItem per 100 provider keys, then
    /// one per 100 distinct tenants those map to. A key that maps to nothing maps to `None`.
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
        let mappings: Vec<ProviderItem> = self
            .registry_items("BatchGetItem providers", provider_sks)
            .await?;
        let tenant_ids: BTreeSet<&TenantId> = mappings.iter().map(|m| &m.tenant_id).collect();
        let tenant_sks = tenant_ids.into_iter().map(keys::registry_tenant_sk);
        let tenants: HashMap<TenantId, TenantRecord> = self
            .registry_items::<TenantRecord>("BatchGetItem tenants", tenant_sks)
            .await?
            .into_iter()
            .map(|r| (r.tenant_id.clone(), r))
            .collect();
        let mut out: HashMap<ProviderKey, Option<TenantRecord>> =
            providers.iter().map(|p| ((*p).clone(), None)).collect();
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

    /// Creates the tenant (ACTIVE) or renames it, and maps `provider` to it, in one transaction.
    /// A provider already mapped to a different tenant is refused: re-pointing a provider would
    /// hand one tenant's users another tenant's data.
    pub async fn registry_register(
        &self,
        id: &TenantId,
        name: &str,
        provider: &ProviderKey,
    ) -> Result<(), AppError> {
        const OP: &str = "TransactWriteItems register";
        let tenant = Update::builder()
            .table_name(&self.table)
            .set_key(Some(registry_key(keys::registry_tenant_sk(id))))
            .update_expression(
                "SET tenantId = :t, #name = :n, #status = if_not_exists(#status, :active)",
            )
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":t", s(id.as_str()))
            .expression_attribute_values(":n", s(name))
            .expression_attribute_values(":active", value(&TenantStatus::Active)?)
            .build()
            .map_err(|e| AppError::internal("registry update", e))?;
        let mapping = ProviderItem {
            pk: REGISTRY_PK.into(),
            sk: keys::registry_provider_sk(provider),
            provider_key: provider.clone(),
            tenant_id: id.clone(),
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&mapping)?))
            .condition_expression("attribute_not_exists(pk) OR tenantId = :t")
            .expression_attribute_values(":t", s(id.as_str()))
            .build()
            .map_err(|e| AppError::internal("registry put", e))?;
        let tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(tenant).build())
            .transact_items(TransactWriteItem::builder().put(put).build());
        match write::conditional(OP, tx).await? {
            Ok(_) => Ok(()),
            Err(refused) if refused.failed(1) => Err(AppError::Conflict(format!(
                "Provider {provider} is already registered to another tenant."
            ))),
            Err(refused) => Err(refused.unexpected(OP)),
        }
    }

    /// Sets an existing tenant's status; unknown tenant → `NotFound`.
    pub async fn registry_set_status(
        &self,
        id: &TenantId,
        status: TenantStatus,
    ) -> Result<TenantRecord, AppError> {
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(registry_key(keys::registry_tenant_sk(id))))
            .update_expression("SET #status = :s")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":s", value(&status)?)
            .return_values(ReturnValue::AllNew);
        match write::conditional("UpdateItem tenant status", req).await? {
            Ok(out) => out
                .attributes
                .map(from_item::<TenantRecord>)
                .transpose()?
                .ok_or_else(|| AppError::Internal("UpdateItem returned no attributes".into())),
            Err(_) => Err(AppError::NotFound(format!(
                "No tenant '{id}' is registered."
            ))),
        }
    }

    /// Every tenant with its providers.
    pub async fn registry_list(&self) -> Result<Vec<RegistryEntry>, AppError> {
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(REGISTRY_PK))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| sdk_err("Query registry", e))?;
        let mut tenants: Vec<RegistryEntry> = Vec::new();
        let mut providers: Vec<ProviderItem> = Vec::new();
        for item in items {
            let sk = item
                .get(SK)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            if sk.starts_with(TENANT_PREFIX) {
                tenants.push(RegistryEntry {
                    tenant: from_item(item)?,
                    providers: Vec::new(),
                });
            } else if sk.starts_with(PROVIDER_PREFIX) {
                providers.push(from_item(item)?);
            }
        }
        for p in providers {
            if let Some(t) = tenants
                .iter_mut()
                .find(|t| t.tenant.tenant_id == p.tenant_id)
            {
                t.providers.push(p.provider_key);
            }
        }
        Ok(tenants)
    }
}

/// The key of a registry item.
fn registry_key(sk: String) -> Item {
    key(REGISTRY_PK, sk)
}
