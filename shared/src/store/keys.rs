//! The table's key layout: the only place key strings are built.
//!
//! | item              | pk                   | sk                                 | gsi1pk                            | gsi1sk          | gsi2sk                          |
//! |-------------------|----------------------|------------------------------------|-----------------------------------|-----------------|---------------------------------|
//! | tenant            | `REGISTRY`           | `TENANT#<tenantId>`                |                                   |                 |                                 |
//! | provider → tenant | `REGISTRY`           | `PROVIDER#<providerKey>`           |                                   |                 |                                 |
//! | note              | `TENANT#<tenantId>`  | `NOTE#<noteId>`                    | `PUBLIC#<tenantId>` (PUBLIC only) | `NOTE#<noteId>` | `SHARED#<noteId>` or `PRIVATE#<ownerId>#<noteId>` |
//! | idempotency token | `TENANT#<tenantId>`  | `TOKEN#<identityId>#<clientToken>` |                                   |                 |                                 |
//! | profile           | `TENANT#<tenantId>`  | `PROFILE#<identityId>`             |                                   |                 |                                 |
//! | tenant counters   | `TENANT#<tenantId>`  | `META`                             |                                   |                 |                                 |
//! | import under way  | `TENANT#<tenantId>`  | `IMPORT`                           |                                   |                 |                                 |
//!
//! Every note carries `gsi2sk`, its place in the listing index `gsi2` (hash key `pk`, so a
//! tenant's entries share the tenant's partition key): `SHARED#<noteId>` for TENANT and PUBLIC
//! notes, `PRIVATE#<ownerId>#<noteId>` for PRIVATE ones. What a user may read is then two key
//! ranges — the shared range and their own private range — each in id (= creation) order, so a
//! page reads the notes it returns and not the other users' PRIVATE notes in between.
//!
//! Every component is parsed before it gets here (tenant ids, note ids and client tokens cannot
//! contain `#`; identity ids and provider keys cannot either), so no input can name a key of
//! another item type or another tenant's partition.

use crate::identity::{IdentityId, ProviderKey};
use crate::notes::{ClientToken, NoteId, Visibility};
use crate::tenancy::TenantId;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
/// The listing index: hash key `pk`, range key `gsi2sk` (notes only: a sparse index).
pub const GSI2: &str = "gsi2";
pub const GSI2_SK: &str = "gsi2sk";
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

/// The two ranges of the listing index a user reads: the tenant's shared notes (TENANT and
/// PUBLIC), and the user's own PRIVATE notes. Disjoint: a note is in exactly one range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingRange<'a> {
    Shared,
    PrivateOf(&'a IdentityId),
}

impl ListingRange<'_> {
    /// The prefix every `gsi2sk` of this range starts with. Ids and identity ids cannot contain
    /// `#`, so `PRIVATE#<a>#` is never a prefix of `PRIVATE#<ab>#…`: one user's range holds no
    /// one else's notes.
    pub fn prefix(&self) -> String {
        match self {
            ListingRange::Shared => "SHARED#".to_owned(),
            ListingRange::PrivateOf(owner) => format!("PRIVATE#{}#", owner.as_str()),
        }
    }

    /// The `gsi2sk` of note `id` in this range.
    pub fn sk(&self, id: &NoteId) -> String {
        format!("{}{}", self.prefix(), id.as_str())
    }

    /// A string above every `gsi2sk` of this range: `~` sorts after every character a note id
    /// may hold (`A-Za-z0-9_-`), so `BETWEEN prefix AND prefix~` is exactly the range.
    pub fn end(&self) -> String {
        format!("{}~", self.prefix())
    }
}

/// The range of the listing index a note with this owner and visibility belongs to.
pub fn listing_range(owner: &IdentityId, visibility: Visibility) -> ListingRange<'_> {
    match visibility {
        Visibility::Private => ListingRange::PrivateOf(owner),
        Visibility::Tenant | Visibility::Public => ListingRange::Shared,
    }
}

pub fn public_partition(t: &TenantId) -> String {
    format!("PUBLIC#{}", t.as_str())
}

pub fn token_sk(owner: &IdentityId, token: &ClientToken) -> String {
    format!("TOKEN#{}#{}", owner.as_str(), token.as_str())
}

/// The per-tenant counters item (`memberCount`, `adminCount`).
pub const META_SK: &str = "META";
/// `tenantctl import`'s marker while it writes a tenant's partition (the digest of what it
/// writes): a rerun of the same import resumes, any other import is refused. Never exported.
#[cfg(feature = "operator")]
pub const IMPORT_SK: &str = "IMPORT";
pub const PROFILE_PREFIX: &str = "PROFILE#";

pub fn profile_sk(id: &IdentityId) -> String {
    format!("{PROFILE_PREFIX}{}", id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_ranges_are_disjoint_and_closed() {
        let a = IdentityId::parse("eu-central-1:a").unwrap();
        let ab = IdentityId::parse("eu-central-1:ab").unwrap();
        let id = NoteId::parse("0196f0a0-0000-7000-8000-000000000000").unwrap();
        let mine = ListingRange::PrivateOf(&a);
        let theirs = ListingRange::PrivateOf(&ab);
        // Another user's key never falls into my range, nor a shared one.
        for (range, other) in [(mine, theirs), (theirs, mine), (mine, ListingRange::Shared)] {
            let k = other.sk(&id);
            assert!(
                !(range.prefix() <= k && k <= range.end()),
                "{k} in {range:?}"
            );
        }
        // Every id a note may have sorts inside its range, below the end sentinel.
        for raw in ["0", "zzzz", "ZZ", "__", "--", &"z".repeat(64)] {
            let id = NoteId::parse(raw).unwrap();
            for range in [mine, ListingRange::Shared] {
                let k = range.sk(&id);
                assert!(range.prefix() < k && k < range.end(), "{k}");
            }
        }
        assert_eq!(listing_range(&a, Visibility::Private), mine);
        assert_eq!(listing_range(&a, Visibility::Tenant), ListingRange::Shared);
        assert_eq!(listing_range(&a, Visibility::Public), ListingRange::Shared);
    }
}
