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
    #[error("Too many failed attempts. Try again in {}.", wait_in_words(*retry_after_secs))]
    Throttled { retry_after_secs: u64 },
    /// Every password-checking slot stayed busy (a burst of sign-ins): try again shortly.
    #[error("The server is busy checking other passwords. Try again in {}.", wait_in_words(*retry_after_secs))]
    Busy { retry_after_secs: u64 },
    #[error("Sign in to continue.")]
    NotSignedIn,
    #[error("You do not have access to this.")]
    Forbidden,
    #[error("{what} was not found.")]
    NotFound { what: String },
    #[error("This request came from another site and was refused.")]
    CrossOrigin,
    #[error("The request body is larger than the {limit_bytes} bytes the API takes.")]
    TooLarge { limit_bytes: u64 },
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

    /// Seconds to wait before trying again, for a `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::Throttled { retry_after_secs } | AppError::Busy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// What a plain form's redirect carries in `?error=`: a code from a fixed list, never
    /// the message itself, so a link cannot make a page show text of its author's choosing.
    pub fn code(&self) -> String {
        match self {
            AppError::Invalid { field, .. } => format!("invalid.{field}"),
            AppError::Conflict { field, .. } => format!("conflict.{field}"),
            AppError::BadLogin => "bad_login".into(),
            AppError::Throttled { .. } => "throttled".into(),
            AppError::Busy { .. } => "busy".into(),
            AppError::NotSignedIn => "not_signed_in".into(),
            AppError::Forbidden => "forbidden".into(),
            AppError::NotFound { .. } => "not_found".into(),
            AppError::CrossOrigin => "cross_origin".into(),
            AppError::TooLarge { .. } => "too_large".into(),
            AppError::Internal => "internal".into(),
            AppError::Transport { .. } => "transport".into(),
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::Transport { .. } => 400,
            AppError::BadLogin | AppError::NotSignedIn => 401,
            AppError::Forbidden | AppError::CrossOrigin => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict { .. } => 409,
            AppError::TooLarge { .. } => 413,
            AppError::Throttled { .. } | AppError::Busy { .. } => 429,
            AppError::Internal => 500,
        }
    }
}

/// A wait as a person says it: "15 minutes", "1 minute", "40 seconds" (rounded up to
/// whole minutes from one minute on, so nobody comes back a moment too early).
pub fn wait_in_words(secs: u64) -> String {
    match secs {
        0..=1 => "1 second".into(),
        2..=59 => format!("{secs} seconds"),
        _ => match secs.div_ceil(60) {
            1 => "1 minute".into(),
            minutes => format!("{minutes} minutes"),
        },
    }
}

/// The text a page shows for an `?error=` code (see [`AppError::code`]). Only these
/// sentences can appear; an unknown code gets a general one.
pub fn message_for_code(code: &str) -> &'static str {
    match code {
        "bad_login" => "Email or password is incorrect.",
        "throttled" => "Too many failed attempts. Wait a few minutes, then try again.",
        "busy" => "The server is busy checking other passwords. Try again in a few seconds.",
        "not_signed_in" => "Sign in to continue.",
        "forbidden" => "You do not have access to this.",
        "not_found" => "That was not found: it may have been deleted in the meantime.",
        "cross_origin" => "This request came from another site and was refused.",
        "too_large" => "The form was too large to send. Shorten what you entered and try again.",
        "internal" => "Something went wrong on the server. Try again, or ask the operator to check the logs.",
        "invalid.email" => "Enter a valid email address (at most 254 characters).",
        "invalid.password" => "That is not your login password.",
        "invalid.name" => "Enter a name of 1 to 64 characters, without control characters.",
        "conflict.name" => "You already have one with that name: choose another.",
        "invalid.path" => {
            "Enter a folder like photos/2024/: no leading /, no . or .. parts, no control \
             characters, at most 1024 bytes."
        }
        "invalid.actions" => {
            "Choose at least one action, or All S3 Actions. A key limited to a path cannot \
             have actions that change bucket-wide settings."
        }
        "invalid.bucket_id" | "invalid.bucket" => "Choose one of your buckets.",
        "invalid.page" => "There is no such page of the list.",
        "conflict.master_access_key_id" => {
            "That master key was already replaced, so nothing was rotated: the current one is shown below."
        }
        "invalid.access_key_id" => {
            "That cannot be done to this key: a bucket's master key is rotated (never revoked, paused \
             or deleted), and a revoked key stays revoked."
        }
        "invalid.networks" => {
            "That is not a network list: write networks like 10.0.0.0/8 or 2001:db8::/32, \
             separated by commas (at most 32)."
        }
        "invalid.expires" => {
            "Choose when the key expires: a number of days, or a day after today (UTC), within the \
             longest lifetime allowed here."
        }
        code if code.starts_with("invalid.") || code.starts_with("conflict.") => {
            "Something in the form was not accepted. Check what you entered and try again."
        }
        _ => "That did not work. Try again, or reload the page.",
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
    fn waits_read_as_people_say_them() {
        assert_eq!(wait_in_words(893), "15 minutes");
        assert_eq!(wait_in_words(900), "15 minutes");
        assert_eq!(wait_in_words(61), "2 minutes");
        assert_eq!(wait_in_words(60), "1 minute");
        assert_eq!(wait_in_words(40), "40 seconds");
        assert_eq!(wait_in_words(1), "1 second");
        assert_eq!(
            AppError::Throttled { retry_after_secs: 893 }.to_string(),
            "Too many failed attempts. Try again in 15 minutes."
        );
    }

    #[test]
    fn error_codes_map_to_fixed_text_only() {
        let shown = message_for_code(&AppError::invalid("path", "“<b>x</b>” is not a folder").code());
        assert!(shown.starts_with("Enter a folder"), "{shown}");
        assert_eq!(
            message_for_code(&AppError::BadLogin.code()),
            AppError::BadLogin.to_string()
        );
        for made_up in [
            "<script>alert(1)</script>",
            "Your account is locked: call +1 555 0100",
            "",
        ] {
            let shown = message_for_code(made_up);
            assert!(!shown.contains("script") && !shown.contains("555"), "{shown}");
        }
        assert!(message_for_code("invalid.<script>").starts_with("Something in the form"));
    }

    #[test]
    fn every_error_serialises_and_round_trips() {
        let all = [
            AppError::invalid("path", "bad"),
            AppError::conflict("name", "taken"),
            AppError::BadLogin,
            AppError::Throttled { retry_after_secs: 3 },
            AppError::Busy { retry_after_secs: 5 },
            AppError::NotSignedIn,
            AppError::Forbidden,
            AppError::not_found("The key"),
            AppError::CrossOrigin,
            AppError::TooLarge { limit_bytes: 65536 },
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
