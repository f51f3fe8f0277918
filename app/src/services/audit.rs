//! The audit log: who did what to which object, from where. Never holds a secret.

use super::entities::audit_event;
use super::now;
use crate::error::AppError;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait as _};

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

pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> Result<(), AppError> {
    audit_event::Entity::insert(audit_event::ActiveModel {
        actor_id: Set(actor.user_id),
        action: Set(action.to_string()),
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
