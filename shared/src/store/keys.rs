//! The table's key layout: the only place key strings are built.
//!
//! | item            | pk                 | sk                              | gsi1pk           | gsi1sk         |
//! |-----------------|--------------------|---------------------------------|------------------|----------------|
//! | tenant          | `REGISTRY`         | `TENANT#<tenantId>`             |                  |                |
//! | provider → tenant | `REGISTRY`       | `PROVIDER#<providerKey>`        |                  |                |
//! | note            | `TENANT#<tenantId>`| `NOTE#<noteId>`                 | `PUBLIC#<tenantId>` (PUBLIC only) | `NOTE#<noteId>` |
//! | idempotency token | `TENANT#<tenantId>` | `TOKEN#<identityId>#<clientToken>` |             |                |
//! | profile         | `TENANT#<tenantId>`| `PROFILE#<identityId>`          |                  |                |
//! | tenant counters | `TENANT#<tenantId>`| `META`                          |                  |                |
//!
//! Every component is parsed before it gets here (tenant ids, note ids and client tokens cannot
//! contain `#`; identity ids and provider keys cannot either), so no input can name a key of
//! another item type or another tenant's partition.

use crate::identity::{IdentityId, ProviderKey};
use crate::notes::{ClientToken, NoteId};
use crate::tenancy::TenantId;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
/// TTL attribute (epoch seconds) of items that expire, such as idempotency tokens.
pub const TTL_ATTRIBUTE: &str = "expiresAt";

pub const REGISTRY_PK: &str = "REGISTRY";
pub const TENANT_PREFIX: &str = "TENANT#";
pub const PROVIDER_PREFIX: &str = "PROVIDER#";
pub const NOTE_PREFIX: &str = "NOTE#";

pub fn tenant_partition(t: &TenantId) -> String {
    format!("{TENANT_PREFIX}{}", t.as_str())
}

pub fn registry_tenant_sk(t: &TenantId) -> String {
    format!("{TENANT_PREFIX}{}", t.as_str())
}

pub fn registry_provider_sk(p: &ProviderKey) -> String {
    format!("{PROVIDER_PREFIX}{}", p.as_str())
}

pub fn note_sk(id: &NoteId) -> String {
    format!("{NOTE_PREFIX}{}", id.as_str())
}

pub fn public_partition(t: &TenantId) -> String {
    format!("PUBLIC#{}", t.as_str())
}

pub fn token_sk(owner: &IdentityId, token: &ClientToken) -> String {
    format!("TOKEN#{}#{}", owner.as_str(), token.as_str())
}

/// The per-tenant counters item (`memberCount`, `adminCount`).
pub const META_SK: &str = "META";

pub fn profile_sk(id: &IdentityId) -> String {
    format!("PROFILE#{}", id.as_str())
}
