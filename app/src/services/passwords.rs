//! Password hashing: argon2id with the crate's defaults (m = 19456 KiB, t = 2, p = 1,
//! OWASP's recommendation), on the blocking pool so requests keep flowing, and never more
//! hashes at once than there are cores: each holds 19 MiB while it runs, so a burst of
//! sign-ins would otherwise take memory without bound (48 at once took 876 MiB).

use crate::error::AppError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a password check waits for a free hashing slot before the request is
/// answered 429 (busy) with `Retry-After`.
pub const HASH_QUEUE_WAIT: Duration = Duration::from_secs(5);
/// The `Retry-After` a request turned away for want of a hashing slot is given.
pub const HASH_BUSY_RETRY_AFTER_SECS: u64 = 5;

/// One slot per core: more would only queue in the kernel, holding 19 MiB each.
static HASHING_SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Arc::new(Semaphore::new(cores))
});

/// Runs `work` on the blocking pool once one of `slots` is free, waiting at most `wait`.
/// The slot is held until the work ends, even when the request that asked is gone.
async fn run_limited<T: Send + 'static>(
    slots: &Arc<Semaphore>,
    wait: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let permit = match tokio::time::timeout(wait, slots.clone().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        Ok(Err(_closed)) => return Err(AppError::Internal),
        Err(_elapsed) => {
            tracing::warn!("every password hashing slot stayed busy; a request was turned away");
            return Err(AppError::Busy {
                retry_after_secs: HASH_BUSY_RETRY_AFTER_SECS,
            });
        }
    };
    tokio::task::spawn_blocking(move || {
        let _slot = permit;
        work()
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AppError::Internal
    })
}

pub async fn hash(password: String) -> Result<String, AppError> {
    run_limited(&HASHING_SLOTS, HASH_QUEUE_WAIT, move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::Internal
    })
}

/// Checks `password` against a PHC string. A malformed stored hash verifies as false.
pub async fn verify(password: String, phc: String) -> Result<bool, AppError> {
    run_limited(&HASHING_SLOTS, HASH_QUEUE_WAIT, move || {
        Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await
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

    #[tokio::test]
    async fn no_more_hashes_at_once_than_slots() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let slots = Arc::new(Semaphore::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
            tasks.spawn(async move {
                run_limited(&slots, Duration::from_secs(30), move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_request_that_waits_too_long_is_told_to_retry() {
        let slots = Arc::new(Semaphore::new(1));
        let held = slots.clone().acquire_owned().await.unwrap();
        let refused = run_limited(&slots, Duration::from_millis(50), || ()).await;
        assert_eq!(
            refused,
            Err(AppError::Busy {
                retry_after_secs: HASH_BUSY_RETRY_AFTER_SECS
            })
        );
        drop(held);
        assert_eq!(run_limited(&slots, Duration::from_millis(50), || 7).await, Ok(7));
    }
}
