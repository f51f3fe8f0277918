//! The audit log page's server function. The CSV export is a plain HTTP route of the
//! server (`/api/audit.csv`), which streams.

use crate::domain::AuditPage;
use crate::error::AppError;
use leptos::prelude::*;

/// A page (50 events, newest first) of the audit log: a customer's own events, an admin's
/// view of everyone's; narrowed by actor email, credential (access key id), action
/// (`credential.revoke`) and days (`from`, `to`: `YYYY-MM-DD`, both included).
#[server(endpoint = "audit")]
pub async fn audit_events(
    #[server(default)] actor: String,
    #[server(default)] credential: String,
    #[server(default)] action: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] page: u64,
) -> Result<AuditPage, AppError> {
    use crate::services::audit::{self, AuditFilter};
    crate::functions::respond(async move {
        if page > crate::functions::credentials::MAX_PAGE {
            return Err(AppError::invalid("page", format!("There is no page {page}.")));
        }
        let (state, caller) = crate::functions::caller().await?;
        let filter = AuditFilter::from_fields(&actor, &credential, &action, &from, &to)?;
        audit::page(&state.db, &caller, &filter, page).await
    })
    .await
}
