//! The audit log: who did what to which object, from where. Never holds a secret.

use super::caller::Caller;
use super::entities::{audit_event, bucket, credential, user};
use super::now;
use crate::domain::{AuditEventView, AuditPage};
use crate::error::AppError;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, Select,
};
use std::collections::HashMap;

/// Who acted: a signed-in user with their client address, or the operator at the CLI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i32>,
    pub client_addr: Option<String>,
}

impl Actor {
    pub fn operator() -> Self {
        Actor {
            user_id: None,
            client_addr: Some("cli".into()),
        }
    }

    pub fn user(user_id: i32, client_addr: Option<String>) -> Self {
        Actor {
            user_id: Some(user_id),
            client_addr,
        }
    }
}

pub use crate::domain::AuditAction;

/// What it happened to. Stored as `kind:identifier`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditTarget<'a> {
    User(i32),
    /// A sign-in that matched no account: the (normalised) email tried.
    Email(&'a str),
    Region(&'a str),
    /// By id, which a rename keeps.
    Bucket(i32),
    /// By access key id.
    Credential(&'a str),
    /// A panel setting, by name.
    Setting(&'a str),
}

impl std::fmt::Display for AuditTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditTarget::User(id) => write!(f, "user:{id}"),
            AuditTarget::Email(email) => write!(f, "email:{email}"),
            AuditTarget::Region(name) => write!(f, "region:{name}"),
            AuditTarget::Bucket(id) => write!(f, "bucket:{id}"),
            AuditTarget::Credential(access_key_id) => write!(f, "credential:{access_key_id}"),
            AuditTarget::Setting(name) => write!(f, "setting:{name}"),
        }
    }
}

pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: AuditAction,
    target: AuditTarget<'_>,
    details: serde_json::Value,
) -> Result<(), AppError> {
    audit_event::Entity::insert(audit_event::ActiveModel {
        actor_id: Set(actor.user_id),
        action: Set(action.as_str().to_string()),
        target: Set(target.to_string()),
        client_addr: Set(actor.client_addr.clone()),
        created_at: Set(now()),
        details: Set(details.to_string()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// What the audit page and the CSV export narrow the log to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The acting person's email.
    pub actor: Option<String>,
    /// A credential's access key id.
    pub credential: Option<String>,
    pub action: Option<AuditAction>,
    /// Unix seconds, inclusive start and exclusive end.
    pub from: Option<i64>,
    pub until: Option<i64>,
}

pub const AUDIT_PAGE_SIZE: u64 = 50;

impl AuditFilter {
    /// The filter from the page's (or the export's) form fields: an email, an access key
    /// id, an action's dotted name, and `YYYY-MM-DD` days (both included). Empty fields
    /// filter nothing.
    pub fn from_fields(actor: &str, credential: &str, action: &str, from: &str, to: &str) -> Result<Self, AppError> {
        let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let action =
            match given(action) {
                Some(name) => Some(AuditAction::parse(&name).ok_or_else(|| {
                    AppError::invalid("action", format!("“{name}” is not an action of the audit log."))
                })?),
                None => None,
            };
        let day = |field: &str, text: &str| {
            given(text)
                .map(|t| crate::domain::parse_day(&t).map_err(|m| AppError::invalid(field, m)))
                .transpose()
        };
        let from = day("from", from)?;
        let until = day("to", to)?.map(|start| start + 86_400);
        if let (Some(from), Some(until)) = (from, until)
            && until <= from
        {
            return Err(AppError::invalid("to", "The end day comes before the start day."));
        }
        Ok(AuditFilter {
            actor: given(actor),
            credential: given(credential),
            action,
            from,
            until,
        })
    }
}

/// The events the caller may see, narrowed by `filter`: an admin (or the operator) sees
/// everyone's; a customer what they did, and what was done to their account, buckets and
/// keys (an admin's revocation of their key, failed sign-ins to their email).
pub async fn visible(
    db: &DatabaseConnection,
    caller: &Caller,
    filter: &AuditFilter,
) -> Result<Select<audit_event::Entity>, AppError> {
    let mut query = audit_event::Entity::find();
    let customer = matches!(caller, Caller::User { user, .. } if !user.is_admin());
    if let Caller::User { user, .. } = caller
        && customer
    {
        let mut targets = vec![
            AuditTarget::User(user.id).to_string(),
            AuditTarget::Email(&user.email).to_string(),
        ];
        for key in credential::Entity::find()
            .filter(credential::Column::OwnerId.eq(user.id))
            .all(db)
            .await?
        {
            targets.push(AuditTarget::Credential(&key.access_key_id).to_string());
        }
        for b in bucket::Entity::find()
            .filter(bucket::Column::OwnerId.eq(user.id))
            .all(db)
            .await?
        {
            targets.push(AuditTarget::Bucket(b.id).to_string());
        }
        query = query.filter(
            Condition::any()
                .add(audit_event::Column::ActorId.eq(user.id))
                .add(audit_event::Column::Target.is_in(targets)),
        );
    }
    if let Some(email) = filter.actor.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        let actor = user::Entity::find()
            .filter(user::Column::Email.eq(email.to_lowercase()))
            .one(db)
            .await?;
        match actor {
            Some(actor) => query = query.filter(audit_event::Column::ActorId.eq(actor.id)),
            // A customer learns nothing about who has an account: an unknown email is
            // simply no match, as a known one with no event in their view is.
            None if customer => query = query.filter(audit_event::Column::Id.lt(0)),
            None => return Err(AppError::invalid("actor", format!("No one has the email “{email}”."))),
        }
    }
    if let Some(id) = filter.credential.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        // Access key ids are upper case; a pasted lower-case one still matches.
        let id = id.to_uppercase();
        query = query.filter(audit_event::Column::Target.eq(AuditTarget::Credential(&id).to_string()));
    }
    if let Some(action) = filter.action {
        query = query.filter(audit_event::Column::Action.eq(action.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_event::Column::CreatedAt.gte(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_event::Column::CreatedAt.lt(until));
    }
    Ok(query)
}

async fn views(db: &DatabaseConnection, rows: Vec<audit_event::Model>) -> Result<Vec<AuditEventView>, AppError> {
    let mut ids: Vec<i32> = rows.iter().filter_map(|r| r.actor_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let emails: HashMap<i32, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| AuditEventView {
            id: r.id,
            at: r.created_at,
            actor: r.actor_id.and_then(|id| emails.get(&id).cloned()),
            action: r.action,
            target: r.target,
            client_addr: r.client_addr,
            details: r.details,
        })
        .collect())
}

/// A page of the events the caller may see, newest first.
pub async fn page(
    db: &DatabaseConnection,
    caller: &Caller,
    filter: &AuditFilter,
    page: u64,
) -> Result<AuditPage, AppError> {
    let query = visible(db, caller, filter).await?;
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(audit_event::Column::Id)
        .offset(page.saturating_mul(AUDIT_PAGE_SIZE))
        .limit(AUDIT_PAGE_SIZE)
        .all(db)
        .await?;
    Ok(AuditPage {
        events: views(db, rows).await?,
        total,
        page,
        page_size: AUDIT_PAGE_SIZE,
    })
}

/// Up to `limit` events of `query` (from [`visible`]) older than `before_id`, newest
/// first: the CSV export reads the log in such chunks, so it streams without holding the
/// whole log in memory.
pub async fn chunk(
    db: &DatabaseConnection,
    mut query: Select<audit_event::Entity>,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<AuditEventView>, AppError> {
    if let Some(before) = before_id {
        query = query.filter(audit_event::Column::Id.lt(before));
    }
    let rows = query
        .order_by_desc(audit_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    views(db, rows).await
}

/// The CSV header of the export.
pub const CSV_HEADER: &str = "time_utc,actor,action,target,client_address,details\n";

/// One event as a CSV line. Fields are quoted when they need it, and a field a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`) is prefixed with `'`.
pub fn csv_line(event: &AuditEventView) -> String {
    let field = |text: &str| {
        let text = if text.starts_with(['=', '+', '-', '@']) {
            format!("'{text}")
        } else {
            text.to_string()
        };
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    };
    let time = crate::domain::format_iso8601(event.at);
    let actor = event.actor_shown();
    let fields = [
        time.as_str(),
        actor.as_str(),
        event.action.as_str(),
        event.target.as_str(),
        event.client_addr.as_deref().unwrap_or(""),
        event.details.as_str(),
    ];
    let mut line = fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_are_quoted_and_never_formulas() {
        let event = AuditEventView {
            id: 1,
            at: 0,
            actor: Some("ann@example.com".into()),
            action: "credential.create".into(),
            target: "credential:AK1".into(),
            client_addr: Some("203.0.113.7".into()),
            details: r#"{"name":"=HYPERLINK(\"x\"), y"}"#.into(),
        };
        assert_eq!(
            csv_line(&event),
            "1970-01-01T00:00:00Z,ann@example.com,credential.create,credential:AK1,203.0.113.7,\"{\"\"name\"\":\"\"=HYPERLINK(\\\"\"x\\\"\"), y\"\"}\"\n"
        );
        let formula = AuditEventView {
            target: "=cmd".into(),
            actor: None,
            client_addr: None,
            details: "{}".into(),
            ..event
        };
        assert_eq!(
            csv_line(&formula),
            "1970-01-01T00:00:00Z,—,credential.create,'=cmd,,{}\n"
        );
    }
}
