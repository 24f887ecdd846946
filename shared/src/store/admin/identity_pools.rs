//! Which Identity Pool each tenant lives in, and which pools have room: the registry's half of
//! spreading tenants over several Identity Pools (`tenantctl onboard` owns the Cognito half).
//!
//! One Identity Pool lists at most 50 User Pool providers (1,000 after a quota increase), so a
//! stack with more tenants has several. Every item here is in the partition `IDPOOLS`, apart
//! from the tenants' registry so `tenantctl list` never reads them:
//!
//! | sk                      | what                                                          |
//! |-------------------------|---------------------------------------------------------------|
//! | `POOL#<poolId>`         | a pool: its number (`seq`), its tenant count, `ready`         |
//! | `ROOM#<seq>#<poolId>`   | present while the pool may have room (a hint: the count says) |
//! | `PLACED#<tenantId>`     | the pool a tenant was placed in                               |
//! | `LEASE`                 | who creates the next pool (and the number of the last one)    |
//!
//! Placing a tenant is constant work however many tenants and pools there are: one query of
//! the first `ROOM#` item (pools fill in order, and a slot an offboarding frees is reused
//! first), then one transaction that counts the tenant in (`tenants < capacity`) and records
//! the placement (`attribute_not_exists`), so two onboardings never take the last slot both and
//! a rerun never counts a tenant twice. A `ROOM#` hint whose pool is full is deleted by the
//! onboarding that finds it so. Only when no pool has room does an onboarding take the lease,
//! create the next pool and open it (`ready`, its `ROOM#` hint) once its roles and trust are in
//! place — so no tenant lands in a pool whose users could not get credentials yet.

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};

use super::Admin;
use crate::error::AppError;
use crate::store::keys::{PK, SK};
use crate::store::write::{self, Sent, Tries};
use crate::store::{Item, from_item, key, n, s, sdk_err, to_item};
use crate::tenancy::TenantId;

/// The partition of every item here.
pub const IDENTITY_POOLS_PK: &str = "IDPOOLS";
const POOL_PREFIX: &str = "POOL#";
const ROOM_PREFIX: &str = "ROOM#";
const PLACED_PREFIX: &str = "PLACED#";
const LEASE_SK: &str = "LEASE";

/// A pool as the registry records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolRecord {
    pub identity_pool_id: String,
    /// 1 for the stack's first pool, then in the order they were created.
    pub seq: u32,
    /// Tenants placed in it (what `capacity` is compared with).
    pub tenants: u32,
    /// Roles and trust in place: tenants may be placed in it.
    pub ready: bool,
}

/// Where `place` put a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Placed in this pool (now, or by an earlier run: `new` says which).
    Placed { identity_pool_id: String, new: bool },
    /// Every pool is full: create the next one (under the lease) and place again.
    NoRoom,
}

/// What recording a tenant's new User Pool on its placement found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserPoolRecord {
    Recorded,
    /// Another run of the same onboarding recorded this pool first.
    Earlier(String),
    /// The tenant has no placement (registered before pools were counted).
    Unplaced,
}

/// The lease on creating the next pool, as `pools_lease` granted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolLease {
    pub holder: String,
    /// The number of the last pool created (the next is `last_seq + 1`).
    pub last_seq: u32,
    /// A pool an earlier holder created and did not open (it stopped): finish it first.
    pub creating: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlacedItem {
    pk: String,
    sk: String,
    tenant_id: TenantId,
    identity_pool_id: String,
    /// The User Pool onboard created for the tenant, recorded right after CreateUserPool: a rerun
    /// finds it with one read (no tag search), and two runs of one onboarding keep one pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_pool_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeaseItem {
    #[serde(default)]
    holder: Option<String>,
    #[serde(default)]
    last_seq: u32,
    #[serde(default)]
    creating: Option<String>,
}

fn pool_key(id: &str) -> Item {
    key(IDENTITY_POOLS_PK, format!("{POOL_PREFIX}{id}"))
}

/// Zero-padded, so the hints sort by pool number: the oldest pool with room first.
fn room_sk(seq: u32, id: &str) -> String {
    format!("{ROOM_PREFIX}{seq:06}#{id}")
}

fn placed_key(t: &TenantId) -> Item {
    key(IDENTITY_POOLS_PK, format!("{PLACED_PREFIX}{t}"))
}

fn lease_key() -> Item {
    key(IDENTITY_POOLS_PK, LEASE_SK)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn build<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, AppError> {
    r.map_err(|e| AppError::internal("identity pool item", e))
}

impl Admin {
    /// A transaction's Put of `item`, only if no item has its key (`new`), or as it is.
    fn tx_put(&self, item: Item, new: bool) -> Result<TransactWriteItem, AppError> {
        let put = Put::builder()
            .table_name(&self.db.table)
            .set_item(Some(item));
        let put = if new {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put
        };
        Ok(TransactWriteItem::builder()
            .put(build(put.build())?)
            .build())
    }

    /// Has the registry recorded any pool? (No `LEASE` item: the stack's first pool has not
    /// been entered yet, see [`pools_bootstrap`](Self::pools_bootstrap).)
    pub async fn pools_known(&self) -> Result<bool, AppError> {
        Ok(self
            .db
            .get("GetItem pools lease", lease_key(), true)
            .await?
            .is_some())
    }

    /// Enters the stack's first pool (number 1, `tenants` its User Pool providers now, ready),
    /// once: a second call, or a concurrent one, changes nothing. Tenants onboarded before pools
    /// were counted have no placement item; they are in this count.
    pub async fn pools_bootstrap(&self, first_pool: &str, tenants: u32) -> Result<(), AppError> {
        let record = PoolRecord {
            identity_pool_id: first_pool.to_owned(),
            seq: 1,
            tenants,
            ready: true,
        };
        let mut pool = to_item(&record)?;
        pool.extend(pool_key(first_pool));
        let mut room = key(IDENTITY_POOLS_PK, room_sk(1, first_pool));
        room.insert("identityPoolId".into(), s(first_pool));
        let mut lease = lease_key();
        lease.insert("lastSeq".into(), n(1));
        let tx = self
            .db
            .client
            .transact_write_items()
            .transact_items(self.tx_put(lease, true)?)
            .transact_items(self.tx_put(pool, true)?)
            .transact_items(self.tx_put(room, true)?);
        match write::conditional("TransactWriteItems pools bootstrap", tx).await? {
            // Refused: entered already (by this run before, or another).
            Ok(_) | Err(_) => Ok(()),
        }
    }

    /// The tenant's placement item, if it has one (strongly consistent).
    async fn placed(&self, tenant: &TenantId) -> Result<Option<PlacedItem>, AppError> {
        self.db
            .get("GetItem placement", placed_key(tenant), true)
            .await?
            .map(from_item::<PlacedItem>)
            .transpose()
    }

    /// The pool the tenant was placed in, if it was.
    pub async fn pools_placement(&self, tenant: &TenantId) -> Result<Option<String>, AppError> {
        Ok(self.placed(tenant).await?.map(|p| p.identity_pool_id))
    }

    /// The User Pool recorded on the tenant's placement, if any.
    pub async fn pools_placed_user_pool(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<String>, AppError> {
        Ok(self.placed(tenant).await?.and_then(|p| p.user_pool_id))
    }

    /// Records the User Pool just created for the tenant on its placement, unless another run of
    /// the same onboarding recorded one first (the caller then deletes its own, empty pool and
    /// uses that one).
    pub async fn pools_record_user_pool(
        &self,
        tenant: &TenantId,
        user_pool_id: &str,
    ) -> Result<UserPoolRecord, AppError> {
        let req = self
            .db
            .client
            .update_item()
            .table_name(&self.db.table)
            .set_key(Some(placed_key(tenant)))
            .update_expression("SET userPoolId = :u")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(userPoolId) OR userPoolId = :u)",
            )
            .expression_attribute_values(":u", s(user_pool_id));
        if write::conditional("UpdateItem placement user pool", req)
            .await?
            .is_ok()
        {
            return Ok(UserPoolRecord::Recorded);
        }
        Ok(match self.placed(tenant).await? {
            None => UserPoolRecord::Unplaced,
            Some(PlacedItem {
                user_pool_id: Some(other),
                ..
            }) if other != user_pool_id => UserPoolRecord::Earlier(other),
            Some(_) => UserPoolRecord::Recorded,
        })
    }

    /// Places the tenant in the oldest pool with room (`capacity` tenants a pool at most), or
    /// says there is none. Idempotent: a tenant placed before stays where it is. Constant work:
    /// one query, one transaction (and one delete per stale hint met).
    pub async fn pools_place(
        &self,
        tenant: &TenantId,
        capacity: u32,
    ) -> Result<Placement, AppError> {
        const OP: &str = "TransactWriteItems place tenant";
        if let Some(id) = self.pools_placement(tenant).await? {
            return Ok(Placement::Placed {
                identity_pool_id: id,
                new: false,
            });
        }
        let mut tries = Tries::default();
        while tries.next().await {
            let Some((room, id)) = self.first_room().await? else {
                return Ok(Placement::NoRoom);
            };
            let count = build(
                Update::builder()
                    .table_name(&self.db.table)
                    .set_key(Some(pool_key(&id)))
                    .update_expression("SET tenants = tenants + :one")
                    .condition_expression("ready = :true AND tenants < :cap")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":true", AttributeValue::Bool(true))
                    .expression_attribute_values(":cap", n(i64::from(capacity)))
                    .build(),
            )?;
            let placed = to_item(&PlacedItem {
                pk: IDENTITY_POOLS_PK.into(),
                sk: format!("{PLACED_PREFIX}{tenant}"),
                tenant_id: tenant.clone(),
                identity_pool_id: id.clone(),
                user_pool_id: None,
            })?;
            let tx = self
                .db
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(count).build())
                .transact_items(self.tx_put(placed, true)?);
            match write::send(OP, tx).await? {
                Sent::Written(_) => {
                    return Ok(Placement::Placed {
                        identity_pool_id: id,
                        new: true,
                    });
                }
                // Placed meanwhile by a concurrent run of the same onboarding.
                Sent::Refused(r) if r.failed(1) => {
                    return match self.pools_placement(tenant).await? {
                        Some(id) => Ok(Placement::Placed {
                            identity_pool_id: id,
                            new: false,
                        }),
                        None => Err(r.unexpected(OP)),
                    };
                }
                // The pool is full: drop its hint (only if it is still full) and look again.
                Sent::Refused(_) => self.retire_room(&room, &id, capacity).await?,
                Sent::Contended => {}
            }
        }
        Err(AppError::Unavailable(format!(
            "Placing tenant '{tenant}': the pool counters stayed contended; run onboard again."
        )))
    }

    /// Takes the tenant's slot back (offboarding): its placement goes, its pool's count drops
    /// and the pool has room again (the next onboarding reuses it before any newer pool). The
    /// pool it was in; `None` if it had no placement (then nothing changes). Idempotent.
    pub async fn pools_release(&self, tenant: &TenantId) -> Result<Option<String>, AppError> {
        let Some(id) = self.pools_placement(tenant).await? else {
            return Ok(None);
        };
        let Some(pool) = self.pools_get(&id).await? else {
            return Err(AppError::Internal(format!(
                "tenant '{tenant}' is placed in Identity Pool {id}, which the registry does not record"
            )));
        };
        let delete = build(
            Delete::builder()
                .table_name(&self.db.table)
                .set_key(Some(placed_key(tenant)))
                .condition_expression("identityPoolId = :id")
                .expression_attribute_values(":id", s(&id))
                .build(),
        )?;
        let count = build(
            Update::builder()
                .table_name(&self.db.table)
                .set_key(Some(pool_key(&id)))
                // No floor condition: a count a recount already lowered must not keep the
                // placement (and so the slot) forever; the next recount corrects a count below.
                .update_expression("SET tenants = tenants - :one")
                .expression_attribute_values(":one", n(1))
                .build(),
        )?;
        let mut room = key(IDENTITY_POOLS_PK, room_sk(pool.seq, &id));
        room.insert("identityPoolId".into(), s(&id));
        let room = self.tx_put(room, false)?;
        let tx = self
            .db
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .transact_items(TransactWriteItem::builder().update(count).build())
            .transact_items(room);
        match write::conditional("TransactWriteItems release tenant", tx).await? {
            Ok(_) => Ok(Some(id)),
            // Released meanwhile (a concurrent rerun).
            Err(_) => Ok(None),
        }
    }

    /// One pool's record.
    pub async fn pools_get(&self, id: &str) -> Result<Option<PoolRecord>, AppError> {
        self.db
            .get("GetItem pool", pool_key(id), true)
            .await?
            .map(from_item)
            .transpose()
    }

    /// Every pool the registry records, by number (what the roles' trust lists, and what
    /// `sync-identity-pool` walks): one query, a page per ~5,000 pools.
    pub async fn pools_list(&self) -> Result<Vec<PoolRecord>, AppError> {
        let items: Vec<Item> = self
            .db
            .client
            .query()
            .table_name(&self.db.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :p)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(IDENTITY_POOLS_PK))
            .expression_attribute_values(":p", s(POOL_PREFIX))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| sdk_err("Query pools", e))?;
        let mut pools: Vec<PoolRecord> =
            items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        pools.sort_by_key(|p| p.seq);
        Ok(pools)
    }

    /// The ids of [`pools_list`](Self::pools_list), with `first` (the stack's first pool) in
    /// them even before the registry entered it.
    pub async fn pools_ids(&self, first: &str) -> Result<Vec<String>, AppError> {
        let mut ids: Vec<String> = self
            .pools_list()
            .await?
            .into_iter()
            .map(|p| p.identity_pool_id)
            .collect();
        if !ids.iter().any(|p| p == first) {
            ids.insert(0, first.to_owned());
        }
        Ok(ids)
    }

    /// Sets a pool's count to what its provider list says (`sync-identity-pool`), and its room
    /// hint to match `capacity`.
    pub async fn pools_recount(
        &self,
        id: &str,
        tenants: u32,
        capacity: u32,
    ) -> Result<(), AppError> {
        let Some(pool) = self.pools_get(id).await? else {
            return Ok(());
        };
        self.db
            .client
            .update_item()
            .table_name(&self.db.table)
            .set_key(Some(pool_key(id)))
            .update_expression("SET tenants = :n")
            .expression_attribute_values(":n", n(i64::from(tenants)))
            .send()
            .await
            .map_err(|e| sdk_err("UpdateItem pool count", e))?;
        let room = key(IDENTITY_POOLS_PK, room_sk(pool.seq, id));
        if pool.ready && tenants < capacity {
            let mut item = room;
            item.insert("identityPoolId".into(), s(id));
            self.db
                .client
                .put_item()
                .table_name(&self.db.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(|e| sdk_err("PutItem pool room", e))?;
        } else {
            self.db
                .client
                .delete_item()
                .table_name(&self.db.table)
                .set_key(Some(room))
                .send()
                .await
                .map_err(|e| sdk_err("DeleteItem pool room", e))?;
        }
        Ok(())
    }

    /// Takes the lease on creating the next pool for `ttl_ms` (held already by `holder`, or
    /// expired: granted); `None` while another holder has it.
    pub async fn pools_lease(
        &self,
        holder: &str,
        ttl_ms: i64,
    ) -> Result<Option<PoolLease>, AppError> {
        let now = now_ms();
        let req = self
            .db
            .client
            .update_item()
            .table_name(&self.db.table)
            .set_key(Some(lease_key()))
            .update_expression("SET holder = :h, #until = :until")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(holder) OR holder = :h OR #until < :now)",
            )
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":h", s(holder))
            .expression_attribute_values(":until", n(now.saturating_add(ttl_ms)))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew);
        match write::conditional("UpdateItem pools lease", req).await? {
            Ok(out) => {
                let lease: LeaseItem = from_item(out.attributes.unwrap_or_default())?;
                Ok(Some(PoolLease {
                    holder: lease.holder.unwrap_or_else(|| holder.to_owned()),
                    last_seq: lease.last_seq,
                    creating: lease.creating,
                }))
            }
            Err(_) => Ok(None),
        }
    }

    /// Gives the lease back (a no-op if `holder` lost it).
    pub async fn pools_unlease(&self, holder: &str) -> Result<(), AppError> {
        let req = self
            .db
            .client
            .update_item()
            .table_name(&self.db.table)
            .set_key(Some(lease_key()))
            .update_expression("REMOVE holder, #until")
            .condition_expression("holder = :h")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":h", s(holder));
        write::conditional("UpdateItem pools unlease", req)
            .await?
            .ok();
        Ok(())
    }

    /// Records a pool the lease holder just created (number `seq`, no tenants, not ready) and
    /// that it is being set up, so a holder after a crash finishes it instead of making
    /// another. Refused (`Conflict`) if the lease is no longer `holder`'s.
    pub async fn pools_begin(&self, holder: &str, seq: u32, id: &str) -> Result<(), AppError> {
        let mut pool = to_item(&PoolRecord {
            identity_pool_id: id.to_owned(),
            seq,
            tenants: 0,
            ready: false,
        })?;
        pool.extend(pool_key(id));
        let lease = build(
            Update::builder()
                .table_name(&self.db.table)
                .set_key(Some(lease_key()))
                .update_expression("SET lastSeq = :seq, creating = :id")
                .condition_expression("holder = :h")
                .expression_attribute_values(":seq", n(i64::from(seq)))
                .expression_attribute_values(":id", s(id))
                .expression_attribute_values(":h", s(holder))
                .build(),
        )?;
        let tx = self
            .db
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(lease).build())
            .transact_items(self.tx_put(pool, true)?);
        match write::conditional("TransactWriteItems pool begin", tx).await? {
            Ok(_) => Ok(()),
            Err(_) => Err(AppError::Conflict(format!(
                "The lease on creating Identity Pools passed to another tenantctl while {id} was \
                 being recorded; run again."
            ))),
        }
    }

    /// Opens a pool whose roles and trust are in place: ready, with its room hint, and no
    /// longer the lease's unfinished pool.
    pub async fn pools_open(&self, holder: &str, id: &str) -> Result<(), AppError> {
        let Some(pool) = self.pools_get(id).await? else {
            return Err(AppError::NotFound(format!(
                "The registry records no Identity Pool {id}."
            )));
        };
        let ready = build(
            Update::builder()
                .table_name(&self.db.table)
                .set_key(Some(pool_key(id)))
                .update_expression("SET ready = :true")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .build(),
        )?;
        let mut room = key(IDENTITY_POOLS_PK, room_sk(pool.seq, id));
        room.insert("identityPoolId".into(), s(id));
        let room = self.tx_put(room, false)?;
        let lease = build(
            Update::builder()
                .table_name(&self.db.table)
                .set_key(Some(lease_key()))
                .update_expression("REMOVE creating")
                .condition_expression("holder = :h")
                .expression_attribute_values(":h", s(holder))
                .build(),
        )?;
        let tx = self
            .db
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(ready).build())
            .transact_items(room)
            .transact_items(TransactWriteItem::builder().update(lease).build());
        match write::conditional("TransactWriteItems pool open", tx).await? {
            Ok(_) => Ok(()),
            Err(_) => Err(AppError::Conflict(format!(
                "The lease on creating Identity Pools passed to another tenantctl while {id} was \
                 being opened; run again."
            ))),
        }
    }

    /// Does any pool have a room hint? (Under the lease: did another tenantctl open a pool?)
    pub async fn pools_room(&self) -> Result<bool, AppError> {
        Ok(self.first_room().await?.is_some())
    }

    /// The first room hint (the oldest pool that may have room): its sort key and pool id.
    async fn first_room(&self) -> Result<Option<(String, String)>, AppError> {
        let out = self
            .db
            .client
            .query()
            .table_name(&self.db.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :p)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(IDENTITY_POOLS_PK))
            .expression_attribute_values(":p", s(ROOM_PREFIX))
            .consistent_read(true)
            .limit(1)
            .send()
            .await
            .map_err(|e| sdk_err("Query pool room", e))?;
        Ok(out.items().first().and_then(|item| {
            let sk = item.get(SK)?.as_s().ok()?.clone();
            let id = item.get("identityPoolId")?.as_s().ok()?.clone();
            Some((sk, id))
        }))
    }

    /// Deletes a room hint whose pool is full (a condition check on the pool's count, so a slot
    /// freed meanwhile keeps its hint).
    async fn retire_room(&self, room_sk: &str, id: &str, capacity: u32) -> Result<(), AppError> {
        let check = build(
            ConditionCheck::builder()
                .table_name(&self.db.table)
                .set_key(Some(pool_key(id)))
                .condition_expression("attribute_not_exists(pk) OR tenants >= :cap")
                .expression_attribute_values(":cap", n(i64::from(capacity)))
                .build(),
        )?;
        let delete = build(
            Delete::builder()
                .table_name(&self.db.table)
                .set_key(Some(key(IDENTITY_POOLS_PK, room_sk)))
                .build(),
        )?;
        let tx = self
            .db
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .transact_items(TransactWriteItem::builder().delete(delete).build());
        write::conditional("TransactWriteItems retire room", tx)
            .await?
            .ok();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_hints_sort_by_pool_number() {
        let mut sks = [
            room_sk(10, "eu-central-1:b"),
            room_sk(2, "eu-central-1:z"),
            room_sk(1, "eu-central-1:y"),
        ];
        sks.sort();
        assert_eq!(sks[0], "ROOM#000001#eu-central-1:y");
        assert_eq!(sks[2], "ROOM#000010#eu-central-1:b");
    }
}
