//! What the signed-in customer owns: buckets and credentials. Admins see everyone's.

use crate::domain::{BucketView, CredentialView};
use crate::error::AppError;
use leptos::prelude::*;

#[server(endpoint = "buckets")]
pub async fn list_buckets() -> Result<Vec<BucketView>, AppError> {
    crate::functions::respond(async {
        let (state, user) = crate::functions::require_user().await?;
        crate::services::buckets::visible_buckets(&state.db, &user).await
    })
    .await
}

/// The signed-in customer's credentials, newest first (an admin: everyone's).
#[server(endpoint = "credentials")]
pub async fn list_credentials() -> Result<Vec<CredentialView>, AppError> {
    crate::functions::respond(async {
        let (state, user) = crate::functions::require_user().await?;
        crate::services::credentials::list_credentials(
            &state.db,
            (!user.is_admin()).then_some(user.id),
            Some(crate::domain::KeyKind::Scoped),
        )
        .await
    })
    .await
}
