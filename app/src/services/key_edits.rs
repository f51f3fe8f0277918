//! Editing a credential: its name, path, actions, expiry and networks, with a preview of
//! what the change would do — the actions gained and lost, and the requests of the last
//! days (from the S3 endpoint's activity) that the new scope would deny. The audit log
//! keeps the before and after.

use super::activity::{self, NO_NAME, OTHER_FOLDERS, OTHER_FOLDERS_WORDS};
use super::audit::{self, AuditAction, AuditTarget};
use super::caller::Caller;
use super::credentials::{changed_meanwhile, checked_actions, state_of, views, visible_key, write_if_unchanged};
use super::entities::{credential, key_source};
use super::{now, unique_violation};
use crate::catalog::ActionSet;
use crate::domain::{
    CredentialView, EditPreview, FailingRequests, FieldChange, KeyKind, KeyStatus, PREVIEW_DAYS, format_utc,
    normalize_credential_name, normalize_path,
};
use crate::error::AppError;
use crate::networks::NetworkList;
use crate::policy::{self, Grant, KeyScope, KeyState};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, TransactionTrait as _};

/// What to change; `None` keeps a field as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct EditCredential<'a> {
    pub name: Option<&'a str>,
    /// A folder, or empty for the whole bucket.
    pub path: Option<&'a str>,
    /// `all`, a preset, or action names.
    pub actions: Option<&'a str>,
    /// `Some(None)`: never expires.
    pub expires_at: Option<Option<i64>>,
    /// CIDRs separated by commas, spaces or new lines; empty for anywhere.
    pub networks: Option<&'a str>,
    /// The longest a customer's key may live, counted from its creation (see
    /// `settings::key_lifetime_cap`; `None` for admins and the operator).
    pub lifetime_cap: Option<u32>,
}

/// A credential's editable fields, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Editable {
    name: String,
    path: Option<String>,
    actions: ActionSet,
    expires_at: Option<i64>,
    networks: Option<String>,
}

impl Editable {
    fn of(row: &credential::Model) -> Editable {
        Editable {
            name: row.name.clone().unwrap_or_default(),
            path: row.path.clone(),
            actions: ActionSet::parse(&row.actions).unwrap_or_default(),
            expires_at: row.expires_at,
            networks: row.networks.clone(),
        }
    }

    /// For the audit log's before and after.
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "path": self.path,
            "actions": self.actions.to_storage(),
            "expires_at": self.expires_at,
            "networks": self.networks,
        })
    }
}

/// The key and what it would become: every field checked as on create.
async fn plan(
    db: &DatabaseConnection,
    caller: &Caller,
    access_key_id: &str,
    input: EditCredential<'_>,
) -> Result<(credential::Model, Editable), AppError> {
    let row = visible_key(db, caller, access_key_id).await?;
    if row.kind == KeyKind::Master {
        return Err(AppError::invalid(
            "access_key_id",
            "A bucket's master key has the whole bucket and every action: it is not edited.",
        ));
    }
    match state_of(&row, now()) {
        KeyState::Active | KeyState::Paused => {}
        KeyState::Revoked => {
            return Err(AppError::invalid(
                "access_key_id",
                "A revoked key stays as it was: create a new credential instead.",
            ));
        }
        // Its expiry is the end of the grace period: editing must not bring it back.
        KeyState::Retiring | KeyState::Retired => {
            return Err(AppError::invalid(
                "access_key_id",
                "This key was replaced by rotation and retires on its own: edit its replacement instead.",
            ));
        }
        KeyState::Expired => {
            return Err(AppError::invalid(
                "access_key_id",
                "This key has expired, and an expired key is not edited back to life: rotate it into a new pair, or delete it.",
            ));
        }
    }
    let before = Editable::of(&row);
    let name = match input.name {
        Some(name) => normalize_credential_name(name).map_err(|m| AppError::invalid("name", m))?,
        None => before.name.clone(),
    };
    let path = match input.path {
        Some(path) => normalize_path(path).map_err(|m| AppError::invalid("path", m))?,
        None => before.path.clone(),
    };
    let actions = match input.actions {
        Some(actions) => checked_actions(actions, path.as_deref())?,
        // A new path is checked against the actions the key has.
        None => checked_actions(&before.actions.to_storage(), path.as_deref())?,
    };
    let networks = match input.networks {
        Some(networks) => NetworkList::parse(networks)
            .map_err(|m| AppError::invalid("networks", m))?
            .to_storage(),
        None => before.networks.clone(),
    };
    let expires_at = match input.expires_at {
        Some(Some(at)) if at <= now() => {
            return Err(AppError::invalid("expires", "The expiry must lie in the future."));
        }
        Some(at) => {
            lifetime_within_cap(row.created_at, at, input.lifetime_cap)?;
            at
        }
        None => before.expires_at,
    };
    Ok((
        row,
        Editable {
            name,
            path,
            actions,
            expires_at,
            networks,
        },
    ))
}

/// The lifetime limit bounds the age of a secret, counted from the key's creation: a new
/// expiry is measured from then, never from the day of the edit (re-editing must not keep
/// one secret alive past the limit).
fn lifetime_within_cap(created_at: i64, expires_at: Option<i64>, cap: Option<u32>) -> Result<(), AppError> {
    let Some(days) = cap else {
        return Ok(());
    };
    let latest = created_at + i64::from(days) * 86_400;
    match expires_at {
        None => Err(AppError::invalid(
            "expires",
            format!("Keys may last at most {days} days here: choose when this one expires."),
        )),
        Some(at) if at > latest => Err(AppError::invalid(
            "expires",
            format!(
                "Keys may last at most {days} days from their creation here, so this one must expire by {}: choose an earlier expiry, or rotate it into a new pair.",
                format_utc(latest)
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// What saving `input` would change, and what it would break.
pub async fn preview_edit(
    db: &DatabaseConnection,
    caller: &Caller,
    access_key_id: &str,
    input: EditCredential<'_>,
) -> Result<EditPreview, AppError> {
    let (row, after) = plan(db, caller, access_key_id, input).await?;
    let before = Editable::of(&row);
    let now = now();
    let since = now - PREVIEW_DAYS * 86_400;
    let scope_of = |e: &Editable| KeyScope {
        bucket: String::new(),
        path: e.path.clone(),
        grant: Grant::Actions(e.actions.clone()),
        networks: Default::default(),
    };
    let (now_scope, scope) = (scope_of(&before), scope_of(&after));
    // Allowed requests per action and folder, summed in SQL (the busiest one by one, the
    // rest per action as other folders); denied ones fail today already.
    let mut would_fail: Vec<FailingRequests> = activity::allowed_by_folder(db, row.id, since)
        .await?
        .into_iter()
        .filter_map(|r| {
            let action = crate::catalog::find(&r.action)?;
            // Folders not recorded one by one lay inside the key's path: tried there.
            let (folder, shown) = match r.folder.as_str() {
                NO_NAME => (None, None),
                OTHER_FOLDERS => (
                    Some(before.path.clone().unwrap_or_default()),
                    Some(OTHER_FOLDERS_WORDS.to_string()),
                ),
                _ => (Some(r.folder.clone()), Some(r.folder)),
            };
            // Only what works today and would stop: requests the key lost already fail now.
            policy::grants_in_folder(&now_scope, action, folder.as_deref()).ok()?;
            let denial = policy::grants_in_folder(&scope, action, folder.as_deref()).err()?;
            Some(FailingRequests {
                action: action.name.to_string(),
                folder: shown,
                requests: r.allowed,
                reason: denial.to_string(),
            })
        })
        .collect();
    would_fail.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.action.cmp(&b.action)));
    let networks = NetworkList::parse(after.networks.as_deref().unwrap_or("")).unwrap_or_default();
    let addresses_left_out = if networks.is_empty() {
        Vec::new()
    } else {
        key_source::Entity::find()
            .filter(key_source::Column::CredentialId.eq(row.id))
            .filter(key_source::Column::LastSeen.gte(since))
            .all(db)
            .await?
            .into_iter()
            .filter(|s| s.client_addr.parse().is_ok_and(|ip| !networks.allows(ip)))
            .map(|s| s.client_addr)
            .collect()
    };
    let gained = after
        .actions
        .iter()
        .filter(|a| !before.actions.contains(a))
        .map(str::to_string)
        .collect();
    let lost = before
        .actions
        .iter()
        .filter(|a| !after.actions.contains(a))
        .map(str::to_string)
        .collect();
    Ok(EditPreview {
        changes: changes(&before, &after),
        gained,
        lost,
        would_fail,
        addresses_left_out,
    })
}

/// The fields that differ, in words.
fn changes(before: &Editable, after: &Editable) -> Vec<FieldChange> {
    let path = |p: &Option<String>| p.clone().unwrap_or_else(|| "/ (whole bucket)".into());
    let expiry = |t: Option<i64>| t.map(format_utc).unwrap_or_else(|| "Never".into());
    let networks = |n: &Option<String>| n.clone().unwrap_or_else(|| "Anywhere".into());
    let mut changes = Vec::new();
    let mut note = |field: &str, b: String, a: String| {
        if b != a {
            changes.push(FieldChange {
                field: field.to_string(),
                before: b,
                after: a,
            });
        }
    };
    note("Name", before.name.clone(), after.name.clone());
    note("Path", path(&before.path), path(&after.path));
    if before.actions != after.actions {
        let gained = after.actions.iter().filter(|a| !before.actions.contains(a)).count();
        let lost = before.actions.iter().filter(|a| !after.actions.contains(a)).count();
        note(
            "Permissions",
            before.actions.summary(),
            format!("{} ({gained} gained, {lost} lost)", after.actions.summary()),
        );
    }
    note("Expires", expiry(before.expires_at), expiry(after.expires_at));
    note("Networks", networks(&before.networks), networks(&after.networks));
    changes
}

/// Saves an edit. The S3 endpoint on every instance uses the new scope within a second
/// (its key cache lives half a second). The audit log keeps the before and after.
pub async fn edit_credential(
    db: &DatabaseConnection,
    caller: &Caller,
    access_key_id: &str,
    input: EditCredential<'_>,
) -> Result<CredentialView, AppError> {
    let (row, after) = plan(db, caller, access_key_id, input).await?;
    let before = Editable::of(&row);
    if before == after {
        return Ok(views(db, vec![row]).await?.remove(0));
    }
    // Written only onto the version planned from: a rotation, revocation or other edit
    // in between would otherwise be undone by this one's stale fields.
    let change = credential::Entity::update_many()
        .col_expr(credential::Column::Name, Expr::value(after.name.clone()))
        .col_expr(credential::Column::Path, Expr::value(after.path.clone()))
        .col_expr(credential::Column::Actions, Expr::value(after.actions.to_storage()))
        .col_expr(credential::Column::ExpiresAt, Expr::value(after.expires_at))
        .col_expr(credential::Column::Networks, Expr::value(after.networks.clone()))
        .filter(credential::Column::Status.ne(KeyStatus::Revoked))
        .filter(credential::Column::ReplacedBy.is_null());
    let txn = db.begin().await?;
    let written = write_if_unchanged(&txn, &row, change).await.map_err(|e| {
        unique_violation(
            e,
            "name",
            format!("You already have a credential named “{}”.", after.name),
        )
    })?;
    if !written {
        txn.rollback().await?;
        return Err(changed_meanwhile());
    }
    audit::record(
        &txn,
        &caller.actor(),
        AuditAction::CredentialUpdate,
        AuditTarget::Credential(&row.access_key_id),
        serde_json::json!({ "before": before.to_json(), "after": after.to_json() }),
    )
    .await?;
    txn.commit().await?;
    let row = credential::Entity::find_by_id(row.id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("The access key"))?;
    Ok(views(db, vec![row]).await?.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn editable(path: Option<&str>, actions: &str) -> Editable {
        Editable {
            name: "backup".into(),
            path: path.map(str::to_string),
            actions: ActionSet::parse(actions).unwrap(),
            expires_at: None,
            networks: None,
        }
    }

    #[test]
    fn the_diff_names_only_what_changes() {
        let before = editable(None, "read-only");
        assert!(changes(&before, &before).is_empty());
        let after = Editable {
            name: "backups".into(),
            path: Some("photos/".into()),
            expires_at: Some(86_400),
            networks: Some("10.0.0.0/8".into()),
            ..before.clone()
        };
        let fields: Vec<String> = changes(&before, &after).into_iter().map(|c| c.field).collect();
        assert_eq!(fields, ["Name", "Path", "Expires", "Networks"]);
        let path = &changes(&before, &after)[1];
        assert_eq!(
            (path.before.as_str(), path.after.as_str()),
            ("/ (whole bucket)", "photos/")
        );
    }

    #[test]
    fn failing_requests_read_as_a_sentence() {
        let failing = FailingRequests {
            action: "s3:PutObject".into(),
            folder: Some("uploads/".into()),
            requests: 12,
            reason: String::new(),
        };
        assert_eq!(failing.sentence(), "12 s3:PutObject requests under uploads/ would fail");
        let one = FailingRequests {
            requests: 1,
            folder: Some(String::new()),
            ..failing
        };
        assert_eq!(
            one.sentence(),
            "1 s3:PutObject request at the top of the bucket would fail"
        );
    }
}
