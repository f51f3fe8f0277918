//! Demo data: a customer with buckets in two regions and a few credentials, so a fresh
//! install has something to look at. Loaded once; a second run changes nothing.

use super::buckets;
use super::caller::Caller;
use super::credentials::{self, CreateCredential};
use super::regions;
use super::secrets::SecretBox;
use super::users;
use crate::domain::Role;
use crate::error::AppError;
use sea_orm::DatabaseConnection;

pub const DEMO_EMAIL: &str = "demo@stook.local";

#[derive(Debug, serde::Serialize)]
pub struct DemoLoaded {
    pub email: String,
    pub password: String,
    pub buckets: Vec<String>,
}

/// `None` when the demo customer already exists.
pub async fn load_demo(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    s3_endpoint: &str,
    password: &str,
) -> Result<Option<DemoLoaded>, AppError> {
    if users::find_by_email(db, DEMO_EMAIL).await?.is_some() {
        return Ok(None);
    }
    let operator = Caller::Operator;
    let known: Vec<String> = regions::list_regions(db).await?.into_iter().map(|r| r.name).collect();
    for region in ["eu-west-1", "tr-ist-1"] {
        if !known.iter().any(|k| k == region) {
            regions::add_region(db, &operator, region, s3_endpoint).await?;
        }
    }
    users::create_user(db, &operator, DEMO_EMAIL, password, Role::Customer).await?;
    let (photos, _) = buckets::add_bucket(db, secrets, &operator, DEMO_EMAIL, "eu-west-1", "demo-photos").await?;
    let (backups, _) = buckets::add_bucket(db, secrets, &operator, DEMO_EMAIL, "tr-ist-1", "demo-backups").await?;
    for (bucket_id, name, path, actions) in [
        (photos.id, "Website uploads", "photos/", "read-write"),
        (backups.id, "Nightly backup reader", "", "read-only"),
    ] {
        credentials::create_credential(
            db,
            secrets,
            &operator,
            CreateCredential {
                bucket_id,
                name,
                path,
                actions,
                expires_at: None,
                networks: "",
            },
        )
        .await?;
    }
    Ok(Some(DemoLoaded {
        email: DEMO_EMAIL.into(),
        password: password.into(),
        buckets: vec![
            format!("eu-west-1/{}", photos.name),
            format!("tr-ist-1/{}", backups.name),
        ],
    }))
}
