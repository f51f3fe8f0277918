//! Buckets and their master key pairs.

use crate::domain::BucketView;
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in customer's buckets (an admin: all), each with its master access key id.
#[server(endpoint = "buckets")]
pub async fn list_buckets() -> Result<Vec<BucketView>, AppError> {
    crate::functions::respond(async {
        let (state, user) = crate::functions::require_user().await?;
        crate::services::buckets::visible_buckets(&state.db, &user).await
    })
    .await
}

/// Replaces a bucket's master key pair; the old one stops working at once. Answers with
/// the new access key id: its secret is revealed like any other, behind the password.
#[server(endpoint = "buckets/rotate")]
pub async fn rotate_master_key(
    bucket_id: i32,
    /// The pair to replace (optional): a stale confirmation then rotates nothing.
    #[server(default)]
    master_access_key_id: Option<String>,
) -> Result<String, AppError> {
    crate::functions::respond(async move {
        let (state, caller) = crate::functions::caller().await?;
        let key = crate::services::buckets::rotate_master_key(
            &state.db,
            &state.secrets,
            &caller,
            bucket_id,
            master_access_key_id.as_deref().filter(|id| !id.trim().is_empty()),
        )
        .await?;
        // Back to the bucket, which says what changed and offers the new secret.
        leptos_axum::redirect(&format!("/buckets?rotated={bucket_id}"));
        Ok(key.access_key_id)
    })
    .await
}

/// Creates a bucket for a customer in a region (admins only), with its master key pair.
/// The answer names the master access key id; its secret is for the owner to reveal,
/// behind their password, like any other. Bucket names are unique across all regions.
#[server(endpoint = "buckets/create")]
pub async fn create_bucket(owner: String, region: String, name: String) -> Result<BucketView, AppError> {
    crate::functions::respond(async move {
        let (state, caller) = crate::functions::caller().await?;
        if !caller.signed_in().is_some_and(|user| user.is_admin()) {
            return Err(AppError::Forbidden);
        }
        let (bucket, _secret_for_the_owner_only) =
            crate::services::buckets::add_bucket(&state.db, &state.secrets, &caller, &owner, &region, &name).await?;
        Ok(bucket)
    })
    .await
}
