//! The one error type of the API and the one place that turns it into what a function returns.
//!
//! Every resolver fails with an [`AppError`]. [`AppError::into_diagnostic`] is the only mapping to
//! the Lambda error shape (`errorType` / `errorMessage`), so the deploy layer depends on this file
//! alone.
//!
//! The contract with the deployed API: AppSync reports every failed Direct Lambda invocation as
//! `errorType: "Lambda:Unhandled"` and passes on only the `errorMessage`. So the message starts
//! with the type, `"<errorType>: <sentence>"`, and the resolvers' shared response handler
//! (`resolvers/invoke.js`) splits it and raises `util.error(sentence, errorType)`. `errorType` is
//! set as well, so `cargo lambda invoke` and direct callers see the type without parsing.

use lambda_runtime::Diagnostic;

/// A resolver failure a GraphQL client can act on.
///
/// The message of every variant but [`AppError::Internal`] is returned to the client verbatim, so
/// it must never contain table names, keys or SDK messages. `Internal` carries such detail for
/// the log only; clients see a fixed sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// The caller is not (or not acceptably) authenticated, or its provider is not a tenant.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is known but may not do this (e.g. its tenant is suspended).
    #[error("{0}")]
    Forbidden(String),
    /// The item does not exist, or the caller may not know that it exists.
    #[error("{0}")]
    NotFound(String),
    /// The request (arguments, event, page token) is malformed or out of bounds.
    #[error("{0}")]
    Validation(String),
    /// The write lost a race: a stale `expectedVersion` or a reused idempotency token.
    #[error("{0}")]
    Conflict(String),
    /// The data store is unreachable, too slow or throttling even after retries: retry later.
    /// The detail is logged, never returned.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything the client cannot fix; the detail is logged, never returned.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The sentence clients see when the data store is unavailable.
pub const UNAVAILABLE_MESSAGE: &str = "The service is temporarily unavailable; retry shortly.";

/// The sentence clients see for every internal failure.
pub const INTERNAL_MESSAGE: &str =
    "The request could not be completed because of an internal error; retry later.";

impl AppError {
    /// Every `errorType` the API returns. The resolver handlers (resolvers/*.js) keep the same
    /// list to recognise our errors; a test ties the two.
    pub const ERROR_TYPES: [&'static str; 7] = [
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "ValidationError",
        "ConflictError",
        "Unavailable",
        "InternalError",
    ];

    /// The GraphQL `errorType` of this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            AppError::Unauthorized(_) => "Unauthorized",
            AppError::Forbidden(_) => "Forbidden",
            AppError::NotFound(_) => "NotFound",
            AppError::Validation(_) => "ValidationError",
            AppError::Conflict(_) => "ConflictError",
            AppError::Unavailable(_) => "Unavailable",
            AppError::Internal(_) => "InternalError",
        }
    }

    /// The GraphQL `errorMessage`: the sentence for the client, never internal detail.
    pub fn client_message(&self) -> &str {
        match self {
            AppError::Unauthorized(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::Validation(m)
            | AppError::Conflict(m) => m,
            AppError::Unavailable(_) => UNAVAILABLE_MESSAGE,
            AppError::Internal(_) => INTERNAL_MESSAGE,
        }
    }

    /// An internal failure with the context the log needs.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        AppError::Internal(format!("{context}: {err}"))
    }

    pub(crate) fn validation(msg: impl Into<String>) -> Self {
        AppError::Validation(msg.into())
    }

    /// The Lambda error shape. Logs internal detail here, the one place that does.
    pub fn into_diagnostic(self) -> Diagnostic {
        match &self {
            AppError::Internal(detail) => tracing::error!(detail = %detail, "internal error"),
            AppError::Unavailable(detail) => tracing::warn!(detail = %detail, "unavailable"),
            _ => {}
        }
        Diagnostic {
            error_type: self.error_type().to_owned(),
            error_message: format!("{}: {}", self.error_type(), self.client_message()),
        }
    }
}

impl From<AppError> for Diagnostic {
    fn from(err: AppError) -> Self {
        err.into_diagnostic()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_graphql_error_type() {
        let cases = [
            (AppError::Unauthorized("u".into()), "Unauthorized"),
            (AppError::Forbidden("f".into()), "Forbidden"),
            (AppError::NotFound("n".into()), "NotFound"),
            (AppError::Validation("v".into()), "ValidationError"),
            (AppError::Conflict("c".into()), "ConflictError"),
            (AppError::Unavailable("x".into()), "Unavailable"),
            (AppError::Internal("i".into()), "InternalError"),
        ];
        for (err, ty) in cases {
            let d = Diagnostic::from(err);
            assert_eq!(d.error_type, ty);
            // The message carries the type for the AppSync response handler.
            assert!(
                d.error_message.starts_with(&format!("{ty}: ")),
                "{}",
                d.error_message
            );
        }
    }

    #[test]
    fn the_resolver_handlers_know_exactly_our_error_types() {
        let every = [
            AppError::Unauthorized(String::new()),
            AppError::Forbidden(String::new()),
            AppError::NotFound(String::new()),
            AppError::Validation(String::new()),
            AppError::Conflict(String::new()),
            AppError::Unavailable(String::new()),
            AppError::Internal(String::new()),
        ];
        let from_variants: Vec<&str> = every.iter().map(AppError::error_type).collect();
        assert_eq!(from_variants, AppError::ERROR_TYPES);
        let quoted: Vec<String> = AppError::ERROR_TYPES
            .iter()
            .map(|t| format!("'{t}'"))
            .collect();
        let list = format!("[{}]", quoted.join(", "));
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../resolvers");
        for file in ["invoke.js", "batch-invoke.js", "invoke.test.mjs"] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            assert!(
                text.contains(&list),
                "resolvers/{file} must list exactly {list} (AppError's error types)"
            );
        }
    }

    #[test]
    fn internal_detail_never_reaches_the_client() {
        let d = Diagnostic::from(AppError::internal(
            "GetItem on table notes-prod",
            "ResourceNotFoundException",
        ));
        assert_eq!(
            d.error_message,
            format!("InternalError: {INTERNAL_MESSAGE}")
        );
        assert!(!d.error_message.contains("notes-prod"));
    }
}
