//! The one error type of Stook's server functions: serialisable for the browser, with a
//! message fit to show a person and an HTTP status for scripts.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    /// Input broke a rule; `field` names the form field it belongs to.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{message}")]
    Conflict { field: String, message: String },
    #[error("Email or password is incorrect.")]
    BadLogin,
    #[error("Too many failed attempts. Try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: u64 },
    #[error("Sign in to continue.")]
    NotSignedIn,
    #[error("You do not have access to this.")]
    Forbidden,
    #[error("{0} was not found.")]
    NotFound(String),
    #[error("This request came from another site and was refused.")]
    CrossOrigin,
    /// The details went to the server log, never to the client.
    #[error("Something went wrong on the server. Try again, or ask the operator to check the logs.")]
    Internal,
    #[error("The request could not be completed: {0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        AppError::Conflict {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The form field this error belongs to, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } | AppError::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::Transport(_) => 400,
            AppError::BadLogin | AppError::NotSignedIn => 401,
            AppError::Forbidden | AppError::CrossOrigin => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict { .. } => 409,
            AppError::Throttled { .. } => 429,
            AppError::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}
