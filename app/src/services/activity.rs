//! Key activity: what the S3 endpoint saw each key do, gathered in memory as a [`Batch`]
//! and written every few seconds (never a write per request), rolled up per hour, action
//! and folder, with the last denied requests and the source addresses; kept
//! [`ACTIVITY_DAYS`] days. The drawer reads it back with [`of_key`], an edit's preview
//! with [`allowed_by_folder`].
//!
//! Whatever one key is asked to do, what it leaves is bounded, in memory and in the
//! database: [`FOLDERS_PER_KEY_HOUR`] folder rows an hour, [`ADDRESSES_PER_KEY`]
//! addresses, [`DENIALS_SHOWN`] denied requests with their texts cut to
//! [`DENIED_KEY_BYTES`] and [`DENIAL_REASON_BYTES`]; the rest is counted, not listed
//! ([`OTHER_FOLDERS`], [`OTHER_ADDRESSES`]). Every read sums in SQL and is limited.

use super::audit::{self, Actor, AuditAction, AuditTarget};
use super::entities::{credential, key_activity, key_denial, key_source};
use crate::domain::{ACTIVITY_DAYS, ActionActivity, DENIALS_SHOWN, DeniedRequest, KeyActivity, LastUse, SourceAddress};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait as _, Func, OnConflict, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, TransactionTrait as _,
};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::IpAddr;

/// The `action` of requests that need none (ListBuckets).
pub const NO_ACTION: &str = "-";
/// The `folder` of requests that name no object key or prefix (bucket settings, ListBuckets).
pub const NO_NAME: &str = "-";
/// Activity is counted per folder this many levels deep at most (and
/// [`MAX_FOLDER_BYTES`] long), so a key writing to many folders adds few rows.
pub const FOLDER_DEPTH: usize = 4;
/// Below the column's 255 characters on PostgreSQL.
pub const MAX_FOLDER_BYTES: usize = 200;

/// Distinct folders one key is counted in per hour (per action and folder: one row each).
/// A client at work touches a handful of folders an hour; a key sent to a new folder with
/// every request (allowed or denied) would otherwise add a row per request. Past this,
/// the hour's requests are counted per action under [`OTHER_FOLDERS`], so a key has at
/// most `FOLDERS_PER_KEY_HOUR` + one per action rows an hour, about 100,000 in
/// [`ACTIVITY_DAYS`] days, whatever it is asked.
pub const FOLDERS_PER_KEY_HOUR: usize = 100;
/// Source addresses kept per key: the latest this many (what the drawer lists). A key used
/// from many addresses (IPv6 gives anyone millions) keeps its newest ones; older ones fold
/// into one [`OTHER_ADDRESSES`] row with the latest time among them. This bounds the
/// addresses per key over all hours, not only per hour.
pub const ADDRESSES_PER_KEY: usize = 50;
/// A denied request's object key is kept to this many bytes: S3's own limit on a key, so a
/// real key is kept whole; a listing prefix or a batch's key may be longer than S3 allows.
pub const DENIED_KEY_BYTES: usize = 1024;
/// A denial's reason quotes at most a key, the key's path and a bucket name.
pub const DENIAL_REASON_BYTES: usize = 2048;
/// An edit's preview replays the busiest this many (action, folder) pairs of its days one
/// by one; the rest are summed per action as [`OTHER_FOLDERS`]. The folder cap already
/// bounds the pairs (7 days × [`FOLDERS_PER_KEY_HOUR`]); this bounds what one read holds.
pub const PREVIEW_FOLDERS: u64 = 1000;

/// The `folder` that stands for folders not recorded one by one (past
/// [`FOLDERS_PER_KEY_HOUR`]). No real folder is `*`: folders are empty or end in `/`, and
/// [`NO_NAME`] is `-`.
pub const OTHER_FOLDERS: &str = "*";
/// How the preview words [`OTHER_FOLDERS`].
pub const OTHER_FOLDERS_WORDS: &str = "other folders (not recorded one by one)";
/// The `client_addr` that stands for addresses not recorded one by one (past
/// [`ADDRESSES_PER_KEY`]); no address reads `*`.
pub const OTHER_ADDRESSES: &str = "*";
/// How the drawer words [`OTHER_ADDRESSES`].
pub const OTHER_ADDRESSES_WORDS: &str = "other addresses (not recorded one by one)";

/// The drawer's table has a row per action: the catalog has fewer than this.
const ACTIONS_READ: u64 = 256;
const HOUR: i64 = 3600;
/// This many denied requests of one key in one write (a few seconds) go to the audit log
/// as a burst: a misconfigured client, or someone probing with a leaked key.
pub const DENIED_BURST: i64 = 10;

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

/// `text` cut to at most `max` bytes on a character boundary, ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

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

impl Counts {
    fn add(&mut self, other: Counts) {
        self.requests += other.requests;
        self.denied += other.denied;
    }
}

/// A denied request's details, its texts cut to [`DENIED_KEY_BYTES`] and
/// [`DENIAL_REASON_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub at: i64,
    pub operation: &'static str,
    pub object_key: Option<String>,
    pub reason: String,
    pub client_addr: Option<IpAddr>,
}

/// One key's requests in one hour, per action and folder: at most
/// [`FOLDERS_PER_KEY_HOUR`] folders, the rest per action under [`OTHER_FOLDERS`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HourCounts {
    by_action: HashMap<&'static str, HashMap<String, Counts>>,
    /// Rows other than [`OTHER_FOLDERS`] ones.
    folders: usize,
}

impl HourCounts {
    fn add(&mut self, action: &'static str, folder: &str, counts: Counts) {
        let HourCounts { by_action, folders } = self;
        let of_action = by_action.entry(action).or_default();
        // The common case (a folder seen before) allocates nothing.
        if let Some(mine) = of_action.get_mut(folder) {
            mine.add(counts);
            return;
        }
        let folder = if folder != OTHER_FOLDERS && *folders < FOLDERS_PER_KEY_HOUR {
            *folders += 1;
            folder
        } else {
            OTHER_FOLDERS
        };
        of_action.entry(folder.to_string()).or_default().add(counts);
    }

    /// Every row: action, folder (or [`OTHER_FOLDERS`]) and counts.
    pub fn rows(&self) -> impl Iterator<Item = (&'static str, &str, Counts)> {
        self.by_action
            .iter()
            .flat_map(|(&action, folders)| folders.iter().map(move |(folder, &n)| (action, folder.as_str(), n)))
    }

    pub fn get(&self, action: &str, folder: &str) -> Option<Counts> {
        self.by_action.get(action)?.get(folder).copied()
    }
}

/// The addresses one key was used from: the latest request's time and operation for each
/// of at most [`ADDRESSES_PER_KEY`], and the latest of those pushed out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    pub addresses: HashMap<IpAddr, (i64, &'static str)>,
    /// Never later than every address kept: only the oldest are pushed out.
    pub others: Option<(i64, &'static str)>,
}

impl Sources {
    fn saw(&mut self, addr: IpAddr, at: i64, operation: &'static str) {
        if let Some(seen) = self.addresses.get_mut(&addr) {
            if at >= seen.0 {
                *seen = (at, operation);
            }
            return;
        }
        if self.addresses.len() >= ADDRESSES_PER_KEY {
            let (&oldest, &(oldest_at, oldest_operation)) = self
                .addresses
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .expect("the addresses are full");
            if at < oldest_at {
                self.fold(at, operation);
                return;
            }
            self.addresses.remove(&oldest);
            self.fold(oldest_at, oldest_operation);
        }
        self.addresses.insert(addr, (at, operation));
    }

    fn fold(&mut self, at: i64, operation: &'static str) {
        if self.others.is_none_or(|(latest, _)| at >= latest) {
            self.others = Some((at, operation));
        }
    }
}

/// What one key did since the last write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyBatch {
    pub last_used: Option<i64>,
    pub denied: i64,
    pub hours: BTreeMap<i64, HourCounts>,
    pub sources: Sources,
    /// The latest denied requests, oldest first, at most [`DENIALS_SHOWN`]: under a flood
    /// of denials the counters go on counting, the details of the oldest are dropped.
    pub denials: VecDeque<Denied>,
}

impl KeyBatch {
    fn used(&mut self, at: i64) {
        self.last_used = Some(self.last_used.map_or(at, |last| Ord::max(last, at)));
    }

    fn keep_denial(&mut self, denied: Denied) {
        if self.denials.len() >= DENIALS_SHOWN as usize {
            self.denials.pop_front();
        }
        self.denials.push_back(denied);
    }
}

/// What gathered since the last write, per key (in order: see [`write`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    pub keys: BTreeMap<i32, KeyBatch>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn key(&mut self, credential_id: i32) -> &mut KeyBatch {
        self.keys.entry(credential_id).or_default()
    }

    fn count(&mut self, seen: &Seen<'_>, counts: Counts) -> &mut KeyBatch {
        let key = self.key(seen.credential_id);
        let hour = seen.at - seen.at.rem_euclid(HOUR);
        key.hours
            .entry(hour)
            .or_default()
            .add(seen.action.unwrap_or(NO_ACTION), folder_of(seen.object_key), counts);
        if let Some(addr) = seen.client_addr {
            key.sources.saw(addr, seen.at, seen.operation);
        }
        key
    }

    /// Only the key's last use (for the benchmark's comparison).
    pub fn used(&mut self, credential_id: i32, at: i64) {
        self.key(credential_id).used(at);
    }

    /// Only one more denied request of the key (for the benchmark's comparison).
    pub fn denied_count(&mut self, credential_id: i32) {
        self.key(credential_id).denied += 1;
    }

    /// A request the key was allowed to make.
    pub fn allowed(&mut self, seen: &Seen<'_>) {
        let counts = Counts { requests: 1, denied: 0 };
        self.count(seen, counts).used(seen.at);
    }

    /// A request signed with the key but denied, and why.
    pub fn denied(&mut self, seen: &Seen<'_>, reason: String) {
        let counts = Counts { requests: 1, denied: 0 };
        self.count(seen, counts);
        self.denied_in_request(seen, reason);
    }

    /// A part of an allowed (already counted) request that was denied: one key of a
    /// DeleteObjects batch, a POST upload's key.
    pub fn denied_in_request(&mut self, seen: &Seen<'_>, reason: String) {
        let counts = Counts { requests: 0, denied: 1 };
        let key = self.count(seen, counts);
        key.denied += 1;
        let reason = if reason.len() <= DENIAL_REASON_BYTES {
            reason
        } else {
            cut(&reason, DENIAL_REASON_BYTES)
        };
        key.keep_denial(Denied {
            at: seen.at,
            operation: seen.operation,
            object_key: seen.object_key.map(|k| cut(k, DENIED_KEY_BYTES)),
            reason,
            client_addr: seen.client_addr,
        });
    }

    /// Puts back a batch that could not be written, for the next try (under the same
    /// bounds).
    pub fn merge(&mut self, other: Batch) {
        for (id, theirs) in other.keys {
            let mine = self.key(id);
            if let Some(at) = theirs.last_used {
                mine.used(at);
            }
            mine.denied += theirs.denied;
            for (hour, counts) in theirs.hours {
                let hour = mine.hours.entry(hour).or_default();
                for (action, folder, n) in counts.rows() {
                    hour.add(action, folder, n);
                }
            }
            for (addr, (at, operation)) in theirs.sources.addresses {
                mine.sources.saw(addr, at, operation);
            }
            if let Some((at, operation)) = theirs.sources.others {
                mine.sources.fold(at, operation);
            }
            // Theirs are older: they go first, and are the first to drop off.
            let newer = std::mem::replace(&mut mine.denials, theirs.denials);
            for denied in newer {
                mine.keep_denial(denied);
            }
        }
    }
}

/// Writes a batch in one transaction and drops what is older than [`ACTIVITY_DAYS`].
pub async fn write(db: &DatabaseConnection, batch: &Batch, now: i64) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    // Keys in order, so two instances writing the same keys never wait on each other in a
    // circle.
    for (&id, key) in &batch.keys {
        write_key(&txn, id, key).await?;
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

async fn write_key(db: &impl ConnectionTrait, id: i32, key: &KeyBatch) -> Result<(), DbErr> {
    if let Some(at) = key.last_used {
        // Another instance may have written a later time already: never go back.
        credential::Entity::update_many()
            .col_expr(credential::Column::LastUsedAt, Expr::value(at))
            .filter(credential::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(credential::Column::LastUsedAt.is_null())
                    .add(credential::Column::LastUsedAt.lt(at)),
            )
            .exec(db)
            .await?;
    }
    if key.denied > 0 {
        credential::Entity::update_many()
            .col_expr(
                credential::Column::DeniedRequests,
                Expr::col(credential::Column::DeniedRequests).add(key.denied),
            )
            .filter(credential::Column::Id.eq(id))
            .exec(db)
            .await?;
        if key.denied >= DENIED_BURST
            && let Some(row) = credential::Entity::find_by_id(id).one(db).await?
        {
            let actor = Actor {
                user_id: None,
                client_addr: key.denials.back().and_then(|d| d.client_addr).map(|a| a.to_string()),
            };
            audit::record(
                db,
                &actor,
                AuditAction::CredentialDeniedBurst,
                AuditTarget::Credential(&row.access_key_id),
                serde_json::json!({ "denied": key.denied }),
            )
            .await
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
    }
    for (&hour, counts) in &key.hours {
        write_hour(db, id, hour, counts).await?;
    }
    write_sources(db, id, &key.sources).await?;
    if !key.denials.is_empty() {
        key_denial::Entity::insert_many(key.denials.iter().map(|d| key_denial::ActiveModel {
            credential_id: Set(id),
            at: Set(d.at),
            operation: Set(d.operation.to_string()),
            object_key: Set(d.object_key.clone()),
            reason: Set(d.reason.clone()),
            client_addr: Set(d.client_addr.map(|a| a.to_string())),
            ..Default::default()
        }))
        .exec_without_returning(db)
        .await?;
        keep_latest_denials(db, id).await?;
    }
    Ok(())
}

/// Adds one hour of a key's counts, keeping the hour to [`FOLDERS_PER_KEY_HOUR`] folders
/// across writes and instances (two instances writing the same new hour at once may each
/// add up to the cap).
async fn write_hour(db: &impl ConnectionTrait, id: i32, hour: i64, counts: &HourCounts) -> Result<(), DbErr> {
    // The rows earlier writes made this hour. At most the cap and one per action, unless
    // written before the cap: then enough to know it is full.
    let existing: Vec<(String, String)> = key_activity::Entity::find()
        .select_only()
        .column(key_activity::Column::Action)
        .column(key_activity::Column::Folder)
        .filter(key_activity::Column::CredentialId.eq(id))
        .filter(key_activity::Column::Hour.eq(hour))
        .limit(FOLDERS_PER_KEY_HOUR as u64 + ACTIONS_READ)
        .into_tuple()
        .all(db)
        .await?;
    let known: HashSet<(&str, &str)> = existing.iter().map(|(a, f)| (a.as_str(), f.as_str())).collect();
    let mut folders = known.iter().filter(|(_, f)| *f != OTHER_FOLDERS).count();
    let mut others: BTreeMap<&'static str, Counts> = BTreeMap::new();
    for (action, folder, n) in counts.rows() {
        let new = !known.contains(&(action, folder));
        if folder == OTHER_FOLDERS || (new && folders >= FOLDERS_PER_KEY_HOUR) {
            others.entry(action).or_default().add(n);
            continue;
        }
        if new {
            folders += 1;
        }
        add_counts(db, id, hour, action, folder, n).await?;
    }
    for (action, n) in others {
        add_counts(db, id, hour, action, OTHER_FOLDERS, n).await?;
    }
    Ok(())
}

/// Adds to a row of `key_activity`, or makes it: counts add up across writes and instances.
async fn add_counts(
    db: &impl ConnectionTrait,
    id: i32,
    hour: i64,
    action: &str,
    folder: &str,
    counts: Counts,
) -> Result<(), DbErr> {
    let existing = |column: key_activity::Column| Expr::col((key_activity::Entity, column));
    let excluded = |column: key_activity::Column| Expr::col((Alias::new("excluded"), column));
    key_activity::Entity::insert(key_activity::ActiveModel {
        credential_id: Set(id),
        hour: Set(hour),
        action: Set(action.to_string()),
        folder: Set(folder.to_string()),
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
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Records a key's addresses, then keeps its latest [`ADDRESSES_PER_KEY`].
async fn write_sources(db: &impl ConnectionTrait, id: i32, sources: &Sources) -> Result<(), DbErr> {
    for (addr, &(at, operation)) in &sources.addresses {
        upsert_source(db, id, &addr.to_string(), at, operation).await?;
    }
    if let Some((at, operation)) = sources.others {
        upsert_source(db, id, OTHER_ADDRESSES, at, operation).await?;
    }
    if !sources.addresses.is_empty() {
        keep_latest_sources(db, id).await?;
    }
    Ok(())
}

async fn upsert_source(db: &impl ConnectionTrait, id: i32, addr: &str, at: i64, operation: &str) -> Result<(), DbErr> {
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
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Folds a key's addresses past the newest [`ADDRESSES_PER_KEY`] into its
/// [`OTHER_ADDRESSES`] row.
async fn keep_latest_sources(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    let recorded = || {
        key_source::Entity::find()
            .filter(key_source::Column::CredentialId.eq(id))
            .filter(key_source::Column::ClientAddr.ne(OTHER_ADDRESSES))
    };
    // The newest address past the limit: it and every older one fold.
    let Some(first_out) = recorded()
        .order_by_desc(key_source::Column::LastSeen)
        .order_by_desc(key_source::Column::ClientAddr)
        .offset(ADDRESSES_PER_KEY as u64)
        .limit(1)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    upsert_source(db, id, OTHER_ADDRESSES, first_out.last_seen, &first_out.last_operation).await?;
    key_source::Entity::delete_many()
        .filter(key_source::Column::CredentialId.eq(id))
        .filter(key_source::Column::ClientAddr.ne(OTHER_ADDRESSES))
        .filter(
            Condition::any()
                .add(key_source::Column::LastSeen.lt(first_out.last_seen))
                .add(
                    Condition::all()
                        .add(key_source::Column::LastSeen.eq(first_out.last_seen))
                        .add(key_source::Column::ClientAddr.lte(first_out.client_addr)),
                ),
        )
        .exec(db)
        .await?;
    Ok(())
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

/// `SUM(expr)` as a 64-bit integer on both databases (PostgreSQL sums `bigint` to
/// `numeric`).
fn sum(expr: impl Into<Expr>) -> Expr {
    Func::cast_as(Func::sum(expr), Alias::new("BIGINT")).into()
}

/// `expr` for rows that match `condition`, else 0.
fn only_if(condition: Expr, expr: impl Into<Expr>) -> Expr {
    Expr::case(condition, expr).finally(0i64).into()
}

/// A key's activity as the drawer shows it: summed per action in SQL, a row per action at
/// most, and at most [`ADDRESSES_PER_KEY`] addresses and [`DENIALS_SHOWN`] denials.
pub async fn of_key(db: &impl ConnectionTrait, credential_id: i32, now: i64) -> Result<KeyActivity, DbErr> {
    use key_activity::Column as A;
    let this_hour = now - now.rem_euclid(HOUR);
    let day_start = this_hour - 23 * HOUR;
    let month_start = this_hour - (ACTIVITY_DAYS * 24 - 1) * HOUR;
    let in_day = || Expr::col(A::Hour).gte(day_start);
    let rows: Vec<(String, i64, i64, i64, i64, i64)> = key_activity::Entity::find()
        .select_only()
        .column(A::Action)
        .expr(sum(only_if(in_day(), Expr::col(A::Requests))))
        .expr(sum(only_if(in_day(), Expr::col(A::Denied))))
        .expr(sum(Expr::col(A::Requests)))
        .expr(sum(Expr::col(A::Denied)))
        .expr(sum(only_if(
            Expr::col(A::Folder).eq(OTHER_FOLDERS),
            Expr::col(A::Requests),
        )))
        .filter(A::CredentialId.eq(credential_id))
        .filter(A::Hour.gte(month_start))
        .group_by(A::Action)
        .order_by(sum(Expr::col(A::Requests)), Order::Desc)
        .limit(ACTIONS_READ)
        .into_tuple()
        .all(db)
        .await?;
    let other_folder_requests = rows.iter().map(|r| r.5).sum();
    let mut by_action: Vec<ActionActivity> = rows
        .into_iter()
        .map(
            |(action, day_requests, day_denied, month_requests, month_denied, _)| ActionActivity {
                action,
                day_requests,
                day_denied,
                month_requests,
                month_denied,
            },
        )
        .collect();
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
        .order_by_asc(key_source::Column::ClientAddr)
        .limit(ADDRESSES_PER_KEY as u64 + 1)
        .all(db)
        .await?;
    let last_use = sources
        .iter()
        .find(|s| s.client_addr != OTHER_ADDRESSES)
        .map(|s| LastUse {
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
            .map(|s| {
                let others = s.client_addr == OTHER_ADDRESSES;
                SourceAddress {
                    client_addr: if others {
                        OTHER_ADDRESSES_WORDS.to_string()
                    } else {
                        s.client_addr
                    },
                    last_seen: s.last_seen,
                    others,
                }
            })
            .collect(),
        other_folder_requests,
    })
}

/// Requests of one action in one folder (or [`OTHER_FOLDERS`], or [`NO_NAME`]) that the
/// key was allowed to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderRequests {
    pub action: String,
    pub folder: String,
    pub allowed: i64,
}

/// A key's allowed requests since `since`, per action and folder, summed in SQL: the
/// busiest [`PREVIEW_FOLDERS`] pairs one by one, the rest per action as [`OTHER_FOLDERS`],
/// so every request is counted once and the read stays small.
pub async fn allowed_by_folder(
    db: &impl ConnectionTrait,
    credential_id: i32,
    since: i64,
) -> Result<Vec<FolderRequests>, DbErr> {
    use key_activity::Column as A;
    let from_hour = since - since.rem_euclid(HOUR);
    let allowed = || sum(Expr::col(A::Requests).sub(Expr::col(A::Denied)));
    // Pairs with none allowed are left out (their requests fail today already).
    let busiest: Vec<(String, String, i64)> = key_activity::Entity::find()
        .select_only()
        .column(A::Action)
        .column(A::Folder)
        .expr(allowed())
        .filter(A::CredentialId.eq(credential_id))
        .filter(A::Hour.gte(from_hour))
        .group_by(A::Action)
        .group_by(A::Folder)
        .having(allowed().gt(0i64))
        .order_by(allowed(), Order::Desc)
        .order_by_asc(A::Action)
        .order_by_asc(A::Folder)
        .limit(PREVIEW_FOLDERS)
        .into_tuple()
        .all(db)
        .await?;
    let read_all = (busiest.len() as u64) < PREVIEW_FOLDERS;
    let mut rows: Vec<FolderRequests> = busiest
        .into_iter()
        .map(|(action, folder, allowed)| FolderRequests {
            action,
            folder,
            allowed,
        })
        .collect();
    if read_all {
        return Ok(rows);
    }
    // The same pairs summed per action (a row per action), less those read one by one.
    let pairs = Query::select()
        .column(A::Action)
        .expr_as(allowed(), Alias::new("allowed"))
        .from(key_activity::Entity)
        .and_where(A::CredentialId.eq(credential_id))
        .and_where(A::Hour.gte(from_hour))
        .group_by_columns([A::Action, A::Folder])
        .and_having(allowed().gt(0i64))
        .to_owned();
    let per_action = Query::select()
        .column(A::Action)
        .expr(sum(Expr::col(Alias::new("allowed"))))
        .from_subquery(pairs, Alias::new("pairs"))
        .group_by_col(A::Action)
        .limit(ACTIONS_READ)
        .to_owned();
    let mut rest: BTreeMap<String, i64> = BTreeMap::new();
    for row in db.query_all(&per_action).await? {
        rest.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    }
    for row in &rows {
        if let Some(n) = rest.get_mut(&row.action) {
            *n -= row.allowed;
        }
    }
    for (action, n) in rest.into_iter().filter(|(_, n)| *n > 0) {
        match rows
            .iter_mut()
            .find(|r| r.action == action && r.folder == OTHER_FOLDERS)
        {
            Some(row) => row.allowed += n,
            None => rows.push(FolderRequests {
                action,
                folder: OTHER_FOLDERS.to_string(),
                allowed: n,
            }),
        }
    }
    Ok(rows)
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
        let key = &batch.keys[&7];
        assert_eq!(
            key.hours[&7_200].get("s3:GetObject", "photos/"),
            Some(Counts { requests: 2, denied: 0 })
        );
        assert_eq!(
            key.hours[&10_800].get("s3:PutObject", "photos/"),
            Some(Counts { requests: 1, denied: 1 })
        );
        assert_eq!(key.last_used, Some(7_300));
        assert_eq!(key.denied, 1);
        assert_eq!(
            key.sources.addresses[&"203.0.113.7".parse().unwrap()],
            (7_300, "GetObject")
        );
        assert_eq!(key.denials.len(), 1);
    }

    #[test]
    fn a_flood_of_denials_keeps_counting_but_only_the_latest_details() {
        let mut batch = Batch::default();
        for i in 0..100 {
            batch.denied(&seen(i, "s3:PutObject", "203.0.113.7"), format!("reason {i}"));
        }
        let key = &batch.keys[&7];
        assert_eq!(key.denied, 100);
        assert_eq!(key.denials.len(), DENIALS_SHOWN as usize);
        assert_eq!(key.denials.back().unwrap().reason, "reason 99");
        assert_eq!(key.denials[0].reason, "reason 80");
    }

    #[test]
    fn a_batch_put_back_adds_up() {
        let mut first = Batch::default();
        first.allowed(&seen(100, "s3:GetObject", "203.0.113.7"));
        first.denied(&seen(100, "s3:GetObject", "203.0.113.7"), "newer".into());
        let mut second = Batch::default();
        second.allowed(&seen(50, "s3:GetObject", "203.0.113.7"));
        second.denied(&seen(60, "s3:GetObject", "203.0.113.7"), "older".into());
        first.merge(second);
        let key = &first.keys[&7];
        assert_eq!(
            key.hours[&0].get("s3:GetObject", "photos/"),
            Some(Counts { requests: 4, denied: 2 })
        );
        assert_eq!(key.last_used, Some(100));
        assert_eq!(key.denied, 2);
        assert_eq!(key.sources.addresses[&"203.0.113.7".parse().unwrap()].0, 100);
        let reasons: Vec<&str> = key.denials.iter().map(|d| d.reason.as_str()).collect();
        assert_eq!(reasons, ["older", "newer"]);
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
        // A name of many short levels or one long one stays within the column.
        let deep = "a/".repeat(10_000);
        assert!(folder_of(Some(&deep)).len() <= MAX_FOLDER_BYTES);
        let wide = format!("{}/x", "é".repeat(5_000));
        assert_eq!(folder_of(Some(&wide)), "");
        // No folder is taken for the reserved values.
        for name in ["*", "*/x", "-", "-/x", "a*"] {
            let folder = folder_of(Some(name));
            assert!(folder != OTHER_FOLDERS && folder != NO_NAME, "{name}");
        }
    }

    #[test]
    fn past_the_cap_an_hour_s_folders_are_counted_together() {
        let mut batch = Batch::default();
        let names: Vec<String> = (0..1_000).map(|i| format!("f{i}/x")).collect();
        for (i, name) in names.iter().enumerate() {
            let action = if i % 2 == 0 { "s3:GetObject" } else { "s3:PutObject" };
            batch.allowed(&Seen {
                object_key: Some(name),
                ..seen(0, action, "203.0.113.7")
            });
        }
        // A folder seen before the cap goes on being counted one by one.
        batch.allowed(&Seen {
            object_key: Some("f0/y"),
            ..seen(10, "s3:GetObject", "203.0.113.7")
        });
        let hour = &batch.keys[&7].hours[&0];
        assert_eq!(hour.rows().count(), FOLDERS_PER_KEY_HOUR + 2);
        assert_eq!(hour.get("s3:GetObject", "f0/").unwrap().requests, 2);
        let folded: i64 = hour
            .rows()
            .filter(|(_, folder, _)| *folder == OTHER_FOLDERS)
            .map(|(_, _, n)| n.requests)
            .sum();
        assert_eq!(folded, 1_000 - FOLDERS_PER_KEY_HOUR as i64);
        let total: i64 = hour.rows().map(|(_, _, n)| n.requests).sum();
        assert_eq!(total, 1_001);
        // The next hour starts afresh.
        batch.allowed(&Seen {
            object_key: Some("g/x"),
            ..seen(HOUR, "s3:GetObject", "203.0.113.7")
        });
        assert!(batch.keys[&7].hours[&HOUR].get("s3:GetObject", "g/").is_some());
        // Put back after a failed write, the same bounds hold.
        let mut again = batch.clone();
        again.merge(batch);
        assert_eq!(again.keys[&7].hours[&0].rows().count(), FOLDERS_PER_KEY_HOUR + 2);
    }

    #[test]
    fn past_the_cap_the_oldest_addresses_are_counted_together() {
        let mut batch = Batch::default();
        for i in 0..1_000u32 {
            let addr = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            batch.allowed(&seen(i64::from(i), "s3:GetObject", &addr));
        }
        let sources = &batch.keys[&7].sources;
        assert_eq!(sources.addresses.len(), ADDRESSES_PER_KEY);
        // The newest are kept; the others stand for the rest, never later than them.
        let oldest_kept = sources.addresses.values().map(|(at, _)| *at).min().unwrap();
        assert_eq!(oldest_kept, 1_000 - ADDRESSES_PER_KEY as i64);
        assert_eq!(sources.others, Some((oldest_kept - 1, "GetObject")));
    }

    #[test]
    fn a_denied_request_s_texts_are_cut() {
        let mut batch = Batch::default();
        let long_key = "k".repeat(100_000);
        let reason = format!("this key is limited to “photos/”; “{long_key}” is outside it");
        batch.denied(
            &Seen {
                object_key: Some(&long_key),
                ..seen(0, "s3:PutObject", "203.0.113.7")
            },
            reason,
        );
        let denied = &batch.keys[&7].denials[0];
        let object_key = denied.object_key.as_deref().unwrap();
        assert!(object_key.len() <= DENIED_KEY_BYTES && object_key.ends_with('…'));
        assert!(denied.reason.len() <= DENIAL_REASON_BYTES && denied.reason.ends_with('…'));
        // A real key (at most 1,024 bytes) is kept whole, multi-byte characters too.
        assert_eq!(cut(&"é".repeat(512), DENIED_KEY_BYTES), "é".repeat(512));
        assert_eq!(cut(&"é".repeat(513), DENIED_KEY_BYTES), format!("{}…", "é".repeat(510)));
    }
}
