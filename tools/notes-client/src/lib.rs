//! `notes-client`: the notes API's app flow as a library and a command.
//!
//! 1. Sign in at the tenant's Cognito User Pool with SRP (InitiateAuth USER_SRP_AUTH, then
//!    RespondToAuthChallenge PASSWORD_VERIFIER) — [`cognito::Cognito::sign_in`], [`srp`].
//! 2. Trade the id token for an identity and IAM credentials at the Identity Pool (GetId,
//!    GetCredentialsForIdentity with `Logins` = `cognito-idp.<region>.amazonaws.com/<pool>`);
//!    guests do the same without `Logins`.
//! 3. Sign each GraphQL POST with SigV4 (service `appsync`) — [`graphql`].
//!
//! Sessions are files ([`session`]), refreshed when their credentials expire (the id token first,
//! through REFRESH_TOKEN_AUTH, when it has expired too). Where the stack is comes from an
//! outputs file ([`outputs`]).

pub mod cli;
pub mod cognito;
pub mod error;
pub mod graphql;
pub mod outputs;
pub mod session;
pub mod srp;

pub use error::{Error, Result};
