//! Server-side services: plain Rust over the database, used by the server functions,
//! the operator CLI and the S3 endpoint. Thin callers, testable without HTTP.

pub mod activity;
pub mod audit;
pub mod buckets;
pub mod caller;
pub mod credentials;
pub mod demo;
pub mod entities;
pub mod key_edits;
pub mod key_pairs;
pub mod passwords;
pub mod regions;
pub mod secrets;
pub mod settings;
pub mod throttle;
pub mod users;

use crate::error::AppError;
use migrations::{Migrator, MigratorTrait as _};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr, EntityTrait as _, QueryOrder as _, QuerySelect as _,
};
use secrets::SecretBox;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use throttle::Throttle;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub secrets: Arc<SecretBox>,
    /// Keyed by account and client address: what locks a guesser out without locking
    /// the owner out from their own address.
    pub login_by_account_and_address: Arc<Throttle>,
    pub login_by_account: Arc<Throttle>,
    pub login_by_address: Arc<Throttle>,
    pub reveal_by_user: Arc<Throttle>,
    /// The longest lifetime, in days, a customer may give a key (`None`: no limit; admins
    /// and the operator are not limited), from `STOOK_MAX_KEY_LIFETIME_DAYS`: it holds
    /// until an admin sets one in the panel (see [`settings`]).
    pub max_key_lifetime_days: Option<u32>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, secrets: SecretBox) -> Self {
        AppState {
            db,
            secrets: Arc::new(secrets),
            login_by_account_and_address: Arc::new(Throttle::new(
                throttle::LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS,
                throttle::THROTTLE_WINDOW,
            )),
            login_by_account: Arc::new(Throttle::new(
                throttle::LOGIN_FAILURES_PER_ACCOUNT,
                throttle::THROTTLE_WINDOW,
            )),
            login_by_address: Arc::new(Throttle::new(
                throttle::LOGIN_FAILURES_PER_ADDRESS,
                throttle::THROTTLE_WINDOW,
            )),
            reveal_by_user: Arc::new(Throttle::new(
                throttle::REVEAL_FAILURES_PER_USER,
                throttle::THROTTLE_WINDOW,
            )),
            max_key_lifetime_days: None,
        }
    }
}

/// Connects and brings the schema up to date.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = connect_unmigrated(url).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// Connects without migrating: only for the repair a failed migration asks the operator
/// to make (renaming buckets that share a name).
pub async fn connect_unmigrated(url: &str) -> Result<DatabaseConnection, DbErr> {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).acquire_timeout(Duration::from_secs(10));
    // A SQLite file in write-ahead-log mode: readers (page loads, the S3 key lookups)
    // never wait for the writer, and several pooled connections can read at once.
    // synchronous=FULL: every commit is on disk before it returns, so a revocation or a
    // new key survives a power cut; the writes are few (keys, sign-ins, a usage batch
    // every 5 s), so the extra fsync costs nothing that matters. An in-memory database
    // is one per connection, so it keeps its single connection.
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if url.starts_with("sqlite:") && !in_memory {
        options.max_connections(8).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
        });
    }
    Database::connect(options).await
}

/// Opens the master key for this database, creating one only for a database that holds
/// no sealed secret yet. A missing or wrong key stops the server with a clear message
/// instead of failing on the first reveal. Returns whether the key was created.
pub async fn open_master_key(db: &DatabaseConnection, path: &Path) -> Result<(SecretBox, bool), String> {
    // Two columns only: this also runs on a database a failed migration left behind.
    let first_sealed: Option<(String, Vec<u8>)> = entities::credential::Entity::find()
        .select_only()
        .column(entities::credential::Column::AccessKeyId)
        .column(entities::credential::Column::SecretCiphertext)
        .order_by_asc(entities::credential::Column::Id)
        .into_tuple()
        .one(db)
        .await
        .map_err(|e| format!("could not read the credentials table: {e}"))?;
    let shown = path.display();
    match (SecretBox::load(path).map_err(|e| e.to_string())?, first_sealed) {
        (Some(secrets), Some((access_key_id, sealed))) if secrets.open(&access_key_id, &sealed).is_err() => {
            Err(format!(
                "the master key in {shown} does not open the secrets in this database: point \
             STOOK_MASTER_KEY_FILE at the key file this database was created with"
            ))
        }
        (Some(secrets), _) => Ok((secrets, false)),
        (None, Some(_)) => Err(format!(
            "the master key file {shown} is missing, but this database holds secrets sealed with a \
             master key: restore that file, or point STOOK_MASTER_KEY_FILE at it"
        )),
        (None, None) => SecretBox::create(path).map(|s| (s, true)).map_err(|e| e.to_string()),
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Maps a unique-constraint violation to a field error, anything else to `Internal`.
pub(crate) fn unique_violation(err: DbErr, field: &str, message: impl Into<String>) -> AppError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::conflict(field, message),
        _ => err.into(),
    }
}
