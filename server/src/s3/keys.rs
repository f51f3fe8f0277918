//! Access keys for the S3 endpoint, read from the credentials table and kept in memory
//! briefly. Entries live at most [`KEY_CACHE_TTL`], so a revocation made on any instance
//! (panel, API or CLI) stops a key everywhere within that time, with no restart.

use app::policy::{KeyLife, KeyScope, KeyState};
use app::services::entities::{bucket, credential};
use app::services::secrets::SecretBox;
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};
use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Well under the one second in which a revocation must take effect everywhere.
pub const KEY_CACHE_TTL: Duration = Duration::from_millis(500);

/// The most lookups the cache holds, found or not, and the most bytes their records take
/// (an estimate: ids are 20 bytes, a record's scope holds a bucket name, a path up to
/// 1,024 bytes, its actions and networks). Past either, stale entries go first, then all:
/// the cache is a half-second convenience, never worth the server's memory.
pub const MAX_CACHED_KEYS: usize = 10_000;
pub const MAX_CACHED_BYTES: usize = 16 * 1024 * 1024;

/// The answer for a key id that names no usable key, before its signature is known to be
/// right: the same for an unknown id as for a revoked, paused or expired key, so a
/// request with a wrong secret learns nothing about a key's state.
pub const NO_SUCH_KEY: &str = "The AWS access key id you provided does not exist in our records.";

/// One key as the endpoint needs it. The secret is decrypted in memory only.
pub struct KeyRecord {
    pub credential_id: i32,
    pub secret: SecretKey,
    pub scope: KeyScope,
    pub bucket_created_at: i64,
    pub life: KeyLife,
}

impl KeyRecord {
    /// Whether the key may be used now, and if not why ([`KeyState`] decides it for every
    /// place in the same words).
    pub fn state(&self, now: i64) -> KeyState {
        self.life.state(now)
    }

    /// A rough size in memory, for the cache's byte bound.
    fn footprint(&self) -> usize {
        let actions = match &self.scope.grant {
            app::policy::Grant::Master => 0,
            app::policy::Grant::Actions(set) => set.iter().map(str::len).sum(),
        };
        let networks = match &self.scope.networks {
            app::policy::Networks::Only(list) => list.names().iter().map(String::len).sum(),
            _ => 0,
        };
        std::mem::size_of::<KeyRecord>()
            + self.scope.bucket.len()
            + self.scope.path.as_ref().map_or(0, String::len)
            + actions
            + networks
    }
}

impl std::fmt::Debug for KeyRecord {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("credential_id", &self.credential_id)
            .field("scope", &self.scope)
            .field("life", &self.life)
            .finish_non_exhaustive()
    }
}

/// When a lookup was made, and what it found (`None`: no such key, remembered too).
type CachedLookup = (Instant, Option<Arc<KeyRecord>>);

#[derive(Default)]
struct Cache {
    entries: HashMap<String, CachedLookup>,
    bytes: usize,
}

impl Cache {
    fn entry_bytes(id: &str, record: Option<&Arc<KeyRecord>>) -> usize {
        id.len() + std::mem::size_of::<CachedLookup>() + record.map_or(0, |r| r.footprint())
    }

    fn insert(&mut self, id: &str, record: Option<Arc<KeyRecord>>) {
        let size = Self::entry_bytes(id, record.as_ref());
        if self.entries.len() >= MAX_CACHED_KEYS || self.bytes + size > MAX_CACHED_BYTES {
            self.entries.retain(|_, (fetched, _)| fetched.elapsed() < KEY_CACHE_TTL);
            if self.entries.len() >= MAX_CACHED_KEYS {
                self.entries.clear();
            }
            self.bytes = self
                .entries
                .iter()
                .map(|(id, (_, record))| Self::entry_bytes(id, record.as_ref()))
                .sum();
            if self.bytes + size > MAX_CACHED_BYTES {
                self.entries.clear();
                self.bytes = 0;
            }
        }
        if let Some((_, old)) = self.entries.insert(id.to_string(), (Instant::now(), record)) {
            self.bytes = self.bytes.saturating_sub(Self::entry_bytes(id, old.as_ref()));
        }
        self.bytes += size;
    }
}

pub struct KeyStore {
    db: DatabaseConnection,
    secrets: Arc<SecretBox>,
    cache: RwLock<Cache>,
}

impl KeyStore {
    pub fn new(db: DatabaseConnection, secrets: Arc<SecretBox>) -> Self {
        KeyStore {
            db,
            secrets,
            cache: RwLock::default(),
        }
    }

    /// The key with this id, or `None` when no credential has it. An id that is not of
    /// the form Stook makes (20 of `A–Z0–9`) is `None` at once: no query, nothing kept.
    /// Misses of well-formed ids are cached too, so requests with made-up key ids do not
    /// each cost a database query.
    pub async fn get(&self, access_key_id: &str) -> Result<Option<Arc<KeyRecord>>, DbErr> {
        if !is_access_key_id(access_key_id) {
            return Ok(None);
        }
        if let Some((fetched, record)) = self
            .cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .get(access_key_id)
            && fetched.elapsed() < KEY_CACHE_TTL
        {
            return Ok(record.clone());
        }
        let record = self.load(access_key_id).await?.map(Arc::new);
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(access_key_id, record.clone());
        Ok(record)
    }

    /// How many lookups the cache holds and its estimated bytes (for tests).
    pub fn cached(&self) -> (usize, usize) {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        (cache.entries.len(), cache.bytes)
    }

    async fn load(&self, access_key_id: &str) -> Result<Option<KeyRecord>, DbErr> {
        let Some(row) = credential::Entity::find()
            .filter(credential::Column::AccessKeyId.eq(access_key_id))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(bucket) = bucket::Entity::find_by_id(row.bucket_id).one(&self.db).await? else {
            return Ok(None);
        };
        let secret = self
            .secrets
            .open(&row.access_key_id, &row.secret_ciphertext)
            .map_err(|_| DbErr::Custom(format!("the secret of credential {} does not open", row.id)))?;
        Ok(Some(KeyRecord {
            credential_id: row.id,
            secret: SecretKey::from(secret),
            scope: KeyScope::from_stored(
                row.kind,
                bucket.name.clone(),
                row.path,
                &row.actions,
                row.networks.as_deref(),
            ),
            bucket_created_at: bucket.created_at,
            life: KeyLife {
                status: row.status,
                expires_at: row.expires_at,
                replaced: row.replaced_by.is_some(),
            },
        }))
    }

    /// Whether a bucket of this name exists at all (to tell `NoSuchBucket` from `AccessDenied`).
    pub async fn bucket_exists(&self, name: &str) -> Result<bool, DbErr> {
        Ok(bucket::Entity::find()
            .filter(bucket::Column::Name.eq(name))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// The key for a request whose signature s3s has verified: refused, with the reason,
    /// when it may not be used now.
    pub async fn authenticated(&self, access_key_id: &str) -> S3Result<Arc<KeyRecord>> {
        match self.get(access_key_id).await {
            Ok(Some(record)) => match record.state(app::services::now()).refusal() {
                None => Ok(record),
                Some(reason) => Err(s3_error!(InvalidAccessKeyId, "{reason}")),
            },
            Ok(None) => Err(s3_error!(InvalidAccessKeyId, "{NO_SUCH_KEY}")),
            Err(e) => Err(read_failed(&e)),
        }
    }
}

fn read_failed(e: &DbErr) -> s3s::S3Error {
    tracing::error!(error = %e, "could not read an access key");
    s3_error!(InternalError, "Stook could not read the access key; try again")
}

/// Whether `id` has the form of the access key ids Stook makes: 20 of `A–Z0–9`.
pub fn is_access_key_id(id: &str) -> bool {
    id.len() == app::services::key_pairs::ACCESS_KEY_ID_LEN
        && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

tokio::task_local! {
    /// What the signature check learned about the key a request names, for
    /// [`hide_refused_keys`]: set while the request is served.
    static SIGNATURE_NOTE: Cell<SignatureNote>;
}

#[derive(Clone, Copy, Debug, Default)]
struct SignatureNote {
    /// The request names a key that exists but may not be used now.
    refused_key: bool,
    /// s3s verified the request's signature (the access check ran).
    verified: bool,
}

fn note(change: impl FnOnce(&mut SignatureNote)) {
    let _outside_a_request = SIGNATURE_NOTE.try_with(|cell| {
        let mut note = cell.get();
        change(&mut note);
        cell.set(note);
    });
}

/// Called by the access check, which s3s runs only after the signature matched.
pub fn signature_verified() {
    note(|n| n.verified = true);
}

/// Serves a request so that a refused key (revoked, paused, expired, retired) named with
/// a wrong signature gets exactly the answer an unknown key gets. The key's secret is
/// handed to s3s all the same, so a correct signature is told the real reason by the
/// access check (and the owner sees it in the key's activity).
pub async fn hide_refused_keys(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (response, note) = SIGNATURE_NOTE
        .scope(Cell::new(SignatureNote::default()), async {
            let response = next.run(request).await;
            (response, SIGNATURE_NOTE.with(Cell::get))
        })
        .await;
    if note.refused_key && !note.verified {
        return super::s3_error_response(axum::http::StatusCode::FORBIDDEN, "InvalidAccessKeyId", NO_SUCH_KEY);
    }
    response
}

/// s3s's view of the key store: the secret to check a signature with.
pub struct KeyAuth(pub Arc<KeyStore>);

#[async_trait::async_trait]
impl S3Auth for KeyAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.get(access_key).await {
            Ok(Some(record)) => {
                if !record.state(app::services::now()).is_usable() {
                    note(|n| n.refused_key = true);
                }
                Ok(record.secret.clone())
            }
            Ok(None) => Err(s3_error!(InvalidAccessKeyId, "{NO_SUCH_KEY}")),
            Err(e) => Err(read_failed(&e)),
        }
    }
}
