//! Accounts: creating users, signing in (with throttling), the first admin.

use super::audit::{self, Actor};
use super::entities::user;
use super::{AppState, now, passwords, unique_violation};
use crate::domain::{Role, SignedInUser, normalize_email, validate_new_password};
use crate::error::AppError;
use base64::Engine as _;
use rand::Rng as _;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserSummary {
    pub id: i32,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
}

fn summary(m: user::Model) -> UserSummary {
    UserSummary {
        id: m.id,
        email: m.email,
        role: Role::parse(&m.role).unwrap_or(Role::Customer),
        created_at: m.created_at,
    }
}

pub async fn create_user(
    db: &DatabaseConnection,
    actor: &Actor,
    email: &str,
    password: &str,
    role: Role,
) -> Result<UserSummary, AppError> {
    let email = normalize_email(email).map_err(|m| AppError::invalid("email", m))?;
    validate_new_password(password).map_err(|m| AppError::invalid("password", m))?;
    let password_hash = passwords::hash(password.to_string()).await?;
    let created = user::Entity::insert(user::ActiveModel {
        email: Set(email.clone()),
        password_hash: Set(password_hash),
        role: Set(role.as_str().to_string()),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|e| unique_violation(e, "email", format!("a user with the email {email} already exists")))?;
    audit::record(
        db,
        actor,
        "user.create",
        &format!("user:{}", created.id),
        serde_json::json!({ "email": email, "role": role }),
    )
    .await?;
    Ok(summary(created))
}

pub async fn list_users(db: &DatabaseConnection) -> Result<Vec<UserSummary>, AppError> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(summary)
        .collect())
}

/// Emails of the given users, by id: one query for a whole list's owners.
pub async fn emails_by_id(
    db: &DatabaseConnection,
    ids: impl IntoIterator<Item = i32>,
) -> Result<std::collections::HashMap<i32, String>, AppError> {
    let ids: Vec<i32> = ids.into_iter().collect();
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect())
}

pub async fn find_by_email(db: &DatabaseConnection, email: &str) -> Result<Option<user::Model>, AppError> {
    let Ok(email) = normalize_email(email) else {
        return Ok(None);
    };
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?)
}

pub async fn signed_in_user(db: &DatabaseConnection, id: i32) -> Result<Option<SignedInUser>, AppError> {
    Ok(user::Entity::find_by_id(id).one(db).await?.map(|m| {
        let s = summary(m);
        SignedInUser {
            id: s.id,
            email: s.email,
            role: s.role,
        }
    }))
}

/// Checks a login. Unknown email and wrong password give the same error after the same
/// work; failures count against both the account and the client address.
pub async fn authenticate(
    state: &AppState,
    email: &str,
    password: &str,
    client_addr: &str,
) -> Result<SignedInUser, AppError> {
    let account_key = email.trim().to_lowercase();
    let client_key = client_addr.to_string();
    for (throttle, key) in [
        (&state.login_by_account, &account_key),
        (&state.login_by_client, &client_key),
    ] {
        throttle
            .check(key)
            .map_err(|retry_after_secs| AppError::Throttled { retry_after_secs })?;
    }
    let found = if password.len() > crate::domain::MAX_PASSWORD_BYTES {
        None
    } else {
        find_by_email(&state.db, email).await?
    };
    let verified = match found {
        Some(u) => passwords::verify(password.to_string(), u.password_hash.clone())
            .await?
            .then_some(u),
        None => {
            passwords::verify_against_nothing(password.chars().take(64).collect()).await?;
            None
        }
    };
    let actor_for = |id: Option<i32>| Actor {
        user_id: id,
        client_addr: Some(client_addr.to_string()),
    };
    match verified {
        Some(u) => {
            state.login_by_account.clear(&account_key);
            audit::record(
                &state.db,
                &actor_for(Some(u.id)),
                "session.login",
                &format!("user:{}", u.id),
                serde_json::json!({}),
            )
            .await?;
            Ok(SignedInUser {
                id: u.id,
                email: u.email,
                role: Role::parse(&u.role).unwrap_or(Role::Customer),
            })
        }
        None => {
            state.login_by_account.record_failure(&account_key);
            state.login_by_client.record_failure(&client_key);
            audit::record(
                &state.db,
                &actor_for(None),
                "session.login_failed",
                &format!("email:{account_key}"),
                serde_json::json!({}),
            )
            .await?;
            Err(AppError::BadLogin)
        }
    }
}

/// Creates the first admin when the database has none. Returns the generated password
/// when none was given, so the caller can print it once.
pub async fn ensure_first_admin(
    db: &DatabaseConnection,
    email: &str,
    password: Option<&str>,
) -> Result<Option<(UserSummary, Option<String>)>, AppError> {
    let has_admin = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .one(db)
        .await?
        .is_some();
    if has_admin {
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(p) => (p.to_string(), None),
        None => {
            let p = generate_password();
            (p.clone(), Some(p))
        }
    };
    let admin = create_user(db, &Actor::operator(), email, &password, Role::Admin).await?;
    Ok(Some((admin, generated)))
}

/// 24 characters of URL-safe base64 (144 random bits), for passwords Stook hands out.
pub fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
