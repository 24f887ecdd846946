//! [`TenantRegistry`]: the registry that maps a caller's provider key to a tenant, read through
//! a per-process cache so a warm function does not read it on every call.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Db;
use crate::error::AppError;
use crate::identity::{ProviderKey, User};
use crate::tenancy::{ActiveTenant, TenantId, TenantRecord};

struct Cached<V> {
    at: Instant,
    value: V,
}

/// Reads the registry through a per-process cache, so a warm function does not read it on every
/// call. Unknown keys are cached too (an unknown provider cannot make us read on every request).
pub struct TenantRegistry {
    db: Db,
    ttl: Duration,
    /// The stack's first Identity Pool (`IDENTITY_POOL_ID`): the pool of a tenant whose record
    /// names none (registered before tenants were bound to pools).
    first_pool: Option<String>,
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
            first_pool: None,
            by_provider: Mutex::default(),
            by_id: Mutex::default(),
            claims_settled: Mutex::default(),
        }
    }

    /// Holds tenants that name no Identity Pool to `pool` (`IDENTITY_POOL_ID`).
    pub fn with_first_pool(mut self, pool: Option<String>) -> Self {
        self.first_pool = pool;
        self
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
        !settled.contains(&(
            tenant.id().clone(),
            user.user_sub.clone().unwrap_or_default(),
        ))
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
        settled.insert((
            tenant.id().clone(),
            user.user_sub.clone().unwrap_or_default(),
        ));
    }

    /// The active tenant of a signed-in user. Unknown provider → `Unauthorized`; credentials of
    /// another Identity Pool than the tenant's → `Unauthorized`; suspended tenant → `Forbidden`.
    pub async fn tenant_of(&self, user: &User) -> Result<ActiveTenant, AppError> {
        let record = self.record_of(&user.provider).await?;
        self.admit(record, user)
    }

    /// Whether `user`'s credentials come from one of this stack's Identity Pools: the first pool
    /// (no read), or the pool the registry binds their provider's tenant to (the cached look-up
    /// [`Self::tenant_of`] makes). Unknown provider from another pool, or the wrong pool →
    /// `Unauthorized`. Whether the tenant is active is not asked: that is for fields that need one.
    pub async fn vouch_for_pool(&self, user: &User) -> Result<(), AppError> {
        let Some(first) = self.first_pool.as_deref() else {
            // No pinned pool: nothing to vouch against (a development set-up).
            return Ok(());
        };
        // The first pool lists only the providers of the tenants bound to it (tenantctl lists a
        // tenant's providers in its own pool alone), so Cognito mints no first-pool identity that
        // names another pool's provider: no read needed.
        if user.identity_pool.as_deref() == Some(first) {
            return Ok(());
        }
        let record = self.record_of(&user.provider).await?;
        let bound = record.as_ref().and_then(|r| r.identity_pool_id.as_deref());
        if bound.is_some() && bound == user.identity_pool.as_deref() {
            return Ok(());
        }
        Err(AppError::Unauthorized(
            "The credentials were issued by an identity pool this API does not trust.".into(),
        ))
    }

    /// The registry's record of `provider`, through the cache.
    async fn record_of(&self, provider: &ProviderKey) -> Result<Option<TenantRecord>, AppError> {
        if let Some(hit) = cache_get(&self.by_provider, provider, self.ttl) {
            return Ok(hit);
        }
        let fresh = self.db.registry_lookup_provider(provider).await?;
        cache_put(&self.by_provider, provider.clone(), fresh.clone());
        Ok(fresh)
    }

    /// [`Self::tenant_of`] for many users at once (a BatchInvoke): each distinct provider is
    /// resolved once, the uncached ones with one BatchGetItem per 100 keys, so a batch naming
    /// 2,000 providers costs 20 reads, not 2,000. The answer is per provider key and Identity
    /// Pool (admission depends on both: see [`Self::tenant_of`]).
    pub async fn tenants_of<'a>(
        &self,
        users: impl IntoIterator<Item = &'a User>,
    ) -> Result<TenantAnswers, AppError> {
        let users: Vec<&User> = users.into_iter().collect();
        let mut records: HashMap<ProviderKey, Option<TenantRecord>> = HashMap::new();
        let mut missing = Vec::new();
        for user in &users {
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
        let mut out = TenantAnswers::new();
        for user in users {
            if let Some(record) = records.get(&user.provider) {
                out.entry((user.provider.clone(), user.identity_pool.clone()))
                    .or_insert_with(|| self.admit(record.clone(), user));
            }
        }
        Ok(out)
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

/// [`TenantRegistry::tenants_of`]'s answers, by (provider key, Identity Pool of the credentials).
pub type TenantAnswers = HashMap<(ProviderKey, Option<String>), Result<ActiveTenant, AppError>>;

impl TenantRegistry {
    /// A registry answer as admission sees it: unknown → `Unauthorized`; credentials of another
    /// Identity Pool than the tenant's → `Unauthorized` (a pool lists only its own tenants'
    /// providers, so such an identity names a provider its pool does not federate: a misrouted
    /// or forged event, or a pool in another account); suspended → `Forbidden`.
    fn admit(&self, record: Option<TenantRecord>, user: &User) -> Result<ActiveTenant, AppError> {
        let Some(record) = record else {
            return Err(AppError::Unauthorized(
                "Your sign-in provider is not registered with any tenant of this API.".into(),
            ));
        };
        let bound = record
            .identity_pool_id
            .as_deref()
            .or(self.first_pool.as_deref());
        if let Some(bound) = bound
            && user.identity_pool.as_deref() != Some(bound)
        {
            return Err(AppError::Unauthorized(
                "Your credentials were issued by another Identity Pool than your tenant's; sign in \
                 through your tenant's Identity Pool."
                    .into(),
            ));
        }
        ActiveTenant::admit(record)
            .ok_or_else(|| AppError::Forbidden("Your tenant is suspended.".into()))
    }
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
    fn cache_entries_expire() {
        let map: Mutex<HashMap<u8, Cached<u8>>> = Mutex::default();
        cache_put(&map, 1, 7);
        assert_eq!(cache_get(&map, &1, Duration::from_secs(60)), Some(7));
        assert_eq!(cache_get(&map, &1, Duration::ZERO), None);
    }
}
