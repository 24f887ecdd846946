//! tenantctl's errors: what an operator reads, and the exit code a script checks.

use std::path::PathBuf;
use std::process::ExitCode;

use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata};
use shared::AppError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The registry or the table said no, or could not be reached.
    #[error("{}", app_message(.0))]
    App(#[from] AppError),
    /// A Cognito call failed; `code` is the service's error code when it sent one.
    #[error("{op}: {detail}")]
    Cognito {
        op: &'static str,
        code: Option<String>,
        detail: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The command line asks for something that cannot be done as asked.
    #[error("{0}")]
    Usage(String),
    /// A limit or a safety rule refused the change before anything was done.
    #[error("{0}")]
    Refused(String),
    /// The fault hook stopped the run after a step (tests only).
    #[error(
        "stopped after step {step} ({name}) because TENANTCTL_STOP_AFTER_STEP={step} (test hook); run the command again to finish"
    )]
    Stopped { step: u32, name: &'static str },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An operator needs the detail that a GraphQL client must not see.
fn app_message(e: &AppError) -> String {
    match e {
        AppError::Internal(detail) | AppError::Unavailable(detail) => detail.clone(),
        other => format!("{}: {}", other.error_type(), other.client_message()),
    }
}

impl Error {
    /// A Cognito SDK failure, with the full cause chain for the operator.
    pub fn cognito<E, R>(
        op: &'static str,
        e: aws_sdk_cognitoidentityprovider::error::SdkError<E, R>,
    ) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
        R: std::fmt::Debug,
    {
        Error::Cognito {
            op,
            code: e.code().map(str::to_owned),
            detail: DisplayErrorContext(&e).to_string(),
        }
    }

    /// The service error code of a Cognito failure.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Cognito { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// 2: the command line; 3: stopped by the test hook; 1: anything else.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) => ExitCode::from(2),
            Error::Stopped { .. } => ExitCode::from(3),
            _ => ExitCode::FAILURE,
        }
    }
}
