//! Password hashing: argon2id with the crate's defaults (m = 19456 KiB, t = 2, p = 1,
//! OWASP's recommendation), always on the blocking pool so requests keep flowing.

use crate::error::AppError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use std::sync::OnceLock;

pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AppError::Internal
    })?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::Internal
    })
}

/// Checks `password` against a PHC string. A malformed stored hash verifies as false.
pub async fn verify(password: String, phc: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "password verification task failed");
        AppError::Internal
    })
}

/// Spends the same work as a real check, so an unknown email answers as slowly as a
/// wrong password and the timing reveals nothing.
pub async fn verify_against_nothing(password: String) -> Result<(), AppError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = match DUMMY.get() {
        Some(phc) => phc.clone(),
        None => {
            let phc = hash("stook-timing-equaliser".into()).await?;
            DUMMY.get_or_init(|| phc).clone()
        }
    };
    verify(password, phc).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_argon2id_and_verifies() {
        let phc = hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery".into(), phc.clone()).await.unwrap());
        assert!(!verify("wrong horse battery".into(), phc).await.unwrap());
        assert!(!verify("x".into(), "not a phc".into()).await.unwrap());
    }
}
