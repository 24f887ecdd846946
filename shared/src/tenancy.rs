//! Tenants: the registry that maps a caller's provider key to a tenant, with a warm-start cache.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::identity::{ProviderKey, User, validated_string};
use crate::store::Db;

validated_string! {
    /// A tenant id: lowercase letters, digits and `-`, 1–64 characters, starting with a letter or
    /// digit. The alphabet keeps it safe inside key strings (`TENANT#<id>`).
    pub struct TenantId(String) = |raw: String| TenantId::parse(&raw);
}

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-');
        if ok {
            Ok(TenantId(raw.to_owned()))
        } else {
            Err(AppError::validation(
                "A tenant id is 1-64 characters of a-z, 0-9 and '-', not starting with '-'.",
            ))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TenantStatus {
    Active,
    Suspended,
}

/// A tenant as the registry stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantRecord {
    pub tenant_id: TenantId,
    pub name: String,
    pub status: TenantStatus,
}

/// A tenant that exists and is active. Only this module makes one, so holding one proves the
/// registry was consulted; [`crate::store::TenantStore`] can only be built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveTenant {
    id: TenantId,
    name: String,
}

impl ActiveTenant {
    pub fn id(&self) -> &TenantId {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn admit(record: TenantRecord) -> Result<Self, TenantRecord> {
        match record.status {
            TenantStatus::Active => Ok(ActiveTenant {
                id: record.tenant_id,
                name: record.name,
            }),
            TenantStatus::Suspended => Err(record),
        }
    }
}

struct Cached<V> {
    at: Instant,
    value: V,
}

/// Reads the registry through a per-process cache, so a warm function does not read it on every
/// call. Unknown keys are cached too (an unknown provider cannot make us read on every request).
pub struct TenantRegistry {
    db: Db,
    ttl: Duration,
    by_provider: Mutex<HashMap<ProviderKey, Cached<Option<TenantRecord>>>>,
    by_id: Mutex<HashMap<TenantId, Cached<Option<TenantRecord>>>>,
}

impl TenantRegistry {
    pub fn new(db: Db, ttl: Duration) -> Self {
        TenantRegistry {
            db,
            ttl,
            by_provider: Mutex::default(),
            by_id: Mutex::default(),
        }
    }

    /// The active tenant of a signed-in user. Unknown provider → `Unauthorized`; suspended
    /// tenant → `Forbidden`.
    pub async fn tenant_of(&self, user: &User) -> Result<ActiveTenant, AppError> {
        let record = match cache_get(&self.by_provider, &user.provider, self.ttl) {
            Some(hit) => hit,
            None => {
                let fresh = self.db.registry_lookup_provider(&user.provider).await?;
                cache_put(&self.by_provider, user.provider.clone(), fresh.clone());
                fresh
            }
        };
        admit_record(record)
    }

    /// [`Self::tenant_of`] for many users at once (a BatchInvoke): each distinct provider is
    /// resolved once, the uncached ones with one BatchGetItem per 100 keys, so a batch naming
    /// 2,000 providers costs 20 reads, not 2,000. The answer is per provider key.
    pub async fn tenants_of<'a>(
        &self,
        users: impl IntoIterator<Item = &'a User>,
    ) -> Result<HashMap<ProviderKey, Result<ActiveTenant, AppError>>, AppError> {
        let mut records: HashMap<ProviderKey, Option<TenantRecord>> = HashMap::new();
        let mut missing = Vec::new();
        for user in users {
            if records.contains_key(&user.provider) || missing.contains(&user.provider) {
                continue;
            }
            match cache_get(&self.by_provider, &user.provider, self.ttl) {
                Some(hit) => {
                    records.insert(user.provider.clone(), hit);
                }
                None => missing.push(user.provider.clone()),
            }
        }
        if !missing.is_empty() {
            for (key, fresh) in self.db.registry_lookup_providers(&missing).await? {
                cache_put(&self.by_provider, key.clone(), fresh.clone());
                records.insert(key, fresh);
            }
        }
        Ok(records
            .into_iter()
            .map(|(k, r)| (k, admit_record(r)))
            .collect())
    }

    /// The active tenant with this id, for public reads. Unknown or suspended → `NotFound`, so
    /// a guest learns nothing about tenants that are not serving.
    pub async fn active_by_id(&self, id: &TenantId) -> Result<ActiveTenant, AppError> {
        let record = match cache_get(&self.by_id, id, self.ttl) {
            Some(hit) => hit,
            None => {
                let fresh = self.db.registry_get_tenant(id).await?;
                cache_put(&self.by_id, id.clone(), fresh.clone());
                fresh
            }
        };
        record
            .and_then(|r| ActiveTenant::admit(r).ok())
            .ok_or_else(|| AppError::NotFound(format!("No tenant '{id}' serves public notes.")))
    }
}

/// A registry answer as admission sees it: unknown → `Unauthorized`, suspended → `Forbidden`.
fn admit_record(record: Option<TenantRecord>) -> Result<ActiveTenant, AppError> {
    let Some(record) = record else {
        return Err(AppError::Unauthorized(
            "Your sign-in provider is not registered with any tenant of this API.".into(),
        ));
    };
    ActiveTenant::admit(record).map_err(|_| AppError::Forbidden("Your tenant is suspended.".into()))
}

fn cache_get<K: std::hash::Hash + Eq, V: Clone>(
    map: &Mutex<HashMap<K, Cached<V>>>,
    key: &K,
    ttl: Duration,
) -> Option<V> {
    // A poisoned lock only means another request panicked mid-insert; the map is still valid.
    let map = map.lock().unwrap_or_else(|p| p.into_inner());
    map.get(key)
        .filter(|c| c.at.elapsed() < ttl)
        .map(|c| c.value.clone())
}

fn cache_put<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, Cached<V>>>, key: K, value: V) {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    // Bound memory under a flood of distinct unknown keys: start over rather than grow.
    if map.len() >= 10_000 {
        map.clear();
    }
    map.insert(
        key,
        Cached {
            at: Instant::now(),
            value,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_key_safe() {
        for ok in ["acme", "globex-2", "a", "0"] {
            assert!(TenantId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Acme", "a#b", "a/b", "-a", "a b", "ä", &"a".repeat(65)] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_active_records_become_active_tenants() {
        let rec = |status| TenantRecord {
            tenant_id: TenantId::parse("acme").unwrap(),
            name: "Acme".into(),
            status,
        };
        assert!(ActiveTenant::admit(rec(TenantStatus::Active)).is_ok());
        assert!(ActiveTenant::admit(rec(TenantStatus::Suspended)).is_err());
    }

    #[test]
    fn cache_entries_expire() {
        let map: Mutex<HashMap<u8, Cached<u8>>> = Mutex::default();
        cache_put(&map, 1, 7);
        assert_eq!(cache_get(&map, &1, Duration::from_secs(60)), Some(7));
        assert_eq!(cache_get(&map, &1, Duration::ZERO), None);
    }
}
