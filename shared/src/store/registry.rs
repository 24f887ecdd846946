//! The tenant registry items: `REGISTRY / TENANT#<id>` and `REGISTRY / PROVIDER#<key>`.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::keys::{self, PK, PROVIDER_PREFIX, REGISTRY_PK, SK, TENANT_PREFIX};
use std::collections::{BTreeSet, HashMap};

use super::{Db, Item, from_item, s, sdk_err, to_item};
use crate::error::AppError;
use crate::identity::ProviderKey;
use crate::tenancy::{TenantId, TenantRecord, TenantStatus};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProviderItem {
    pk: String,
    sk: String,
    provider_key: String,
    tenant_id: TenantId,
}

/// A tenant and the providers that map to it, as `tenantctl list` shows them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryEntry {
    #[serde(flatten)]
    pub tenant: TenantRecord,
    pub providers: Vec<String>,
}

fn status_str(status: TenantStatus) -> &'static str {
    match status {
        TenantStatus::Active => "ACTIVE",
        TenantStatus::Suspended => "SUSPENDED",
    }
}

impl Db {
    /// The tenant a provider key maps to, if any (two reads; callers cache).
    pub async fn registry_lookup_provider(
        &self,
        key: &ProviderKey,
    ) -> Result<Option<TenantRecord>, AppError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(REGISTRY_PK))
            .key(SK, s(keys::registry_provider_sk(key)))
            .send()
            .await
            .map_err(|e| sdk_err("GetItem provider", e))?;
        let Some(item) = out.item else {
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
        let registry_key = |sk: String| -> Item {
            HashMap::from([(PK.into(), s(REGISTRY_PK)), (SK.into(), s(sk))])
        };
        let mappings = self
            .batch_get(
                "BatchGetItem providers",
                providers
                    .iter()
                    .map(|p| registry_key(keys::registry_provider_sk(p)))
                    .collect(),
            )
            .await?
            .into_iter()
            .map(from_item::<ProviderItem>)
            .collect::<Result<Vec<_>, _>>()?;
        let tenant_ids: BTreeSet<&TenantId> = mappings.iter().map(|m| &m.tenant_id).collect();
        let tenants: HashMap<TenantId, TenantRecord> = if tenant_ids.is_empty() {
            HashMap::new()
        } else {
            self.batch_get(
                "BatchGetItem tenants",
                tenant_ids
                    .into_iter()
                    .map(|t| registry_key(keys::registry_tenant_sk(t)))
                    .collect(),
            )
            .await?
            .into_iter()
            .map(|i| from_item::<TenantRecord>(i).map(|r| (r.tenant_id.clone(), r)))
            .collect::<Result<_, _>>()?
        };
        let mut out: HashMap<ProviderKey, Option<TenantRecord>> =
            providers.iter().map(|p| ((*p).clone(), None)).collect();
        for m in mappings {
            // Keyed by what the item says it maps, read back through the same parser.
            if let Ok(key) = ProviderKey::parse(&m.provider_key) {
                out.insert(key, tenants.get(&m.tenant_id).cloned());
            }
        }
        Ok(out)
    }

    pub async fn registry_get_tenant(
        &self,
        id: &TenantId,
    ) -> Result<Option<TenantRecord>, AppError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(REGISTRY_PK))
            .key(SK, s(keys::registry_tenant_sk(id)))
            .send()
            .await
            .map_err(|e| sdk_err("GetItem tenant", e))?;
        out.item.map(from_item::<TenantRecord>).transpose()
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
        let tenant = Update::builder()
            .table_name(&self.table)
            .key(PK, s(REGISTRY_PK))
            .key(SK, s(keys::registry_tenant_sk(id)))
            .update_expression(
                "SET tenantId = :t, #name = :n, #status = if_not_exists(#status, :active)",
            )
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":t", s(id.as_str()))
            .expression_attribute_values(":n", s(name))
            .expression_attribute_values(":active", s(status_str(TenantStatus::Active)))
            .build()
            .map_err(|e| AppError::internal("registry update", e))?;
        let mapping = ProviderItem {
            pk: REGISTRY_PK.into(),
            sk: keys::registry_provider_sk(provider),
            provider_key: provider.as_str().into(),
            tenant_id: id.clone(),
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&mapping)?))
            .condition_expression("attribute_not_exists(pk) OR tenantId = :t")
            .expression_attribute_values(":t", s(id.as_str()))
            .build()
            .map_err(|e| AppError::internal("registry put", e))?;
        let res = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(tenant).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => {
                let taken = e
                    .as_service_error()
                    .and_then(|s| match s {
                        TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                        _ => None,
                    })
                    .and_then(|c| c.cancellation_reasons().get(1))
                    .and_then(|r| r.code())
                    == Some("ConditionalCheckFailed");
                if taken {
                    Err(AppError::Conflict(format!(
                        "Provider {provider} is already registered to another tenant."
                    )))
                } else {
                    Err(sdk_err("TransactWriteItems register", e))
                }
            }
        }
    }

    /// Sets an existing tenant's status; unknown tenant → `NotFound`.
    pub async fn registry_set_status(
        &self,
        id: &TenantId,
        status: TenantStatus,
    ) -> Result<TenantRecord, AppError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(REGISTRY_PK))
            .key(SK, s(keys::registry_tenant_sk(id)))
            .update_expression("SET #status = :s")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":s", s(status_str(status)))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match res {
            Ok(out) => out
                .attributes
                .map(from_item::<TenantRecord>)
                .transpose()?
                .ok_or_else(|| AppError::Internal("UpdateItem returned no attributes".into())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(AppError::NotFound(format!(
                    "No tenant '{id}' is registered."
                )))
            }
            Err(e) => Err(sdk_err("UpdateItem tenant status", e)),
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
