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
    #[error("{what} was not found.")]
    NotFound { what: String },
    #[error("This request came from another site and was refused.")]
    CrossOrigin,
    /// The details went to the server log, never to the client.
    #[error("Something went wrong on the server. Try again, or ask the operator to check the logs.")]
    Internal,
    #[error("The request could not be completed: {message}")]
    Transport { message: String },
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound { what: what.into() }
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
            AppError::Invalid { .. } | AppError::Transport { .. } => 400,
            AppError::BadLogin | AppError::NotSignedIn => 401,
            AppError::Forbidden | AppError::CrossOrigin => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict { .. } => 409,
            AppError::Throttled { .. } => 429,
            AppError::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport {
            message: value.to_string(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_serialises_and_round_trips() {
        let all = [
            AppError::invalid("path", "bad"),
            AppError::conflict("name", "taken"),
            AppError::BadLogin,
            AppError::Throttled { retry_after_secs: 3 },
            AppError::NotSignedIn,
            AppError::Forbidden,
            AppError::not_found("The key"),
            AppError::CrossOrigin,
            AppError::Internal,
            AppError::Transport {
                message: "offline".into(),
            },
        ];
        for err in all {
            let json = serde_json::to_string(&err).unwrap_or_else(|e| panic!("{err:?} does not serialise: {e}"));
            assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), err);
        }
    }
}
