//! Sessions, all in one place: the store over the `sessions` table, the cookie, the sweep
//! of expired rows, who is signed in, and starting and ending a signed-in session.
//!
//! The store shares sea-orm's pool (the sqlx stores of tower-sessions pin another sqlx
//! version). Rows are keyed by a SHA-256 of the session id and never hold the id itself:
//! whoever reads the table (a backup, another local user) gets no cookie that signs them in.

use crate::domain::SignedInUser;
use crate::error::AppError;
use crate::services::entities::session;
use crate::services::{AppState, now, users};
use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _};
use std::time::Duration;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer};

pub const SESSION_COOKIE: &str = "stook_session";
/// A session ends after this long without a request.
pub const IDLE_TIMEOUT_HOURS: i64 = 8;
/// How often expired rows are removed.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// The session key holding the signed-in user's id.
const USER_ID_KEY: &str = "user_id";

/// The session layer: an HttpOnly, SameSite=Lax cookie (Secure unless `secure` is off
/// for plain-HTTP development) that ends after [`IDLE_TIMEOUT_HOURS`] idle.
pub fn layer(db: DatabaseConnection, secure: bool) -> SessionManagerLayer<SeaOrmSessionStore> {
    SessionManagerLayer::new(SeaOrmSessionStore::new(db))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(IDLE_TIMEOUT_HOURS)))
}

/// Removes expired sessions every [`SWEEP_EVERY`], for as long as the server runs.
pub fn sweep_expired(db: DatabaseConnection) {
    let store = SeaOrmSessionStore::new(db);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "could not sweep expired sessions");
            }
        }
    });
}

/// Signs `user` in on this session under a fresh id (which defeats session fixation).
pub async fn begin(session: &Session, user: &SignedInUser) -> Result<(), AppError> {
    session.cycle_id().await.map_err(internal)?;
    session.insert(USER_ID_KEY, user.id).await.map_err(internal)?;
    // Made now, not on first use: a page shows several forms at once, and tokens made
    // by each at the same moment would disagree.
    session
        .insert(FORM_TOKEN_KEY, crate::services::key_pairs::new_secret_key())
        .await
        .map_err(internal)
}

/// The session key holding the token of the panel's own forms.
const FORM_TOKEN_KEY: &str = "form_token";

/// A random token of this session (made at sign-in; for older sessions, on first use)
/// that the panel's own edit and bulk forms carry into the preview or confirmation they
/// open. A crafted link cannot know it, so a step reached
/// from a link says so instead of offering to save (the link's author chose the values).
pub async fn form_token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(FORM_TOKEN_KEY).await.map_err(internal)? {
        return Ok(token);
    }
    let token = crate::services::key_pairs::new_secret_key();
    session.insert(FORM_TOKEN_KEY, token.clone()).await.map_err(internal)?;
    Ok(token)
}

/// Ends the session and removes it from the store.
pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(internal)
}

/// The signed-in user of this session, read fresh from the database (a deleted user is
/// signed out).
pub async fn current_user(state: &AppState, session: &Session) -> Result<Option<SignedInUser>, AppError> {
    let Some(id) = session.get::<i32>(USER_ID_KEY).await.map_err(internal)? else {
        return Ok(None);
    };
    users::signed_in_user(&state.db, id).await
}

fn internal(err: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %err, "session store");
    AppError::Internal
}

#[derive(Clone, Debug)]
pub struct SeaOrmSessionStore {
    db: DatabaseConnection,
}

impl SeaOrmSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        SeaOrmSessionStore { db }
    }
}

fn backend(err: sea_orm::DbErr) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

/// The row key of a session id: its SHA-256 in hex. The id has 128 random bits, so a
/// plain hash (no salt, no stretching) is enough to make the table useless to a reader.
pub fn stored_id(id: &Id) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(id.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn row(record: &Record) -> session_store::Result<session::ActiveModel> {
    // The record's own id is left out of the stored data; `load` puts it back.
    let without_id = Record {
        id: Id(0),
        ..record.clone()
    };
    Ok(session::ActiveModel {
        id: Set(stored_id(&record.id)),
        data: Set(serde_json::to_string(&without_id).map_err(|e| session_store::Error::Encode(e.to_string()))?),
        expires_at: Set(record.expiry_date.unix_timestamp()),
    })
}

#[async_trait]
impl SessionStore for SeaOrmSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; on the astronomically rare clash, draw again.
        loop {
            match session::Entity::insert(row(record)?).exec(&self.db).await {
                Ok(_) => return Ok(()),
                Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
                    record.id = Id::default();
                }
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        session::Entity::insert(row(record)?)
            .on_conflict(
                OnConflict::column(session::Column::Id)
                    .update_columns([session::Column::Data, session::Column::ExpiresAt])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let found = session::Entity::find_by_id(stored_id(session_id))
            .filter(session::Column::ExpiresAt.gt(now()))
            .one(&self.db)
            .await
            .map_err(backend)?;
        found
            .map(|s| {
                serde_json::from_str::<Record>(&s.data)
                    .map(|record| Record {
                        id: *session_id,
                        ..record
                    })
                    .map_err(|e| session_store::Error::Decode(e.to_string()))
            })
            .transpose()
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        session::Entity::delete_by_id(stored_id(session_id))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for SeaOrmSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(now()))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
