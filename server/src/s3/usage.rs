//! What each key does, gathered in memory as an `app::services::activity::Batch` and
//! written every [`FLUSH_EVERY`]: the hot path only touches a map, never the database.
//! The batch holds a bounded amount per key (see `app::services::activity`), so a key
//! flooding the endpoint between two writes cannot grow it without end.

use app::services::activity::{self, Batch, Seen};
use sea_orm::{DatabaseConnection, DbErr};
use std::sync::Mutex;
use std::time::Duration;

/// How often gathered usage reaches the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Usage {
    pending: Mutex<Batch>,
    /// Off: only last use and denial counts, as before activity was recorded (for the
    /// benchmark's comparison).
    activity: bool,
}

impl Default for Usage {
    fn default() -> Self {
        Usage {
            pending: Mutex::default(),
            activity: true,
        }
    }
}

impl Usage {
    /// Records only each key's last use and denial count.
    pub fn without_activity() -> Self {
        Usage {
            activity: false,
            ..Usage::default()
        }
    }

    fn batch(&self) -> std::sync::MutexGuard<'_, Batch> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request the key was allowed to make.
    pub fn allowed(&self, seen: &Seen<'_>) {
        let mut batch = self.batch();
        if self.activity {
            batch.allowed(seen);
        } else {
            batch.used(seen.credential_id, seen.at);
        }
    }

    /// A request signed with the key but denied, with the evaluator's reason.
    pub fn denied(&self, seen: &Seen<'_>, reason: String) {
        let mut batch = self.batch();
        if self.activity {
            batch.denied(seen, reason);
        } else {
            batch.denied_count(seen.credential_id);
        }
    }

    /// A denied part of a request already counted as allowed (a key of a batch).
    pub fn denied_in_request(&self, seen: &Seen<'_>, reason: String) {
        self.batch().denied_in_request(seen, reason);
    }

    /// Writes what has gathered since the last flush, one transaction for the lot, and
    /// returns how many keys it concerned. On failure the batch is put back for the next
    /// try.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<usize, DbErr> {
        let batch = std::mem::take(&mut *self.batch());
        if batch.is_empty() {
            return Ok(0);
        }
        match activity::write(db, &batch, app::services::now()).await {
            Ok(()) => Ok(batch.keys.len()),
            Err(e) => {
                self.batch().merge(batch);
                Err(e)
            }
        }
    }
}

/// Flushes every [`FLUSH_EVERY`] until the process ends.
pub fn spawn_flusher(usage: std::sync::Arc<Usage>, db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = usage.flush(&db).await {
                tracing::warn!(error = %e, "could not record S3 key usage; will retry");
            }
        }
    });
}
