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

/// What happened. Stored as the dotted name [`AuditAction::as_str`] gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    UserCreate,
    SessionLogin,
    SessionLoginFailed,
    SessionLogout,
    RegionCreate,
    BucketCreate,
    BucketRename,
    BucketRotateMasterKey,
    CredentialCreate,
    CredentialRevoke,
    CredentialReveal,
    CredentialRevealRefused,
    CredentialDelete,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::UserCreate => "user.create",
            AuditAction::SessionLogin => "session.login",
            AuditAction::SessionLoginFailed => "session.login_failed",
            AuditAction::SessionLogout => "session.logout",
            AuditAction::RegionCreate => "region.create",
            AuditAction::BucketCreate => "bucket.create",
            AuditAction::BucketRename => "bucket.rename",
            AuditAction::BucketRotateMasterKey => "bucket.rotate_master_key",
            AuditAction::CredentialCreate => "credential.create",
            AuditAction::CredentialRevoke => "credential.revoke",
            AuditAction::CredentialReveal => "credential.reveal",
            AuditAction::CredentialRevealRefused => "credential.reveal_refused",
            AuditAction::CredentialDelete => "credential.delete",
        }
    }
}

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
}

impl std::fmt::Display for AuditTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditTarget::User(id) => write!(f, "user:{id}"),
            AuditTarget::Email(email) => write!(f, "email:{email}"),
            AuditTarget::Region(name) => write!(f, "region:{name}"),
            AuditTarget::Bucket(id) => write!(f, "bucket:{id}"),
            AuditTarget::Credential(access_key_id) => write!(f, "credential:{access_key_id}"),
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
