//! Profiles and the tenant's counters, in the tenant's own partition.
//!
//! `memberCount` and `adminCount` live on one `META` item and change only inside the same
//! transaction as the profile they count, so they are exact under concurrency and never need a
//! scan.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::keys::{self, META_SK};
use super::write::{self, Sent, Tries};
use super::{Item, TenantStore, from_item, n, s, to_item, value};
use crate::error::AppError;
use crate::identity::IdentityId;
use crate::profiles::{self, Admin, DisplayName, Profile, Role};
use crate::tenancy::TenantId;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileItem {
    pk: String,
    sk: String,
    tenant_id: TenantId,
    identity_id: IdentityId,
    display_name: DisplayName,
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

fn build_err(what: &'static str) -> impl FnOnce(aws_sdk_dynamodb::error::BuildError) -> AppError {
    move |e| AppError::internal(what, e)
}

/// Every try of a profile write met a concurrent change.
fn changed_concurrently() -> AppError {
    AppError::Conflict("The profile changed concurrently; retry.".into())
}

/// Profiles (`PROFILE#<identityId>`) and the counters item (`META`).
impl TenantStore {
    fn profile_key(&self, id: &IdentityId) -> Item {
        self.key(keys::profile_sk(id))
    }

    fn profile_of(&self, item: Item) -> Result<Profile, AppError> {
        let p: ProfileItem = from_item(item)?;
        self.check_tenant(&p.tenant_id, "profile")?;
        Ok(p.into_profile())
    }

    fn meta_update(&self, expr: &str) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.db().table)
            .set_key(Some(self.key(META_SK)))
            .update_expression(expr)
    }

    /// The counters' share of a role change: one more ADMIN, or one fewer as long as another
    /// remains (the condition that keeps the tenant from losing its last ADMIN).
    fn admin_count_change(&self, to: Role) -> Result<TransactWriteItem, AppError> {
        let meta = match to {
            Role::Admin => self
                .meta_update("ADD adminCount :one")
                .expression_attribute_values(":one", n(1)),
            Role::Member => self
                .meta_update("ADD adminCount :minus")
                .condition_expression("adminCount > :one")
                .expression_attribute_values(":minus", n(-1))
                .expression_attribute_values(":one", n(1)),
        };
        let meta = meta.build().map_err(build_err("meta update"))?;
        Ok(TransactWriteItem::builder().update(meta).build())
    }

    /// `target`'s role from `from` to `to`, on condition that it is still `from`.
    fn role_change(
        &self,
        target: &IdentityId,
        from: Role,
        to: Role,
        now: &str,
    ) -> Result<TransactWriteItem, AppError> {
        let update = Update::builder()
            .table_name(&self.db().table)
            .set_key(Some(self.profile_key(target)))
            .update_expression("SET #role = :new, updatedAt = :now")
            .condition_expression("#role = :old")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":new", value(&to)?)
            .expression_attribute_values(":old", value(&from)?)
            .expression_attribute_values(":now", s(now))
            .build()
            .map_err(build_err("role update"))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The transaction that creates `p` (never over an existing profile) and counts it: one
    /// more member, and one more ADMIN if it is one.
    fn create_profile(&self, p: &Profile) -> Result<TransactWriteItemsFluentBuilder, AppError> {
        let put = Put::builder()
            .table_name(&self.db().table)
            .set_item(Some(to_item(&ProfileItem {
                pk: self.partition().to_owned(),
                sk: keys::profile_sk(&p.identity_id),
                tenant_id: self.tenant().id().clone(),
                identity_id: p.identity_id.clone(),
                display_name: p.display_name.clone(),
                role: p.role,
                updated_at: p.updated_at.clone(),
            })?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_err("profile put"))?;
        let counters = match p.role {
            Role::Member => "ADD memberCount :one SET tenantId = :t",
            Role::Admin => "ADD memberCount :one, adminCount :one SET tenantId = :t",
        };
        let meta = self
            .meta_update(counters)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":t", s(self.tenant().id().as_str()))
            .build()
            .map_err(build_err("meta update"))?;
        Ok(self
            .db()
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().update(meta).build()))
    }

    /// One try of a transaction that writes `profile` as its first action: the profile once
    /// written; `None` if that action's condition failed (the profile was created or changed
    /// under us) or the transaction was contended, to read again and retry.
    async fn try_profile_write(
        &self,
        op: &'static str,
        tx: TransactWriteItemsFluentBuilder,
        profile: Profile,
    ) -> Result<Option<Profile>, AppError> {
        match write::send(op, tx).await? {
            Sent::Written(_) => Ok(Some(profile)),
            Sent::Refused(refused) if refused.failed(0) => Ok(None),
            Sent::Refused(refused) => Err(refused.unexpected(op)),
            Sent::Contended => Ok(None),
        }
    }

    pub async fn get_profile(&self, id: &IdentityId) -> Result<Option<Profile>, AppError> {
        let item = self
            .get("GetItem profile", keys::profile_sk(id), true)
            .await?;
        item.map(|i| self.profile_of(i)).transpose()
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
    ) -> Result<HashMap<IdentityId, Profile>, AppError> {
        let keys: Vec<Item> = ids.iter().map(|id| self.profile_key(id)).collect();
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
        let rename = self
            .db()
            .client
            .update_item()
            .table_name(&self.db().table)
            .set_key(Some(self.profile_key(me)))
            .update_expression("SET displayName = :n, updatedAt = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":n", s(name.as_str()))
            .expression_attribute_values(":now", s(now))
            .return_values(ReturnValue::AllNew);
        let profile = Profile {
            identity_id: me.clone(),
            display_name: name.clone(),
            role: Role::Member,
            updated_at: now.to_owned(),
        };
        let create = self.create_profile(&profile)?;
        let mut tries = Tries::default();
        while tries.next().await {
            match write::send("UpdateItem profile", rename.clone()).await? {
                Sent::Written(out) => {
                    let item = out
                        .attributes
                        .ok_or_else(|| AppError::Internal("UpdateItem returned nothing".into()))?;
                    return self.profile_of(item);
                }
                Sent::Contended => continue,
                // First profile of this user: create it and count it, or lose a race and update.
                Sent::Refused(_) => {}
            }
            // `None`: created concurrently by another request of this user; update instead.
            let op = "TransactWriteItems create profile";
            if let Some(created) = self
                .try_profile_write(op, create.clone(), profile.clone())
                .await?
            {
                return Ok(created);
            }
        }
        Err(changed_concurrently())
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
        const OP: &str = "TransactWriteItems set role";
        let mut tries = Tries::default();
        while tries.next().await {
            let current = self
                .get_profile(target)
                .await?
                .ok_or_else(profiles::no_profile)?;
            if current.role == role {
                return Ok(current);
            }
            let self_change = admin.identity_id() == target;
            let mut tx = self.db().client.transact_write_items();
            if !self_change {
                let check = ConditionCheck::builder()
                    .table_name(&self.db().table)
                    .set_key(Some(self.profile_key(admin.identity_id())))
                    .condition_expression("#role = :admin")
                    .expression_attribute_names("#role", "role")
                    .expression_attribute_values(":admin", value(&Role::Admin)?)
                    .build()
                    .map_err(build_err("condition check"))?;
                tx = tx.transact_items(TransactWriteItem::builder().condition_check(check).build());
            }
            let tx = tx
                .transact_items(self.role_change(target, current.role, role, now)?)
                .transact_items(self.admin_count_change(role)?);
            let (caller_i, target_i, meta_i) = if self_change {
                (usize::MAX, 0, 1)
            } else {
                (0, 1, 2)
            };
            match write::send(OP, tx).await? {
                Sent::Written(_) => {
                    return Ok(Profile {
                        role,
                        updated_at: now.to_owned(),
                        ..current
                    });
                }
                Sent::Refused(refused) if refused.failed(caller_i) => {
                    return Err(profiles::not_admin());
                }
                Sent::Refused(refused) if refused.failed(meta_i) => {
                    return Err(profiles::last_admin());
                }
                // The target's role changed under us: read it again.
                Sent::Refused(refused) if refused.failed(target_i) => {}
                Sent::Refused(refused) => return Err(refused.unexpected(OP)),
                Sent::Contended => {}
            }
        }
        Err(AppError::Conflict(
            "Roles changed concurrently; retry.".into(),
        ))
    }

    /// Operator path (`tenantctl grant-admin`): makes `target` an ADMIN, creating its profile if
    /// it has none. Needs no admin: the operator is trusted.
    pub async fn grant_admin(&self, target: &IdentityId, now: &str) -> Result<Profile, AppError> {
        const OP: &str = "TransactWriteItems grant admin";
        let mut tries = Tries::default();
        while tries.next().await {
            let (tx, profile) = match self.get_profile(target).await? {
                Some(p) if p.role == Role::Admin => return Ok(p),
                Some(p) => {
                    let tx = self
                        .db()
                        .client
                        .transact_write_items()
                        .transact_items(self.role_change(target, p.role, Role::Admin, now)?)
                        .transact_items(self.admin_count_change(Role::Admin)?);
                    let p = Profile {
                        role: Role::Admin,
                        updated_at: now.to_owned(),
                        ..p
                    };
                    (tx, p)
                }
                None => {
                    let p = Profile {
                        identity_id: target.clone(),
                        display_name: DisplayName::of_identity(target),
                        role: Role::Admin,
                        updated_at: now.to_owned(),
                    };
                    (self.create_profile(&p)?, p)
                }
            };
            if let Some(granted) = self.try_profile_write(OP, tx, profile).await? {
                return Ok(granted);
            }
        }
        Err(changed_concurrently())
    }

    /// Onboard's pending admin at a call of theirs (see
    /// [`PendingAdmin`](crate::tenancy::PendingAdmin)): makes `me` ADMIN — creating the profile
    /// if it has none — on condition that the tenant has no ADMIN yet, in one transaction with the
    /// counters. True if this call made them ADMIN; false if they were one already or the tenant
    /// has an ADMIN (the claim is once only: after it, a demotion is never undone by it).
    pub async fn claim_first_admin(&self, me: &IdentityId, now: &str) -> Result<bool, AppError> {
        const OP: &str = "TransactWriteItems first admin";
        let mut tries = Tries::default();
        while tries.next().await {
            let (first, new_member) = match self.get_profile(me).await? {
                Some(p) if p.role == Role::Admin => return Ok(false),
                Some(p) => (self.role_change(me, p.role, Role::Admin, now)?, false),
                None => {
                    let put = Put::builder()
                        .table_name(&self.db().table)
                        .set_item(Some(to_item(&ProfileItem {
                            pk: self.partition().to_owned(),
                            sk: keys::profile_sk(me),
                            tenant_id: self.tenant().id().clone(),
                            identity_id: me.clone(),
                            display_name: DisplayName::of_identity(me),
                            role: Role::Admin,
                            updated_at: now.to_owned(),
                        })?))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .map_err(build_err("profile put"))?;
                    (TransactWriteItem::builder().put(put).build(), true)
                }
            };
            let counters = if new_member {
                "ADD memberCount :one, adminCount :one SET tenantId = :t"
            } else {
                "ADD adminCount :one SET tenantId = :t"
            };
            let meta = self
                .meta_update(counters)
                .condition_expression("attribute_not_exists(adminCount) OR adminCount < :one")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":t", s(self.tenant().id().as_str()))
                .build()
                .map_err(build_err("meta update"))?;
            let tx = self
                .db()
                .client
                .transact_write_items()
                .transact_items(first)
                .transact_items(TransactWriteItem::builder().update(meta).build());
            match write::send(OP, tx).await? {
                Sent::Written(_) => return Ok(true),
                // The tenant has an ADMIN: the pending admin's moment has passed.
                Sent::Refused(refused) if refused.failed(1) => return Ok(false),
                // The profile was created or changed under us: read it again.
                Sent::Refused(refused) if refused.failed(0) => {}
                Sent::Refused(refused) => return Err(refused.unexpected(OP)),
                Sent::Contended => {}
            }
        }
        Err(changed_concurrently())
    }

    /// `Tenant.memberCount`: one GetItem of the counters item.
    pub async fn member_count(&self) -> Result<i64, AppError> {
        let item = self.get("GetItem tenant counters", META_SK, false).await?;
        Ok(item
            .map(from_item::<MetaItem>)
            .transpose()?
            .map(|m| m.member_count)
            .unwrap_or(0))
    }
}
