//! The S3 endpoint's view of the credentials table, on SQLite and PostgreSQL: keys found
//! with their scope and secret, revocations and expiry seen within the cache lifetime,
//! and usage written in batches.

mod common;

use app::catalog::Preset;
use app::policy::Grant;
use app::services::activity::{self, Seen};
use app::services::caller::Caller;
use app::services::credentials;
use app::services::entities::{audit_event, credential, key_activity, key_denial};
use common::seed::{customer_with_bucket, read_only_key};
use common::{state, within_key_cache_ttl};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, DatabaseConnection, EntityTrait as _, IntoActiveModel as _,
    PaginatorTrait as _, QueryFilter as _, Set,
};
use server::s3::keys::KeyStore;
use server::s3::usage::Usage;

struct Fixture {
    state: app::services::AppState,
    master_key_id: String,
    key_id: String,
    secret: String,
}

async fn credential_row(db: &DatabaseConnection, access_key_id: &str) -> credential::Model {
    credential::Entity::find()
        .filter(credential::Column::AccessKeyId.eq(access_key_id))
        .one(db)
        .await
        .unwrap()
        .expect("the credential exists")
}

async fn fixture(db: DatabaseConnection) -> Fixture {
    let state = state(db);
    let (bucket, master) = customer_with_bucket(&state, "ann@example.com", "ann-photos").await;
    let key = read_only_key(&state, bucket.id, "camera", "photos").await;
    Fixture {
        master_key_id: master.access_key_id,
        key_id: key.access_key_id,
        secret: key.secret_key,
        state,
    }
}

async fn keys_follow_the_credentials_table(db: DatabaseConnection) {
    let f = fixture(db).await;
    let keys = KeyStore::new(f.state.db.clone(), f.state.secrets.clone());

    let record = keys.authenticated(&f.key_id).await.unwrap();
    assert_eq!(record.secret.expose(), f.secret);
    assert_eq!(record.scope.bucket, "ann-photos");
    assert_eq!(record.scope.path.as_deref(), Some("photos/"));
    assert_eq!(record.scope.grant, Grant::Actions(Preset::ReadOnly.actions()));
    let master = keys.authenticated(&f.master_key_id).await.unwrap();
    assert_eq!(master.scope.grant, Grant::Master);
    assert_eq!(master.scope.path, None);
    assert!(keys.get("AKIANOSUCHKEY0000000").await.unwrap().is_none());
    assert!(keys.bucket_exists("ann-photos").await.unwrap());
    assert!(!keys.bucket_exists("nobodys-bucket").await.unwrap());

    // Paused: refused as inactive; resumed: works again.
    credentials::set_paused(&f.state.db, &Caller::Operator, &f.key_id, true)
        .await
        .unwrap();
    within_key_cache_ttl("the pause", async || keys.authenticated(&f.key_id).await.is_err()).await;
    let refused = keys.authenticated(&f.key_id).await.unwrap_err();
    assert_eq!(refused.code().as_str(), "InvalidAccessKeyId");
    assert!(refused.message().unwrap_or_default().contains("inactive"));
    credentials::set_paused(&f.state.db, &Caller::Operator, &f.key_id, false)
        .await
        .unwrap();
    within_key_cache_ttl("the resume", async || keys.authenticated(&f.key_id).await.is_ok()).await;
    assert!(keys.authenticated(&f.key_id).await.is_ok());
    // A master key is never paused.
    assert!(
        credentials::set_paused(&f.state.db, &Caller::Operator, &f.master_key_id, true)
            .await
            .is_err()
    );

    // Revoked elsewhere (here: straight through the services, as the panel and CLI do).
    credentials::revoke_credential(&f.state.db, &Caller::Operator, &f.key_id)
        .await
        .unwrap();
    within_key_cache_ttl("the revocation", async || keys.authenticated(&f.key_id).await.is_err()).await;
    let refused = keys.authenticated(&f.key_id).await.unwrap_err();
    assert_eq!(refused.code().as_str(), "InvalidAccessKeyId");
    assert!(refused.message().unwrap_or_default().contains("revoked"));
    // Revoking is final: a revoked key is not resumed.
    let refused = credentials::set_paused(&f.state.db, &Caller::Operator, &f.key_id, false)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("stays revoked"), "{refused}");

    // An expired key is refused too, even while its record is cached.
    let row = credential_row(&f.state.db, &f.master_key_id).await;
    let mut expiring = row.into_active_model();
    expiring.expires_at = Set(Some(app::services::now() - 1));
    expiring.update(&f.state.db).await.unwrap();
    within_key_cache_ttl("the expiry", async || {
        keys.authenticated(&f.master_key_id).await.is_err()
    })
    .await;
    let refused = keys.authenticated(&f.master_key_id).await.unwrap_err();
    assert!(refused.message().unwrap_or_default().contains("expired"));
}

fn seen(id: i32, at: i64, operation: &'static str, action: &'static str, addr: &str) -> Seen<'static> {
    Seen {
        credential_id: id,
        at,
        operation,
        action: Some(action),
        client_addr: Some(addr.parse().unwrap()),
        object_key: Some("photos/a.jpg"),
    }
}

async fn usage_is_written_in_batches(db: DatabaseConnection) {
    let f = fixture(db).await;
    let id = credential_row(&f.state.db, &f.key_id).await.id;
    let row = || async {
        credential::Entity::find_by_id(id)
            .one(&f.state.db)
            .await
            .unwrap()
            .unwrap()
    };
    let usage = Usage::default();
    assert_eq!(usage.flush(&f.state.db).await.unwrap(), 0);

    let now = app::services::now();
    usage.allowed(&seen(id, now, "GetObject", "s3:GetObject", "203.0.113.7"));
    usage.allowed(&seen(id, now - 100, "GetObject", "s3:GetObject", "203.0.113.7"));
    for _ in 0..3 {
        usage.denied(
            &seen(id, now - 50, "PutObject", "s3:PutObject", "198.51.100.1"),
            "this key does not allow s3:PutObject".into(),
        );
    }
    // Nothing reaches the database before a flush.
    assert_eq!(row().await.last_used_at, None);
    assert_eq!(usage.flush(&f.state.db).await.unwrap(), 1);
    let written = row().await;
    assert_eq!(written.last_used_at, Some(now));
    assert_eq!(written.denied_requests, 3);

    // An older time (say, from a slower instance) never moves last-used back; counts add up.
    usage.allowed(&seen(id, now - 7200, "GetObject", "s3:GetObject", "203.0.113.7"));
    usage.denied(
        &seen(id, now - 10, "PutObject", "s3:PutObject", "198.51.100.1"),
        "this key does not allow s3:PutObject".into(),
    );
    usage.flush(&f.state.db).await.unwrap();
    let written = row().await;
    assert_eq!(written.last_used_at, Some(now));
    assert_eq!(written.denied_requests, 4);
    // The panel shows both.
    let shown = credentials::list_credentials(&f.state.db, None, None).await.unwrap();
    let shown = shown.iter().find(|c| c.id == id).unwrap();
    assert_eq!((shown.last_used_at, shown.denied_requests), (Some(now), 4));

    // And the activity, rolled up per action: 3 GETs (one two hours ago), 4 denied PUTs.
    let activity = activity::of_key(&f.state.db, id, now).await.unwrap();
    let get = activity.by_action.iter().find(|a| a.action == "s3:GetObject").unwrap();
    assert_eq!((get.day_requests, get.month_requests, get.day_denied), (3, 3, 0));
    let put = activity.by_action.iter().find(|a| a.action == "s3:PutObject").unwrap();
    assert_eq!((put.day_requests, put.day_denied), (4, 4));
    assert_eq!(activity.denials.len(), 4);
    assert_eq!(activity.denials[0].reason, "this key does not allow s3:PutObject");
    assert_eq!(activity.denials[0].client_addr.as_deref(), Some("198.51.100.1"));
    assert_eq!(activity.denials[0].object_key.as_deref(), Some("photos/a.jpg"));
    let last = activity.last_use.unwrap();
    assert_eq!(
        (last.at, last.operation.as_str(), last.client_addr.as_str()),
        (now, "GetObject", "203.0.113.7")
    );
    let mut sources: Vec<&str> = activity.sources.iter().map(|s| s.client_addr.as_str()).collect();
    sources.sort_unstable();
    assert_eq!(sources, ["198.51.100.1", "203.0.113.7"]);

    // Only the latest denials are kept; a month-old hour is dropped.
    for i in 0..30 {
        usage.denied(
            &seen(id, now - 5 + i % 3, "DeleteObject", "s3:DeleteObject", "198.51.100.1"),
            format!("denial {i}"),
        );
    }
    usage.allowed(&seen(id, now - 31 * 86_400, "GetObject", "s3:GetObject", "192.0.2.1"));
    usage.flush(&f.state.db).await.unwrap();
    let activity = activity::of_key(&f.state.db, id, now).await.unwrap();
    assert_eq!(activity.denials.len(), 20);
    assert_eq!(activity.denials[0].reason, "denial 29");
    assert_eq!(
        key_denial::Entity::find()
            .filter(key_denial::Column::CredentialId.eq(id))
            .count(&f.state.db)
            .await
            .unwrap(),
        20
    );
    assert!(activity.sources.iter().all(|s| s.client_addr != "192.0.2.1"));
    // Thirty denials in one write are a burst, which the audit log keeps.
    let bursts = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("credential.denied_burst"))
        .all(&f.state.db)
        .await
        .unwrap();
    assert_eq!(bursts.len(), 1, "the first batch had 3 denials, the last 30");
    assert_eq!(bursts[0].target, format!("credential:{}", f.key_id));
    assert_eq!(bursts[0].client_addr.as_deref(), Some("198.51.100.1"));
    assert_eq!(
        activity
            .by_action
            .iter()
            .find(|a| a.action == "s3:GetObject")
            .unwrap()
            .month_requests,
        3
    );

    // Deleting the credential deletes its activity.
    credentials::delete_credential(&f.state.db, &Caller::Operator, &f.key_id)
        .await
        .unwrap();
    assert_eq!(key_activity::Entity::find().count(&f.state.db).await.unwrap(), 0);
    assert_eq!(key_denial::Entity::find().count(&f.state.db).await.unwrap(), 0);
}

/// A status this version does not know (written by a newer one, or by hand) is an error,
/// never taken for a live key.
async fn an_unknown_stored_status_grants_nothing(db: DatabaseConnection) {
    let f = fixture(db).await;
    let keys = KeyStore::new(f.state.db.clone(), f.state.secrets.clone());
    assert!(keys.authenticated(&f.key_id).await.is_ok());
    credential::Entity::update_many()
        .col_expr(credential::Column::Status, sea_orm::sea_query::Expr::value("suspended"))
        .filter(credential::Column::AccessKeyId.eq(&f.key_id))
        .exec(&f.state.db)
        .await
        .unwrap();
    within_key_cache_ttl("the unknown status", async || {
        keys.authenticated(&f.key_id).await.is_err()
    })
    .await;
    let refused = keys.authenticated(&f.key_id).await.unwrap_err();
    assert_eq!(refused.code().as_str(), "InternalError");
    assert!(credentials::list_credentials(&f.state.db, None, None).await.is_err());
}

on_both_databases!(
    keys_follow_the_credentials_table,
    usage_is_written_in_batches,
    an_unknown_stored_status_grants_nothing
);
