//! The Credentials page's server functions. Each checks who asks; ids from the request
//! only ever narrow what that person may already reach.

use crate::domain::{CredentialDetail, CredentialPage, CredentialView};
use crate::error::AppError;
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
        let status = crate::domain::StatusFilter::parse(&status).map_err(|m| AppError::invalid("status", m))?;
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
    #[server(default)] all_actions: Option<String>,
    /// Empty (never), a number of days, or `date` with `expires_on` (`YYYY-MM-DD`).
    #[server(default)]
    expires: String,
    #[server(default)] expires_on: String,
    /// Networks (CIDR) the key may be used from, separated by commas or spaces.
    #[server(default)]
    networks: String,
) -> Result<CredentialView, AppError> {
    let draft = [
        ("name", name.clone()),
        ("bucket_id", bucket_id.map(|b| b.to_string()).unwrap_or_default()),
        ("path", path.clone()),
        ("actions", actions.join(",")),
        (
            "all_actions",
            if all_actions.is_some() {
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
        let bucket_id = bucket_id.ok_or_else(|| AppError::invalid("bucket_id", "Choose a bucket."))?;
        let actions = if all_actions.is_some() {
            "all".to_string()
        } else {
            actions.join(" ")
        };
        // Admins are not held to the lifetime a customer may choose.
        let cap = state
            .max_key_lifetime_days
            .filter(|_| !caller.signed_in().is_some_and(|u| u.is_admin()));
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
