//! Signing in and out, and who is signed in.

use crate::domain::SignedInUser;
use crate::error::AppError;
use leptos::prelude::*;

/// Signs in with email and password; the session gets a new id. Plain form posts are
/// redirected to the panel.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<SignedInUser, AppError> {
    use crate::functions::{USER_ID_KEY, client_addr, internal, respond, session, state};
    respond(async move {
        let state = state()?;
        let session = session().await?;
        let client = client_addr().await;
        let user = crate::services::users::authenticate(&state, &email, &password, &client).await?;
        // A fresh id defeats session fixation.
        session.cycle_id().await.map_err(internal)?;
        session.insert(USER_ID_KEY, user.id).await.map_err(internal)?;
        leptos_axum::redirect("/");
        Ok(user)
    })
    .await
}

/// Ends the session and removes it from the store.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::functions::{current_user, internal, respond, session, state};
    respond(async move {
        let session = session().await?;
        if let Some(user) = current_user().await? {
            let actor = crate::services::audit::Actor::user(user.id, Some(crate::functions::client_addr().await));
            crate::services::audit::record(
                &state()?.db,
                &actor,
                "session.logout",
                &format!("user:{}", user.id),
                serde_json::json!({}),
            )
            .await?;
        }
        session.flush().await.map_err(internal)?;
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
