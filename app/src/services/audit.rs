//! The audit log: who did what to which object, from where. Never holds a secret.

use super::caller::Caller;
use super::entities::{audit_event, user};
use super::now;
use crate::domain::{AuditEventView, AuditPage};
use crate::error::AppError;
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Query, SelectStatement, UnionType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    JoinType, QueryFilter as _, QueryOrder as _, QuerySelect as _, QueryTrait as _, Select, Statement,
};

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

/// The events a caller may see with a filter applied: what the audit page counts and
/// pages through and what the CSV export reads in chunks. Made by [`visible`].
#[derive(Clone, Debug)]
pub struct VisibleEvents {
    query: Select<audit_event::Entity>,
    /// A customer's view (their user id): an admin's actions on their things show "an
    /// administrator", never the admin's email or client address.
    customer: Option<i32>,
}

/// The events the caller may see, narrowed by `filter`: an admin (or the operator) sees
/// everyone's; a customer what they did, and what was done to their account, buckets and
/// keys (an admin's revocation of their key, failed sign-ins to their email).
pub async fn visible(
    db: &DatabaseConnection,
    caller: &Caller,
    filter: &AuditFilter,
) -> Result<VisibleEvents, AppError> {
    let mut query = audit_event::Entity::find();
    let customer = match caller {
        Caller::User { user, .. } if !user.is_admin() => Some(user),
        _ => None,
    };
    if let Some(user) = customer {
        query = query.filter(audit_event::Column::Id.in_subquery(customer_event_ids(user.id, &user.email)));
    }
    if let Some(email) = filter.actor.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        let actor = user::Entity::find()
            .filter(user::Column::Email.eq(email.to_lowercase()))
            .one(db)
            .await?;
        // A customer never learns which admin acted: naming one matches nothing, as an
        // unknown email does.
        let withheld = |actor: &user::Model| {
            customer.is_some_and(|viewer| actor.role == crate::domain::Role::Admin && actor.id != viewer.id)
        };
        match actor {
            Some(actor) if !withheld(&actor) => query = query.filter(audit_event::Column::ActorId.eq(actor.id)),
            // A customer learns nothing about who has an account: an unknown email is
            // simply no match, as a known one with no event in their view is.
            _ if customer.is_some() => query = query.filter(audit_event::Column::Id.lt(0)),
            _ => return Err(AppError::invalid("actor", format!("No one has the email “{email}”."))),
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
    Ok(VisibleEvents {
        query,
        customer: customer.map(|user| user.id),
    })
}

/// The ids of the events a customer may see: those they made, and those on their account,
/// their buckets and their keys, each found through an index and joined on ownership. The
/// statement is the same whatever the customer owns: a list of their keys' ids would bind
/// one value per key (SQLite refuses more than 32,766, and each new length is one more
/// multi-megabyte statement in every pooled connection's cache).
fn customer_event_ids(user_id: i32, email: &str) -> SelectStatement {
    let events = || {
        Query::select()
            .column((Alias::new("e"), audit_event::Column::Id))
            .from_as(audit_event::Entity, Alias::new("e"))
            .to_owned()
    };
    let target = || Expr::col((Alias::new("e"), audit_event::Column::Target));
    // Targets are stored as `kind:identifier` text (see `AuditTarget`); the ON clause
    // builds the same text from the owned row, which both databases concatenate with `||`.
    let owned = |table: &str, column: &str, kind: &str| {
        let mut select = events();
        select
            .join_as(
                JoinType::InnerJoin,
                Alias::new(table),
                Alias::new("o"),
                target().eq(Expr::cust(format!(r#"'{kind}:' || "o"."{column}""#))),
            )
            .and_where(Expr::col((Alias::new("o"), Alias::new("owner_id"))).eq(user_id));
        select
    };
    let mut by_them = events();
    by_them.and_where(Expr::col((Alias::new("e"), audit_event::Column::ActorId)).eq(user_id));
    let mut on_account = events();
    on_account.and_where(target().is_in([
        AuditTarget::User(user_id).to_string(),
        AuditTarget::Email(email).to_string(),
    ]));
    by_them
        .union(UnionType::All, on_account)
        .union(UnionType::All, owned("buckets", "id", "bucket"))
        .union(UnionType::All, owned("credentials", "access_key_id", "credential"))
        .to_owned()
}

/// One event with its actor's email and role (from a join, so one statement).
#[derive(Debug, FromQueryResult)]
struct EventRow {
    id: i64,
    actor_id: Option<i32>,
    action: String,
    target: String,
    client_addr: Option<String>,
    created_at: i64,
    details: String,
    actor_email: Option<String>,
    actor_role: Option<String>,
}

impl VisibleEvents {
    /// The number of events and the page's rows, newest first: what [`page`] runs.
    fn page_queries(&self, page: u64) -> (Select<audit_event::Entity>, Select<audit_event::Entity>) {
        let count = self
            .query
            .clone()
            .select_only()
            .column_as(audit_event::Column::Id.count(), "n");
        let rows = self
            .newest_first()
            .offset(page.saturating_mul(AUDIT_PAGE_SIZE))
            .limit(AUDIT_PAGE_SIZE);
        (count, rows)
    }

    /// The statements [`page`] runs, for a look at their query plans.
    pub fn page_statements(&self, backend: DbBackend, page: u64) -> [Statement; 2] {
        let (count, rows) = self.page_queries(page);
        [count.build(backend), rows.build(backend)]
    }

    fn newest_first(&self) -> Select<audit_event::Entity> {
        let actor = audit_event::Entity::belongs_to(user::Entity)
            .from(audit_event::Column::ActorId)
            .to(user::Column::Id)
            .into();
        self.query
            .clone()
            .join(JoinType::LeftJoin, actor)
            .column_as(user::Column::Email, "actor_email")
            .column_as(user::Column::Role, "actor_role")
            .order_by_desc(audit_event::Column::Id)
    }

    async fn views(
        &self,
        db: &DatabaseConnection,
        rows: Select<audit_event::Entity>,
    ) -> Result<Vec<AuditEventView>, AppError> {
        let rows = rows.into_model::<EventRow>().all(db).await?;
        Ok(rows.into_iter().map(|row| self.view(row)).collect())
    }

    /// An event as this viewer sees it: for a customer, an admin other than themselves is
    /// "an administrator", without email or client address.
    fn view(&self, row: EventRow) -> AuditEventView {
        let withheld = self.customer.is_some_and(|viewer| {
            row.actor_role.as_deref() == Some(crate::domain::Role::Admin.as_str()) && row.actor_id != Some(viewer)
        });
        AuditEventView {
            id: row.id,
            at: row.created_at,
            actor: if withheld { None } else { row.actor_email },
            actor_withheld: withheld,
            action: row.action,
            target: row.target,
            client_addr: if withheld { None } else { row.client_addr },
            details: row.details,
        }
    }
}

/// A page of the events the caller may see, newest first.
pub async fn page(
    db: &DatabaseConnection,
    caller: &Caller,
    filter: &AuditFilter,
    page: u64,
) -> Result<AuditPage, AppError> {
    let visible = visible(db, caller, filter).await?;
    let (count, rows) = visible.page_queries(page);
    let total: i64 = count.into_tuple().one(db).await?.unwrap_or(0);
    Ok(AuditPage {
        events: visible.views(db, rows).await?,
        total: u64::try_from(total).unwrap_or(0),
        page,
        page_size: AUDIT_PAGE_SIZE,
    })
}

/// Up to `limit` events of `visible` older than `before_id`, newest first: the CSV export
/// reads the log in such chunks, so it streams without holding the whole log in memory.
pub async fn chunk(
    db: &DatabaseConnection,
    visible: VisibleEvents,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<AuditEventView>, AppError> {
    let mut rows = visible.newest_first();
    if let Some(before) = before_id {
        rows = rows.filter(audit_event::Column::Id.lt(before));
    }
    visible.views(db, rows.limit(limit)).await
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
            actor_withheld: false,
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
