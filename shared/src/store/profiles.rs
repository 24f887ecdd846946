//! Profiles and the tenant's counters, in the tenant's own partition.
//!
//! `memberCount` and `adminCount` live on one `META` item and change only inside the same
//! transaction as the profile they count, so they are exact under concurrency and never need a
//! scan.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::batch::backoff;
use super::keys::{self, META_SK, PK, SK};
use super::{Item, TenantStore, from_item, n, s, sdk_err, to_item};
use crate::error::AppError;
use crate::identity::IdentityId;
use crate::profiles::{self, Admin, DisplayName, Profile, Role};

/// Transactions retried on `TransactionConflict` (two writers on one counter item).
const TRANSACTION_ATTEMPTS: u32 = 8;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileItem {
    pk: String,
    sk: String,
    tenant_id: String,
    identity_id: String,
    display_name: String,
    role: Role,
    updated_at: String,
}

impl ProfileItem {
    fn into_profile(self) -> Profile {
        Profile {
            identity_id: self.identity_id,
            display_name: self.display_name,
            role: self.role,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetaItem {
    #[serde(default)]
    member_count: i64,
}

/// The cancellation code of each action of a failed transaction (None: not a cancellation).
fn cancellation_codes(
    e: &aws_sdk_dynamodb::error::SdkError<
        TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Option<Vec<Option<String>>> {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => Some(
            c.cancellation_reasons()
                .iter()
                .map(|r| r.code().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    }
}

fn code_is(codes: &[Option<String>], i: usize, code: &str) -> bool {
    codes.get(i).and_then(|c| c.as_deref()) == Some(code)
}

fn is_conflict(codes: &[Option<String>]) -> bool {
    codes
        .iter()
        .any(|c| c.as_deref() == Some("TransactionConflict"))
}

impl TenantStore {
    fn profile_key(
        &self,
        id: &IdentityId,
    ) -> [(&'static str, aws_sdk_dynamodb::types::AttributeValue); 2] {
        [(PK, s(self.partition())), (SK, s(keys::profile_sk(id)))]
    }

    fn profile_of(&self, item: Item) -> Result<Profile, AppError> {
        let p: ProfileItem = from_item(item)?;
        if p.tenant_id != self.tenant().id().as_str() {
            return Err(AppError::Internal(format!(
                "profile of tenant {} in partition of {}",
                p.tenant_id,
                self.tenant().id()
            )));
        }
        Ok(p.into_profile())
    }

    fn meta_update(&self, expr: &str) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(self.table())
            .key(PK, s(self.partition()))
            .key(SK, s(META_SK))
            .update_expression(expr)
    }

    fn put_profile(&self, p: &Profile) -> Result<Put, AppError> {
        let id = IdentityId::parse(&p.identity_id)?;
        Put::builder()
            .table_name(self.table())
            .set_item(Some(to_item(&ProfileItem {
                pk: self.partition().to_owned(),
                sk: keys::profile_sk(&id),
                tenant_id: self.tenant().id().to_string(),
                identity_id: p.identity_id.clone(),
                display_name: p.display_name.clone(),
                role: p.role,
                updated_at: p.updated_at.clone(),
            })?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| AppError::internal("profile put", e))
    }

    pub async fn get_profile(&self, id: &IdentityId) -> Result<Option<Profile>, AppError> {
        let [pk, sk] = self.profile_key(id);
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(pk.0, pk.1)
            .key(sk.0, sk.1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem profile", e))?;
        out.item.map(|i| self.profile_of(i)).transpose()
    }

    /// The caller's admin proof, if its profile says ADMIN right now.
    pub async fn admin(&self, id: &IdentityId) -> Result<Option<Admin>, AppError> {
        Ok(Admin::from_profile(
            id,
            self.get_profile(id).await?.as_ref(),
        ))
    }

    /// Profiles of these identities (those that exist), with one BatchGetItem per 100 distinct
    /// ids; `UnprocessedKeys` are retried with jittered backoff, a bounded number of times.
    pub async fn get_profiles(
        &self,
        ids: &BTreeSet<IdentityId>,
    ) -> Result<HashMap<String, Profile>, AppError> {
        let keys: Vec<Item> = ids
            .iter()
            .map(|id| {
                self.profile_key(id)
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect()
            })
            .collect();
        let mut found = HashMap::with_capacity(keys.len());
        for item in self.db().batch_get("BatchGetItem profiles", keys).await? {
            let p = self.profile_of(item)?;
            found.insert(p.identity_id.clone(), p);
        }
        Ok(found)
    }

    /// Sets the caller's display name, creating its profile (MEMBER) on first use and counting
    /// it in `memberCount` in the same transaction.
    pub async fn save_my_profile(
        &self,
        me: &IdentityId,
        name: &DisplayName,
        now: &str,
    ) -> Result<Profile, AppError> {
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let [pk, sk] = self.profile_key(me);
            let updated = self
                .client()
                .update_item()
                .table_name(self.table())
                .key(pk.0, pk.1)
                .key(sk.0, sk.1)
                .update_expression("SET displayName = :n, updatedAt = :now")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":n", s(name.as_str()))
                .expression_attribute_values(":now", s(now))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match updated {
                Ok(out) => {
                    let item = out
                        .attributes
                        .ok_or_else(|| AppError::Internal("UpdateItem returned nothing".into()))?;
                    return self.profile_of(item);
                }
                Err(e)
                    if matches!(
                        e.as_service_error(),
                        Some(UpdateItemError::ConditionalCheckFailedException(_))
                    ) => {}
                Err(e) => return Err(sdk_err("UpdateItem profile", e)),
            }
            // First profile of this user: create it and count it, or lose a race and update.
            let profile = Profile {
                identity_id: me.as_str().to_owned(),
                display_name: name.as_str().to_owned(),
                role: Role::Member,
                updated_at: now.to_owned(),
            };
            let res = self
                .client()
                .transact_write_items()
                .transact_items(
                    TransactWriteItem::builder()
                        .put(self.put_profile(&profile)?)
                        .build(),
                )
                .transact_items(
                    TransactWriteItem::builder()
                        .update(
                            self.meta_update("ADD memberCount :one SET tenantId = :t")
                                .expression_attribute_values(":one", n(1))
                                .expression_attribute_values(":t", s(self.tenant().id().as_str()))
                                .build()
                                .map_err(|e| AppError::internal("meta update", e))?,
                        )
                        .build(),
                )
                .send()
                .await;
            match res {
                Ok(_) => return Ok(profile),
                Err(e) => match cancellation_codes(&e) {
                    // Created concurrently by another request of this user: update instead.
                    Some(codes) if code_is(&codes, 0, "ConditionalCheckFailed") => {}
                    Some(codes) if is_conflict(&codes) => {
                        tokio::time::sleep(backoff(attempt)).await
                    }
                    _ => return Err(sdk_err("TransactWriteItems create profile", e)),
                },
            }
        }
        Err(AppError::Conflict(
            "The profile changed concurrently; retry.".into(),
        ))
    }

    /// Changes `target`'s role, as `admin`. The caller's ADMIN role, the target's current role and
    /// the admin count are all conditions of one transaction, so concurrent demotions can never
    /// leave the tenant without an admin.
    pub async fn set_role(
        &self,
        admin: &Admin,
        target: &IdentityId,
        role: Role,
        now: &str,
    ) -> Result<Profile, AppError> {
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let current = self
                .get_profile(target)
                .await?
                .ok_or_else(profiles::no_profile)?;
            if current.role == role {
                return Ok(current);
            }
            let self_change = admin.identity_id() == target;
            let mut tx = self.client().transact_write_items();
            if !self_change {
                let [pk, sk] = self.profile_key(admin.identity_id());
                tx = tx.transact_items(
                    TransactWriteItem::builder()
                        .condition_check(
                            ConditionCheck::builder()
                                .table_name(self.table())
                                .key(pk.0, pk.1)
                                .key(sk.0, sk.1)
                                .condition_expression("#role = :admin")
                                .expression_attribute_names("#role", "role")
                                .expression_attribute_values(":admin", s(Role::Admin.as_str()))
                                .build()
                                .map_err(|e| AppError::internal("condition check", e))?,
                        )
                        .build(),
                );
            }
            let [pk, sk] = self.profile_key(target);
            tx = tx.transact_items(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(self.table())
                            .key(pk.0, pk.1)
                            .key(sk.0, sk.1)
                            .update_expression("SET #role = :new, updatedAt = :now")
                            .condition_expression("#role = :old")
                            .expression_attribute_names("#role", "role")
                            .expression_attribute_values(":new", s(role.as_str()))
                            .expression_attribute_values(":old", s(current.role.as_str()))
                            .expression_attribute_values(":now", s(now))
                            .build()
                            .map_err(|e| AppError::internal("role update", e))?,
                    )
                    .build(),
            );
            let meta = match role {
                Role::Admin => self
                    .meta_update("ADD adminCount :one")
                    .expression_attribute_values(":one", n(1)),
                Role::Member => self
                    .meta_update("ADD adminCount :minus")
                    .condition_expression("adminCount > :one")
                    .expression_attribute_values(":minus", n(-1))
                    .expression_attribute_values(":one", n(1)),
            };
            tx = tx.transact_items(
                TransactWriteItem::builder()
                    .update(
                        meta.build()
                            .map_err(|e| AppError::internal("meta update", e))?,
                    )
                    .build(),
            );
            let (caller_i, target_i, meta_i) = if self_change {
                (usize::MAX, 0, 1)
            } else {
                (0, 1, 2)
            };
            match tx.send().await {
                Ok(_) => {
                    return Ok(Profile {
                        role,
                        updated_at: now.to_owned(),
                        ..current
                    });
                }
                Err(e) => match cancellation_codes(&e) {
                    Some(codes) if code_is(&codes, caller_i, "ConditionalCheckFailed") => {
                        return Err(profiles::not_admin());
                    }
                    Some(codes) if code_is(&codes, meta_i, "ConditionalCheckFailed") => {
                        return Err(profiles::last_admin());
                    }
                    // The target's role changed under us: read it again.
                    Some(codes)
                        if code_is(&codes, target_i, "ConditionalCheckFailed")
                            || is_conflict(&codes) =>
                    {
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    _ => return Err(sdk_err("TransactWriteItems set role", e)),
                },
            }
        }
        Err(AppError::Conflict(
            "Roles changed concurrently; retry.".into(),
        ))
    }

    /// Operator path (`tenantctl grant-admin`): makes `target` an ADMIN, creating its profile if
    /// it has none. Needs no admin: the operator is trusted.
    pub async fn grant_admin(&self, target: &IdentityId, now: &str) -> Result<Profile, AppError> {
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let current = self.get_profile(target).await?;
            if let Some(p) = &current
                && p.role == Role::Admin
            {
                return Ok(p.clone());
            }
            let tx = self.client().transact_write_items();
            let (tx, profile) = match current {
                Some(p) => {
                    let [pk, sk] = self.profile_key(target);
                    let update = Update::builder()
                        .table_name(self.table())
                        .key(pk.0, pk.1)
                        .key(sk.0, sk.1)
                        .update_expression("SET #role = :admin, updatedAt = :now")
                        .condition_expression("#role = :member")
                        .expression_attribute_names("#role", "role")
                        .expression_attribute_values(":admin", s(Role::Admin.as_str()))
                        .expression_attribute_values(":member", s(Role::Member.as_str()))
                        .expression_attribute_values(":now", s(now))
                        .build()
                        .map_err(|e| AppError::internal("role update", e))?;
                    let meta = self
                        .meta_update("ADD adminCount :one")
                        .expression_attribute_values(":one", n(1));
                    let tx = tx
                        .transact_items(TransactWriteItem::builder().update(update).build())
                        .transact_items(
                            TransactWriteItem::builder()
                                .update(meta.build().map_err(|e| AppError::internal("meta", e))?)
                                .build(),
                        );
                    (
                        tx,
                        Profile {
                            role: Role::Admin,
                            updated_at: now.to_owned(),
                            ..p
                        },
                    )
                }
                None => {
                    let p = Profile {
                        identity_id: target.as_str().to_owned(),
                        display_name: target.as_str().to_owned(),
                        role: Role::Admin,
                        updated_at: now.to_owned(),
                    };
                    let meta = self
                        .meta_update("ADD memberCount :one, adminCount :one SET tenantId = :t")
                        .expression_attribute_values(":one", n(1))
                        .expression_attribute_values(":t", s(self.tenant().id().as_str()));
                    let tx = tx
                        .transact_items(
                            TransactWriteItem::builder()
                                .put(self.put_profile(&p)?)
                                .build(),
                        )
                        .transact_items(
                            TransactWriteItem::builder()
                                .update(meta.build().map_err(|e| AppError::internal("meta", e))?)
                                .build(),
                        );
                    (tx, p)
                }
            };
            match tx.send().await {
                Ok(_) => return Ok(profile),
                Err(e) => match cancellation_codes(&e) {
                    Some(codes)
                        if code_is(&codes, 0, "ConditionalCheckFailed") || is_conflict(&codes) =>
                    {
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    _ => return Err(sdk_err("TransactWriteItems grant admin", e)),
                },
            }
        }
        Err(AppError::Conflict(
            "The profile changed concurrently; retry.".into(),
        ))
    }

    /// `Tenant.memberCount`: one GetItem of the counters item.
    pub async fn member_count(&self) -> Result<i64, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(PK, s(self.partition()))
            .key(SK, s(META_SK))
            .send()
            .await
            .map_err(|e| sdk_err("GetItem tenant counters", e))?;
        Ok(out
            .item
            .map(from_item::<MetaItem>)
            .transpose()?
            .map(|m| m.member_count)
            .unwrap_or(0))
    }
}
