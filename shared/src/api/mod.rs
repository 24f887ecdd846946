//! The notes API: one resolver per GraphQL field, one file per aggregate. Each resolver states
//! its field, who it admits, its arguments and its output; the glue in [`crate::lambda`] does the
//! rest. This module holds [`FIELDS`] (the field table), [`dispatch`] and the argument types the
//! aggregates share.
//!
//! - `caller`: `Query.me`.
//! - `notes`: `Query.note`, `Query.notes`, `Query.publicNotes`, `Mutation.createNote`,
//!   `Mutation.updateNote`, `Mutation.deleteNote`.
//! - `profiles`: `Query.myProfile`, `Mutation.updateMyProfile`, `Mutation.setRole`, `Note.author`.
//! - `tenant`: `Query.tenant`.
//! - `realtime`: `Subscription.onNoteChanged`, `Subscription.onPublicNoteChanged`.

mod caller;
mod notes;
mod profiles;
mod realtime;
mod tenant;

pub use caller::*;
pub use notes::*;
pub use profiles::*;
pub use realtime::*;
pub use tenant::*;

use lambda_runtime::Diagnostic;
use serde::Deserialize;
use serde_json::Value;

use crate::error::AppError;
use crate::event::Field;
use crate::lambda::{App, BatchResolver, Handler, Pipeline, Resolver};

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
pub struct InputArgs<T> {
    pub input: T,
}

/// Every field of the API, once: the function (crate and binary) that serves it, its resolver,
/// and whether AppSync sends it single events or BatchInvoke arrays. The template/schema/
/// functions consistency test, the events test (and the `gen-events` binary that writes
/// `events/`), the isolation matrix and the benchmark all read this table; it also makes each
/// listed type a [`Handler`] that `shared::lambda::serve` can run.
macro_rules! fields {
    ($($kind:ident $function:literal => $resolver:ident,)*) => {
        /// The field table: see [`Entry`].
        pub const FIELDS: &[Entry] = &[
            $(Entry {
                function: $function,
                field: fields!(@field $kind $resolver),
                kind: Kind::$kind,
                resolver: stringify!($resolver),
                claims_first_admin: fields!(@claims $kind $resolver),
            },)*
        ];

        $(impl Handler for $resolver {
            const FIELD: Field = fields!(@field $kind $resolver);
            fn handle<'a>(
                &'a self,
                app: &'a App,
                payload: Result<Value, AppError>,
            ) -> Pipeline<'a> {
                Box::pin(fields!(@handle $kind app self payload))
            }
        })*

        /// Invokes the function named `function` in-process with `payload`, exactly as the
        /// deployed function would answer it.
        pub async fn dispatch(function: &str, app: &App, payload: Value) -> Result<Value, Diagnostic> {
            match function {
                $($function => crate::lambda::call(app, &$resolver, payload).await,)*
                other => Err(AppError::validation(format!(
                    "No function named '{}' in the field table.",
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

/// One row of [`FIELDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The function's crate, binary and template `BuildProperties.Binary`: `functions/<function>`.
    pub function: &'static str,
    pub field: Field,
    pub kind: Kind,
    /// The resolver's type name in this module (what the function's `main` serves).
    pub resolver: &'static str,
    /// Whether its calls settle onboard's pending first-admin claim ([`Claimant`](crate::lambda::Claimant)): its role
    /// must hold the claim's transactional writes (the template test checks it).
    pub claims_first_admin: bool,
}

/// The row of `function`, if [`FIELDS`] lists it.
pub fn entry(function: &str) -> Option<&'static Entry> {
    FIELDS.iter().find(|e| e.function == function)
}

fields! {
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
