//! Signing in and out, and who is signed in.

use crate::domain::SignedInUser;
use crate::error::AppError;
use leptos::prelude::*;

/// Signs in with email and password; the session gets a new id. Plain form posts are
/// redirected to the panel.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<SignedInUser, AppError> {
    use crate::functions::{client_addr, respond, session, state};
    let typed_email = email.clone();
    let result = respond(async move {
        let state = state()?;
        let session = session().await?;
        let client = client_addr().await;
        let user = crate::services::users::authenticate(&state, &email, &password, &client).await?;
        crate::sessions::begin(&session, &user).await?;
        leptos_axum::redirect("/");
        Ok(user)
    })
    .await;
    remember_typed_email(result.as_ref().err().map(|_| typed_email.as_str()));
    result
}

/// The cookie that carries the email of a failed sign-in back to the form, so the
/// person retypes only the password. Short-lived, HttpOnly, only for the sign-in page;
/// never the password.
pub const LOGIN_EMAIL_COOKIE: &str = "stook_login_email";

/// Sets (after a failure) or clears (after a success) [`LOGIN_EMAIL_COOKIE`].
#[cfg(feature = "ssr")]
fn remember_typed_email(email: Option<&str>) {
    use axum::http::{HeaderValue, header};
    use base64::Engine as _;
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let cookie = match email.map(str::trim).filter(|e| !e.is_empty() && e.len() <= 254) {
        Some(email) => format!(
            "{LOGIN_EMAIL_COOKIE}={}; Path=/login; Max-Age=600; HttpOnly; SameSite=Strict",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(email)
        ),
        None => format!("{LOGIN_EMAIL_COOKIE}=; Path=/login; Max-Age=0; HttpOnly; SameSite=Strict"),
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.append_header(header::SET_COOKIE, value);
    }
}

/// The email a failed sign-in left in [`LOGIN_EMAIL_COOKIE`], for the form to show.
pub fn remembered_email() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use base64::Engine as _;
        let parts = use_context::<axum::http::request::Parts>()?;
        parts
            .headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix(LOGIN_EMAIL_COOKIE)?.strip_prefix('='))
            .find_map(|value| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .filter(|email| email.len() <= 254 && !email.chars().any(char::is_control))
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// Ends the session and removes it from the store.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::functions::{current_user, respond, session, state};
    use crate::services::audit::{AuditAction, AuditTarget};
    respond(async move {
        let session = session().await?;
        if let Some(user) = current_user().await? {
            let caller = crate::services::caller::Caller::user(user.clone(), crate::functions::client_addr().await);
            crate::services::audit::record(
                &state()?.db,
                &caller.actor(),
                AuditAction::SessionLogout,
                AuditTarget::User(user.id),
                serde_json::json!({}),
            )
            .await?;
        }
        crate::sessions::end(&session).await?;
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

#[server(endpoint = "me")]
pub async fn me() -> Result<Option<SignedInUser>, AppError> {
    crate::functions::respond(crate::functions::current_user()).await
}

/// The signed-in user of this page load (signing in and out are plain form posts, each
/// followed by a new page).
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub user: Resource<Result<Option<SignedInUser>, AppError>>,
}

impl AuthContext {
    pub fn provide() -> Self {
        let auth = AuthContext {
            user: Resource::new(|| (), |_| me()),
        };
        provide_context(auth);
        auth
    }
}
