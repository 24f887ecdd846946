//! The notes API: one resolver per GraphQL field. Each states its field, who it admits, its
//! arguments and its output; the glue in [`crate::lambda`] does the rest.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::event::Field;
use crate::identity::Caller;
use crate::lambda::{App, Member, Resolver};
use crate::notes::{
    self, CreateNoteInput, NewNote, Note, NoteId, NoteUpdate, UpdateNoteInput, can_read,
};
use crate::pagination::{self, Binding, Limit};
use crate::store::{Page, PublicNotes as PublicNotesView};
use crate::tenancy::TenantId;

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
        .last
        .map(|id| pagination::seal(&app.config.page_token_secret, binding, &id))
        .transpose()?;
    Ok(NoteConnection {
        items: page.items,
        next_token,
    })
}

fn cursor(app: &App, binding: &Binding, token: Option<&str>) -> Result<Option<NoteId>, AppError> {
    token
        .map(|t| pagination::open(&app.config.page_token_secret, binding, t))
        .transpose()
}

/// `Query.me`: who the API thinks the caller is. Open to guests.
pub struct Me;

impl Resolver for Me {
    const FIELD: Field = Field {
        type_name: "Query",
        field_name: "me",
    };
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
    const FIELD: Field = Field {
        type_name: "Query",
        field_name: "note",
    };
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
    const FIELD: Field = Field {
        type_name: "Query",
        field_name: "notes",
    };
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
            query: Self::FIELD.field_name.into(),
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
    const FIELD: Field = Field {
        type_name: "Query",
        field_name: "publicNotes",
    };
    type Access = Caller;
    type Args = PublicNotesArgs;
    type Output = NoteConnection;

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
            query: Self::FIELD.field_name.into(),
            tenant: tenant_id.to_string(),
            caller: String::new(),
        };
        let after = cursor(app, &binding, args.next_token.as_deref())?;
        let tenant = app.registry.active_by_id(&tenant_id).await?;
        let page = PublicNotesView::new(app.db.clone(), tenant)
            .list(limit, after.as_ref())
            .await?;
        connection(app, &binding, page)
    }
}

/// `Mutation.createNote`: a new note owned by the caller; idempotent per `clientToken`.
pub struct CreateNote;

impl Resolver for CreateNote {
    const FIELD: Field = Field {
        type_name: "Mutation",
        field_name: "createNote",
    };
    type Access = Member;
    type Args = InputArgs<CreateNoteInput>;
    type Output = Note;

    async fn resolve(&self, _: &App, who: Member, args: Self::Args) -> Result<Note, AppError> {
        let new = NewNote::try_from(args.input)?;
        let token = new.client_token.clone();
        let me = &who.user.identity_id;
        let note = new.into_note(
            who.store.tenant().id().as_str(),
            me,
            &notes::now_timestamp(),
        );
        let outcome = who
            .store
            .create_note(&note, token.as_ref().map(|t| (me, t)))
            .await?;
        Ok(outcome.into_note())
    }
}

/// `Mutation.updateNote`: the owner's change, if `expectedVersion` is current.
pub struct UpdateNote;

impl Resolver for UpdateNote {
    const FIELD: Field = Field {
        type_name: "Mutation",
        field_name: "updateNote",
    };
    type Access = Member;
    type Args = InputArgs<UpdateNoteInput>;
    type Output = Note;

    async fn resolve(&self, _: &App, who: Member, args: Self::Args) -> Result<Note, AppError> {
        let change = NoteUpdate::try_from(args.input)?;
        who.store
            .update_note(&who.user.identity_id, &change, &notes::now_timestamp())
            .await
    }
}

/// `Mutation.deleteNote`: removes the owner's note and returns it as it was.
pub struct DeleteNote;

impl Resolver for DeleteNote {
    const FIELD: Field = Field {
        type_name: "Mutation",
        field_name: "deleteNote",
    };
    type Access = Member;
    type Args = DeleteArgs;
    type Output = Note;

    async fn resolve(&self, _: &App, who: Member, args: DeleteArgs) -> Result<Note, AppError> {
        let id = NoteId::parse(&args.id)?;
        let expected = args
            .expected_version
            .map(notes::parse_version)
            .transpose()?;
        who.store
            .delete_note(&who.user.identity_id, &id, expected)
            .await
    }
}
