//! Notes: `Query.note`, `Query.notes`, `Query.publicNotes` and the note mutations, with the
//! page and connection helpers they share.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::event::Field;
use crate::identity::Caller;
use crate::lambda::{App, Member, Resolver};
use crate::notes::{
    self, CreateNoteInput, NewNote, Note, NoteId, NoteUpdate, UpdateNoteInput, can_read,
};
use crate::pagination::{self, Binding, Limit, Position};
use crate::store::{Page, PublicReader, Writer};
use crate::tenancy::TenantId;

use super::{IdArgs, InputArgs, PageArgs};

/// GraphQL `NoteConnection`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteConnection {
    pub items: Vec<Note>,
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
