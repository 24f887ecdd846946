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

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::keys::{self, PROVIDER_PREFIX, REGISTRY_PK, SK, TENANT_PREFIX};
use super::write::{self, Sent, Tries};
use super::{Db, Item, from_item, key, n, s, sdk_err, to_item};
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

/// The tenant item's version of its provider list: increased by every registration, the
/// condition of every change of the tenant's record (see the module's documentation).
const REGISTRY_VERSION: &str = "registryVersion";
/// Providers one transaction can carry with the tenant item and a new provider (DynamoDB's
/// limit is 100 actions a transaction).
pub const MAX_PROVIDERS_PER_TENANT: usize = 98;

/// A tenant's record as its provider item copies it, if the item has a copy.
fn copied_record(item: &Item) -> Option<TenantRecord> {
    // A copy has every required field of the record; a provider item from before copies has
    // only `tenantId`, and decoding it as a record fails.
    (item.contains_key("name") && item.contains_key("status"))
        .then(|| from_item::<TenantRecord>(item.clone()).ok())
        .flatten()
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

    /// Creates the tenant (ACTIVE), or adds to an existing one of the same name, and maps
    /// `provider` to it, in one transaction that also gives the new provider item (and every
    /// other provider item of the tenant) a copy of the tenant's record. A provider already mapped
    /// to a different tenant is refused: re-pointing a provider would hand one tenant's users
    /// another tenant's data. So is another name for an existing tenant: a rerun of onboard with a
    /// typo must not rename a tenant ([`registry_rename`](Self::registry_rename) does that, on
    /// purpose).
    pub async fn registry_register(
        &self,
        id: &TenantId,
        name: &str,
        provider: &ProviderKey,
    ) -> Result<(), AppError> {
        const OP: &str = "TransactWriteItems register";
        let mut tries = Tries::default();
        while tries.next().await {
            let current = self.registry_read_tenant(id).await?;
            let record = match &current {
                Some((record, _)) if record.name != name => {
                    return Err(AppError::Conflict(format!(
                        "Tenant '{id}' is registered as '{}', not '{}': to rename it, use \
                         `tenantctl rename --tenant-id {id} --name NEW`.",
                        crate::text::shorten(&record.name, 100),
                        crate::text::shorten(name, 100)
                    )));
                }
                Some((record, _)) => record.clone(),
                None => from_item(Item::from([
                    ("tenantId".to_owned(), s(id.as_str())),
                    ("name".to_owned(), s(name)),
                    ("status".to_owned(), super::value(&TenantStatus::Active)?),
                ]))?,
            };
            let others: Vec<ProviderKey> = self
                .registry_providers_of(id)
                .await?
                .into_iter()
                .filter(|p| p != provider)
                .collect();
            let mut tx = self.record_everywhere(id, current.as_ref(), &record, &others, true)?;
            let mut mapping = to_item(&ProviderItem {
                pk: REGISTRY_PK.into(),
                sk: keys::registry_provider_sk(provider),
                provider_key: provider.clone(),
                tenant_id: id.clone(),
            })?;
            mapping.extend(to_item(&record)?);
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(mapping))
                .condition_expression("attribute_not_exists(pk) OR tenantId = :t")
                .expression_attribute_values(":t", s(id.as_str()))
                .build()
                .map_err(|e| AppError::internal("registry put", e))?;
            let last = 1 + others.len();
            tx = tx.transact_items(TransactWriteItem::builder().put(put).build());
            match write::send(OP, tx).await? {
                Sent::Written(_) => return Ok(()),
                Sent::Refused(refused) if refused.failed(last) => {
                    return Err(AppError::Conflict(format!(
                        "Provider {provider} is already registered to another tenant."
                    )));
                }
                // The tenant's record or providers changed since the read: read them again.
                Sent::Refused(_) | Sent::Contended => {}
            }
        }
        Err(registry_busy(id))
    }

    /// Renames an existing tenant (on its record and every provider copy); unknown tenant →
    /// `NotFound`.
    pub async fn registry_rename(
        &self,
        id: &TenantId,
        name: &str,
    ) -> Result<TenantRecord, AppError> {
        self.registry_change(id, |r| r.name = name.to_owned()).await
    }

    /// Sets an existing tenant's status (on its record and every provider copy); unknown tenant
    /// → `NotFound`.
    pub async fn registry_set_status(
        &self,
        id: &TenantId,
        status: TenantStatus,
    ) -> Result<TenantRecord, AppError> {
        self.registry_change(id, |r| r.status = status).await
    }

    /// Applies `change` to the tenant's record, on the tenant item and on every provider item of
    /// the tenant, in one transaction conditioned on the provider list read with it (retried
    /// from a fresh read when it changed). Every change of a tenant's record goes through here,
    /// so a provider's copy is the record. Unknown tenant → `NotFound`.
    pub async fn registry_change(
        &self,
        id: &TenantId,
        change: impl Fn(&mut TenantRecord),
    ) -> Result<TenantRecord, AppError> {
        const OP: &str = "TransactWriteItems tenant record";
        let mut tries = Tries::default();
        while tries.next().await {
            let Some(current) = self.registry_read_tenant(id).await? else {
                return Err(AppError::NotFound(format!(
                    "No tenant '{id}' is registered."
                )));
            };
            let mut record = current.0.clone();
            change(&mut record);
            let providers = self.registry_providers_of(id).await?;
            let tx = self.record_everywhere(id, Some(&current), &record, &providers, false)?;
            match write::send(OP, tx).await? {
                Sent::Written(_) => return Ok(record),
                // A registration or an offboarding moved the providers: read them again.
                Sent::Refused(_) | Sent::Contended => {}
            }
        }
        Err(registry_busy(id))
    }

    /// The tenant's record and its `registryVersion` (0 before the first versioned change), read
    /// strongly consistent: a change is made from the record as it is.
    async fn registry_read_tenant(
        &self,
        id: &TenantId,
    ) -> Result<Option<(TenantRecord, i64)>, AppError> {
        let key = registry_key(keys::registry_tenant_sk(id));
        let Some(item) = self.get("GetItem tenant", key, true).await? else {
            return Ok(None);
        };
        let version = item
            .get(REGISTRY_VERSION)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(Some((from_item(item)?, version)))
    }

    /// The provider keys mapped to the tenant (a strongly consistent read of the registry's
    /// provider items, for an operator's change: never on a request path).
    async fn registry_providers_of(&self, id: &TenantId) -> Result<Vec<ProviderKey>, AppError> {
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :provider)")
            .filter_expression("tenantId = :t")
            .expression_attribute_values(":pk", s(REGISTRY_PK))
            .expression_attribute_values(":provider", s(PROVIDER_PREFIX))
            .expression_attribute_values(":t", s(id.as_str()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| sdk_err("Query registry providers", e))?;
        let providers = items
            .into_iter()
            .map(|i| from_item::<ProviderItem>(i).map(|p| p.provider_key))
            .collect::<Result<Vec<_>, _>>()?;
        if providers.len() > MAX_PROVIDERS_PER_TENANT {
            return Err(AppError::Validation(format!(
                "Tenant '{id}' has {} providers; a tenant's record is kept on all of them in one \
                 transaction, which takes at most {MAX_PROVIDERS_PER_TENANT}.",
                providers.len()
            )));
        }
        Ok(providers)
    }

    /// The transaction that writes `record` to the tenant item (created if `current` is `None`,
    /// else conditioned on its version; its version increased when `new_provider`) and to every
    /// provider item in `providers` (each conditioned on still mapping to the tenant).
    fn record_everywhere(
        &self,
        id: &TenantId,
        current: Option<&(TenantRecord, i64)>,
        record: &TenantRecord,
        providers: &[ProviderKey],
        new_provider: bool,
    ) -> Result<aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder, AppError>{
        let fields = to_item(record)?;
        // Fields the old record had and the new one does not (an optional field cleared).
        let cleared: Vec<String> = match current {
            Some((old, _)) => to_item(old)?
                .into_keys()
                .filter(|k| !fields.contains_key(k))
                .collect(),
            None => Vec::new(),
        };
        let update = |key: Item,
                      condition: &str,
                      extra: &[(&str, AttributeValue)],
                      version: Option<&str>| {
            let mut set: Vec<String> = Vec::new();
            let mut req = Update::builder().table_name(&self.table).set_key(Some(key));
            for (i, (name, value)) in fields.iter().enumerate() {
                set.push(format!("#f{i} = :f{i}"));
                req = req
                    .expression_attribute_names(format!("#f{i}"), name)
                    .expression_attribute_values(format!(":f{i}"), value.clone());
            }
            if let Some(v) = version {
                set.push(v.to_owned());
            }
            let mut expr = format!("SET {}", set.join(", "));
            if !cleared.is_empty() {
                let names: Vec<String> = (0..cleared.len()).map(|i| format!("#c{i}")).collect();
                expr.push_str(&format!(" REMOVE {}", names.join(", ")));
                for (i, name) in cleared.iter().enumerate() {
                    req = req.expression_attribute_names(format!("#c{i}"), name);
                }
            }
            for (k, v) in extra {
                req = req.expression_attribute_values(*k, v.clone());
            }
            req.update_expression(expr)
                .condition_expression(condition)
                .build()
                .map(|u| TransactWriteItem::builder().update(u).build())
                .map_err(|e| AppError::internal("registry update", e))
        };
        let tenant_key = registry_key(keys::registry_tenant_sk(id));
        let next = current.map_or(0, |(_, v)| *v) + i64::from(new_provider);
        let version_set = format!("{REGISTRY_VERSION} = :next");
        let tenant = match current {
            None => update(
                tenant_key,
                "attribute_not_exists(pk)",
                &[(":next", n(next))],
                Some(&version_set),
            )?,
            // A tenant item from before versions has none; once written, version 0 is a number.
            Some((_, 0)) => update(
                tenant_key,
                &format!(
                    "attribute_exists(pk) AND (attribute_not_exists({REGISTRY_VERSION}) \
                     OR {REGISTRY_VERSION} = :v)"
                ),
                &[(":next", n(next)), (":v", n(0))],
                Some(&version_set),
            )?,
            Some((_, v)) => update(
                tenant_key,
                &format!("{REGISTRY_VERSION} = :v"),
                &[(":next", n(next)), (":v", n(*v))],
                Some(&version_set),
            )?,
        };
        let mut tx = self.client.transact_write_items().transact_items(tenant);
        for p in providers {
            tx = tx.transact_items(update(
                registry_key(keys::registry_provider_sk(p)),
                "tenantId = :t",
                &[(":t", s(id.as_str()))],
                None,
            )?);
        }
        Ok(tx)
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

fn registry_busy(id: &TenantId) -> AppError {
    AppError::Unavailable(format!(
        "The registry entries of tenant '{id}' kept changing; try again."
    ))
}
