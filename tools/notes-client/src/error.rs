//! One error type for the client; every variant says what to do next where that is known.

use std::path::PathBuf;

/// Anything that can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid outputs file: {message}")]
    Outputs { path: PathBuf, message: String },
    #[error("{path} is not a notes-client session: {message} (sign in again)")]
    SessionFile { path: PathBuf, message: String },
    #[error("no tenant {tenant:?} in the outputs file (tenants: {known})")]
    UnknownTenant { tenant: String, known: String },
    #[error(
        "no session {path} (sign in first: notes-client sign-in --tenant TENANT --username NAME)"
    )]
    NoSession { path: PathBuf },
    #[error("{0}")]
    Usage(String),
    #[error("this stack does not allow guests (allowGuests is false in the outputs file)")]
    GuestsNotAllowed,
    #[error("{operation}: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
    #[error("sign-in needs the challenge {0}, which notes-client does not answer")]
    UnsupportedChallenge(String),
    #[error("SRP: {0}")]
    Srp(String),
    #[error("the refresh token was refused ({0}); sign in again")]
    RefreshRefused(String),
    /// The signed GraphQL POST (iam-graphql): a bad `graphqlUrl`, signing, no answer.
    #[error(transparent)]
    Graphql(#[from] iam_graphql::Error),
    #[error("GraphQL endpoint answered HTTP {status}")]
    Status { status: u16, body: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
