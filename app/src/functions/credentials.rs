//! The Credentials page's server functions. Each checks who asks; ids from the request
//! only ever narrow what that person may already reach.

use crate::domain::{CredentialDetail, CredentialPage, CredentialView};
use crate::error::AppError;
use crate::functions::Sent;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::functions::{caller, client_addr, require_user, respond};
#[cfg(feature = "ssr")]
use crate::services::credentials;

/// The last page a list may ask for: far past any real list, and small enough that the
/// row offset it makes (page × page size) cannot overflow.
pub const MAX_PAGE: u64 = 1_000_000;

/// A page of the signed-in customer's credentials (an admin: everyone's, optionally one
/// owner's), searched over name, bucket and access key id, narrowed to one status
/// (`active`, `revoked`, `expired`) and sorted by `created` (newest first, the default),
/// `name` or `last_used`.
#[server(endpoint = "credentials")]
pub async fn list_credentials(
    #[server(default)] search: String,
    #[server(default)] page: u64,
    #[server(default)] owner: String,
    #[server(default)] bucket_id: Option<i32>,
    #[server(default)] sort: String,
    #[server(default)] status: String,
) -> Result<CredentialPage, AppError> {
    respond(async move {
        if page > MAX_PAGE {
            return Err(AppError::invalid(
                "page",
                format!("There is no page {page}: pages are numbered from 0 to {MAX_PAGE}."),
            ));
        }
        let sort = crate::domain::ListSort::parse(&sort).map_err(|m| AppError::invalid("sort", m))?;
        let status = crate::policy::KeyState::parse_filter(&status).map_err(|m| AppError::invalid("status", m))?;
        let (state, user) = require_user().await?;
        let query = credentials::ListQuery {
            search,
            page,
            owner_email: Some(owner),
            bucket_id,
            sort,
            status,
        };
        credentials::page_credentials(&state.db, &user, &query).await
    })
    .await
}

/// The token of the panel's own edit and bulk forms for this session (see
/// `sessions::form_token`): a preview or confirmation whose address lacks it came from a
/// link, and says so.
#[server(endpoint = "form_token")]
pub async fn form_token() -> Result<String, AppError> {
    respond(async move {
        require_user().await?;
        crate::sessions::form_token(&crate::functions::session().await?).await
    })
    .await
}

#[server(endpoint = "credentials/detail")]
pub async fn get_credential(access_key_id: String) -> Result<CredentialDetail, AppError> {
    respond(async move {
        let (state, caller) = caller().await?;
        credentials::credential_detail(&state.db, &caller, &access_key_id).await
    })
    .await
}

/// Creates a credential and opens its drawer. The secret is not in the answer: it is
/// revealed in the drawer after the password check, like any other.
// One argument per form field: server functions read plain form posts by field name.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "credentials/create")]
pub async fn create_credential(
    name: String,
    #[server(default)] bucket_id: Option<i32>,
    #[server(default)] path: String,
    #[server(default)] actions: Vec<String>,
    #[server(default)] all_actions: Sent,
    /// Empty (never), a number of days, or `date` with `expires_on` (`YYYY-MM-DD`).
    #[server(default)]
    expires: String,
    #[server(default)] expires_on: String,
    /// Networks (CIDR) the key may be used from, separated by commas or spaces.
    #[server(default)]
    networks: String,
) -> Result<CredentialView, AppError> {
    let all_actions = crate::functions::parse_flag("all_actions", &all_actions);
    let draft = [
        ("name", name.clone()),
        ("bucket_id", bucket_id.map(|b| b.to_string()).unwrap_or_default()),
        ("path", path.clone()),
        ("actions", actions.join(",")),
        (
            "all_actions",
            if all_actions == Ok(true) {
                "on".into()
            } else {
                String::new()
            },
        ),
        ("expires", expires.clone()),
        ("expires_on", expires_on.clone()),
        ("networks", networks.clone()),
    ];
    let result = respond(async move {
        let (state, caller) = caller().await?;
        let all_actions = all_actions?;
        let bucket_id = bucket_id.ok_or_else(|| AppError::invalid("bucket_id", "Choose a bucket."))?;
        let actions = if all_actions {
            "all".to_string()
        } else {
            actions.join(" ")
        };
        // Admins are not held to the lifetime a customer may choose.
        let cap = crate::services::settings::key_lifetime_cap(&state, &caller).await?;
        let expires_at = crate::domain::expiry_from_choice(&expires, &expires_on, crate::services::now(), cap)
            .map_err(|m| AppError::invalid("expires", m))?;
        let input = credentials::CreateCredential {
            bucket_id,
            name: &name,
            path: &path,
            actions: &actions,
            expires_at,
            networks: &networks,
        };
        let (view, _secret_shown_only_after_password) =
            credentials::create_credential(&state.db, &state.secrets, &caller, input).await?;
        leptos_axum::redirect(&format!("/?key={}", view.access_key_id));
        Ok(view)
    })
    .await;
    if result.is_err() {
        crate::functions::keep_in_redirect(&draft);
    }
    result
}

/// "What can this key do?": an S3 operation (`GetObject`) or a catalog action
/// (`s3:GetObjectVersion`) on an object key or listing prefix in the key's bucket,
/// decided by the evaluator the S3 endpoint uses.
#[server(endpoint = "credentials/simulate")]
pub async fn simulate(
    access_key_id: String,
    operation: String,
    #[server(default)] key: String,
) -> Result<crate::policy::Simulation, AppError> {
    respond(async move {
        let (state, caller) = caller().await?;
        credentials::simulate(&state.db, &caller, &access_key_id, &operation, &key).await
    })
    .await
}

/// The secret key, after the signed-in owner's password is checked again.
#[server(endpoint = "credentials/reveal")]
pub async fn reveal_secret(access_key_id: String, password: String) -> Result<String, AppError> {
    respond(async move {
        let (state, user) = require_user().await?;
        credentials::reveal_secret(&state, &user, &client_addr().await, &access_key_id, &password).await
    })
    .await
}

#[server(endpoint = "credentials/revoke")]
pub async fn revoke_credential(access_key_id: String) -> Result<CredentialView, AppError> {
    respond(async move {
        let (state, caller) = caller().await?;
        let view = credentials::revoke_credential(&state.db, &caller, &access_key_id).await?;
        leptos_axum::redirect(&format!("/?key={}", view.access_key_id));
        Ok(view)
    })
    .await
}

/// Pauses a key: the S3 endpoint refuses it as inactive until it is resumed.
#[server(endpoint = "credentials/pause")]
pub async fn pause_credential(access_key_id: String) -> Result<CredentialView, AppError> {
    set_paused(access_key_id, true).await
}

/// Resumes a paused key: it works again at once.
#[server(endpoint = "credentials/resume")]
pub async fn resume_credential(access_key_id: String) -> Result<CredentialView, AppError> {
    set_paused(access_key_id, false).await
}

#[cfg(feature = "ssr")]
async fn set_paused(access_key_id: String, paused: bool) -> Result<CredentialView, AppError> {
    respond(async move {
        let (state, caller) = caller().await?;
        let view = credentials::set_paused(&state.db, &caller, &access_key_id, paused).await?;
        leptos_axum::redirect(&format!("/?key={}", view.access_key_id));
        Ok(view)
    })
    .await
}

/// Rotates a key: a new pair with the same scope takes its name, and the old one keeps
/// working for `grace` (`now`, `1h`, `1d` or `7d`), then retires on its own. Opens the new
/// pair's drawer, where its owner reveals the secret as for any key.
#[server(endpoint = "credentials/rotate")]
pub async fn rotate_credential(
    access_key_id: String,
    #[server(default)] grace: String,
) -> Result<CredentialView, AppError> {
    respond(async move {
        let (state, caller) = caller().await?;
        let grace = crate::domain::RotationGrace::parse(&grace).map_err(|m| AppError::invalid("grace", m))?;
        let (view, _secret_shown_only_after_password) = credentials::rotate_credential(
            &state.db,
            &state.secrets,
            &caller,
            &access_key_id,
            grace.secs(),
            crate::services::settings::key_lifetime_cap(&state, &caller).await?,
        )
        .await?;
        leptos_axum::redirect(&format!("/?key={}", view.access_key_id));
        Ok(view)
    })
    .await
}

/// Pauses or revokes (`change`) the selected keys (`keys`, repeated) at once; nothing
/// changes when one of them is not the caller's to manage. Back to the list, which says
/// how many changed.
#[server(endpoint = "credentials/bulk")]
pub async fn bulk_change(change: String, #[server(default)] keys: Vec<String>) -> Result<usize, AppError> {
    respond(async move {
        let (state, caller) = caller().await?;
        let bulk = credentials::BulkChange::parse(&change).map_err(|m| AppError::invalid("change", m))?;
        let changed = credentials::bulk_change(&state.db, &caller, &keys, bulk).await?;
        let done = match bulk {
            credentials::BulkChange::Pause => "paused",
            credentials::BulkChange::Revoke => "revoked",
        };
        leptos_axum::redirect(&format!("/?done={done}&count={changed}"));
        Ok(changed)
    })
    .await
}

/// An edit as a form or API call sends it: each field omitted keeps its value.
/// `expires` is `keep` (or omitted), `never`, a number of days or `date` with
/// `expires_on`; `actions` (repeated) replaces the actions when given or when
/// `edit_actions` is set (the panel's form sets it, so ticking nothing is an error).
#[cfg(feature = "ssr")]
struct EditFields {
    name: Sent,
    path: Sent,
    actions: Vec<String>,
    edit_actions: Sent,
    expires: Sent,
    expires_on: Sent,
    networks: Sent,
}

#[cfg(feature = "ssr")]
impl EditFields {
    /// The expiry to set, with the customer's lifetime cap (admins are not held to it).
    async fn expires_at(
        &self,
        state: &crate::services::AppState,
        caller: &crate::services::caller::Caller,
    ) -> Result<Option<Option<i64>>, AppError> {
        let choice = self.expires.as_deref().map(str::trim).unwrap_or("keep");
        if choice == "keep" {
            return Ok(None);
        }
        let cap = crate::services::settings::key_lifetime_cap(state, caller).await?;
        let on = self.expires_on.as_deref().unwrap_or_default().to_string();
        crate::domain::expiry_from_choice(choice, &on, crate::services::now(), cap)
            .map(Some)
            .map_err(|m| AppError::invalid("expires", m))
    }

    /// The service's input; `actions` as [`Self::actions`] joined them.
    fn input<'a>(
        &'a self,
        actions: Option<&'a str>,
        expires_at: Option<Option<i64>>,
        lifetime_cap: Option<u32>,
    ) -> crate::services::key_edits::EditCredential<'a> {
        crate::services::key_edits::EditCredential {
            name: self.name.as_deref(),
            path: self.path.as_deref(),
            actions,
            expires_at,
            networks: self.networks.as_deref(),
            lifetime_cap,
        }
    }

    fn actions(&self) -> Result<Option<String>, AppError> {
        let edit_actions = crate::functions::parse_flag("edit_actions", &self.edit_actions)?;
        Ok((edit_actions || !self.actions.is_empty()).then(|| self.actions.join(" ")))
    }
}

/// What saving an edit would change: the fields, the actions gained and lost, and the
/// requests of the last 7 days the new scope would deny.
#[server(endpoint = "credentials/update/preview")]
#[allow(clippy::too_many_arguments)]
pub async fn preview_edit(
    access_key_id: String,
    #[server(default)] name: Sent,
    #[server(default)] path: Sent,
    #[server(default)] actions: Vec<String>,
    #[server(default)] edit_actions: Sent,
    #[server(default)] expires: Sent,
    #[server(default)] expires_on: Sent,
    #[server(default)] networks: Sent,
) -> Result<crate::domain::EditPreview, AppError> {
    let fields = EditFields {
        name,
        path,
        actions,
        edit_actions,
        expires,
        expires_on,
        networks,
    };
    respond(async move {
        let (state, caller) = caller().await?;
        let expires_at = fields.expires_at(&state, &caller).await?;
        let actions = fields.actions()?;
        let cap = crate::services::settings::key_lifetime_cap(&state, &caller).await?;
        let input = fields.input(actions.as_deref(), expires_at, cap);
        crate::services::key_edits::preview_edit(&state.db, &caller, &access_key_id, input).await
    })
    .await
}

/// Saves an edit of a credential's name, path, actions, expiry or networks.
#[server(endpoint = "credentials/update")]
#[allow(clippy::too_many_arguments)]
pub async fn update_credential(
    access_key_id: String,
    #[server(default)] name: Sent,
    #[server(default)] path: Sent,
    #[server(default)] actions: Vec<String>,
    #[server(default)] edit_actions: Sent,
    #[server(default)] expires: Sent,
    #[server(default)] expires_on: Sent,
    #[server(default)] networks: Sent,
) -> Result<CredentialView, AppError> {
    let fields = EditFields {
        name,
        path,
        actions,
        edit_actions,
        expires,
        expires_on,
        networks,
    };
    respond(async move {
        let (state, caller) = caller().await?;
        let expires_at = fields.expires_at(&state, &caller).await?;
        let actions = fields.actions()?;
        let cap = crate::services::settings::key_lifetime_cap(&state, &caller).await?;
        let input = fields.input(actions.as_deref(), expires_at, cap);
        let view = crate::services::key_edits::edit_credential(&state.db, &caller, &access_key_id, input).await?;
        leptos_axum::redirect(&format!("/?key={}&saved=1", view.access_key_id));
        Ok(view)
    })
    .await
}

#[server(endpoint = "credentials/delete")]
pub async fn delete_credential(access_key_id: String) -> Result<(), AppError> {
    respond(async move {
        let (state, caller) = caller().await?;
        credentials::delete_credential(&state.db, &caller, &access_key_id).await?;
        leptos_axum::redirect("/");
        Ok(())
    })
    .await
}
