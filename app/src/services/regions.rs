//! Regions: named locations, each with its S3 endpoint URL.

use super::audit::{self, AuditAction, AuditTarget};
use super::caller::Caller;
use super::entities::region;
use super::{now, unique_violation};
use crate::domain::{validate_endpoint_url, validate_region_name};
use crate::error::AppError;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
};

pub async fn add_region(
    db: &DatabaseConnection,
    caller: &Caller,
    name: &str,
    endpoint_url: &str,
) -> Result<region::Model, AppError> {
    let name = name.trim();
    let endpoint_url = endpoint_url.trim().trim_end_matches('/');
    validate_region_name(name).map_err(|m| AppError::invalid("name", m))?;
    validate_endpoint_url(endpoint_url).map_err(|m| AppError::invalid("endpoint", m))?;
    let created = region::Entity::insert(region::ActiveModel {
        name: Set(name.to_string()),
        endpoint_url: Set(endpoint_url.to_string()),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|e| unique_violation(e, "name", format!("The region {name} already exists.")))?;
    audit::record(
        db,
        &caller.actor(),
        AuditAction::RegionCreate,
        AuditTarget::Region(name),
        serde_json::json!({ "endpoint": endpoint_url }),
    )
    .await?;
    Ok(created)
}

pub async fn list_regions(db: &DatabaseConnection) -> Result<Vec<region::Model>, AppError> {
    Ok(region::Entity::find()
        .order_by_asc(region::Column::Name)
        .all(db)
        .await?)
}

pub async fn find_region(db: &DatabaseConnection, name: &str) -> Result<region::Model, AppError> {
    region::Entity::find()
        .filter(region::Column::Name.eq(name.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("region", format!("There is no region named “{}”.", name.trim())))
}
