//! The S3 endpoint's view of the credentials table, on SQLite and PostgreSQL: keys found
//! with their scope and secret, revocations and expiry seen within the cache lifetime,
//! and usage written in batches.

mod common;

use app::catalog::Preset;
use app::policy::Grant;
use app::services::caller::Caller;
use app::services::credentials;
use app::services::entities::credential;
use common::seed::{customer_with_bucket, read_only_key};
use common::state;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, DatabaseConnection, EntityTrait as _, IntoActiveModel as _,
    QueryFilter as _, Set,
};
use server::s3::keys::{KEY_CACHE_TTL, KeyStore};
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

    // Revoked elsewhere (here: straight through the services, as the panel and CLI do).
    credentials::revoke_credential(&f.state.db, &Caller::Operator, &f.key_id)
        .await
        .unwrap();
    tokio::time::sleep(KEY_CACHE_TTL + std::time::Duration::from_millis(50)).await;
    let refused = keys.authenticated(&f.key_id).await.unwrap_err();
    assert_eq!(refused.code().as_str(), "InvalidAccessKeyId");
    assert!(refused.message().unwrap_or_default().contains("revoked"));

    // An expired key is refused too, even while its record is cached.
    let row = credential_row(&f.state.db, &f.master_key_id).await;
    let mut expiring = row.into_active_model();
    expiring.expires_at = Set(Some(app::services::now() - 1));
    expiring.update(&f.state.db).await.unwrap();
    tokio::time::sleep(KEY_CACHE_TTL + std::time::Duration::from_millis(50)).await;
    let refused = keys.authenticated(&f.master_key_id).await.unwrap_err();
    assert!(refused.message().unwrap_or_default().contains("expired"));
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

    usage.used(id, 2_000_000_000);
    usage.used(id, 1_900_000_000);
    for _ in 0..3 {
        usage.denied(id);
    }
    // Nothing reaches the database before a flush.
    assert_eq!(row().await.last_used_at, None);
    assert_eq!(usage.flush(&f.state.db).await.unwrap(), 1);
    let written = row().await;
    assert_eq!(written.last_used_at, Some(2_000_000_000));
    assert_eq!(written.denied_requests, 3);

    // An older time (say, from a slower instance) never moves last-used back; counts add up.
    usage.used(id, 1_000_000_000);
    usage.denied(id);
    usage.flush(&f.state.db).await.unwrap();
    let written = row().await;
    assert_eq!(written.last_used_at, Some(2_000_000_000));
    assert_eq!(written.denied_requests, 4);
    // The panel shows both.
    let shown = credentials::list_credentials(&f.state.db, None, None).await.unwrap();
    let shown = shown.iter().find(|c| c.id == id).unwrap();
    assert_eq!((shown.last_used_at, shown.denied_requests), (Some(2_000_000_000), 4));
}

/// A status this version does not know (written by a newer one, or by hand) is an error,
/// never taken for a live key.
async fn an_unknown_stored_status_grants_nothing(db: DatabaseConnection) {
    let f = fixture(db).await;
    let keys = KeyStore::new(f.state.db.clone(), f.state.secrets.clone());
    assert!(keys.authenticated(&f.key_id).await.is_ok());
    credential::Entity::update_many()
        .col_expr(credential::Column::Status, sea_orm::sea_query::Expr::value("paused"))
        .filter(credential::Column::AccessKeyId.eq(&f.key_id))
        .exec(&f.state.db)
        .await
        .unwrap();
    tokio::time::sleep(KEY_CACHE_TTL + std::time::Duration::from_millis(50)).await;
    let refused = keys.authenticated(&f.key_id).await.unwrap_err();
    assert_eq!(refused.code().as_str(), "InternalError");
    assert!(credentials::list_credentials(&f.state.db, None, None).await.is_err());
}

on_both_databases!(
    keys_follow_the_credentials_table,
    usage_is_written_in_batches,
    an_unknown_stored_status_grants_nothing
);
