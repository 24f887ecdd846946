//! The registry's writes, for `tenantctl` only: registering a provider, every change of a
//! tenant's record (kept on the tenant item and copied to each of its provider items, see
//! [`crate::store`]'s `registry` module for why and how a function reads them), and the
//! bookkeeping of onboarding and offboarding (the pending first admin, the export marker,
//! removing a tenant's items).

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::Admin;
use crate::error::AppError;
use crate::identity::ProviderKey;
use crate::store::keys::{self, PK, PROVIDER_PREFIX, REGISTRY_PK, SK, TENANT_PREFIX};
use crate::store::registry::{ProviderItem, registry_key};
use crate::store::write::{self, Sent, Tries};
use crate::store::{Item, from_item, key, n, s, sdk_err, to_item};
use crate::tenancy::{PendingAdmin, TenantId, TenantRecord, TenantStatus};

/// The tenant item's version of its provider list: increased by every registration, the
/// condition of every change of the tenant's record (see the module's documentation).
const REGISTRY_VERSION: &str = "registryVersion";
/// The tenant item's list of its provider keys, written by every change of its record with the
/// version: a change then finds the provider copies to update with the one read of the tenant
/// item, not a query of every provider of every tenant (onboarding stays constant work as the
/// registry grows). A tenant item from before the list has none: the query stands in once.
const PROVIDER_KEYS: &str = "providerKeys";
/// Providers one transaction can carry with the tenant item and a new provider (DynamoDB's
/// limit is 100 actions a transaction).
pub const MAX_PROVIDERS_PER_TENANT: usize = 98;

/// A tenant and the providers that map to it, as `tenantctl list` shows them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryEntry {
    #[serde(flatten)]
    pub tenant: TenantRecord,
    pub providers: Vec<ProviderKey>,
}

/// What removing a tenant from the registry removed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryRemoval {
    pub tenant: bool,
    pub providers: Vec<String>,
}

/// The state of an offboarding, as the tenant's registry item records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffboardState {
    pub status: TenantStatus,
    /// Where the partition was exported, and how many items, once the export is complete.
    pub exported: Option<(String, u64)>,
}

/// A tenant item as a change reads it.
struct Current {
    record: TenantRecord,
    version: i64,
    /// `None` on a tenant item from before the list.
    providers: Option<Vec<ProviderKey>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantItemView {
    status: TenantStatus,
    #[serde(default)]
    exported_to: Option<String>,
    #[serde(default)]
    exported_items: Option<u64>,
}

impl Admin {
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
        let mut trust_list = true;
        while tries.next().await {
            let current = self.registry_read_tenant(id).await?;
            let record = match &current {
                Some(Current { record, .. }) if record.name != name => {
                    return Err(AppError::Conflict(format!(
                        "Tenant '{id}' is registered as '{}', not '{}': to rename it, use \
                         `tenantctl rename --tenant-id {id} --name NEW`.",
                        crate::text::shorten(&record.name, 100),
                        crate::text::shorten(name, 100)
                    )));
                }
                Some(Current { record, .. }) => record.clone(),
                None => from_item(Item::from([
                    ("tenantId".to_owned(), s(id.as_str())),
                    ("name".to_owned(), s(name)),
                    (
                        "status".to_owned(),
                        crate::store::value(&TenantStatus::Active)?,
                    ),
                ]))?,
            };
            let others: Vec<ProviderKey> = self
                .registry_providers_of(id, current.as_ref(), trust_list)
                .await?
                .into_iter()
                .filter(|p| p != provider)
                .collect();
            let mut all = others.clone();
            all.push(provider.clone());
            let mut tx =
                self.record_everywhere(id, current.as_ref(), &record, &others, &all, true)?;
            let mut mapping = to_item(&ProviderItem {
                pk: REGISTRY_PK.into(),
                sk: keys::registry_provider_sk(provider),
                provider_key: provider.clone(),
                tenant_id: id.clone(),
            })?;
            mapping.extend(to_item(&record)?);
            let put = Put::builder()
                .table_name(&self.db.table)
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
                // The tenant's record or providers changed since the read: read them again (the
                // providers by the query, in case the item's list is what went stale).
                Sent::Refused(_) | Sent::Contended => trust_list = false,
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

    /// Binds the tenant to the Identity Pool that lists its providers: from then on its users
    /// are admitted only with that pool's credentials (on the record and every provider copy, so
    /// a cold function still admits with one read). Idempotent; a tenant bound to another pool is
    /// a `Conflict` (moving a tenant means moving its providers between pools first).
    pub async fn registry_bind_identity_pool(
        &self,
        id: &TenantId,
        identity_pool_id: &str,
    ) -> Result<TenantRecord, AppError> {
        let record = self
            .registry_change(id, |r| {
                if r.identity_pool_id.is_none() {
                    r.identity_pool_id = Some(identity_pool_id.to_owned());
                }
            })
            .await?;
        match record.identity_pool_id.as_deref() {
            Some(bound) if bound == identity_pool_id => Ok(record),
            bound => Err(AppError::Conflict(format!(
                "Tenant '{id}' is bound to Identity Pool {}, not {identity_pool_id}.",
                bound.unwrap_or("(none)")
            ))),
        }
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
        let mut trust_list = true;
        while tries.next().await {
            let Some(current) = self.registry_read_tenant(id).await? else {
                return Err(AppError::NotFound(format!(
                    "No tenant '{id}' is registered."
                )));
            };
            let mut record = current.record.clone();
            change(&mut record);
            let providers = self
                .registry_providers_of(id, Some(&current), trust_list)
                .await?;
            let tx =
                self.record_everywhere(id, Some(&current), &record, &providers, &providers, false)?;
            match write::send(OP, tx).await? {
                Sent::Written(_) => return Ok(record),
                // A registration or an offboarding moved the providers: read them again.
                Sent::Refused(_) | Sent::Contended => trust_list = false,
            }
        }
        Err(registry_busy(id))
    }

    /// The tenant's record, its `registryVersion` (0 before the first versioned change) and its
    /// list of provider keys, read strongly consistent: a change is made from the record as it is.
    async fn registry_read_tenant(&self, id: &TenantId) -> Result<Option<Current>, AppError> {
        let key = registry_key(keys::registry_tenant_sk(id));
        let Some(item) = self.db.get("GetItem tenant", key, true).await? else {
            return Ok(None);
        };
        let version = item
            .get(REGISTRY_VERSION)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        // A list that does not parse is treated as absent: the query finds the providers.
        let providers = item.get(PROVIDER_KEYS).and_then(|v| {
            v.as_l()
                .ok()?
                .iter()
                .map(|k| ProviderKey::parse(k.as_s().ok()?).ok())
                .collect::<Option<Vec<_>>>()
        });
        Ok(Some(Current {
            record: from_item(item)?,
            version,
            providers,
        }))
    }

    /// The tenant's provider keys, as an operator's change needs them (never on a request path):
    /// the tenant item's list when `trust_list` and it has one — one read however many tenants
    /// the registry holds —, else a strongly consistent query of the registry's provider items.
    async fn registry_providers_of(
        &self,
        id: &TenantId,
        current: Option<&Current>,
        trust_list: bool,
    ) -> Result<Vec<ProviderKey>, AppError> {
        let listed = current
            .and_then(|c| c.providers.clone())
            .filter(|_| trust_list);
        let providers: Vec<ProviderKey> = match listed {
            Some(listed) => listed,
            None if current.is_none() => Vec::new(),
            None => self
                .provider_items_of(id)
                .await?
                .into_iter()
                .map(|p| p.provider_key)
                .collect(),
        };
        if providers.len() > MAX_PROVIDERS_PER_TENANT {
            return Err(AppError::Validation(format!(
                "Tenant '{id}' has {} providers; a tenant's record is kept on all of them in one \
                 transaction, which takes at most {MAX_PROVIDERS_PER_TENANT}.",
                providers.len()
            )));
        }
        Ok(providers)
    }

    /// The provider items mapped to the tenant: the one paginated query of the registry's
    /// provider items (strongly consistent, for an operator's change; never on a request path).
    async fn provider_items_of(&self, id: &TenantId) -> Result<Vec<ProviderItem>, AppError> {
        let items: Vec<Item> = self
            .db
            .client
            .query()
            .table_name(&self.db.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :provider)")
            .filter_expression("tenantId = :t")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
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
        items.into_iter().map(from_item::<ProviderItem>).collect()
    }

    /// The transaction that writes `record` to the tenant item (created if `current` is `None`,
    /// else conditioned on its version; its version increased when `new_provider`; its provider
    /// list set to `all_providers`) and to every provider item in `providers` (each conditioned
    /// on still mapping to the tenant).
    fn record_everywhere(
        &self,
        id: &TenantId,
        current: Option<&Current>,
        record: &TenantRecord,
        providers: &[ProviderKey],
        all_providers: &[ProviderKey],
        new_provider: bool,
    ) -> Result<aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder, AppError>{
        let fields = to_item(record)?;
        // Fields the old record had and the new one does not (an optional field cleared).
        let cleared: Vec<String> = match current {
            Some(Current { record: old, .. }) => to_item(old)?
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
            let mut req = Update::builder()
                .table_name(&self.db.table)
                .set_key(Some(key));
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
        let next = current.map_or(0, |c| c.version) + i64::from(new_provider);
        let version_set = format!("{REGISTRY_VERSION} = :next, {PROVIDER_KEYS} = :keys");
        let listed = AttributeValue::L(all_providers.iter().map(|p| s(p.as_str())).collect());
        let tenant = match current.map(|c| c.version) {
            None => update(
                tenant_key,
                "attribute_not_exists(pk)",
                &[(":next", n(next)), (":keys", listed)],
                Some(&version_set),
            )?,
            // A tenant item from before versions has none; once written, version 0 is a number.
            Some(0) => update(
                tenant_key,
                &format!(
                    "attribute_exists(pk) AND (attribute_not_exists({REGISTRY_VERSION}) \
                     OR {REGISTRY_VERSION} = :v)"
                ),
                &[(":next", n(next)), (":v", n(0)), (":keys", listed)],
                Some(&version_set),
            )?,
            Some(v) => update(
                tenant_key,
                &format!("{REGISTRY_VERSION} = :v"),
                &[(":next", n(next)), (":v", n(v)), (":keys", listed)],
                Some(&version_set),
            )?,
        };
        let mut tx = self.db.client.transact_write_items().transact_items(tenant);
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

    /// One tenant with its providers: the tenant item (and, for one from before its provider
    /// list, the query of provider items). What onboard, offboard, resume and remove-user read,
    /// so their work does not grow with the registry.
    pub async fn registry_entry(&self, id: &TenantId) -> Result<Option<RegistryEntry>, AppError> {
        let Some(current) = self.registry_read_tenant(id).await? else {
            return Ok(None);
        };
        let providers = self.registry_providers_of(id, Some(&current), true).await?;
        Ok(Some(RegistryEntry {
            tenant: current.record,
            providers,
        }))
    }

    /// Every tenant with its providers.
    pub async fn registry_list(&self) -> Result<Vec<RegistryEntry>, AppError> {
        let items: Vec<Item> = self
            .db
            .client
            .query()
            .table_name(&self.db.table)
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

    /// Removes the tenant's registry items: every provider mapped to it (each deleted only if it
    /// still maps to this tenant) and the tenant item. Idempotent: the tenant item goes last, so
    /// a rerun finds the providers through its list again.
    pub async fn registry_remove_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<RegistryRemoval, AppError> {
        let mut removal = RegistryRemoval::default();
        let current = self.registry_read_tenant(tenant).await?;
        let providers = match current.as_ref().and_then(|c| c.providers.clone()) {
            Some(listed) => listed,
            None => self
                .provider_items_of(tenant)
                .await?
                .into_iter()
                .map(|p| p.provider_key)
                .collect(),
        };
        for provider in providers {
            let delete = self
                .db
                .client
                .delete_item()
                .table_name(&self.db.table)
                .set_key(Some(key(
                    REGISTRY_PK,
                    keys::registry_provider_sk(&provider),
                )))
                .condition_expression("attribute_not_exists(#pk) OR tenantId = :t")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":t", s(tenant.as_str()));
            if write::conditional("DeleteItem provider", delete)
                .await?
                .is_ok()
            {
                removal.providers.push(provider.to_string());
            }
        }
        let out = self
            .db
            .client
            .delete_item()
            .table_name(&self.db.table)
            .set_key(Some(key(REGISTRY_PK, keys::registry_tenant_sk(tenant))))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_err("DeleteItem tenant", e))?;
        removal.tenant = out.attributes.is_some();
        Ok(removal)
    }

    /// The tenant's offboarding state (strongly consistent read of its registry item); `None`
    /// when the tenant is not (or no longer) registered.
    pub async fn registry_offboard_state(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<OffboardState>, AppError> {
        let item = self
            .db
            .get(
                "GetItem tenant",
                key(REGISTRY_PK, keys::registry_tenant_sk(tenant)),
                true,
            )
            .await?;
        let Some(item) = item else { return Ok(None) };
        let view: TenantItemView = from_item(item)?;
        Ok(Some(OffboardState {
            status: view.status,
            exported: view.exported_to.zip(view.exported_items),
        }))
    }

    /// Records on the tenant's registry item that its partition was exported completely, so a
    /// resumed offboard does not export again over a file it may already have started purging.
    pub async fn registry_mark_exported(
        &self,
        tenant: &TenantId,
        file: &str,
        items: u64,
    ) -> Result<(), AppError> {
        self.registry_update_tenant(
            "UpdateItem export marker",
            tenant,
            "SET exportedTo = :f, exportedItems = :n",
            vec![
                (":f", s(file)),
                (":n", AttributeValue::N(items.to_string())),
            ],
        )
        .await
    }

    /// Records the tenant's first admin, to be made ADMIN on their first call (see
    /// [`PendingAdmin`]). Replaces an earlier one.
    pub async fn registry_set_pending_admin(
        &self,
        tenant: &TenantId,
        admin: &PendingAdmin,
    ) -> Result<(), AppError> {
        // Through registry_change: the tenant's provider items carry its record (a cold
        // function admits a caller from the provider item alone), so the pending admin must
        // reach them in the same transaction.
        self.registry_change(tenant, |r| r.pending_admin = Some(admin.clone()))
            .await
            .map(drop)
    }

    async fn registry_update_tenant(
        &self,
        op: &'static str,
        tenant: &TenantId,
        expression: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<(), AppError> {
        let mut req = self
            .db
            .client
            .update_item()
            .table_name(&self.db.table)
            .set_key(Some(key(REGISTRY_PK, keys::registry_tenant_sk(tenant))))
            .update_expression(expression)
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        for (name, value) in values {
            req = req.expression_attribute_values(name, value);
        }
        match write::conditional(op, req).await? {
            Ok(_) => Ok(()),
            Err(_) => Err(AppError::NotFound(format!(
                "No tenant '{tenant}' is registered."
            ))),
        }
    }
}

fn registry_busy(id: &TenantId) -> AppError {
    AppError::Unavailable(format!(
        "The registry entries of tenant '{id}' kept changing; try again."
    ))
}
