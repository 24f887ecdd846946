//! Tenants as plain types: the id, the registry's record, and [`ActiveTenant`], the proof that
//! a tenant exists and serves. No table access here: the registry's reads and its per-process
//! cache are in `store` ([`crate::store::TenantRegistry`]), so this module depends on nothing
//! that depends on it.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::identity::User;
use crate::validated::validated_string;

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
    /// The Identity Pool that lists the tenant's providers (`tenantctl onboard` places it): its
    /// users are admitted only with credentials of that pool. `None` for a tenant registered
    /// before the binding: it is held to the stack's first pool (`IDENTITY_POOL_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_id: Option<String>,
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

/// A tenant that exists and is active. Only the registry's reads make one (from a
/// [`TenantRecord`] they read), so holding one proves the registry was consulted; [`crate::store::TenantStore`] can only be built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveTenant {
    id: TenantId,
    name: String,
    pending_admin: Option<PendingAdmin>,
    identity_pool_id: Option<String>,
}

impl ActiveTenant {
    pub fn id(&self) -> &TenantId {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Identity Pool the tenant is bound to, if the registry records one.
    pub fn identity_pool_id(&self) -> Option<&str> {
        self.identity_pool_id.as_deref()
    }

    /// Is `user` the first admin onboard recorded for this tenant (same User Pool, same sub)?
    pub fn is_pending_admin(&self, user: &User) -> bool {
        self.pending_admin.as_ref().is_some_and(|p| {
            p.provider == user.provider.as_str() && user.user_sub.as_deref() == Some(p.sub.as_str())
        })
    }

    pub(crate) fn admit(record: TenantRecord) -> Option<Self> {
        match record.status {
            TenantStatus::Active => Some(ActiveTenant {
                id: record.tenant_id,
                name: record.name,
                pending_admin: record.pending_admin,
                identity_pool_id: record.identity_pool_id,
            }),
            TenantStatus::Suspended => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::ProviderKey;

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
            identity_pool_id: None,
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
            identity_pool_id: None,
        })
        .unwrap();
        let user = |provider: &str, sub: Option<&str>| User {
            identity_id: crate::identity::IdentityId::parse(
                "eu-central-1:00000000-0000-4000-8000-000000000001",
            )
            .unwrap(),
            provider: ProviderKey::parse(provider).unwrap(),
            user_sub: sub.map(str::to_owned),
            identity_pool: None,
        };
        assert!(tenant.is_pending_admin(&user(pool, Some("sub-1"))));
        assert!(!tenant.is_pending_admin(&user(pool, Some("sub-2"))));
        assert!(!tenant.is_pending_admin(&user(pool, None)));
        let other = "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Other111";
        assert!(!tenant.is_pending_admin(&user(other, Some("sub-1"))));
    }
}
