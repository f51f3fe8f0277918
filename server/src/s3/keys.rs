//! Access keys for the S3 endpoint, read from the credentials table and kept in memory
//! briefly. Entries live at most [`KEY_CACHE_TTL`], so a revocation made on any instance
//! (panel, API or CLI) stops a key everywhere within that time, with no restart.

use app::domain::KeyStatus;
use app::networks::NetworkList;
use app::policy::KeyScope;
use app::services::entities::{bucket, credential};
use app::services::secrets::SecretBox;
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};
use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Well under the one second in which a revocation must take effect everywhere.
pub const KEY_CACHE_TTL: Duration = Duration::from_millis(500);

/// One key as the endpoint needs it. The secret is decrypted in memory only.
pub struct KeyRecord {
    pub credential_id: i32,
    pub secret: SecretKey,
    pub scope: KeyScope,
    pub bucket_created_at: i64,
    pub status: KeyStatus,
    pub expires_at: Option<i64>,
    /// Where the key may be used from (empty: anywhere); `None` when the stored list
    /// does not parse, which allows no address at all.
    pub networks: Option<NetworkList>,
    /// Rotated: a new pair replaced this one, which works until `expires_at`.
    pub replaced: bool,
}

impl KeyRecord {
    /// Why this key may not be used now, if it may not.
    pub fn refusal(&self, now: i64) -> Option<&'static str> {
        if self.status == KeyStatus::Revoked {
            Some("This access key has been revoked.")
        } else if self.status == KeyStatus::Paused {
            Some("This access key is inactive: it is paused, and its owner can resume it in the Stook panel.")
        } else if self.expires_at.is_some_and(|t| t <= now) && self.replaced {
            Some("This access key was replaced by rotation, and its grace period has ended: use the new key.")
        } else if self.expires_at.is_some_and(|t| t <= now) {
            Some("This access key has expired.")
        } else {
            None
        }
    }
}

impl std::fmt::Debug for KeyRecord {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("credential_id", &self.credential_id)
            .field("scope", &self.scope)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// When a lookup was made, and what it found (`None`: no such key, remembered too).
type CachedLookup = (Instant, Option<Arc<KeyRecord>>);

pub struct KeyStore {
    db: DatabaseConnection,
    secrets: Arc<SecretBox>,
    cache: RwLock<HashMap<String, CachedLookup>>,
}

impl KeyStore {
    pub fn new(db: DatabaseConnection, secrets: Arc<SecretBox>) -> Self {
        KeyStore {
            db,
            secrets,
            cache: RwLock::default(),
        }
    }

    /// The key with this id, or `None` when no credential has it. Misses are cached
    /// too, so requests with made-up key ids do not each cost a database query.
    pub async fn get(&self, access_key_id: &str) -> Result<Option<Arc<KeyRecord>>, DbErr> {
        if let Some((fetched, record)) = self.cache.read().unwrap_or_else(|e| e.into_inner()).get(access_key_id)
            && fetched.elapsed() < KEY_CACHE_TTL
        {
            return Ok(record.clone());
        }
        let record = self.load(access_key_id).await?.map(Arc::new);
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        // Drop stale entries now and then so keys that stopped calling do not pile up.
        if cache.len() > 10_000 {
            cache.retain(|_, (fetched, _)| fetched.elapsed() < KEY_CACHE_TTL);
        }
        cache.insert(access_key_id.to_string(), (Instant::now(), record.clone()));
        Ok(record)
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
            scope: KeyScope::from_stored(row.kind, bucket.name.clone(), row.path, &row.actions),
            bucket_created_at: bucket.created_at,
            status: row.status,
            networks: NetworkList::parse(row.networks.as_deref().unwrap_or("")).ok(),
            expires_at: row.expires_at,
            replaced: row.replaced_by.is_some(),
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

    /// The key for a request that s3s has authenticated.
    pub async fn authenticated(&self, access_key_id: &str) -> S3Result<Arc<KeyRecord>> {
        match self.get(access_key_id).await {
            Ok(Some(record)) if record.refusal(app::services::now()).is_none() => Ok(record),
            Ok(Some(record)) => Err(s3_error!(
                InvalidAccessKeyId,
                "{}",
                record.refusal(app::services::now()).unwrap_or("")
            )),
            Ok(None) => Err(s3_error!(InvalidAccessKeyId)),
            Err(e) => {
                tracing::error!(error = %e, "could not read an access key");
                Err(s3_error!(
                    InternalError,
                    "Stook could not read the access key; try again"
                ))
            }
        }
    }
}

/// s3s's view of the key store: the secret to check a signature with.
pub struct KeyAuth(pub Arc<KeyStore>);

#[async_trait::async_trait]
impl S3Auth for KeyAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        Ok(self.0.authenticated(access_key).await?.secret.clone())
    }
}
