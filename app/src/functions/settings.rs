//! The admin's run-time settings.

use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::functions::{caller, respond};

/// The settings as the Settings page shows them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SettingsView {
    /// The longest lifetime in days a customer may give a key; `None`: no limit.
    pub max_key_lifetime_days: Option<u32>,
    /// Whether an admin set it here (else `STOOK_MAX_KEY_LIFETIME_DAYS` decides).
    pub set_in_panel: bool,
}

#[server(endpoint = "settings")]
pub async fn get_settings() -> Result<SettingsView, AppError> {
    respond(async move {
        let (state, caller) = caller().await?;
        if !caller.signed_in().is_some_and(|u| u.is_admin()) {
            return Err(AppError::Forbidden);
        }
        let (max_key_lifetime_days, set_in_panel) = crate::services::settings::max_key_lifetime_days(&state).await?;
        Ok(SettingsView {
            max_key_lifetime_days,
            set_in_panel,
        })
    })
    .await
}

/// Sets the longest lifetime a customer may give a key: whole days, or empty for no
/// limit. Admins only; it holds for creating, editing and rotating keys from now on.
/// The field is required: a body without it (one the API could not read, `{}`) once
/// lifted the limit, so "no limit" is only ever the empty value, said on purpose.
#[server(endpoint = "settings/update")]
pub async fn update_settings(
    #[server(default)] max_key_lifetime_days: crate::functions::Sent,
) -> Result<SettingsView, AppError> {
    respond(async move {
        let (state, caller) = caller().await?;
        let crate::functions::Sent::Value(value) = max_key_lifetime_days else {
            return Err(AppError::invalid(
                "max_key_lifetime_days",
                format!(
                    "Give max_key_lifetime_days: a number of days from 1 to {}, or empty for no limit.",
                    crate::domain::LONGEST_LIMIT_DAYS
                ),
            ));
        };
        // Only admins: `set_max_key_lifetime_days` refuses anyone else.
        let days =
            crate::domain::parse_lifetime_limit(&value).map_err(|m| AppError::invalid("max_key_lifetime_days", m))?;
        crate::services::settings::set_max_key_lifetime_days(&state, &caller, days).await?;
        leptos_axum::redirect("/settings?saved=1");
        Ok(SettingsView {
            max_key_lifetime_days: days,
            set_in_panel: true,
        })
    })
    .await
}
