//! Key pairs: making an access key id and a secret key, and storing a new pair with its
//! secret sealed (see [`super::secrets`]) before it touches the database.

use super::entities::credential;
use super::secrets::SecretBox;
use super::{now, unique_violation};
use crate::catalog::ActionSet;
use crate::domain::{KeyKind, KeyStatus};
use crate::error::AppError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::{Rng as _, RngExt as _};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait as _};

/// A freshly made key pair, shown once.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IssuedKey {
    pub access_key_id: String,
    pub secret_key: String,
}

pub struct NewKey {
    pub owner_id: i32,
    pub bucket_id: i32,
    pub name: Option<String>,
    pub path: Option<String>,
    pub actions: ActionSet,
    pub kind: KeyKind,
    pub expires_at: Option<i64>,
    /// The networks it may be used from (`None`: anywhere).
    pub networks: Option<String>,
}

impl NewKey {
    /// A bucket's master key pair: every action, the whole bucket, no name, no expiry.
    pub fn master(owner_id: i32, bucket_id: i32) -> Self {
        NewKey {
            owner_id,
            bucket_id,
            name: None,
            path: None,
            actions: crate::catalog::Preset::All.actions(),
            kind: KeyKind::Master,
            expires_at: None,
            networks: None,
        }
    }
}

/// Inserts a key pair with a fresh id and secret; returns (row, secret, access key id).
pub async fn insert_key(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    key: NewKey,
) -> Result<(credential::Model, String, String), AppError> {
    let access_key_id = new_access_key_id();
    let secret = new_secret_key();
    let name = key.name.clone();
    let row = credential::Entity::insert(credential::ActiveModel {
        owner_id: Set(key.owner_id),
        bucket_id: Set(key.bucket_id),
        name: Set(key.name),
        path: Set(key.path),
        actions: Set(key.actions.to_storage()),
        kind: Set(key.kind),
        access_key_id: Set(access_key_id.clone()),
        secret_ciphertext: Set(secrets.seal(&access_key_id, &secret)),
        status: Set(KeyStatus::Active),
        created_at: Set(now()),
        revoked_at: Set(None),
        last_used_at: Set(None),
        expires_at: Set(key.expires_at),
        networks: Set(key.networks),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|e| {
        unique_violation(
            e,
            "name",
            format!("You already have a credential named “{}”.", name.unwrap_or_default()),
        )
    })?;
    Ok((row, secret, access_key_id))
}

const KEY_ID_ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// How long an access key id is: 20 characters, like AWS's.
pub const ACCESS_KEY_ID_LEN: usize = 20;

/// 20 characters of `A–Z0–9`, like an AWS access key id.
pub fn new_access_key_id() -> String {
    let mut rng = rand::rng();
    (0..ACCESS_KEY_ID_LEN)
        .map(|_| KEY_ID_ALPHABET[rng.random_range(0..KEY_ID_ALPHABET.len())] as char)
        .collect()
}

/// 40 characters of URL-safe base64 (30 bytes from the OS-seeded CSPRNG).
pub fn new_secret_key() -> String {
    let mut bytes = [0u8; 30];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_aws_shape() {
        let id = new_access_key_id();
        assert_eq!(id.len(), 20);
        assert!(id.bytes().all(|b| KEY_ID_ALPHABET.contains(&b)));
        let secret = new_secret_key();
        assert_eq!(secret.len(), 40);
        assert!(
            secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(new_secret_key(), secret);
    }
}
