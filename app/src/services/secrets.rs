//! Secrets at rest: XChaCha20-Poly1305 under the server's 32-byte master key, with the
//! access key id as associated data so a ciphertext cannot be moved to another key id.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng as _;
use std::fmt;
use std::path::Path;

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("the secret could not be decrypted: the master key is wrong or the data was altered")]
    Undecryptable,
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("could not read the master key file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("could not create the master key file {path}: {source}")]
    Create { path: String, source: std::io::Error },
    #[error(
        "the master key file {path} does not hold a key: it must contain 32 bytes in base64 \
         (44 characters), as Stook writes it"
    )]
    Malformed { path: String },
}

/// Seals and opens secret keys. Holds the only copy of the master key in memory.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        SecretBox {
            cipher: XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key)),
        }
    }

    /// Reads the base64 master key from `path`; `None` when there is no such file.
    pub fn load(path: &Path) -> Result<Option<SecretBox>, MasterKeyError> {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = STANDARD
                    .decode(text.trim())
                    .map_err(|_| MasterKeyError::Malformed { path: shown.clone() })?;
                let key: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| MasterKeyError::Malformed { path: shown })?;
                Ok(Some(SecretBox::new(&key)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(MasterKeyError::Read { path: shown, source }),
        }
    }

    /// Generates a new master key into `path` (mode 0600); never overwrites a file.
    pub fn create(path: &Path) -> Result<SecretBox, MasterKeyError> {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        write_private_file(path, format!("{}\n", STANDARD.encode(key)).as_bytes()).map_err(|source| {
            MasterKeyError::Create {
                path: path.display().to_string(),
                source,
            }
        })?;
        Ok(SecretBox::new(&key))
    }

    /// Returns nonce ‖ ciphertext.
    pub fn seal(&self, access_key_id: &str, secret: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: access_key_id.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory input");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, access_key_id: &str, blob: &[u8]) -> Result<String, SecretError> {
        if blob.len() < NONCE_LEN {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: access_key_id.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let sb = SecretBox::new(&[7; 32]);
        let blob = sb.seal("AKID", "s3cr3t");
        assert_eq!(sb.open("AKID", &blob).unwrap(), "s3cr3t");
        assert!(
            !blob.windows(6).any(|w| w == b"s3cr3t"),
            "plaintext leaked into ciphertext"
        );
    }

    #[test]
    fn wrong_key_tampering_and_moved_ciphertext_fail() {
        let sb = SecretBox::new(&[7; 32]);
        let mut blob = sb.seal("AKID", "s3cr3t");
        assert_eq!(
            SecretBox::new(&[8; 32]).open("AKID", &blob),
            Err(SecretError::Undecryptable)
        );
        assert_eq!(sb.open("OTHER", &blob), Err(SecretError::Undecryptable));
        let last = blob.len() - 1;
        blob[last] ^= 1;
        assert_eq!(sb.open("AKID", &blob), Err(SecretError::Undecryptable));
        assert_eq!(sb.open("AKID", &[1, 2, 3]), Err(SecretError::Undecryptable));
    }

    #[test]
    fn key_file_is_created_private_then_reused_and_malformed_is_refused() {
        let dir = std::env::temp_dir().join(format!("stook-key-{}", super::super::key_pairs::new_access_key_id()));
        let path = dir.join("master.key");
        assert!(SecretBox::load(&path).unwrap().is_none());
        let first = SecretBox::create(&path).unwrap();
        assert!(
            SecretBox::create(&path).is_err(),
            "an existing key is never overwritten"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let second = SecretBox::load(&path).unwrap().unwrap();
        assert_eq!(second.open("K", &first.seal("K", "v")).unwrap(), "v");
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(SecretBox::load(&path), Err(MasterKeyError::Malformed { .. })));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
