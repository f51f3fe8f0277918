//! Buckets: each belongs to one customer and one region and is born with its master key.

use super::audit::{self, AuditAction, AuditTarget};
use super::caller::Caller;
use super::entities::{bucket, credential, region};
pub use super::key_pairs::IssuedKey;
use super::key_pairs::{NewKey, insert_key};
use super::secrets::SecretBox;
use super::{now, regions, unique_violation, users};
use crate::domain::{BucketView, KeyKind, KeyStatus, SignedInUser, validate_bucket_name};
use crate::error::AppError;
use crate::policy::KeyState;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, TransactionTrait as _,
};
use std::collections::HashMap;

pub async fn add_bucket(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    caller: &Caller,
    owner_email: &str,
    region_name: &str,
    name: &str,
) -> Result<(BucketView, IssuedKey), AppError> {
    let name = name.trim();
    validate_bucket_name(name).map_err(|m| AppError::invalid("name", m))?;
    let owner = users::find_by_email(db, owner_email).await?.ok_or_else(|| {
        AppError::invalid(
            "owner",
            format!("There is no user with the email “{}”.", owner_email.trim()),
        )
    })?;
    let region = regions::find_region(db, region_name).await?;
    let txn = db.begin().await?;
    let created = bucket::Entity::insert(bucket::ActiveModel {
        owner_id: Set(owner.id),
        region_id: Set(region.id),
        name: Set(name.to_string()),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await
    .map_err(|e| unique_violation(e, "name", name_taken(name)))?;
    let (_, secret_key, access_key_id) = insert_key(&txn, secrets, NewKey::master(owner.id, created.id)).await?;
    audit::record(
        &txn,
        &caller.actor(),
        AuditAction::BucketCreate,
        AuditTarget::Bucket(created.id),
        serde_json::json!({ "owner": owner.email, "master_access_key_id": access_key_id }),
    )
    .await?;
    txn.commit().await?;
    let view = BucketView {
        id: created.id,
        name: created.name,
        region: region.name,
        endpoint_url: region.endpoint_url,
        owner_email: owner.email,
        created_at: created.created_at,
        master_access_key_id: Some(access_key_id.clone()),
        active_credentials: 0,
    };
    Ok((
        view,
        IssuedKey {
            access_key_id,
            secret_key,
        },
    ))
}

/// Buckets `viewer` may see: their own, or every bucket for an admin.
pub async fn visible_buckets(db: &DatabaseConnection, viewer: &SignedInUser) -> Result<Vec<BucketView>, AppError> {
    list_buckets(db, (!viewer.is_admin()).then_some(viewer.id)).await
}

/// All buckets, or one owner's, by region then name.
pub async fn list_buckets(db: &DatabaseConnection, owner_id: Option<i32>) -> Result<Vec<BucketView>, AppError> {
    bucket_views(db, owner_id, true).await
}

/// [`list_buckets`], with the count of working keys per bucket or without it: `stook
/// bucket rename` runs on a database that a failed migration left behind, before the
/// credentials table has the columns a key's state is read from.
async fn bucket_views(
    db: &DatabaseConnection,
    owner_id: Option<i32>,
    count_keys: bool,
) -> Result<Vec<BucketView>, AppError> {
    let mut query = bucket::Entity::find().order_by_asc(bucket::Column::Name);
    if let Some(owner_id) = owner_id {
        query = query.filter(bucket::Column::OwnerId.eq(owner_id));
    }
    let rows = query.all(db).await?;
    let regions: HashMap<i32, region::Model> = region::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let owners = users::emails_by_id(db, rows.iter().map(|b| b.owner_id)).await?;
    // Only the columns needed: `stook bucket rename` runs this on a database that a
    // failed migration left behind, before the credentials table has its newer columns.
    let masters: HashMap<i32, String> = credential::Entity::find()
        .select_only()
        .column(credential::Column::BucketId)
        .column(credential::Column::AccessKeyId)
        .filter(credential::Column::BucketId.is_in(rows.iter().map(|b| b.id)))
        .filter(credential::Column::Kind.eq(KeyKind::Master))
        .filter(credential::Column::Status.eq(KeyStatus::Active))
        .into_tuple::<(i32, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    // Scoped keys the S3 endpoint takes now, per bucket, counted by the database with the
    // condition the status filter uses (one rule: `KeyState`).
    let usable = [KeyState::Active, KeyState::Retiring];
    let active_counts: HashMap<i32, u64> = if !count_keys {
        HashMap::new()
    } else {
        credential::Entity::find()
            .select_only()
            .column(credential::Column::BucketId)
            .column_as(credential::Column::Id.count(), "keys")
            .filter(credential::Column::BucketId.is_in(rows.iter().map(|b| b.id)))
            .filter(credential::Column::Kind.eq(KeyKind::Scoped))
            .filter(KeyState::condition(&usable, now()))
            .group_by(credential::Column::BucketId)
            .into_tuple::<(i32, i64)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(bucket_id, keys)| (bucket_id, u64::try_from(keys).unwrap_or(0)))
            .collect()
    };
    let mut views: Vec<BucketView> = rows
        .into_iter()
        .map(|b| {
            let region = regions.get(&b.region_id);
            BucketView {
                id: b.id,
                name: b.name,
                region: region.map(|r| r.name.clone()).unwrap_or_default(),
                endpoint_url: region.map(|r| r.endpoint_url.clone()).unwrap_or_default(),
                owner_email: owners.get(&b.owner_id).cloned().unwrap_or_default(),
                created_at: b.created_at,
                master_access_key_id: masters.get(&b.id).cloned(),
                active_credentials: active_counts.get(&b.id).copied().unwrap_or(0),
            }
        })
        .collect();
    views.sort_by(|a, b| (&a.region, &a.name).cmp(&(&b.region, &b.name)));
    Ok(views)
}

/// The one answer for a name someone already has, whoever and wherever.
fn name_taken(name: &str) -> String {
    format!("The bucket name “{name}” is taken. Bucket names are unique across all regions, as in S3: choose another.")
}

/// Finds a bucket by name (names are unique across regions); a region given too must be
/// the bucket's own.
pub async fn find_bucket(
    db: &DatabaseConnection,
    name: &str,
    region_name: Option<&str>,
) -> Result<bucket::Model, AppError> {
    let name = name.trim();
    let found = bucket::Entity::find()
        .filter(bucket::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("bucket", format!("There is no bucket named “{name}”.")))?;
    if let Some(region_name) = region_name {
        let region = regions::find_region(db, region_name).await?;
        if region.id != found.region_id {
            return Err(AppError::invalid(
                "region",
                format!("The bucket “{name}” is not in {}.", region.name),
            ));
        }
    }
    Ok(found)
}

/// Renames a bucket (operator only). With `region`, picks one of several buckets that
/// share a name in a database made before names were unique, so it can be migrated.
/// Objects are not moved: on the local backend they stay under the old name's folder.
pub async fn rename_bucket(
    db: &DatabaseConnection,
    caller: &Caller,
    name: &str,
    region_name: Option<&str>,
    new_name: &str,
) -> Result<BucketView, AppError> {
    let new_name = new_name.trim();
    validate_bucket_name(new_name).map_err(|m| AppError::invalid("to", m))?;
    let mut query = bucket::Entity::find().filter(bucket::Column::Name.eq(name.trim()));
    if let Some(region_name) = region_name {
        query = query.filter(bucket::Column::RegionId.eq(regions::find_region(db, region_name).await?.id));
    }
    let mut found = query.all(db).await?;
    let row = match found.len() {
        0 => {
            return Err(AppError::invalid(
                "name",
                format!(
                    "There is no bucket named “{}”{}.",
                    name.trim(),
                    region_name.map(|r| format!(" in {r}")).unwrap_or_default()
                ),
            ));
        }
        1 => found.remove(0),
        _ => {
            return Err(AppError::invalid(
                "region",
                format!(
                    "Several regions have a bucket named “{}”: name the region with --region.",
                    name.trim()
                ),
            ));
        }
    };
    let old_name = row.name.clone();
    let mut active: bucket::ActiveModel = row.into();
    active.name = Set(new_name.to_string());
    let renamed = bucket::Entity::update(active)
        .exec(db)
        .await
        .map_err(|e| unique_violation(e, "to", name_taken(new_name)))?;
    audit::record(
        db,
        &caller.actor(),
        AuditAction::BucketRename,
        AuditTarget::Bucket(renamed.id),
        serde_json::json!({ "from": old_name, "to": renamed.name }),
    )
    .await?;
    bucket_views(db, Some(renamed.owner_id), false)
        .await?
        .into_iter()
        .find(|b| b.id == renamed.id)
        .ok_or(AppError::Internal)
}

/// Replaces a bucket's master key pair: the old one is revoked in the same transaction,
/// so it stops working the moment the new one exists. Returns the new pair once. With
/// `replacing`, only that pair is replaced: a confirmation sent twice (the back button,
/// a second tab) cannot throw away the pair the first one made.
pub async fn rotate_master_key(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    caller: &Caller,
    bucket_id: i32,
    replacing: Option<&str>,
) -> Result<IssuedKey, AppError> {
    let bucket = bucket::Entity::find_by_id(bucket_id)
        .one(db)
        .await?
        .filter(|b| caller.may_manage(b.owner_id))
        .ok_or_else(|| AppError::not_found("The bucket"))?;
    let txn = db.begin().await?;
    let mut revoke = credential::Entity::update_many()
        .col_expr(
            credential::Column::Status,
            sea_orm::sea_query::Expr::value(KeyStatus::Revoked),
        )
        .col_expr(credential::Column::RevokedAt, sea_orm::sea_query::Expr::value(now()))
        .filter(credential::Column::BucketId.eq(bucket.id))
        .filter(credential::Column::Kind.eq(KeyKind::Master))
        .filter(credential::Column::Status.eq(KeyStatus::Active));
    if let Some(old_id) = replacing {
        revoke = revoke.filter(credential::Column::AccessKeyId.eq(old_id.trim()));
    }
    let revoked = revoke.exec(&txn).await?.rows_affected;
    if replacing.is_some() && revoked == 0 {
        txn.rollback().await?;
        return Err(AppError::conflict(
            "master_access_key_id",
            "That master key was already replaced, so nothing was rotated: the Buckets page shows the current one.",
        ));
    }
    let (_, secret_key, access_key_id) = insert_key(&txn, secrets, NewKey::master(bucket.owner_id, bucket.id)).await?;
    audit::record(
        &txn,
        &caller.actor(),
        AuditAction::BucketRotateMasterKey,
        AuditTarget::Bucket(bucket.id),
        serde_json::json!({ "master_access_key_id": access_key_id }),
    )
    .await?;
    txn.commit().await?;
    Ok(IssuedKey {
        access_key_id,
        secret_key,
    })
}
