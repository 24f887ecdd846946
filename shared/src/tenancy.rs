//! Tenants: the registry that maps a caller's provider key to a tenant, with a warm-start cache.

use std::collections::{HashMap, HashSet};
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
    /// The first admin `tenantctl onboard` created, until the tenant has an ADMIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_admin: Option<PendingAdmin>,
}

/// The first admin `tenantctl onboard` created: a User Pool user, `(provider, sub)`.
///
/// `tenantctl grant-admin` needs an Identity Pool identity id, and Cognito creates one only at a
/// user's first sign-in, after onboarding. The pool user is known at onboarding, and every call
/// the user makes names it (`cognitoIdentityAuthProvider` carries the pool and
/// `:CognitoSignIn:<sub>`), so onboard records it here and the user's first call makes them
/// ADMIN ([`TenantStore::claim_first_admin`](crate::store::TenantStore::claim_first_admin)) —
/// only while the tenant has no ADMIN, so it happens once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingAdmin {
    /// The User Pool's provider key.
    pub provider: String,
    pub sub: String,
    /// For the operator (`tenantctl list`); the match is on provider and sub only.
    pub email: String,
}

/// A tenant that exists and is active. Only this module makes one, so holding one proves the
/// registry was consulted; [`crate::store::TenantStore`] can only be built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveTenant {
    id: TenantId,
    name: String,
    pending_admin: Option<PendingAdmin>,
}

impl ActiveTenant {
    pub fn id(&self) -> &TenantId {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Is `user` the first admin onboard recorded for this tenant (same User Pool, same sub)?
    pub fn is_pending_admin(&self, user: &User) -> bool {
        self.pending_admin.as_ref().is_some_and(|p| {
            p.provider == user.provider.as_str() && user.user_sub.as_deref() == Some(p.sub.as_str())
        })
    }

    fn admit(record: TenantRecord) -> Option<Self> {
        match record.status {
            TenantStatus::Active => Some(ActiveTenant {
                id: record.tenant_id,
                name: record.name,
                pending_admin: record.pending_admin,
            }),
            TenantStatus::Suspended => None,
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
    /// Pending admins (tenant, sub) whose claim this process has settled: the registry keeps
    /// naming them after the claim, and a second claim would only fail its condition again.
    claims_settled: Mutex<HashSet<(TenantId, String)>>,
}

impl TenantRegistry {
    pub fn new(db: Db, ttl: Duration) -> Self {
        TenantRegistry {
            db,
            ttl,
            by_provider: Mutex::default(),
            by_id: Mutex::default(),
            claims_settled: Mutex::default(),
        }
    }

    /// Should this call try to make `user` the tenant's first ADMIN? Yes when they are its
    /// pending admin and this process has not settled that claim yet.
    pub fn first_admin_claim_due(&self, tenant: &ActiveTenant, user: &User) -> bool {
        if !tenant.is_pending_admin(user) {
            return false;
        }
        let settled = self
            .claims_settled
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        !settled.contains(&(tenant.id.clone(), user.user_sub.clone().unwrap_or_default()))
    }

    /// Remembers that the claim of `user` was made or found unnecessary.
    pub fn first_admin_claim_settled(&self, tenant: &ActiveTenant, user: &User) {
        let mut settled = self
            .claims_settled
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // One entry per onboarded tenant at most, in practice; bounded like the caches anyway.
        if settled.len() >= 10_000 {
            settled.clear();
        }
        settled.insert((tenant.id.clone(), user.user_sub.clone().unwrap_or_default()));
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
            .and_then(ActiveTenant::admit)
            .ok_or_else(|| AppError::NotFound(format!("No tenant '{id}' serves public notes.")))
    }
}

impl TenantRegistry {
    /// Whether this process's registry cache holds `id` as an active tenant — what
    /// [`active_by_id`](Self::active_by_id) just answered, without another read. For the metrics:
    /// only admitted tenants become a dimension value.
    pub fn admitted_by_id(&self, id: &TenantId) -> bool {
        cache_get(&self.by_id, id, self.ttl)
            .flatten()
            .and_then(ActiveTenant::admit)
            .is_some()
    }
}

/// A registry answer as admission sees it: unknown → `Unauthorized`, suspended → `Forbidden`.
fn admit_record(record: Option<TenantRecord>) -> Result<ActiveTenant, AppError> {
    let Some(record) = record else {
        return Err(AppError::Unauthorized(
            "Your sign-in provider is not registered with any tenant of this API.".into(),
        ));
    };
    ActiveTenant::admit(record)
        .ok_or_else(|| AppError::Forbidden("Your tenant is suspended.".into()))
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
            pending_admin: None,
        };
        assert!(ActiveTenant::admit(rec(TenantStatus::Active)).is_some());
        assert!(ActiveTenant::admit(rec(TenantStatus::Suspended)).is_none());
    }

    #[test]
    fn the_pending_admin_is_one_pool_user() {
        let pool = "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Initech1";
        let tenant = ActiveTenant::admit(TenantRecord {
            tenant_id: TenantId::parse("initech").unwrap(),
            name: "Initech".into(),
            status: TenantStatus::Active,
            pending_admin: Some(PendingAdmin {
                provider: pool.into(),
                sub: "sub-1".into(),
                email: "admin@initech.example".into(),
            }),
        })
        .unwrap();
        let user = |provider: &str, sub: Option<&str>| User {
            identity_id: crate::identity::IdentityId::parse(
                "eu-central-1:00000000-0000-4000-8000-000000000001",
            )
            .unwrap(),
            provider: ProviderKey::parse(provider).unwrap(),
            user_sub: sub.map(str::to_owned),
        };
        assert!(tenant.is_pending_admin(&user(pool, Some("sub-1"))));
        assert!(!tenant.is_pending_admin(&user(pool, Some("sub-2"))));
        assert!(!tenant.is_pending_admin(&user(pool, None)));
        let other = "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Other111";
        assert!(!tenant.is_pending_admin(&user(other, Some("sub-1"))));
    }

    #[test]
    fn cache_entries_expire() {
        let map: Mutex<HashMap<u8, Cached<u8>>> = Mutex::default();
        cache_put(&map, 1, 7);
        assert_eq!(cache_get(&map, &1, Duration::from_secs(60)), Some(7));
        assert_eq!(cache_get(&map, &1, Duration::ZERO), None);
    }
}
