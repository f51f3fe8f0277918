//! Last-used times and denied-request counts, gathered in memory and written in batches:
//! the hot path only touches a map, never the database.

use app::services::entities::credential;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, TransactionTrait as _};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How often gathered usage reaches the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Pending {
    last_used_at: Option<i64>,
    denied: i64,
}

#[derive(Debug, Default)]
pub struct Usage {
    pending: Mutex<HashMap<i32, Pending>>,
}

impl Usage {
    pub fn used(&self, credential_id: i32, at: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let entry = pending.entry(credential_id).or_default();
        entry.last_used_at = entry.last_used_at.max(Some(at));
    }

    pub fn denied(&self, credential_id: i32) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.entry(credential_id).or_default().denied += 1;
    }

    /// Writes what has gathered since the last flush, one transaction for the lot.
    /// On failure the figures are put back for the next try.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<usize, DbErr> {
        let batch = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if batch.is_empty() {
            return Ok(0);
        }
        let written = batch.len();
        match write(db, &batch).await {
            Ok(()) => Ok(written),
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for (id, p) in batch {
                    let entry = pending.entry(id).or_default();
                    entry.last_used_at = entry.last_used_at.max(p.last_used_at);
                    entry.denied += p.denied;
                }
                Err(e)
            }
        }
    }
}

async fn write(db: &DatabaseConnection, batch: &HashMap<i32, Pending>) -> Result<(), DbErr> {
    use sea_orm::sea_query::ExprTrait as _;
    let txn = db.begin().await?;
    for (&id, pending) in batch {
        if let Some(at) = pending.last_used_at {
            // Another instance may have written a later time already: never go back.
            credential::Entity::update_many()
                .col_expr(credential::Column::LastUsedAt, Expr::value(at))
                .filter(credential::Column::Id.eq(id))
                .filter(
                    Condition::any()
                        .add(credential::Column::LastUsedAt.is_null())
                        .add(credential::Column::LastUsedAt.lt(at)),
                )
                .exec(&txn)
                .await?;
        }
        if pending.denied > 0 {
            credential::Entity::update_many()
                .col_expr(
                    credential::Column::DeniedRequests,
                    Expr::col(credential::Column::DeniedRequests).add(pending.denied),
                )
                .filter(credential::Column::Id.eq(id))
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await
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
