//! Accounts: creating users, signing in (with throttling), the first admin.

use super::audit::{self, Actor, AuditAction, AuditTarget};
use super::caller::Caller;
use super::entities::user;
use super::{AppState, now, passwords, throttle, unique_violation};
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
        role: m.role,
        created_at: m.created_at,
    }
}

/// The longest email address there can be (RFC 5321). Longer ones are refused before
/// any work, and so never reach a throttle key or the audit log.
pub const MAX_EMAIL_LEN: usize = 254;

fn refuse_overlong_email(email: &str) -> Result<(), AppError> {
    if email.trim().len() > MAX_EMAIL_LEN {
        return Err(AppError::invalid(
            "email",
            format!("An email address has at most {MAX_EMAIL_LEN} characters."),
        ));
    }
    Ok(())
}

pub async fn create_user(
    db: &DatabaseConnection,
    caller: &Caller,
    email: &str,
    password: &str,
    role: Role,
) -> Result<UserSummary, AppError> {
    refuse_overlong_email(email)?;
    let email = normalize_email(email).map_err(|m| AppError::invalid("email", m))?;
    validate_new_password(password).map_err(|m| AppError::invalid("password", m))?;
    let password_hash = passwords::hash(password.to_string()).await?;
    let created = user::Entity::insert(user::ActiveModel {
        email: Set(email.clone()),
        password_hash: Set(password_hash),
        role: Set(role),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|e| unique_violation(e, "email", format!("a user with the email {email} already exists")))?;
    audit::record(
        db,
        &caller.actor(),
        AuditAction::UserCreate,
        AuditTarget::User(created.id),
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
/// work. Every attempt is counted as a failure before the password is checked (against
/// the account from this address, the account from anywhere, and the address) and taken
/// back when it succeeds, so a burst of parallel guesses gets no more checks than the
/// limits allow.
pub async fn authenticate(
    state: &AppState,
    email: &str,
    password: &str,
    client_addr: &str,
) -> Result<SignedInUser, AppError> {
    refuse_overlong_email(email)?;
    let account_key = email.trim().to_lowercase();
    let account_and_address_key = format!("{account_key} {client_addr}");
    let reservations = throttle::reserve_all(&[
        (&*state.login_by_account_and_address, account_and_address_key.as_str()),
        (&*state.login_by_account, account_key.as_str()),
        (&*state.login_by_address, client_addr),
    ])
    .map_err(|retry_after_secs| AppError::Throttled { retry_after_secs })?;
    let release_all = |reservations: Vec<throttle::Reservation>| {
        let throttles = [
            &state.login_by_account_and_address,
            &state.login_by_account,
            &state.login_by_address,
        ];
        for (throttle, r) in throttles.into_iter().zip(reservations) {
            throttle.release(r);
        }
    };
    let verified = match check_password(state, email, password).await {
        Ok(verified) => verified,
        Err(e) => {
            // No password was judged (the server was busy or failed): not a failure.
            release_all(reservations);
            return Err(e);
        }
    };
    let actor_for = |id: Option<i32>| Actor {
        user_id: id,
        client_addr: Some(client_addr.to_string()),
    };
    match verified {
        Some(u) => {
            release_all(reservations);
            state.login_by_account_and_address.clear(&account_and_address_key);
            audit::record(
                &state.db,
                &actor_for(Some(u.id)),
                AuditAction::SessionLogin,
                AuditTarget::User(u.id),
                serde_json::json!({}),
            )
            .await?;
            Ok(SignedInUser {
                id: u.id,
                email: u.email,
                role: u.role,
            })
        }
        None => {
            audit::record(
                &state.db,
                &actor_for(None),
                AuditAction::SessionLoginFailed,
                AuditTarget::Email(&account_key),
                serde_json::json!({}),
            )
            .await?;
            Err(AppError::BadLogin)
        }
    }
}

/// The user whose password this is, after the same work whether the email is known or not.
async fn check_password(state: &AppState, email: &str, password: &str) -> Result<Option<user::Model>, AppError> {
    let found = if password.len() > crate::domain::MAX_PASSWORD_BYTES {
        None
    } else {
        find_by_email(&state.db, email).await?
    };
    match found {
        Some(u) => Ok(passwords::verify(password.to_string(), u.password_hash.clone())
            .await?
            .then_some(u)),
        None => {
            passwords::verify_against_nothing(password.chars().take(64).collect()).await?;
            Ok(None)
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
        .filter(user::Column::Role.eq(Role::Admin))
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
    let admin = create_user(db, &Caller::Operator, email, &password, Role::Admin).await?;
    Ok(Some((admin, generated)))
}

/// 24 characters of URL-safe base64 (144 random bits), for passwords Stook hands out.
pub fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
