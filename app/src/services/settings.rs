//! Settings an admin changes in the panel at run time, stored in the database so every
//! instance sees them: the longest lifetime a customer may give a key. Until an admin
//! sets it, `STOOK_MAX_KEY_LIFETIME_DAYS` (in [`AppState`]) decides.

use super::audit::{self, AuditAction, AuditTarget};
use super::caller::Caller;
use super::entities::setting;
use super::{AppState, now};
use crate::error::AppError;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait as _};

const MAX_KEY_LIFETIME: &str = "max_key_lifetime_days";
/// Stored for "no limit", so an admin can lift a limit the environment sets.
const NO_LIMIT: &str = "none";

/// The longest lifetime in days a customer may give a key (`None`: no limit), and
/// whether an admin set it in the panel (else it comes from the environment).
pub async fn max_key_lifetime_days(state: &AppState) -> Result<(Option<u32>, bool), AppError> {
    match setting::Entity::find_by_id(MAX_KEY_LIFETIME).one(&state.db).await? {
        Some(row) if row.value == NO_LIMIT => Ok((None, true)),
        Some(row) => row.value.parse().map(|days| (Some(days), true)).map_err(|_| {
            tracing::error!(value = %row.value, "the stored key lifetime limit is not a number");
            AppError::Internal
        }),
        None => Ok((state.max_key_lifetime_days, false)),
    }
}

/// The limit that holds for `caller`: admins and the operator have none.
pub async fn key_lifetime_cap(state: &AppState, caller: &Caller) -> Result<Option<u32>, AppError> {
    if caller.signed_in().is_none_or(|u| u.is_admin()) {
        return Ok(None);
    }
    Ok(max_key_lifetime_days(state).await?.0)
}

/// Sets the limit (admins only). Keys made before keep their expiry; it holds for
/// creating, editing and rotating keys from now on.
pub async fn set_max_key_lifetime_days(state: &AppState, caller: &Caller, days: Option<u32>) -> Result<(), AppError> {
    if !caller.signed_in().is_none_or(|u| u.is_admin()) {
        return Err(AppError::Forbidden);
    }
    let value = days.map_or(NO_LIMIT.to_string(), |d| d.to_string());
    setting::Entity::insert(setting::ActiveModel {
        name: Set(MAX_KEY_LIFETIME.to_string()),
        value: Set(value.clone()),
        updated_at: Set(now()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Name)
            .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    audit::record(
        &state.db,
        &caller.actor(),
        AuditAction::SettingChange,
        AuditTarget::Setting(MAX_KEY_LIFETIME),
        serde_json::json!({ "value": value }),
    )
    .await?;
    Ok(())
}
