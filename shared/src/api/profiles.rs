//! Profiles and roles: `Query.myProfile`, `Mutation.updateMyProfile`, `Mutation.setRole` and
//! the batched `Note.author`.

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;

use crate::error::AppError;
use crate::event::Field;
use crate::identity::IdentityId;
use crate::lambda::{App, BatchResolver, Claimant, Member, Resolver};
use crate::notes::{self};
use crate::profiles::{self, DisplayName, Profile, Role};
use crate::store::TenantStore;
use crate::tenancy::TenantId;
use crate::text::shorten;

use super::{InputArgs, NoArgs};

/// The parent `Note` as a batch item's `source`: only what routing an author look-up needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteRef {
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
}

/// `Note.author`, a batch resolver: one BatchGetItem per 100 distinct authors for a whole page
/// of notes, instead of one invocation and one read per note.
pub struct NoteAuthor;

impl BatchResolver for NoteAuthor {
    const FIELD: Field = Field::new("Note", "author");
    const MAX_BATCH_SIZE: usize = 100;
    type Source = NoteRef;
    type Output = Profile;

    async fn resolve_batch(
        &self,
        _: &App,
        items: Vec<Option<(Member, NoteRef)>>,
    ) -> Result<Vec<Option<Profile>>, AppError> {
        // The authors to read, per tenant (a batch normally holds one caller, hence one tenant).
        let mut wanted: HashMap<TenantId, (TenantStore, BTreeSet<IdentityId>)> = HashMap::new();
        let mut plan: Vec<Option<(TenantId, IdentityId)>> = Vec::with_capacity(items.len());
        for item in items {
            let Some((member, note)) = item else {
                plan.push(None);
                continue;
            };
            let tenant = member.store.tenant().id().clone();
            if note.tenant_id != tenant.as_str() {
                // Someone handed us another tenant's note as the parent: answer nothing.
                tracing::warn!(
                    security_event = "foreign_parent",
                    field = %<Self as BatchResolver>::FIELD,
                    caller_tenant = %tenant,
                    note_tenant = %shorten(&note.tenant_id, 64),
                    note_id = %shorten(&note.id, 64),
                    "refused a Note.author item whose note belongs to another tenant"
                );
                plan.push(None);
                continue;
            }
            let Ok(owner) = IdentityId::parse(&note.owner_id) else {
                plan.push(None);
                continue;
            };
            wanted
                .entry(tenant.clone())
                .or_insert_with(|| (member.store.clone(), BTreeSet::new()))
                .1
                .insert(owner.clone());
            plan.push(Some((tenant, owner)));
        }
        let mut found: HashMap<TenantId, HashMap<IdentityId, Profile>> = HashMap::new();
        for (tenant, (store, ids)) in wanted {
            found.insert(tenant, store.get_profiles(&ids).await?);
        }
        Ok(plan
            .into_iter()
            .map(|p| {
                p.and_then(|(tenant, owner)| {
                    found.get(&tenant).and_then(|m| m.get(&owner)).cloned()
                })
            })
            .collect())
    }
}

/// `Query.myProfile`: the caller's profile, or null before its first `updateMyProfile`.
pub struct MyProfile;

impl Resolver for MyProfile {
    const FIELD: Field = Field::new("Query", "myProfile");
    // The one field that settles onboard's pending first-admin claim (see `Claimant`).
    type Access = Claimant;
    type Args = NoArgs;
    type Output = Option<Profile>;

    async fn resolve(
        &self,
        _: &App,
        Claimant(who): Claimant,
        _: NoArgs,
    ) -> Result<Option<Profile>, AppError> {
        who.store.get_profile(&who.user.identity_id).await
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProfileInput {
    pub display_name: String,
}

/// `Mutation.updateMyProfile`: creates the caller's profile (MEMBER) or renames it.
pub struct UpdateMyProfile;

impl Resolver for UpdateMyProfile {
    const FIELD: Field = Field::new("Mutation", "updateMyProfile");
    type Access = Member;
    type Args = InputArgs<UpdateProfileInput>;
    type Output = Profile;

    async fn resolve(&self, _: &App, who: Member, args: Self::Args) -> Result<Profile, AppError> {
        let name = DisplayName::parse(args.input.display_name)?;
        who.store
            .save_my_profile(&who.user.identity_id, &name, &notes::now_timestamp())
            .await
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetRoleArgs {
    pub identity_id: String,
    pub role: Role,
}

/// `Mutation.setRole`: an ADMIN changes the role of a user of its own tenant. The tenant is never
/// left without an ADMIN (`ConflictError`).
pub struct SetRole;

impl Resolver for SetRole {
    const FIELD: Field = Field::new("Mutation", "setRole");
    type Access = Member;
    type Args = SetRoleArgs;
    type Output = Profile;

    async fn resolve(&self, _: &App, who: Member, args: SetRoleArgs) -> Result<Profile, AppError> {
        let target = profiles::parse_identity_arg(&args.identity_id)?;
        let admin = who
            .store
            .admin(&who.user.identity_id)
            .await?
            .ok_or_else(profiles::not_admin)?;
        who.store
            .set_role(&admin, &target, args.role, &notes::now_timestamp())
            .await
    }
}
