//! Real time: what a change to a note publishes, and which subscriber receives it. Both rules
//! live here, next to each other, and a test proves them against [`can_read`](crate::notes::can_read): every subscriber
//! receives an event for exactly the notes it may read, and never a note's new content after it
//! lost access.
//!
//! The path of an event: a write to a note item → the table's DynamoDB stream (old and new
//! image) → the `note-publisher` function ([`stream`], [`changes`]) → the internal mutation
//! `publishNoteChange` (NONE data source, IAM-only) → AppSync, which hands the published object
//! to every subscription of `onNoteChanged` / `onPublicNoteChanged` whose filter matches it. Those
//! filters were set when the client subscribed, by `resolvers/subscribe.js`, from what the
//! subscription's function answered ([`SubscriptionGrant`]): they are decided on the server from
//! the caller's identity, never from the client's arguments.
//!
//! ## The published object ([`NoteChange`])
//!
//! The filters read only its top-level routing fields — `tenantId`, `ownerId`, `visibility`,
//! `revoked`, `previousVisibility` — and clients read `kind`, `noteId` and `note`:
//!
//! - create / update: `kind` CREATED or UPDATED with the note as it now is, `revoked: false`:
//!   for the note's readers now (its owner; the tenant's users unless PRIVATE; the public
//!   channel if PUBLIC).
//! - delete: DELETED without a note, `visibility` its last one: for its readers then.
//! - an update that narrows who may read the note (TENANT or PUBLIC → PRIVATE, PUBLIC → TENANT)
//!   publishes, before the update, a revocation: DELETED without a note, `revoked: true`,
//!   `previousVisibility` the visibility it left. It reaches exactly those who lost the note:
//!   the other users of the tenant when it became PRIVATE, the public channel when it left
//!   PUBLIC. The owner keeps it (its UPDATED arrives through the owner rule).
//!
//! A user's role never changes what it may read (ADMINs moderate, they do not read others'
//! PRIVATE notes), so a role change publishes nothing; a user leaves a tenant only with its
//! tenant (suspension / offboarding invalidates the tenant's subscriptions).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::identity::IdentityId;
use crate::notes::{Note, NoteId, Visibility};
use crate::tenancy::TenantId;

pub mod filter;
pub mod stream;

/// GraphQL `NoteChangeKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NoteChangeKind {
    Created,
    Updated,
    /// Deleted, or — with `revoked` — no longer readable by this subscriber.
    Deleted,
}

/// GraphQL `NoteChange` (and `NoteChangeInput`, what the publisher sends): one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteChange {
    pub kind: NoteChangeKind,
    pub note_id: NoteId,
    pub tenant_id: TenantId,
    pub owner_id: IdentityId,
    /// The note's visibility now (for a deletion: its last one).
    pub visibility: Visibility,
    /// Set on revocations only: the visibility the note left.
    pub previous_visibility: Option<Visibility>,
    /// A removal for those who may no longer read the note; always DELETED without a note.
    pub revoked: bool,
    /// The note as it now is; `None` on DELETED.
    pub note: Option<Note>,
}

/// How widely a visibility is read: PRIVATE (the owner) ⊂ TENANT (its users) ⊂ PUBLIC (anyone).
fn reach(v: Visibility) -> u8 {
    match v {
        Visibility::Private => 0,
        Visibility::Tenant => 1,
        Visibility::Public => 2,
    }
}

fn upsert(kind: NoteChangeKind, note: &Note) -> NoteChange {
    NoteChange {
        kind,
        note_id: note.id.clone(),
        tenant_id: note.tenant_id.clone(),
        owner_id: note.owner_id.clone(),
        visibility: note.visibility,
        previous_visibility: None,
        revoked: false,
        note: Some(note.clone()),
    }
}

fn deleted(note: &Note) -> NoteChange {
    NoteChange {
        kind: NoteChangeKind::Deleted,
        note: None,
        ..upsert(NoteChangeKind::Deleted, note)
    }
}

fn revocation(old: &Note, new: &Note) -> NoteChange {
    NoteChange {
        previous_visibility: Some(old.visibility),
        revoked: true,
        ..deleted(new)
    }
}

/// The events one write publishes, in order, from the note before and after it (a stream
/// record's old and new image).
pub fn changes(old: Option<&Note>, new: Option<&Note>) -> Vec<NoteChange> {
    match (old, new) {
        (None, None) => Vec::new(),
        (None, Some(n)) => vec![upsert(NoteChangeKind::Created, n)],
        (Some(o), None) => vec![deleted(o)],
        // A note never moves between tenants or owners; if an item ever did, its old readers
        // must not see the new one: publish it as a deletion and a creation.
        (Some(o), Some(n)) if o.tenant_id != n.tenant_id || o.owner_id != n.owner_id => {
            vec![deleted(o), upsert(NoteChangeKind::Created, n)]
        }
        (Some(o), Some(n)) => {
            let mut out = Vec::with_capacity(2);
            // Those who lose the note hear it first, before anyone sees the new content.
            if reach(n.visibility) < reach(o.visibility) {
                out.push(revocation(o, n));
            }
            out.push(upsert(NoteChangeKind::Updated, n));
            out
        }
    }
}

/// `onNoteChanged` for `me`, a user of `tenant`: its own notes, the tenant's shared notes, and
/// removals of shared notes that became PRIVATE to someone else. The input of
/// `util.transform.toSubscriptionFilter`: 3 filter groups, 4 fields (AppSync allows 10 and 5).
pub fn member_filter(tenant: &TenantId, me: &IdentityId) -> Value {
    let (t, i) = (tenant.as_str(), me.as_str());
    json!({"or": [
        {"tenantId": {"eq": t}, "revoked": {"eq": false}, "ownerId": {"eq": i}},
        {"tenantId": {"eq": t}, "revoked": {"eq": false}, "visibility": {"in": ["TENANT", "PUBLIC"]}},
        {"tenantId": {"eq": t}, "revoked": {"eq": true}, "visibility": {"eq": "PRIVATE"}, "ownerId": {"ne": i}},
    ]})
}

/// `onPublicNoteChanged(tenantId)`: the tenant's PUBLIC notes, and removals of notes that left
/// PUBLIC (never their new content).
pub fn public_filter(tenant: &TenantId) -> Value {
    let t = tenant.as_str();
    json!({"or": [
        {"tenantId": {"eq": t}, "revoked": {"eq": false}, "visibility": {"eq": "PUBLIC"}},
        {"tenantId": {"eq": t}, "revoked": {"eq": true}, "previousVisibility": {"eq": "PUBLIC"}},
    ]})
}

/// Every subscription of a tenant ends when `invalidateTenantSubscriptions(tenantId)` names it.
pub fn invalidation_filter(tenant: &TenantId) -> Value {
    json!({"tenantId": {"eq": tenant.as_str()}})
}

/// A user's `onNoteChanged` ends when its tenant is invalidated, and also when
/// `invalidateTenantSubscriptions(tenantId, userSub | identityId)` names the user (`tenantctl
/// remove-user`). The by-user payload ([`user_invalidation`]) carries `userTenantId`, never
/// `tenantId`, so it matches only the groups naming the user, not the tenant's group.
///
/// Why the User Pool `sub` as well as the identity id: an operator removing a user knows their
/// pool and username, and `AdminGetUser` answers the `sub`; the user's Identity Pool identity id
/// is created at their first sign-in and recorded nowhere under the username, so it cannot be
/// found from it. Every User Pool sign-in carries the `sub` (`cognitoIdentityAuthProvider`
/// `…:CognitoSignIn:<sub>`), so the function knows it when the user subscribes. The identity id
/// group serves users of other providers (OIDC, SAML), whose operator knows only that id.
/// At most 3 groups of 2 fields (AppSync allows 10 and 5).
pub fn member_invalidation_filter(
    tenant: &TenantId,
    me: &IdentityId,
    user_sub: Option<&str>,
) -> Value {
    let t = tenant.as_str();
    let mut groups = vec![
        json!({"tenantId": {"eq": t}}),
        json!({"userTenantId": {"eq": t}, "identityId": {"eq": me.as_str()}}),
    ];
    if let Some(sub) = user_sub {
        groups.push(json!({"userTenantId": {"eq": t}, "userSub": {"eq": sub}}));
    }
    json!({"or": groups})
}

/// Who `invalidateTenantSubscriptions` ends by user: the payload `resolvers/invalidate-tenant.js`
/// sends for a `userSub` or an `identityId` (kept in step with it by a test).
pub fn user_invalidation(tenant: &TenantId, key: UserKey<'_>) -> Value {
    match key {
        UserKey::Sub(s) => json!({"userTenantId": tenant.as_str(), "userSub": s}),
        UserKey::IdentityId(i) => json!({"userTenantId": tenant.as_str(), "identityId": i}),
    }
}

/// How an operator names the user whose subscriptions end.
#[derive(Debug, Clone, Copy)]
pub enum UserKey<'a> {
    /// The User Pool `sub` (AdminGetUser's `sub` attribute).
    Sub(&'a str),
    /// The Identity Pool identity id (`<region>:<guid>`).
    IdentityId(&'a str),
}

/// What a subscription field's function answers: the filters `resolvers/subscribe.js` sets
/// (`setSubscriptionFilter`, `setSubscriptionInvalidationFilter`). Clients never see it: a
/// subscription resolver returns null.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionGrant {
    pub tenant_id: String,
    pub filter: Value,
    pub invalidation_filter: Value,
}

impl SubscriptionGrant {
    /// `user_sub`: the caller's User Pool `sub` when it signed in through a User Pool.
    pub fn member(tenant: &TenantId, me: &IdentityId, user_sub: Option<&str>) -> Self {
        SubscriptionGrant {
            tenant_id: tenant.to_string(),
            filter: member_filter(tenant, me),
            invalidation_filter: member_invalidation_filter(tenant, me, user_sub),
        }
    }

    pub fn public(tenant: &TenantId) -> Self {
        SubscriptionGrant {
            tenant_id: tenant.to_string(),
            filter: public_filter(tenant),
            invalidation_filter: invalidation_filter(tenant),
        }
    }
}

/// The publisher's mutation. AppSync delivers to subscribers only the fields the publishing
/// mutation selected, so it selects every field of `NoteChange` and of `Note` but the resolved
/// `author` (a test holds it to the schema).
pub const PUBLISH_MUTATION: &str = "mutation PublishNoteChange($change: NoteChangeInput!) { \
     publishNoteChange(change: $change) { kind noteId tenantId ownerId visibility \
     previousVisibility revoked note { id tenantId ownerId title body visibility version \
     createdAt updatedAt } } }";

/// The GraphQL request body that publishes `change`.
pub fn publish_request(change: &NoteChange) -> Value {
    json!({"query": PUBLISH_MUTATION, "variables": {"change": change}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::{Body, Title};

    const VIS: [Visibility; 3] = [Visibility::Private, Visibility::Tenant, Visibility::Public];

    fn id(s: &str) -> IdentityId {
        IdentityId::parse(s).unwrap()
    }

    fn tenant(s: &str) -> TenantId {
        TenantId::parse(s).unwrap()
    }

    fn note(v: Visibility, version: i64) -> Note {
        Note {
            id: NoteId::parse("n-1").unwrap(),
            tenant_id: tenant("acme"),
            owner_id: id("eu-central-1:a11ce000-0000-4000-8000-00000000000a"),
            title: Title::parse(format!("v{version}")).unwrap(),
            body: Some(Body::parse("body".into()).unwrap()),
            visibility: v,
            version,
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    /// Who listens: a user of a tenant, or the public channel of a tenant.
    #[derive(Debug, Clone)]
    enum Subscriber {
        Member(TenantId, IdentityId),
        Public(TenantId),
    }

    impl Subscriber {
        fn filter(&self) -> Value {
            match self {
                Subscriber::Member(t, i) => member_filter(t, i),
                Subscriber::Public(t) => public_filter(t),
            }
        }

        /// What `note(id)` (or, for the public channel, `publicNotes`) would answer it.
        fn reads(&self, n: &Note) -> bool {
            match self {
                Subscriber::Member(t, i) => n.tenant_id == *t && crate::notes::can_read(n, i),
                Subscriber::Public(t) => n.tenant_id == *t && n.visibility == Visibility::Public,
            }
        }
    }

    fn subscribers() -> Vec<Subscriber> {
        vec![
            Subscriber::Member(
                tenant("acme"),
                id("eu-central-1:a11ce000-0000-4000-8000-00000000000a"),
            ),
            Subscriber::Member(
                tenant("acme"),
                id("eu-central-1:ca201000-0000-4000-8000-00000000000c"),
            ),
            Subscriber::Member(
                tenant("globex"),
                id("eu-central-1:b0b00000-0000-4000-8000-00000000000b"),
            ),
            // The same identity id in another tenant still reads only that tenant's notes.
            Subscriber::Member(
                tenant("globex"),
                id("eu-central-1:a11ce000-0000-4000-8000-00000000000a"),
            ),
            Subscriber::Public(tenant("acme")),
            Subscriber::Public(tenant("globex")),
        ]
    }

    fn delivered(s: &Subscriber, events: &[NoteChange]) -> Vec<NoteChange> {
        let f = s.filter();
        events
            .iter()
            .filter(|e| filter::matches(&f, &serde_json::to_value(e).unwrap()))
            .cloned()
            .collect()
    }

    #[test]
    fn every_subscriber_hears_exactly_what_it_may_read() {
        let mut states: Vec<Option<Note>> = vec![None];
        states.extend(VIS.iter().map(|v| Some(note(*v, 1))));
        let mut cases = 0;
        for old in &states {
            for new in &states {
                let new = new.clone().map(|mut n| {
                    n.version = 2;
                    n
                });
                let events = changes(old.as_ref(), new.as_ref());
                for s in subscribers() {
                    cases += 1;
                    let before = old.as_ref().is_some_and(|n| s.reads(n));
                    let after = new.as_ref().is_some_and(|n| s.reads(n));
                    let got = delivered(&s, &events);
                    let what = format!("{old:?} -> {new:?} for {s:?}: {got:?}");
                    match (before, after) {
                        (false, false) => assert!(got.is_empty(), "{what}"),
                        (_, true) => {
                            assert_eq!(got.len(), 1, "{what}");
                            assert_eq!(got[0].note.as_ref(), new.as_ref(), "{what}");
                            assert_ne!(got[0].kind, NoteChangeKind::Deleted, "{what}");
                        }
                        (true, false) => {
                            assert_eq!(got.len(), 1, "{what}");
                            assert_eq!(got[0].kind, NoteChangeKind::Deleted, "{what}");
                            assert!(got[0].note.is_none(), "{what}");
                        }
                    }
                    // Whatever arrives with a body, the subscriber may read.
                    for e in &got {
                        if let Some(n) = &e.note {
                            assert!(s.reads(n), "{what}");
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 16 * subscribers().len());
    }

    #[test]
    fn creations_are_created_and_removals_come_first() {
        let created = changes(None, Some(&note(Visibility::Tenant, 1)));
        assert_eq!(created[0].kind, NoteChangeKind::Created);
        let narrowed = changes(
            Some(&note(Visibility::Public, 1)),
            Some(&note(Visibility::Private, 2)),
        );
        assert_eq!(narrowed.len(), 2);
        assert!(narrowed[0].revoked && narrowed[0].note.is_none());
        assert_eq!(narrowed[0].previous_visibility, Some(Visibility::Public));
        assert_eq!(narrowed[1].kind, NoteChangeKind::Updated);
        // Widening or keeping the visibility revokes nothing.
        for (a, b) in [
            (Visibility::Private, Visibility::Public),
            (Visibility::Tenant, Visibility::Tenant),
        ] {
            assert!(
                changes(Some(&note(a, 1)), Some(&note(b, 2)))
                    .iter()
                    .all(|e| !e.revoked)
            );
        }
    }

    #[test]
    fn a_note_that_changes_owner_is_a_deletion_and_a_creation() {
        let old = note(Visibility::Tenant, 1);
        let mut new = note(Visibility::Tenant, 2);
        new.owner_id = id("eu-central-1:b0b00000-0000-4000-8000-00000000000b");
        let events = changes(Some(&old), Some(&new));
        assert_eq!(
            events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            [NoteChangeKind::Deleted, NoteChangeKind::Created]
        );
    }

    #[test]
    fn the_filters_stay_within_appsync_limits() {
        for s in subscribers() {
            filter::check_limits(&s.filter()).unwrap();
            filter::check_limits(&invalidation_filter(&tenant("acme"))).unwrap();
        }
    }

    #[test]
    fn a_member_ends_with_its_tenant_or_by_its_own_sub_or_identity_only() {
        let (acme, globex) = (tenant("acme"), tenant("globex"));
        let alice = id("eu-central-1:a11ce000-0000-4000-8000-00000000000a");
        let carol = id("eu-central-1:ca201000-0000-4000-8000-00000000000c");
        let f = member_invalidation_filter(&acme, &alice, Some("sub-alice"));
        filter::check_limits(&f).unwrap();
        let hit = |p: Value| filter::matches(&f, &p);
        assert!(hit(json!({"tenantId": "acme"})));
        assert!(hit(user_invalidation(&acme, UserKey::Sub("sub-alice"))));
        assert!(hit(user_invalidation(
            &acme,
            UserKey::IdentityId(alice.as_str())
        )));
        // Another user, the same sub in another tenant, another tenant: untouched.
        assert!(!hit(user_invalidation(&acme, UserKey::Sub("sub-carol"))));
        assert!(!hit(user_invalidation(
            &acme,
            UserKey::IdentityId(carol.as_str())
        )));
        assert!(!hit(user_invalidation(&globex, UserKey::Sub("sub-alice"))));
        assert!(!hit(json!({"tenantId": "globex"})));
        assert!(!hit(json!({})));
        // A by-user payload never ends the tenant's other subscriptions (public channel, others).
        let carols = member_invalidation_filter(&acme, &carol, Some("sub-carol"));
        let public = invalidation_filter(&acme);
        for p in [
            user_invalidation(&acme, UserKey::Sub("sub-alice")),
            user_invalidation(&acme, UserKey::IdentityId(alice.as_str())),
        ] {
            assert!(!filter::matches(&carols, &p), "{p}");
            assert!(!filter::matches(&public, &p), "{p}");
        }
        // Without a sub (an OIDC user), the identity id still names it.
        let oidc = member_invalidation_filter(&acme, &alice, None);
        assert!(filter::matches(
            &oidc,
            &user_invalidation(&acme, UserKey::IdentityId(alice.as_str()))
        ));
        assert!(!filter::matches(
            &oidc,
            &user_invalidation(&acme, UserKey::Sub("sub-alice"))
        ));
    }

    #[test]
    fn invalidation_matches_the_tenant_only() {
        let f = invalidation_filter(&tenant("acme"));
        assert!(filter::matches(&f, &json!({"tenantId": "acme"})));
        assert!(!filter::matches(&f, &json!({"tenantId": "globex"})));
        assert!(!filter::matches(&f, &json!({})));
    }

    #[test]
    fn the_published_change_has_the_routing_fields_at_the_top() {
        let e = &changes(None, Some(&note(Visibility::Private, 1)))[0];
        let v = serde_json::to_value(e).unwrap();
        for k in [
            "kind",
            "noteId",
            "tenantId",
            "ownerId",
            "visibility",
            "previousVisibility",
            "revoked",
            "note",
        ] {
            assert!(v.get(k).is_some(), "{k} missing in {v}");
        }
        assert_eq!(v["kind"], "CREATED");
        assert_eq!(publish_request(e)["variables"]["change"], v);
    }
}
