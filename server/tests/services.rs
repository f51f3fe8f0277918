//! The services behind the server functions and the CLI, on SQLite and PostgreSQL:
//! ownership, validation that writes nothing, secrets sealed at rest, audit rows.

mod common;

use app::domain::{KeyStatus, Role, SignedInUser};
use app::error::AppError;
use app::services::caller::Caller;
use app::services::credentials::CreateCredential;
use app::services::entities::{audit_event, credential};
use app::services::{buckets, credentials, regions, users};
use common::state;
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};

async fn ownership_is_enforced_whatever_ids_are_sent(db: DatabaseConnection) {
    let state = state(db);
    let op = Caller::Operator;
    regions::add_region(&state.db, &op, "eu-west-1", "https://s3.example.com")
        .await
        .unwrap();
    let ann = users::create_user(
        &state.db,
        &op,
        "ann@example.com",
        "a long enough password",
        Role::Customer,
    )
    .await
    .unwrap();
    let bob = users::create_user(
        &state.db,
        &op,
        "bob@example.com",
        "a long enough password",
        Role::Customer,
    )
    .await
    .unwrap();
    let as_user = |u: &users::UserSummary| SignedInUser {
        id: u.id,
        email: u.email.clone(),
        role: u.role,
    };
    let (ann_bucket, _) = buckets::add_bucket(
        &state.db,
        &state.secrets,
        &op,
        "ann@example.com",
        "eu-west-1",
        "ann-bucket",
    )
    .await
    .unwrap();

    // Bob names Ann's bucket id: refused as if it did not exist, nothing written.
    let before = credential::Entity::find().count(&state.db).await.unwrap();
    let input = CreateCredential {
        bucket_id: ann_bucket.id,
        name: "sneaky",
        path: "",
        actions: "all",
        expires_at: None,
        networks: "",
    };
    let err = credentials::create_credential(
        &state.db,
        &state.secrets,
        &Caller::user(as_user(&bob), "203.0.113.7"),
        input,
    )
    .await
    .unwrap_err();
    assert_eq!(err.field(), Some("bucket"));
    assert_eq!(credential::Entity::find().count(&state.db).await.unwrap(), before);

    let input = CreateCredential {
        bucket_id: ann_bucket.id,
        name: "mine",
        path: "docs",
        actions: "read-write",
        expires_at: None,
        networks: "",
    };
    let (view, key) = credentials::create_credential(
        &state.db,
        &state.secrets,
        &Caller::user(as_user(&ann), "203.0.113.7"),
        input,
    )
    .await
    .unwrap();
    assert_eq!(view.owner_email, "ann@example.com");

    // The secret is sealed at rest and opens with the master key and its own key id only.
    let row = credential::Entity::find()
        .filter(credential::Column::AccessKeyId.eq(&key.access_key_id))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !row.secret_ciphertext
            .windows(key.secret_key.len())
            .any(|w| w == key.secret_key.as_bytes())
    );
    assert_eq!(
        state.secrets.open(&row.access_key_id, &row.secret_ciphertext).unwrap(),
        key.secret_key
    );

    // Bob cannot revoke Ann's key, and learns nothing about it.
    let err = credentials::revoke_credential(
        &state.db,
        &Caller::user(as_user(&bob), "203.0.113.7"),
        &key.access_key_id,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }));
    let listed = credentials::list_credentials(&state.db, Some(ann.id), None)
        .await
        .unwrap();
    assert!(listed.iter().all(|c| c.status == KeyStatus::Active));
    assert!(
        credentials::list_credentials(&state.db, Some(bob.id), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        buckets::visible_buckets(&state.db, &as_user(&bob))
            .await
            .unwrap()
            .is_empty()
    );

    // Ann can; the audit log has the creation and the revocation, and no secret.
    credentials::revoke_credential(
        &state.db,
        &Caller::user(as_user(&ann), "203.0.113.7"),
        &key.access_key_id,
    )
    .await
    .unwrap();
    let events = audit_event::Entity::find().all(&state.db).await.unwrap();
    for action in ["credential.create", "credential.revoke", "bucket.create"] {
        assert!(events.iter().any(|e| e.action == action), "no {action} audit row");
    }
    assert!(events.iter().all(|e| !e.details.contains(&key.secret_key)));
}

async fn bad_input_changes_nothing(db: DatabaseConnection) {
    let state = state(db);
    let op = Caller::Operator;
    regions::add_region(&state.db, &op, "eu-west-1", "https://s3.example.com")
        .await
        .unwrap();
    regions::add_region(&state.db, &op, "tr-ist-1", "https://s3.tr.example.com")
        .await
        .unwrap();
    users::create_user(
        &state.db,
        &op,
        "ann@example.com",
        "a long enough password",
        Role::Customer,
    )
    .await
    .unwrap();
    let (bucket, _) = buckets::add_bucket(
        &state.db,
        &state.secrets,
        &op,
        "ann@example.com",
        "eu-west-1",
        "ann-bucket",
    )
    .await
    .unwrap();
    let events_before = audit_event::Entity::find().count(&state.db).await.unwrap();
    let keys_before = credential::Entity::find().count(&state.db).await.unwrap();
    for (name, path, actions, field) in [
        ("", "", "all", "name"),
        ("x", "../up", "all", "path"),
        ("x", "", "s3:Nope", "actions"),
        ("x", "", "", "actions"),
    ] {
        let input = CreateCredential {
            bucket_id: bucket.id,
            name,
            path,
            actions,
            expires_at: None,
            networks: "",
        };
        let err = credentials::create_credential(&state.db, &state.secrets, &op, input)
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
    }
    let dup = buckets::add_bucket(
        &state.db,
        &state.secrets,
        &op,
        "ann@example.com",
        "eu-west-1",
        "ann-bucket",
    )
    .await
    .unwrap_err();
    assert!(matches!(dup, AppError::Conflict { .. }), "{dup:?}");
    // Another region does not make the name free: the S3 endpoint knows buckets by name.
    let elsewhere = buckets::add_bucket(
        &state.db,
        &state.secrets,
        &op,
        "ann@example.com",
        "tr-ist-1",
        "ann-bucket",
    )
    .await
    .unwrap_err();
    assert_eq!(elsewhere.field(), Some("name"), "{elsewhere:?}");
    assert!(
        elsewhere.to_string().contains("unique across all regions"),
        "{elsewhere}"
    );
    assert_eq!(
        credential::Entity::find().count(&state.db).await.unwrap(),
        keys_before,
        "a refused bucket left a master key"
    );
    assert_eq!(
        audit_event::Entity::find().count(&state.db).await.unwrap(),
        events_before
    );
}

on_both_databases!(ownership_is_enforced_whatever_ids_are_sent, bad_input_changes_nothing);
