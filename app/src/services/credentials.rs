//! Credentials: key pairs scoped to one bucket, an optional path and a set of actions.
//! The secret is sealed with the master key before it touches the database.

use super::audit::{self, Actor, AuditAction, AuditTarget};
use super::caller::Caller;
use super::entities::{bucket, credential, region, user};
use super::key_pairs::{IssuedKey, NewKey, insert_key};
use super::secrets::SecretBox;
use super::{AppState, now, passwords, users};
use crate::catalog::ActionSet;
use crate::domain::{
    CredentialDetail, CredentialPage, CredentialView, KeyKind, KeyStatus, ListSort, PAGE_SIZE, SignedInUser,
    normalize_credential_name, normalize_path, rotated_expiry,
};
use crate::error::AppError;
use crate::networks::NetworkList;
use crate::policy::{self, KeyLife, KeyScope, KeyState, Simulation};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    TransactionTrait as _,
};
use std::collections::HashMap;

pub struct CreateCredential<'a> {
    pub bucket_id: i32,
    pub name: &'a str,
    pub path: &'a str,
    pub actions: &'a str,
    pub expires_at: Option<i64>,
    /// Networks (CIDR) the key may be used from, separated by commas, spaces or new
    /// lines; empty for anywhere.
    pub networks: &'a str,
}

/// Creates a scoped credential on a bucket the caller may manage (an admin: any bucket;
/// it then belongs to the bucket's owner).
pub async fn create_credential(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    caller: &Caller,
    input: CreateCredential<'_>,
) -> Result<(CredentialView, IssuedKey), AppError> {
    let name = normalize_credential_name(input.name).map_err(|m| AppError::invalid("name", m))?;
    let path = normalize_path(input.path).map_err(|m| AppError::invalid("path", m))?;
    let networks = NetworkList::parse(input.networks).map_err(|m| AppError::invalid("networks", m))?;
    let actions = checked_actions(input.actions, path.as_deref())?;
    if let Some(expires_at) = input.expires_at
        && expires_at <= now()
    {
        return Err(AppError::invalid("expires", "The expiry must lie in the future."));
    }
    let bucket = bucket::Entity::find_by_id(input.bucket_id)
        .one(db)
        .await?
        .filter(|b| caller.may_manage(b.owner_id))
        .ok_or_else(|| AppError::invalid("bucket", "Choose one of your buckets."))?;
    let (row, secret_key, access_key_id) = insert_key(
        db,
        secrets,
        NewKey {
            owner_id: bucket.owner_id,
            bucket_id: bucket.id,
            name: Some(name.clone()),
            path,
            actions,
            kind: KeyKind::Scoped,
            expires_at: input.expires_at,
            networks: networks.to_storage(),
        },
    )
    .await?;
    audit::record(
        db,
        &caller.actor(),
        AuditAction::CredentialCreate,
        AuditTarget::Credential(&access_key_id),
        serde_json::json!({ "name": name, "bucket": bucket.name, "path": row.path, "actions": row.actions }),
    )
    .await?;
    let view = views(db, vec![row]).await?.remove(0);
    Ok((
        view,
        IssuedKey {
            access_key_id,
            secret_key,
        },
    ))
}

/// The actions a key asks for (`all`, a preset, or names), checked against its path.
/// "All S3 Actions" on a folder means all that a folder key can do, and is stored as
/// that (what the form shows); naming a bucket-wide action for one is a mistake to point
/// out (the S3 endpoint would refuse it anyway).
pub(super) fn checked_actions(raw: &str, path: Option<&str>) -> Result<ActionSet, AppError> {
    let actions = ActionSet::parse(raw).map_err(|m| AppError::invalid("actions", m))?;
    let names_all = raw.split([',', ' ']).any(|w| w.eq_ignore_ascii_case("all"));
    if path.is_none() {
        return Ok(actions);
    }
    if names_all {
        return Ok(actions.without_bucket_wide());
    }
    let bucket_wide: Vec<&str> = actions
        .iter()
        .filter(|a| crate::catalog::find(a).is_some_and(|a| a.category.needs_whole_bucket()))
        .collect();
    if bucket_wide.is_empty() {
        Ok(actions)
    } else {
        Err(AppError::invalid(
            "actions",
            format!(
                "A key limited to a path cannot change bucket-wide settings ({}): leave the path empty, or leave those actions out.",
                bucket_wide.join(", ")
            ),
        ))
    }
}

/// Key pairs newest first: one owner's or everyone's (`None`), of one kind or both.
pub async fn list_credentials(
    db: &DatabaseConnection,
    owner_id: Option<i32>,
    kind: Option<KeyKind>,
) -> Result<Vec<CredentialView>, AppError> {
    let mut query = credential::Entity::find()
        .order_by_desc(credential::Column::CreatedAt)
        .order_by_desc(credential::Column::Id);
    if let Some(owner_id) = owner_id {
        query = query.filter(credential::Column::OwnerId.eq(owner_id));
    }
    if let Some(kind) = kind {
        query = query.filter(credential::Column::Kind.eq(kind));
    }
    views(db, query.all(db).await?).await
}

/// Revokes by access key id. A customer may revoke only their own keys; the answer for
/// someone else's key is the same as for a key that does not exist. Revoking is final and
/// wins any race: its write is conditional only on the key not being revoked already, and
/// it bumps the key's version, so a pause, resume, edit or rotation that read the key
/// before finds it changed and is refused.
pub async fn revoke_credential(
    db: &DatabaseConnection,
    caller: &Caller,
    access_key_id: &str,
) -> Result<CredentialView, AppError> {
    let found = visible_key(db, caller, access_key_id).await?;
    // A bucket always has one working master key: it is replaced, never just switched off.
    if found.kind == KeyKind::Master {
        return Err(AppError::invalid(
            "access_key_id",
            "A bucket's master key cannot be revoked: rotate it instead, which replaces it with a new pair at once.",
        ));
    }
    let txn = db.begin().await?;
    if !revoke_row(&txn, found.id).await? {
        txn.rollback().await?;
        return Err(already_revoked());
    }
    audit::record(
        &txn,
        &caller.actor(),
        AuditAction::CredentialRevoke,
        AuditTarget::Credential(&found.access_key_id),
        serde_json::json!({}),
    )
    .await?;
    txn.commit().await?;
    reread_view(db, found.id).await
}

/// Revokes one row unless it is revoked already; whether it did.
async fn revoke_row(db: &impl ConnectionTrait, id: i32) -> Result<bool, AppError> {
    let rows = credential::Entity::update_many()
        .col_expr(credential::Column::Status, Expr::value(KeyStatus::Revoked))
        .col_expr(credential::Column::RevokedAt, Expr::value(now()))
        .col_expr(credential::Column::Version, next_version())
        .filter(credential::Column::Id.eq(id))
        .filter(credential::Column::Status.ne(KeyStatus::Revoked))
        .exec(db)
        .await?
        .rows_affected;
    Ok(rows == 1)
}

fn already_revoked() -> AppError {
    AppError::conflict(
        "access_key_id",
        "This key is already revoked: it stays revoked, and nothing was changed.",
    )
}

/// The refusal of a change that lost a race: the key changed after it was read.
pub(super) fn changed_meanwhile() -> AppError {
    AppError::conflict(
        "access_key_id",
        "This key was changed at the same moment, so nothing was saved: open it again to see its state.",
    )
}

/// Applies `change` to the key as it was `read`: only if its version is still the one read
/// (nobody changed it since), bumping it. Whether it applied.
pub(super) async fn write_if_unchanged(
    db: &impl ConnectionTrait,
    read: &credential::Model,
    change: sea_orm::UpdateMany<credential::Entity>,
) -> Result<bool, sea_orm::DbErr> {
    let rows = change
        .col_expr(credential::Column::Version, next_version())
        .filter(credential::Column::Id.eq(read.id))
        .filter(credential::Column::Version.eq(read.version))
        .exec(db)
        .await?
        .rows_affected;
    Ok(rows == 1)
}

/// `version + 1`, for every write to a key.
pub(super) fn next_version() -> SimpleExpr {
    use sea_orm::sea_query::ExprTrait as _;
    Expr::col(credential::Column::Version).add(1)
}

/// The key's state now, as [`KeyState`] decides it for every place.
pub(super) fn state_of(row: &credential::Model, now: i64) -> KeyState {
    KeyLife {
        status: row.status,
        expires_at: row.expires_at,
        replaced: row.replaced_by.is_some(),
    }
    .state(now)
}

/// A key as it is now, for the answer after a change.
async fn reread_view(db: &DatabaseConnection, id: i32) -> Result<CredentialView, AppError> {
    let row = credential::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("The access key"))?;
    Ok(views(db, vec![row]).await?.remove(0))
}

/// What a credentials list asks for: a search text, a page, and for admins an owner and
/// a bucket to narrow to.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub search: String,
    pub page: u64,
    pub owner_email: Option<String>,
    pub bucket_id: Option<i32>,
    pub sort: ListSort,
    pub status: Option<KeyState>,
}

/// One page of scoped credentials `viewer` may see, newest first, searched over name,
/// bucket name and access key id.
pub async fn page_credentials(
    db: &DatabaseConnection,
    viewer: &SignedInUser,
    query: &ListQuery,
) -> Result<CredentialPage, AppError> {
    use sea_orm::sea_query::{ExprTrait as _, Func};
    use sea_orm::{Condition, PaginatorTrait as _, QuerySelect as _, QueryTrait as _};

    let mut select = credential::Entity::find().filter(credential::Column::Kind.eq(KeyKind::Scoped));
    if !viewer.is_admin() {
        select = select.filter(credential::Column::OwnerId.eq(viewer.id));
    } else if let Some(email) = query.owner_email.as_deref().filter(|e| !e.trim().is_empty()) {
        let owner = users::find_by_email(db, email).await?.map(|u| u.id).unwrap_or(-1);
        select = select.filter(credential::Column::OwnerId.eq(owner));
    }
    if let Some(bucket_id) = query.bucket_id {
        select = select.filter(credential::Column::BucketId.eq(bucket_id));
    }
    let search = query.search.trim().to_lowercase();
    if !search.is_empty() {
        // LIKE with the user's text taken literally.
        let pattern = format!(
            "%{}%",
            search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
        );
        let like = |column: credential::Column| {
            Expr::expr(Func::lower(Expr::col((credential::Entity, column))))
                .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\'))
        };
        let matching_buckets = bucket::Entity::find()
            .select_only()
            .column(bucket::Column::Id)
            .filter(
                Expr::expr(Func::lower(Expr::col((bucket::Entity, bucket::Column::Name))))
                    .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
            )
            .into_query();
        select = select.filter(
            Condition::any()
                .add(like(credential::Column::Name))
                .add(like(credential::Column::AccessKeyId))
                .add(credential::Column::BucketId.in_subquery(matching_buckets)),
        );
    }
    let now = now();
    if let Some(state) = query.status {
        select = select.filter(KeyState::condition(&[state], now));
    }
    select = match query.sort {
        ListSort::Created => select.order_by_desc(credential::Column::CreatedAt),
        ListSort::Name => select.order_by_asc(Expr::expr(Func::lower(Expr::col((
            credential::Entity,
            credential::Column::Name,
        ))))),
        // Never-used keys last on both databases (NULL sorts differently in each).
        ListSort::LastUsed => select
            .order_by_asc(credential::Column::LastUsedAt.is_null())
            .order_by_desc(credential::Column::LastUsedAt),
    };
    let paginator = select.order_by_desc(credential::Column::Id).paginate(db, PAGE_SIZE);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(query.page).await?;
    Ok(CredentialPage {
        items: views(db, rows).await?,
        total,
        page: query.page,
        page_size: PAGE_SIZE,
        now,
    })
}

/// A key the caller may manage (their own; an admin: any), or `NotFound` — the same
/// answer for someone else's key as for one that does not exist.
pub(super) async fn visible_key(
    db: &DatabaseConnection,
    caller: &Caller,
    access_key_id: &str,
) -> Result<credential::Model, AppError> {
    credential::Entity::find()
        .filter(credential::Column::AccessKeyId.eq(access_key_id.trim()))
        .one(db)
        .await?
        .filter(|c| caller.may_manage(c.owner_id))
        .ok_or_else(|| AppError::not_found(format!("The access key {}", access_key_id.trim())))
}

/// The S3 endpoint URL of the region a bucket is in.
async fn region_endpoint(db: &DatabaseConnection, bucket_id: i32) -> Result<String, AppError> {
    Ok(match bucket::Entity::find_by_id(bucket_id).one(db).await? {
        Some(b) => region::Entity::find_by_id(b.region_id)
            .one(db)
            .await?
            .map(|r| r.endpoint_url)
            .unwrap_or_default(),
        None => String::new(),
    })
}

pub async fn credential_detail(
    db: &DatabaseConnection,
    caller: &Caller,
    access_key_id: &str,
) -> Result<CredentialDetail, AppError> {
    let row = visible_key(db, caller, access_key_id).await?;
    let endpoint_url = region_endpoint(db, row.bucket_id).await?;
    let can_reveal = caller.signed_in().is_some_and(|v| v.id == row.owner_id) && row.status != KeyStatus::Revoked;
    let can_resume = !row.paused_by_admin || caller.is_admin();
    let activity = super::activity::of_key(db, row.id, now()).await?;
    Ok(CredentialDetail {
        credential: views(db, vec![row]).await?.remove(0),
        endpoint_url,
        can_reveal,
        can_resume,
        activity,
        now: now(),
    })
}

/// Where a key works and its secret, for the operator's `stook credential setup`: the
/// command line is the server's own, so it may open secrets (as it shows new ones).
pub async fn setup_material(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    access_key_id: &str,
) -> Result<(crate::client_setups::KeyAccess, String), AppError> {
    let row = visible_key(db, &Caller::Operator, access_key_id).await?;
    if row.status == KeyStatus::Revoked {
        return Err(AppError::invalid(
            "access_key_id",
            format!(
                "The access key {} is revoked: a set-up for it would not work.",
                row.access_key_id
            ),
        ));
    }
    let secret = secrets.open(&row.access_key_id, &row.secret_ciphertext).map_err(|e| {
        tracing::error!(access_key_id = %row.access_key_id, error = %e, "stored secret does not open");
        AppError::Internal
    })?;
    let endpoint_url = region_endpoint(db, row.bucket_id).await?;
    let c = views(db, vec![row]).await?.remove(0);
    Ok((
        crate::client_setups::KeyAccess {
            endpoint_url,
            region: c.region,
            bucket: c.bucket,
            path: c.path,
            name: c.name,
            access_key_id: c.access_key_id,
        },
        secret,
    ))
}

/// "What can this key do?": `what` (an S3 operation or a catalog action) on `name` (an
/// object key or a listing prefix), decided by the evaluator the S3 endpoint uses.
pub async fn simulate(
    db: &DatabaseConnection,
    caller: &Caller,
    access_key_id: &str,
    what: &str,
    name: &str,
) -> Result<Simulation, AppError> {
    let row = visible_key(db, caller, access_key_id).await?;
    let view = views(db, vec![row]).await?.remove(0);
    policy::simulate(&KeyScope::of_view(&view), what, name)
        .map(|s| s.refused(view.state(now()).refusal()))
        .map_err(|m| AppError::invalid("operation", m))
}

/// Returns a key's secret to its owner after a fresh check of their login password.
/// Wrong passwords are throttled per user; every reveal is audited (never the secret).
pub async fn reveal_secret(
    state: &AppState,
    viewer: &SignedInUser,
    client_addr: &str,
    access_key_id: &str,
    password: &str,
) -> Result<String, AppError> {
    let throttle_key = format!("user:{}", viewer.id);
    // Counted as a failure before the password is checked, so parallel guesses get no
    // more checks than the limit; taken back when no password was judged, or the right one.
    let reservation = state
        .reveal_by_user
        .reserve(&throttle_key)
        .map_err(|retry_after_secs| AppError::Throttled { retry_after_secs })?;
    let (row, password_ok) = match check_reveal_password(state, viewer, access_key_id, password).await {
        Ok(checked) => checked,
        Err(e) => {
            state.reveal_by_user.release(reservation);
            return Err(e);
        }
    };
    let actor = Actor::user(viewer.id, Some(client_addr.to_string()));
    let target = AuditTarget::Credential(&row.access_key_id);
    if !password_ok {
        audit::record(
            &state.db,
            &actor,
            AuditAction::CredentialRevealRefused,
            target,
            serde_json::json!({}),
        )
        .await?;
        // Say so before the last try, not after it.
        let message = match state.reveal_by_user.remaining(&throttle_key) {
            1 => "That is not your login password. One more wrong password locks reveals for 15 minutes.",
            _ => "That is not your login password.",
        };
        return Err(AppError::invalid("password", message));
    }
    state.reveal_by_user.release(reservation);
    state.reveal_by_user.clear(&throttle_key);
    let secret = state
        .secrets
        .open(&row.access_key_id, &row.secret_ciphertext)
        .map_err(|e| {
            tracing::error!(access_key_id = %row.access_key_id, error = %e, "stored secret does not open");
            AppError::Internal
        })?;
    audit::record(
        &state.db,
        &actor,
        AuditAction::CredentialReveal,
        target,
        serde_json::json!({}),
    )
    .await?;
    Ok(secret)
}

/// The key to reveal (only its owner may) and whether `password` is the owner's.
async fn check_reveal_password(
    state: &AppState,
    viewer: &SignedInUser,
    access_key_id: &str,
    password: &str,
) -> Result<(credential::Model, bool), AppError> {
    // Only the owner reveals: an admin manages keys but never reads a customer's secret.
    let row = visible_key(&state.db, &Caller::Operator, access_key_id).await?;
    if row.owner_id != viewer.id && viewer.is_admin() {
        // Admins see every key anyway: say why, rather than pretend it is not there.
        return Err(AppError::invalid(
            "access_key_id",
            "Only the key's owner can reveal its secret: admins manage keys but never read them.",
        ));
    }
    if row.owner_id != viewer.id {
        return Err(AppError::not_found(format!("The access key {}", access_key_id.trim())));
    }
    let hash = user::Entity::find_by_id(viewer.id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotSignedIn)?
        .password_hash;
    let password_ok =
        password.len() <= crate::domain::MAX_PASSWORD_BYTES && passwords::verify(password.to_string(), hash).await?;
    Ok((row, password_ok))
}

/// Pauses a key (the S3 endpoint refuses it as inactive) or resumes it, as AWS IAM's
/// Inactive / Active. Revoking stays final: a revoked key is never resumed, whatever runs
/// at the same moment (the write is conditional on the version read). A pause by an
/// admin on someone else's key holds until an admin resumes it.
pub async fn set_paused(
    db: &DatabaseConnection,
    caller: &Caller,
    access_key_id: &str,
    paused: bool,
) -> Result<CredentialView, AppError> {
    let found = visible_key(db, caller, access_key_id).await?;
    if found.kind == KeyKind::Master {
        return Err(AppError::invalid(
            "access_key_id",
            "A bucket's master key is never paused: rotate it to replace it.",
        ));
    }
    let refuse = |message: &str| Err(AppError::conflict("access_key_id", message));
    // An admin's pause of a customer's key is theirs to lift.
    let by_admin = paused && caller.is_admin() && caller.signed_in().is_none_or(|u| u.id != found.owner_id);
    match (state_of(&found, now()), paused) {
        (KeyState::Revoked, _) => {
            return Err(AppError::invalid(
                "access_key_id",
                "A revoked key stays revoked: create a new credential instead.",
            ));
        }
        (KeyState::Expired | KeyState::Retired, _) => {
            return refuse("This key has ended (its expiry passed), so pausing or resuming it changes nothing.");
        }
        // An admin's pause takes over the owner's, so the owner cannot lift it.
        (KeyState::Paused, true) if by_admin && !found.paused_by_admin => {}
        (KeyState::Paused, true) => return refuse("This key is already paused: nothing was changed."),
        (KeyState::Active | KeyState::Retiring, false) => {
            return refuse("This key is already active: nothing was changed.");
        }
        (KeyState::Paused, false) if found.paused_by_admin && !caller.is_admin() => {
            return Err(AppError::invalid(
                "access_key_id",
                "An administrator paused this key: only an administrator can resume it.",
            ));
        }
        _ => {}
    }
    let wanted = if paused { KeyStatus::Paused } else { KeyStatus::Active };
    let txn = db.begin().await?;
    let change = credential::Entity::update_many()
        .col_expr(credential::Column::Status, Expr::value(wanted))
        .col_expr(credential::Column::PausedByAdmin, Expr::value(by_admin))
        .filter(credential::Column::Status.eq(found.status));
    if !write_if_unchanged(&txn, &found, change).await? {
        txn.rollback().await?;
        return Err(changed_meanwhile());
    }
    audit::record(
        &txn,
        &caller.actor(),
        if paused {
            AuditAction::CredentialPause
        } else {
            AuditAction::CredentialResume
        },
        AuditTarget::Credential(&found.access_key_id),
        if by_admin {
            serde_json::json!({ "by_admin": true })
        } else {
            serde_json::json!({})
        },
    )
    .await?;
    txn.commit().await?;
    reread_view(db, found.id).await
}

/// Rotates a scoped key: a new pair with the same bucket, path, actions and networks
/// takes the key's name, and the old pair keeps working for `grace` (renamed, linked to
/// the new one), then retires on its own: its expiry is the grace period's end, which the
/// S3 endpoint checks on every request (`grace_secs` 0: it retires at once). An expired
/// key may be rotated into a new pair too. The new pair lasts as long as the old one did,
/// within `max_lifetime_days` (see `settings::key_lifetime_cap`). The old pair is claimed
/// by a write conditional on the version read, so the new pair copies exactly the scope
/// that was current: an edit at the same moment is either wholly before (and copied) or
/// refused. Returns the new pair once.
pub async fn rotate_credential(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    caller: &Caller,
    access_key_id: &str,
    grace_secs: i64,
    max_lifetime_days: Option<u32>,
) -> Result<(CredentialView, IssuedKey), AppError> {
    let old = visible_key(db, caller, access_key_id).await?;
    let refuse = |message: &str| Err(AppError::invalid("access_key_id", message));
    if old.kind == KeyKind::Master {
        return refuse("A bucket's master key is rotated on the Buckets page.");
    }
    let now = now();
    match state_of(&old, now) {
        KeyState::Revoked => return refuse("A revoked key stays revoked: create a new credential instead."),
        KeyState::Paused => return refuse("This key is paused: resume it before rotating it."),
        KeyState::Retiring | KeyState::Retired => {
            let next = match old.replaced_by {
                Some(next) => credential::Entity::find_by_id(next).one(db).await?,
                None => None,
            };
            return Err(AppError::conflict(
                "access_key_id",
                format!(
                    "This key was already rotated: its replacement is {}.",
                    next.map(|n| n.access_key_id).unwrap_or_else(|| "deleted".into())
                ),
            ));
        }
        KeyState::Active | KeyState::Expired => {}
    }
    let expires_at = rotated_expiry(old.created_at, old.expires_at, now, max_lifetime_days);
    let name = old.name.clone().unwrap_or_default();
    let txn = db.begin().await?;
    // Frees the name for the new pair; of two rotations at once (a double submit, two
    // tabs), or a rotation and an edit, exactly one goes on.
    let claim = credential::Entity::update_many()
        .col_expr(
            credential::Column::Name,
            Expr::value(format!("{name} (old key {})", old.access_key_id)),
        )
        .filter(credential::Column::ReplacedBy.is_null())
        .filter(credential::Column::Status.eq(KeyStatus::Active));
    if !write_if_unchanged(&txn, &old, claim).await? {
        txn.rollback().await?;
        return Err(AppError::conflict(
            "access_key_id",
            "This key was just rotated or changed: open it again to see its state.",
        ));
    }
    let (row, secret_key, new_id) = insert_key(
        &txn,
        secrets,
        NewKey {
            owner_id: old.owner_id,
            bucket_id: old.bucket_id,
            name: Some(name.clone()),
            path: old.path.clone(),
            actions: ActionSet::parse(&old.actions).unwrap_or_default(),
            kind: KeyKind::Scoped,
            expires_at,
            networks: old.networks.clone(),
        },
    )
    .await?;
    // The old pair retires at the grace period's end, or at its own expiry if sooner.
    let end = now + grace_secs.max(0);
    credential::Entity::update_many()
        .col_expr(credential::Column::ReplacedBy, Expr::value(row.id))
        .col_expr(
            credential::Column::ExpiresAt,
            Expr::value(old.expires_at.map_or(end, |at| at.min(end))),
        )
        .filter(credential::Column::Id.eq(old.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &caller.actor(),
        AuditAction::CredentialRotate,
        AuditTarget::Credential(&old.access_key_id),
        serde_json::json!({ "name": name, "new_access_key_id": new_id, "grace_secs": grace_secs.max(0) }),
    )
    .await?;
    txn.commit().await?;
    let view = views(db, vec![row]).await?.remove(0);
    Ok((
        view,
        IssuedKey {
            access_key_id: new_id,
            secret_key,
        },
    ))
}

/// What a bulk change from the list does to each selected key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkChange {
    Pause,
    Revoke,
}

impl BulkChange {
    pub fn parse(text: &str) -> Result<BulkChange, String> {
        match text.trim() {
            "pause" => Ok(BulkChange::Pause),
            "revoke" => Ok(BulkChange::Revoke),
            other => Err(format!("“{other}” is not a bulk change: choose pause or revoke.")),
        }
    }
}

/// The most keys one bulk change takes: two pages of the list.
pub const MAX_BULK_KEYS: usize = 100;

/// Pauses or revokes several scoped keys, in one transaction. Every id is checked first:
/// one the caller may not manage (or a master key) refuses the whole change, so nothing
/// changes. Keys already in the asked state, ended keys asked to pause, and revoked keys
/// are left as they are; each write is conditional on the state read (a key revoked at the
/// same moment is not paused back to life). Returns how many keys changed.
pub async fn bulk_change(
    db: &DatabaseConnection,
    caller: &Caller,
    access_key_ids: &[String],
    change: BulkChange,
) -> Result<usize, AppError> {
    let mut ids: Vec<&str> = access_key_ids
        .iter()
        .map(|id| id.trim())
        .filter(|id| !id.is_empty())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::invalid("keys", "Select at least one key."));
    }
    if ids.len() > MAX_BULK_KEYS {
        return Err(AppError::invalid(
            "keys",
            format!("Select at most {MAX_BULK_KEYS} keys at a time."),
        ));
    }
    let mut keys = Vec::with_capacity(ids.len());
    for id in &ids {
        let key = visible_key(db, caller, id).await?;
        if key.kind == KeyKind::Master {
            return Err(AppError::invalid(
                "keys",
                format!("{id} is a bucket's master key, which is rotated, never paused or revoked."),
            ));
        }
        keys.push(key);
    }
    let now = now();
    // Reads above, writes below: a SQLite transaction that starts with a write takes the
    // write lock at once instead of failing to upgrade a read.
    let txn = db.begin().await?;
    let mut changed = 0;
    for key in keys {
        let applied = match change {
            BulkChange::Revoke => revoke_row(&txn, key.id).await?,
            BulkChange::Pause => {
                if !matches!(state_of(&key, now), KeyState::Active | KeyState::Retiring) {
                    continue;
                }
                let by_admin = caller.is_admin() && caller.signed_in().is_none_or(|u| u.id != key.owner_id);
                let pause = credential::Entity::update_many()
                    .col_expr(credential::Column::Status, Expr::value(KeyStatus::Paused))
                    .col_expr(credential::Column::PausedByAdmin, Expr::value(by_admin))
                    .col_expr(credential::Column::Version, next_version())
                    .filter(credential::Column::Id.eq(key.id))
                    .filter(credential::Column::Status.eq(KeyStatus::Active));
                pause.exec(&txn).await?.rows_affected == 1
            }
        };
        if !applied {
            continue;
        }
        audit::record(
            &txn,
            &caller.actor(),
            match change {
                BulkChange::Pause => AuditAction::CredentialPause,
                BulkChange::Revoke => AuditAction::CredentialRevoke,
            },
            AuditTarget::Credential(&key.access_key_id),
            serde_json::json!({ "bulk": true }),
        )
        .await?;
        changed += 1;
    }
    txn.commit().await?;
    Ok(changed)
}

/// Deletes a scoped credential for good (master keys are rotated, never deleted).
pub async fn delete_credential(db: &DatabaseConnection, caller: &Caller, access_key_id: &str) -> Result<(), AppError> {
    let row = visible_key(db, caller, access_key_id).await?;
    if row.kind == KeyKind::Master {
        return Err(AppError::invalid(
            "access_key_id",
            "A bucket's master key cannot be deleted; rotate it instead.",
        ));
    }
    credential::Entity::delete_by_id(row.id).exec(db).await?;
    audit::record(
        db,
        &caller.actor(),
        AuditAction::CredentialDelete,
        AuditTarget::Credential(&row.access_key_id),
        serde_json::json!({ "name": row.name }),
    )
    .await?;
    Ok(())
}

pub(super) async fn views(
    db: &DatabaseConnection,
    rows: Vec<credential::Model>,
) -> Result<Vec<CredentialView>, AppError> {
    let bucket_ids: Vec<i32> = rows.iter().map(|c| c.bucket_id).collect();
    let buckets: HashMap<i32, bucket::Model> = bucket::Entity::find()
        .filter(bucket::Column::Id.is_in(bucket_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    let regions: HashMap<i32, String> = region::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let owners = users::emails_by_id(db, rows.iter().map(|c| c.owner_id)).await?;
    let (replaced_by, replaces) = rotation_links(db, &rows).await?;
    let now = now();
    Ok(rows
        .into_iter()
        .map(|c| {
            let bucket = buckets.get(&c.bucket_id);
            let actions = ActionSet::parse(&c.actions).unwrap_or_default();
            let state = state_of(&c, now);
            CredentialView {
                id: c.id,
                name: c.name,
                owner_email: owners.get(&c.owner_id).cloned().unwrap_or_default(),
                bucket: bucket.map(|b| b.name.clone()).unwrap_or_default(),
                region: bucket
                    .and_then(|b| regions.get(&b.region_id).cloned())
                    .unwrap_or_default(),
                path: c.path,
                permission_summary: actions.summary(),
                actions: actions.iter().map(str::to_string).collect(),
                kind: c.kind,
                access_key_id: c.access_key_id,
                status: c.status,
                created_at: c.created_at,
                last_used_at: c.last_used_at,
                revoked_at: c.revoked_at,
                expires_at: c.expires_at,
                denied_requests: c.denied_requests,
                networks: NetworkList::parse(c.networks.as_deref().unwrap_or(""))
                    .map(|n| n.names())
                    .unwrap_or_default(),
                replaced_by: c.replaced_by.and_then(|id| replaced_by.get(&id).cloned()),
                replaces: replaces.get(&c.id).cloned(),
                paused_by_admin: c.paused_by_admin,
                state,
            }
        })
        .collect())
}

/// The access key ids at either end of the rows' rotations: successor id → its key id,
/// and row id → the key id of the pair it replaced.
async fn rotation_links(
    db: &DatabaseConnection,
    rows: &[credential::Model],
) -> Result<(HashMap<i32, String>, HashMap<i32, String>), AppError> {
    use sea_orm::QuerySelect as _;
    let successors: Vec<i32> = rows.iter().filter_map(|c| c.replaced_by).collect();
    let replaced_by = if successors.is_empty() {
        HashMap::new()
    } else {
        credential::Entity::find()
            .select_only()
            .columns([credential::Column::Id, credential::Column::AccessKeyId])
            .filter(credential::Column::Id.is_in(successors))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let replaces = credential::Entity::find()
        .select_only()
        .columns([credential::Column::ReplacedBy, credential::Column::AccessKeyId])
        .filter(credential::Column::ReplacedBy.is_in(rows.iter().map(|c| c.id)))
        .into_tuple::<(i32, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok((replaced_by, replaces))
}
