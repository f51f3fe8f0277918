//! Key activity: what the S3 endpoint saw each key do, gathered in memory as a [`Batch`]
//! and written every few seconds (never a write per request), rolled up per hour and
//! action, with the last denied requests and the source addresses; kept
//! [`ACTIVITY_DAYS`] days. The drawer reads it back with [`of_key`].

use super::audit::{self, Actor, AuditAction, AuditTarget};
use super::entities::{credential, key_activity, key_denial, key_source};
use crate::domain::{ACTIVITY_DAYS, ActionActivity, DENIALS_SHOWN, DeniedRequest, KeyActivity, LastUse, SourceAddress};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, TransactionTrait as _,
};
use std::collections::HashMap;
use std::net::IpAddr;

/// The `action` of requests that need none (ListBuckets).
pub const NO_ACTION: &str = "-";
/// The `folder` of requests that name no object key or prefix (bucket settings, ListBuckets).
pub const NO_NAME: &str = "-";
/// Activity is counted per folder this many levels deep at most (and
/// [`MAX_FOLDER_BYTES`] long), so a key writing to many folders adds few rows.
pub const FOLDER_DEPTH: usize = 4;
pub const MAX_FOLDER_BYTES: usize = 200;

/// The folder an object key or listing prefix is in (`photos/2024/a.jpg` →
/// `photos/2024/`; `a.jpg` → `""`), cut to [`FOLDER_DEPTH`] levels and [`MAX_FOLDER_BYTES`].
/// [`NO_NAME`] when the request named nothing. Edits replay these folders against the
/// new path: a key is inside a path exactly when its folder is, since paths end in `/`.
pub fn folder_of(name: Option<&str>) -> &str {
    let Some(name) = name else { return NO_NAME };
    let mut end = 0;
    for (depth, (at, _)) in name.match_indices('/').enumerate() {
        if depth == FOLDER_DEPTH || at + 1 > MAX_FOLDER_BYTES {
            break;
        }
        end = at + 1;
    }
    &name[..end]
}
/// Denied requests kept in memory per key between writes: under a flood of denials the
/// counters go on counting, the details of the oldest are dropped.
const DENIALS_PER_KEY_IN_BATCH: usize = DENIALS_SHOWN as usize;
const HOUR: i64 = 3600;
/// This many denied requests of one key in one write (a few seconds) go to the audit log
/// as a burst: a misconfigured client, or someone probing with a leaked key.
pub const DENIED_BURST: i64 = 10;

/// One request as the S3 endpoint saw it.
#[derive(Clone, Copy, Debug)]
pub struct Seen<'a> {
    pub credential_id: i32,
    pub at: i64,
    /// The S3 operation, as s3s names it.
    pub operation: &'static str,
    /// The catalog action it needed, if any.
    pub action: Option<&'static str>,
    pub client_addr: Option<IpAddr>,
    /// The object key (or a listing's prefix) it named.
    pub object_key: Option<&'a str>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: i64,
    pub denied: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub credential_id: i32,
    pub at: i64,
    pub operation: &'static str,
    pub object_key: Option<String>,
    pub reason: String,
    pub client_addr: Option<IpAddr>,
}

/// What gathered since the last write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    pub last_used: HashMap<i32, i64>,
    pub denied: HashMap<i32, i64>,
    /// Per key, hour, action and folder (see [`folder_of`]).
    pub hours: HashMap<(i32, i64, &'static str, String), Counts>,
    /// Per key and address: the latest request's time and operation.
    pub sources: HashMap<(i32, IpAddr), (i64, &'static str)>,
    pub denials: Vec<Denied>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.last_used.is_empty() && self.denied.is_empty() && self.hours.is_empty()
    }

    fn count(&mut self, seen: &Seen<'_>, requests: i64, denied: i64) {
        let hour = seen.at - seen.at.rem_euclid(HOUR);
        let key = (
            seen.credential_id,
            hour,
            seen.action.unwrap_or(NO_ACTION),
            folder_of(seen.object_key).to_string(),
        );
        let counts = self.hours.entry(key).or_default();
        counts.requests += requests;
        counts.denied += denied;
        if let Some(addr) = seen.client_addr {
            let source = self
                .sources
                .entry((seen.credential_id, addr))
                .or_insert((seen.at, seen.operation));
            if seen.at >= source.0 {
                *source = (seen.at, seen.operation);
            }
        }
    }

    /// A request the key was allowed to make.
    pub fn allowed(&mut self, seen: &Seen<'_>) {
        let last = self.last_used.entry(seen.credential_id).or_insert(seen.at);
        *last = Ord::max(*last, seen.at);
        self.count(seen, 1, 0);
    }

    /// A request signed with the key but denied, and why.
    pub fn denied(&mut self, seen: &Seen<'_>, reason: String) {
        self.count(seen, 1, 0);
        self.denied_in_request(seen, reason);
    }

    /// A part of an allowed (already counted) request that was denied: one key of a
    /// DeleteObjects batch, a POST upload's key.
    pub fn denied_in_request(&mut self, seen: &Seen<'_>, reason: String) {
        *self.denied.entry(seen.credential_id).or_default() += 1;
        self.count(seen, 0, 1);
        let of_key = self
            .denials
            .iter()
            .filter(|d| d.credential_id == seen.credential_id)
            .count();
        if of_key >= DENIALS_PER_KEY_IN_BATCH
            && let Some(oldest) = self.denials.iter().position(|d| d.credential_id == seen.credential_id)
        {
            self.denials.remove(oldest);
        }
        self.denials.push(Denied {
            credential_id: seen.credential_id,
            at: seen.at,
            operation: seen.operation,
            object_key: seen.object_key.map(str::to_string),
            reason,
            client_addr: seen.client_addr,
        });
    }

    /// Puts back a batch that could not be written, for the next try.
    pub fn merge(&mut self, other: Batch) {
        for (id, at) in other.last_used {
            let last = self.last_used.entry(id).or_insert(at);
            *last = Ord::max(*last, at);
        }
        for (id, n) in other.denied {
            *self.denied.entry(id).or_default() += n;
        }
        for (key, counts) in other.hours {
            let mine = self.hours.entry(key).or_default();
            mine.requests += counts.requests;
            mine.denied += counts.denied;
        }
        for (key, (at, operation)) in other.sources {
            let mine = self.sources.entry(key).or_insert((at, operation));
            if at >= mine.0 {
                *mine = (at, operation);
            }
        }
        let mut denials = other.denials;
        denials.append(&mut self.denials);
        self.denials = denials;
    }
}

/// Writes a batch in one transaction and drops what is older than [`ACTIVITY_DAYS`].
pub async fn write(db: &DatabaseConnection, batch: &Batch, now: i64) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    for (&id, &at) in &batch.last_used {
        // Another instance may have written a later time already: never go back.
        credential::Entity::update_many()
            .col_expr(credential::Column::LastUsedAt, Expr::value(at))
            .filter(credential::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(credential::Column::LastUsedAt.is_null())
                    .add(credential::Column::LastUsedAt.lt(at)),
            )
            .exec(&txn)
            .await?;
    }
    for (&id, &n) in &batch.denied {
        credential::Entity::update_many()
            .col_expr(
                credential::Column::DeniedRequests,
                Expr::col(credential::Column::DeniedRequests).add(n),
            )
            .filter(credential::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if n >= DENIED_BURST
            && let Some(key) = credential::Entity::find_by_id(id).one(&txn).await?
        {
            let from = batch
                .denials
                .iter()
                .rev()
                .find(|d| d.credential_id == id)
                .and_then(|d| d.client_addr);
            let actor = Actor {
                user_id: None,
                client_addr: from.map(|a| a.to_string()),
            };
            audit::record(
                &txn,
                &actor,
                AuditAction::CredentialDeniedBurst,
                AuditTarget::Credential(&key.access_key_id),
                serde_json::json!({ "denied": n }),
            )
            .await
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
    }
    let existing = |column: key_activity::Column| Expr::col((key_activity::Entity, column));
    let excluded = |column: key_activity::Column| Expr::col((Alias::new("excluded"), column));
    for ((id, hour, action, folder), counts) in &batch.hours {
        // Counts add up across writes and instances.
        key_activity::Entity::insert(key_activity::ActiveModel {
            credential_id: Set(*id),
            hour: Set(*hour),
            action: Set(action.to_string()),
            folder: Set(folder.clone()),
            requests: Set(counts.requests),
            denied: Set(counts.denied),
        })
        .on_conflict(
            OnConflict::columns([
                key_activity::Column::CredentialId,
                key_activity::Column::Hour,
                key_activity::Column::Action,
                key_activity::Column::Folder,
            ])
            .value(
                key_activity::Column::Requests,
                existing(key_activity::Column::Requests).add(excluded(key_activity::Column::Requests)),
            )
            .value(
                key_activity::Column::Denied,
                existing(key_activity::Column::Denied).add(excluded(key_activity::Column::Denied)),
            )
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    for (&(id, addr), &(at, operation)) in &batch.sources {
        key_source::Entity::insert(key_source::ActiveModel {
            credential_id: Set(id),
            client_addr: Set(addr.to_string()),
            last_seen: Set(at),
            last_operation: Set(operation.to_string()),
        })
        .on_conflict(
            OnConflict::columns([key_source::Column::CredentialId, key_source::Column::ClientAddr])
                .update_columns([key_source::Column::LastSeen, key_source::Column::LastOperation])
                // A slower instance's older request never replaces a newer one.
                .action_and_where(
                    Expr::col((key_source::Entity, key_source::Column::LastSeen))
                        .lt(Expr::col((Alias::new("excluded"), key_source::Column::LastSeen))),
                )
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    if !batch.denials.is_empty() {
        key_denial::Entity::insert_many(batch.denials.iter().map(|d| key_denial::ActiveModel {
            credential_id: Set(d.credential_id),
            at: Set(d.at),
            operation: Set(d.operation.to_string()),
            object_key: Set(d.object_key.clone()),
            reason: Set(d.reason.clone()),
            client_addr: Set(d.client_addr.map(|a| a.to_string())),
            ..Default::default()
        }))
        .exec_without_returning(&txn)
        .await?;
        let mut keys: Vec<i32> = batch.denials.iter().map(|d| d.credential_id).collect();
        keys.sort_unstable();
        keys.dedup();
        for id in keys {
            keep_latest_denials(&txn, id).await?;
        }
    }
    let cutoff = now - ACTIVITY_DAYS * 86_400;
    key_activity::Entity::delete_many()
        .filter(key_activity::Column::Hour.lt(cutoff))
        .exec(&txn)
        .await?;
    key_source::Entity::delete_many()
        .filter(key_source::Column::LastSeen.lt(cutoff))
        .exec(&txn)
        .await?;
    key_denial::Entity::delete_many()
        .filter(key_denial::Column::At.lt(cutoff))
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// Deletes a key's denied requests older than the newest [`DENIALS_SHOWN`].
async fn keep_latest_denials(db: &impl ConnectionTrait, credential_id: i32) -> Result<(), DbErr> {
    let oldest_kept = key_denial::Entity::find()
        .filter(key_denial::Column::CredentialId.eq(credential_id))
        .order_by_desc(key_denial::Column::Id)
        .offset(DENIALS_SHOWN - 1)
        .limit(1)
        .one(db)
        .await?;
    if let Some(oldest_kept) = oldest_kept {
        key_denial::Entity::delete_many()
            .filter(key_denial::Column::CredentialId.eq(credential_id))
            .filter(key_denial::Column::Id.lt(oldest_kept.id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A key's activity as the drawer shows it.
pub async fn of_key(db: &impl ConnectionTrait, credential_id: i32, now: i64) -> Result<KeyActivity, DbErr> {
    let this_hour = now - now.rem_euclid(HOUR);
    let day_start = this_hour - 23 * HOUR;
    let month_start = this_hour - (ACTIVITY_DAYS * 24 - 1) * HOUR;
    let hours = key_activity::Entity::find()
        .filter(key_activity::Column::CredentialId.eq(credential_id))
        .filter(key_activity::Column::Hour.gte(month_start))
        .all(db)
        .await?;
    let mut by_action: HashMap<String, ActionActivity> = HashMap::new();
    for row in hours {
        let entry = by_action.entry(row.action.clone()).or_insert_with(|| ActionActivity {
            action: row.action.clone(),
            day_requests: 0,
            day_denied: 0,
            month_requests: 0,
            month_denied: 0,
        });
        entry.month_requests += row.requests;
        entry.month_denied += row.denied;
        if row.hour >= day_start {
            entry.day_requests += row.requests;
            entry.day_denied += row.denied;
        }
    }
    let mut by_action: Vec<ActionActivity> = by_action.into_values().collect();
    by_action.sort_by(|a, b| {
        (b.day_requests, b.month_requests)
            .cmp(&(a.day_requests, a.month_requests))
            .then_with(|| a.action.cmp(&b.action))
    });
    let denials = key_denial::Entity::find()
        .filter(key_denial::Column::CredentialId.eq(credential_id))
        .order_by_desc(key_denial::Column::Id)
        .limit(DENIALS_SHOWN)
        .all(db)
        .await?
        .into_iter()
        .map(|d| DeniedRequest {
            at: d.at,
            operation: d.operation,
            object_key: d.object_key,
            reason: d.reason,
            client_addr: d.client_addr,
        })
        .collect();
    let sources: Vec<key_source::Model> = key_source::Entity::find()
        .filter(key_source::Column::CredentialId.eq(credential_id))
        .order_by_desc(key_source::Column::LastSeen)
        .limit(50)
        .all(db)
        .await?;
    let last_use = sources.first().map(|s| LastUse {
        at: s.last_seen,
        operation: s.last_operation.clone(),
        client_addr: s.client_addr.clone(),
    });
    Ok(KeyActivity {
        last_use,
        by_action,
        denials,
        sources: sources
            .into_iter()
            .map(|s| SourceAddress {
                client_addr: s.client_addr,
                last_seen: s.last_seen,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(at: i64, action: &'static str, addr: &str) -> Seen<'static> {
        Seen {
            credential_id: 7,
            at,
            operation: "GetObject",
            action: Some(action),
            client_addr: Some(addr.parse().unwrap()),
            object_key: Some("photos/a.jpg"),
        }
    }

    #[test]
    fn requests_roll_up_per_hour_and_action() {
        let mut batch = Batch::default();
        batch.allowed(&seen(7_200, "s3:GetObject", "203.0.113.7"));
        batch.allowed(&seen(7_300, "s3:GetObject", "203.0.113.7"));
        batch.denied(&seen(10_900, "s3:PutObject", "198.51.100.1"), "no".into());
        assert_eq!(
            batch.hours[&(7, 7_200, "s3:GetObject", "photos/".to_string())],
            Counts { requests: 2, denied: 0 }
        );
        assert_eq!(
            batch.hours[&(7, 10_800, "s3:PutObject", "photos/".to_string())],
            Counts { requests: 1, denied: 1 }
        );
        assert_eq!(batch.last_used[&7], 7_300);
        assert_eq!(batch.denied[&7], 1);
        assert_eq!(
            batch.sources[&(7, "203.0.113.7".parse().unwrap())],
            (7_300, "GetObject")
        );
        assert_eq!(batch.denials.len(), 1);
    }

    #[test]
    fn a_flood_of_denials_keeps_counting_but_only_the_latest_details() {
        let mut batch = Batch::default();
        for i in 0..100 {
            batch.denied(&seen(i, "s3:PutObject", "203.0.113.7"), format!("reason {i}"));
        }
        assert_eq!(batch.denied[&7], 100);
        assert_eq!(batch.denials.len(), DENIALS_PER_KEY_IN_BATCH);
        assert_eq!(batch.denials.last().unwrap().reason, "reason 99");
        assert_eq!(batch.denials[0].reason, "reason 80");
    }

    #[test]
    fn a_batch_put_back_adds_up() {
        let mut first = Batch::default();
        first.allowed(&seen(100, "s3:GetObject", "203.0.113.7"));
        let mut second = Batch::default();
        second.allowed(&seen(50, "s3:GetObject", "203.0.113.7"));
        second.denied(&seen(60, "s3:GetObject", "203.0.113.7"), "x".into());
        first.merge(second);
        assert_eq!(
            first.hours[&(7, 0, "s3:GetObject", "photos/".to_string())],
            Counts { requests: 3, denied: 1 }
        );
        assert_eq!(first.last_used[&7], 100);
        assert_eq!(first.sources[&(7, "203.0.113.7".parse().unwrap())].0, 100);
    }

    #[test]
    fn requests_are_counted_by_folder_a_few_levels_deep() {
        assert_eq!(folder_of(Some("photos/2024/a.jpg")), "photos/2024/");
        assert_eq!(folder_of(Some("a.jpg")), "");
        assert_eq!(folder_of(Some("photos/")), "photos/");
        assert_eq!(folder_of(Some("")), "");
        assert_eq!(folder_of(None), NO_NAME);
        assert_eq!(folder_of(Some("a/b/c/d/e/f/g.txt")), "a/b/c/d/");
        let long = format!("{}/{}/x", "a".repeat(150), "b".repeat(100));
        assert_eq!(folder_of(Some(&long)), format!("{}/", "a".repeat(150)));
    }
}
