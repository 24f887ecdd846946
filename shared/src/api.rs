//! The notes API: one resolver per GraphQL field. Each states its field, who it admits, its
//! arguments and its output; the glue in [`crate::lambda`] does the rest.

use std::collections::{BTreeSet, HashMap};

use lambda_runtime::Diagnostic;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AppError;
use crate::event::Field;
use crate::identity::{Caller, IdentityId};
use crate::lambda::{
    App, BatchResolver, Claimant, Handler, Member, Pipeline, Resolver, TenantUser,
};
use crate::notes::{
    self, CreateNoteInput, NewNote, Note, NoteId, NoteUpdate, UpdateNoteInput, can_read,
};
use crate::pagination::{self, Binding, Limit, Position};
use crate::profiles::{self, DisplayName, Profile, Role};
use crate::realtime::SubscriptionGrant;
use crate::store::{Page, PublicReader, TenantStore, Writer};
use crate::tenancy::TenantId;
use crate::text::shorten;

/// GraphQL `Caller`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerView {
    pub identity_id: String,
    pub authenticated: bool,
    pub tenant_id: Option<String>,
    pub provider: Option<String>,
    pub user_sub: Option<String>,
}

/// GraphQL `NoteConnection`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteConnection {
    pub items: Vec<Note>,
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NoArgs {}

#[derive(Debug, Deserialize)]
pub struct IdArgs {
    pub id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageArgs {
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicNotesArgs {
    pub tenant_id: String,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct InputArgs<T> {
    pub input: T,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteArgs {
    pub id: String,
    #[serde(default)]
    pub expected_version: Option<i64>,
}

fn connection(app: &App, binding: &Binding, page: Page) -> Result<NoteConnection, AppError> {
    let next_token = page
        .next
        .map(|at| pagination::seal(&app.config.page_token_secret, binding, &at))
        .transpose()?;
    Ok(NoteConnection {
        items: page.items,
        next_token,
    })
}

fn cursor(app: &App, binding: &Binding, token: Option<&str>) -> Result<Option<Position>, AppError> {
    token
        .map(|t| pagination::open(&app.config.page_token_secret, binding, t))
        .transpose()
}

/// `Query.me`: who the API thinks the caller is. Open to guests.
pub struct Me;

impl Resolver for Me {
    const FIELD: Field = Field::new("Query", "me");
    type Access = Caller;
    type Args = NoArgs;
    type Output = CallerView;

    async fn resolve(&self, app: &App, who: Caller, _: NoArgs) -> Result<CallerView, AppError> {
        Ok(match who {
            Caller::Guest(g) => CallerView {
                identity_id: g.identity_id.as_str().to_owned(),
                authenticated: false,
                tenant_id: None,
                provider: None,
                user_sub: None,
            },
            Caller::User(u) => {
                // A user whose provider is not a tenant, or whose tenant is suspended, is told so.
                let tenant = app.registry.tenant_of(&u).await?;
                CallerView {
                    identity_id: u.identity_id.as_str().to_owned(),
                    authenticated: true,
                    tenant_id: Some(tenant.id().to_string()),
                    provider: Some(u.provider.as_str().to_owned()),
                    user_sub: u.user_sub,
                }
            }
        })
    }
}

/// `Query.note(id)`: the note, or `null` if it does not exist or the caller may not read it.
pub struct GetNote;

impl Resolver for GetNote {
    const FIELD: Field = Field::new("Query", "note");
    type Access = Member;
    type Args = IdArgs;
    type Output = Option<Note>;

    async fn resolve(&self, _: &App, who: Member, args: IdArgs) -> Result<Option<Note>, AppError> {
        let id = NoteId::parse(&args.id)?;
        let note = who.store.get_note(&id).await?;
        Ok(note.filter(|n| can_read(n, &who.user.identity_id)))
    }
}

/// `Query.notes`: the notes of the caller's tenant it may read, newest first.
pub struct ListNotes;

impl Resolver for ListNotes {
    const FIELD: Field = Field::new("Query", "notes");
    type Access = Member;
    type Args = PageArgs;
    type Output = NoteConnection;

    async fn resolve(
        &self,
        app: &App,
        who: Member,
        args: PageArgs,
    ) -> Result<NoteConnection, AppError> {
        let limit = Limit::parse(args.limit)?;
        let binding = Binding {
            query: <Self as Resolver>::FIELD.field_name.into(),
            tenant: who.store.tenant().id().to_string(),
            caller: who.user.identity_id.as_str().into(),
        };
        let after = cursor(app, &binding, args.next_token.as_deref())?;
        let page = who
            .store
            .list_readable(&who.user.identity_id, limit, after.as_ref())
            .await?;
        connection(app, &binding, page)
    }
}

/// `Query.publicNotes(tenantId)`: PUBLIC notes of a named active tenant, for anyone.
pub struct PublicNotes;

impl Resolver for PublicNotes {
    const FIELD: Field = Field::new("Query", "publicNotes");
    type Access = Caller;
    type Args = PublicNotesArgs;
    type Output = NoteConnection;

    fn data_tenant(args: &PublicNotesArgs) -> Option<TenantId> {
        // Only a well-formed id names a tenant; anything else reads nothing.
        TenantId::parse(&args.tenant_id).ok()
    }

    async fn resolve(
        &self,
        app: &App,
        _: Caller,
        args: PublicNotesArgs,
    ) -> Result<NoteConnection, AppError> {
        let limit = Limit::parse(args.limit)?;
        // A malformed id cannot name a tenant: answer as for an unknown one.
        let tenant_id = TenantId::parse(&args.tenant_id).map_err(|_| {
            AppError::NotFound("No tenant with that id serves public notes.".into())
        })?;
        let binding = Binding {
            query: <Self as Resolver>::FIELD.field_name.into(),
            tenant: tenant_id.to_string(),
            caller: String::new(),
        };
        let after = cursor(app, &binding, args.next_token.as_deref())?;
        let tenant = app.registry.active_by_id(&tenant_id).await?;
        // In the tenant-scoped credentials mode this is the tenant's own session too: the
        // functions' base roles then reach nothing but the registry.
        let db = app.db_for(&tenant).await?;
        let page = PublicReader::new(db, tenant)
            .list(limit, after.map(|p| p.after).as_ref())
            .await?;
        connection(app, &binding, page)
    }
}

/// `Mutation.createNote`: a new note owned by the caller; idempotent per `clientToken`.
pub struct CreateNote;

impl Resolver for CreateNote {
    const FIELD: Field = Field::new("Mutation", "createNote");
    type Access = Member;
    type Args = InputArgs<CreateNoteInput>;
    type Output = Note;

    async fn resolve(&self, _: &App, who: Member, args: Self::Args) -> Result<Note, AppError> {
        let new = NewNote::try_from(args.input)?;
        let token = new.client_token.clone();
        let me = &who.user.identity_id;
        let note = new.into_note(who.store.tenant().id(), me, &notes::now_timestamp());
        let outcome = who
            .store
            .create_note(&note, token.as_ref().map(|t| (me, t)))
            .await?;
        Ok(outcome.into_note())
    }
}

/// Runs an owner's write, and if it was refused because the caller is not the owner, runs it
/// again as an admin when the caller's profile says ADMIN. The common case (the owner) costs
/// one round trip; only a refused write reads the caller's profile.
async fn owner_or_admin<T, F, Fut>(who: &Member, write: F) -> Result<T, AppError>
where
    F: Fn(Writer) -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    let me = &who.user.identity_id;
    match write(Writer::Owner(me.clone())).await {
        Err(refused @ (AppError::Forbidden(_) | AppError::NotFound(_))) => {
            match who.store.admin(me).await? {
                Some(admin) => write(Writer::Admin(admin)).await,
                None => Err(refused),
            }
        }
        other => other,
    }
}

/// `Mutation.updateNote`: the owner's (or a tenant admin's) change, if `expectedVersion` is
/// current.
pub struct UpdateNote;

impl Resolver for UpdateNote {
    const FIELD: Field = Field::new("Mutation", "updateNote");
    type Access = Member;
    type Args = InputArgs<UpdateNoteInput>;
    type Output = Note;

    async fn resolve(&self, _: &App, who: Member, args: Self::Args) -> Result<Note, AppError> {
        let change = NoteUpdate::try_from(args.input)?;
        let now = notes::now_timestamp();
        owner_or_admin(&who, |w| who.store.update_note(w, &change, &now)).await
    }
}

/// `Mutation.deleteNote`: removes the owner's (or, for a tenant admin, any) note of the tenant
/// and returns it as it was.
pub struct DeleteNote;

impl Resolver for DeleteNote {
    const FIELD: Field = Field::new("Mutation", "deleteNote");
    type Access = Member;
    type Args = DeleteArgs;
    type Output = Note;

    async fn resolve(&self, _: &App, who: Member, args: DeleteArgs) -> Result<Note, AppError> {
        let id = NoteId::parse(&args.id)?;
        let expected = args
            .expected_version
            .map(notes::parse_version)
            .transpose()?;
        owner_or_admin(&who, |w| who.store.delete_note(w, &id, expected)).await
    }
}

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

/// GraphQL `Tenant`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    pub id: String,
    pub name: String,
    pub member_count: i64,
}

/// `Query.tenant`: the caller's tenant, with its exact member count.
pub struct Tenant;

impl Resolver for Tenant {
    const FIELD: Field = Field::new("Query", "tenant");
    type Access = Member;
    type Args = NoArgs;
    type Output = TenantView;

    async fn resolve(&self, _: &App, who: Member, _: NoArgs) -> Result<TenantView, AppError> {
        let member_count = who.store.member_count().await?;
        let t = who.store.tenant();
        Ok(TenantView {
            id: t.id().to_string(),
            name: t.name().to_owned(),
            member_count,
        })
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

/// `Subscription.onNoteChanged`: the filters of a signed-in user's subscription to the notes it
/// may read (`shared::realtime`). Decided here from the caller's identity alone: the field takes
/// no arguments, and `resolvers/subscribe.js` never reads any.
pub struct OnNoteChanged;

impl Resolver for OnNoteChanged {
    const FIELD: Field = Field::new("Subscription", "onNoteChanged");
    type Access = TenantUser;
    type Args = NoArgs;
    type Output = SubscriptionGrant;

    async fn resolve(
        &self,
        _: &App,
        who: TenantUser,
        _: NoArgs,
    ) -> Result<SubscriptionGrant, AppError> {
        Ok(SubscriptionGrant::member(
            who.tenant.id(),
            &who.user.identity_id,
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantArgs {
    pub tenant_id: String,
}

/// `Subscription.onPublicNoteChanged(tenantId)`: the public channel of an active tenant, for
/// anyone. An unknown, malformed or suspended tenant is `NotFound`, as for `publicNotes`.
pub struct OnPublicNoteChanged;

impl Resolver for OnPublicNoteChanged {
    const FIELD: Field = Field::new("Subscription", "onPublicNoteChanged");
    type Access = Caller;
    type Args = TenantArgs;
    type Output = SubscriptionGrant;

    async fn resolve(
        &self,
        app: &App,
        _: Caller,
        args: TenantArgs,
    ) -> Result<SubscriptionGrant, AppError> {
        let tenant_id = TenantId::parse(&args.tenant_id).map_err(|_| {
            AppError::NotFound("No tenant with that id serves public notes.".into())
        })?;
        let tenant = app.registry.active_by_id(&tenant_id).await?;
        Ok(SubscriptionGrant::public(tenant.id()))
    }
}

/// Every resolver of the API, once: the function (crate and binary) that serves it, its field,
/// and whether AppSync sends it single events or BatchInvoke arrays. The template/schema/
/// functions consistency test, the events test, the isolation matrix, the benchmark and
/// `tenantctl resolvers` (which `scripts/gen-events.py` reads) all read this list; it also makes
/// each listed type a [`Handler`] that `shared::lambda::serve` can run.
macro_rules! resolvers {
    ($($kind:ident $function:literal => $resolver:ident,)*) => {
        /// The registry: see [`Entry`].
        pub const RESOLVERS: &[Entry] = &[
            $(Entry {
                function: $function,
                field: resolvers!(@field $kind $resolver),
                kind: Kind::$kind,
                resolver: stringify!($resolver),
                claims_first_admin: resolvers!(@claims $kind $resolver),
            },)*
        ];

        $(impl Handler for $resolver {
            const FIELD: Field = resolvers!(@field $kind $resolver);
            fn handle<'a>(
                &'a self,
                app: &'a App,
                payload: Result<Value, AppError>,
            ) -> Pipeline<'a> {
                Box::pin(resolvers!(@handle $kind app self payload))
            }
        })*

        /// Invokes the function named `function` in-process with `payload`, exactly as the
        /// deployed function would answer it.
        pub async fn dispatch(function: &str, app: &App, payload: Value) -> Result<Value, Diagnostic> {
            match function {
                $($function => crate::lambda::call(app, &$resolver, payload).await,)*
                other => Err(AppError::validation(format!(
                    "No function named '{}' in the registry.",
                    crate::text::shorten(other, 64)
                ))
                .into_diagnostic()),
            }
        }
    };
    (@field Single $resolver:ident) => { <$resolver as Resolver>::FIELD };
    (@field Batch $resolver:ident) => { <$resolver as BatchResolver>::FIELD };
    (@claims Single $resolver:ident) => {
        <<$resolver as Resolver>::Access as crate::lambda::Access>::CLAIMS_FIRST_ADMIN
    };
    (@claims Batch $resolver:ident) => { false };
    (@handle Single $app:ident $self:ident $payload:ident) => {
        crate::lambda::single::handle($app, $self, $payload)
    };
    (@handle Batch $app:ident $self:ident $payload:ident) => {
        crate::lambda::batch::handle($app, $self, $payload)
    };
}

/// How AppSync sends a field's events to its function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One event per field (a root field, or a nested one without batching).
    Single,
    /// BatchInvoke: an array of events, one per parent object.
    Batch,
}

/// One registry entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The function's crate, binary and template `BuildProperties.Binary`: `functions/<function>`.
    pub function: &'static str,
    pub field: Field,
    pub kind: Kind,
    /// The resolver's type name in this module (what the function's `main` serves).
    pub resolver: &'static str,
    /// Whether its calls settle onboard's pending first-admin claim ([`Claimant`]): its role
    /// must hold the claim's transactional writes (the template test checks it).
    pub claims_first_admin: bool,
}

/// The entry of `function`, if the registry lists it.
pub fn entry(function: &str) -> Option<&'static Entry> {
    RESOLVERS.iter().find(|e| e.function == function)
}

resolvers! {
    Single "me" => Me,
    Single "get-note" => GetNote,
    Single "list-notes" => ListNotes,
    Single "public-notes" => PublicNotes,
    Single "create-note" => CreateNote,
    Single "update-note" => UpdateNote,
    Single "delete-note" => DeleteNote,
    Single "my-profile" => MyProfile,
    Single "tenant" => Tenant,
    Single "update-my-profile" => UpdateMyProfile,
    Single "set-role" => SetRole,
    Batch "note-author" => NoteAuthor,
    Single "on-note-changed" => OnNoteChanged,
    Single "on-public-note-changed" => OnPublicNoteChanged,
}
