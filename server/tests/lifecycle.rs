//! A key's lifecycle through the panel's server functions and the S3 endpoint's key
//! store, on SQLite and PostgreSQL: edit with a preview, rotation with a grace period,
//! bulk pause and revoke.

mod common;

use app::domain::KeyStatus;
use app::services::AppState;
use app::services::activity::{self, Batch, Seen};
use app::services::entities::{audit_event, credential};
use axum::http::StatusCode;
use common::seed::{self, PASSWORD};
use common::{Client, router, state, within_key_cache_ttl};
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _};
use server::s3::keys::KeyStore;

async fn signed_in(state: &AppState, email: &str) -> Client {
    let mut client = Client::new(router(state.clone()));
    let reply = client.call("login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    client
}

async fn row(db: &DatabaseConnection, access_key_id: &str) -> credential::Model {
    credential::Entity::find()
        .filter(credential::Column::AccessKeyId.eq(access_key_id))
        .one(db)
        .await
        .unwrap()
        .expect("the credential exists")
}

/// Records `n` allowed requests of `action` on `object_key` an hour ago.
async fn record(state: &AppState, credential_id: i32, action: &'static str, object_key: Option<&str>, n: usize) {
    let at = app::services::now() - 3_600;
    let mut batch = Batch::default();
    for _ in 0..n {
        batch.allowed(&Seen {
            credential_id,
            at,
            operation: "GetObject",
            action: Some(action),
            client_addr: Some("203.0.113.9".parse().unwrap()),
            object_key,
        });
    }
    activity::write(&state.db, &batch, app::services::now()).await.unwrap();
}

async fn an_edit_is_previewed_then_saved(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = seed::two_customers_and_an_admin(&state).await;
    let key = seed::key(
        &state,
        ann_bucket,
        "uploader",
        "",
        "s3:GetObject s3:PutObject s3:ListBucket",
    )
    .await;
    let id = row(&state.db, &key.access_key_id).await.id;
    record(&state, id, "s3:PutObject", Some("uploads/2024/a.jpg"), 12).await;
    record(&state, id, "s3:GetObject", Some("photos/b.jpg"), 3).await;
    record(&state, id, "s3:ListBucket", Some("docs/"), 2).await;
    // A folder key still lists the bucket's root (it sees the way down to its folder).
    record(&state, id, "s3:ListBucket", Some(""), 4).await;
    // Requests the key lost already fail today: an edit does not break them again.
    record(&state, id, "s3:DeleteObject", Some("old/x.jpg"), 5).await;
    let keys = KeyStore::new(state.db.clone(), state.secrets.clone());
    assert!(
        keys.authenticated(&key.access_key_id)
            .await
            .unwrap()
            .scope
            .path
            .is_none()
    );

    let mut ann = signed_in(&state, "ann@example.com").await;
    let edit = [
        ("access_key_id", key.access_key_id.as_str()),
        ("name", "photo reader"),
        ("path", "photos/"),
        ("edit_actions", "on"),
        ("actions[]", "s3:GetObject"),
        ("actions[]", "s3:ListBucket"),
        ("actions[]", "s3:GetObjectTagging"),
        ("expires", "keep"),
        ("networks", "10.0.0.0/8"),
    ];
    let preview = ann.call("credentials/update/preview", &edit).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let preview = preview.json();
    let fields: Vec<&str> = preview["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["Name", "Path", "Permissions", "Networks"]);
    assert_eq!(preview["gained"], serde_json::json!(["s3:GetObjectTagging"]));
    assert_eq!(preview["lost"], serde_json::json!(["s3:PutObject"]));
    assert_eq!(preview["changes"][2]["after"], "Custom — 3 actions (1 gained, 1 lost)");
    let failing: Vec<(String, i64)> = preview["would_fail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["action"].as_str().unwrap().to_string(),
                f["requests"].as_i64().unwrap(),
            )
        })
        .collect();
    // Uploads lose their action; the listing of docs/ falls outside photos/; reading
    // photos/ and listing the root still work.
    assert_eq!(
        failing,
        [("s3:PutObject".to_string(), 12), ("s3:ListBucket".to_string(), 2)]
    );
    assert_eq!(preview["addresses_left_out"], serde_json::json!(["203.0.113.9"]));
    // A preview changes nothing.
    assert_eq!(row(&state.db, &key.access_key_id).await.path, None);

    let saved = ann.call("credentials/update", &edit).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["path"], "photos/");
    assert_eq!(saved.json()["name"], "photo reader");
    // The S3 endpoint sees the new scope once its cache entry lapses.
    within_key_cache_ttl("the new scope", async || {
        keys.authenticated(&key.access_key_id)
            .await
            .is_ok_and(|record| record.scope.path.as_deref() == Some("photos/"))
    })
    .await;
    let record = keys.authenticated(&key.access_key_id).await.unwrap();
    assert_eq!(record.scope.path.as_deref(), Some("photos/"));
    let audit = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("credential.update"))
        .one(&state.db)
        .await
        .unwrap()
        .expect("the edit is audited");
    let details: serde_json::Value = serde_json::from_str(&audit.details).unwrap();
    assert_eq!(details["before"]["path"], serde_json::Value::Null);
    assert_eq!(details["after"]["path"], "photos/");
    assert_eq!(details["before"]["name"], "uploader");

    // Bad input changes nothing and says which field.
    for (field, value) in [("path", "a/../b"), ("networks", "10.0.0.0/33"), ("expires", "soon")] {
        let mut bad = vec![("access_key_id", key.access_key_id.as_str()), (field, value)];
        bad.push(("name", "photo reader"));
        let reply = ann.call("credentials/update", &bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{field}: {}", reply.body);
        assert_eq!(reply.json()["field"], field);
    }
    let no_actions = ann
        .call(
            "credentials/update",
            &[("access_key_id", key.access_key_id.as_str()), ("edit_actions", "on")],
        )
        .await;
    assert_eq!(no_actions.json()["field"], "actions", "{}", no_actions.body);
    assert_eq!(
        row(&state.db, &key.access_key_id).await.path.as_deref(),
        Some("photos/")
    );

    // Someone else's key is out of reach, as if it did not exist.
    let mut bob = signed_in(&state, "bob@example.com").await;
    let theirs = bob
        .call(
            "credentials/update",
            &[("access_key_id", key.access_key_id.as_str()), ("name", "mine now")],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.body);
    // An admin may edit it, but is told plainly that its secret is not theirs to read.
    let mut root = signed_in(&state, "root@example.com").await;
    let reveal = root
        .call(
            "credentials/reveal",
            &[("access_key_id", key.access_key_id.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(reveal.status, StatusCode::BAD_REQUEST, "{}", reveal.body);
    assert!(
        reveal.json()["message"]
            .as_str()
            .unwrap()
            .contains("Only the key's owner")
    );
    assert!(!reveal.body.contains(&key.secret_key));
}

async fn the_lifetime_cap_holds_on_edits(db: DatabaseConnection) {
    let mut state = state(db);
    state.max_key_lifetime_days = Some(30);
    let (ann_bucket, _) = seed::two_customers_and_an_admin(&state).await;
    let key = seed::key(&state, ann_bucket, "short", "", "read-only").await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    for expires in ["never", "90"] {
        let reply = ann
            .call(
                "credentials/update",
                &[("access_key_id", key.access_key_id.as_str()), ("expires", expires)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{expires}: {}", reply.body);
        assert_eq!(reply.json()["field"], "expires");
    }
    let ok = ann
        .call(
            "credentials/update",
            &[("access_key_id", key.access_key_id.as_str()), ("expires", "7")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let rotated = ann
        .call(
            "credentials/rotate",
            &[("access_key_id", key.access_key_id.as_str()), ("grace", "1h")],
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let now = app::services::now();
    let expires_at = rotated.json()["expires_at"].as_i64().unwrap();
    assert!(
        expires_at <= now + 7 * 86_400 + 5,
        "the rotated pair lasts as long again"
    );
}

async fn rotation_keeps_the_old_pair_for_the_grace_period(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = seed::two_customers_and_an_admin(&state).await;
    let old = seed::key(&state, ann_bucket, "nightly backup", "backups/", "read-write").await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let reply = ann
        .call(
            "credentials/rotate",
            &[("access_key_id", old.access_key_id.as_str()), ("grace", "1d")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let new = reply.json();
    let new_id = new["access_key_id"].as_str().unwrap().to_string();
    assert_ne!(new_id, old.access_key_id);
    assert_eq!(new["name"], "nightly backup");
    assert_eq!(new["path"], "backups/");
    assert_eq!(new["replaces"], old.access_key_id.as_str());
    assert!(
        !reply.body.contains("secret_key"),
        "the new secret is revealed like any other"
    );

    let keys = KeyStore::new(state.db.clone(), state.secrets.clone());
    let retiring = row(&state.db, &old.access_key_id).await;
    assert_eq!(retiring.status, KeyStatus::Active);
    let now = app::services::now();
    assert!((now + 86_390..=now + 86_400).contains(&retiring.expires_at.unwrap()));
    assert!(retiring.name.as_deref().unwrap().contains(&old.access_key_id));
    // The retiring pair is not edited (a later expiry would bring it back to life).
    let revived = ann
        .call(
            "credentials/update",
            &[("access_key_id", old.access_key_id.as_str()), ("expires", "never")],
        )
        .await;
    assert_eq!(revived.status, StatusCode::BAD_REQUEST, "{}", revived.body);
    assert!(
        revived.json()["message"]
            .as_str()
            .unwrap()
            .contains("replaced by rotation")
    );
    assert_eq!(row(&state.db, &old.access_key_id).await.expires_at, retiring.expires_at);
    assert!(
        keys.authenticated(&old.access_key_id).await.is_ok(),
        "the old pair still works"
    );
    assert!(keys.authenticated(&new_id).await.is_ok());

    // The list shows both, linked.
    let page = ann.call("credentials", &[]).await.json();
    let items = page["items"].as_array().unwrap();
    let old_view = items
        .iter()
        .find(|c| c["access_key_id"] == old.access_key_id.as_str())
        .unwrap();
    assert_eq!(old_view["replaced_by"], new_id.as_str());

    // Rotating it again is refused; so is a grace period that is not on offer.
    let again = ann
        .call(
            "credentials/rotate",
            &[("access_key_id", old.access_key_id.as_str()), ("grace", "1h")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let odd = ann
        .call(
            "credentials/rotate",
            &[("access_key_id", new_id.as_str()), ("grace", "2h")],
        )
        .await;
    assert_eq!(odd.json()["field"], "grace", "{}", odd.body);

    // With no grace the old pair stops at once.
    let third = ann
        .call(
            "credentials/rotate",
            &[("access_key_id", new_id.as_str()), ("grace", "now")],
        )
        .await;
    assert_eq!(third.status, StatusCode::OK, "{}", third.body);
    // Retired, not revoked: it was replaced, and says so.
    let retired = row(&state.db, &new_id).await;
    assert!(retired.replaced_by.is_some() && retired.expires_at.is_some_and(|t| t <= app::services::now()));
    within_key_cache_ttl("the retirement", async || keys.authenticated(&new_id).await.is_err()).await;
    let refused = keys.authenticated(&new_id).await.unwrap_err();
    assert!(format!("{refused:?}").contains("replaced by rotation"), "{refused:?}");
}

async fn a_short_grace_period_ends_on_its_own(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = seed::two_customers_and_an_admin(&state).await;
    let old = seed::key(&state, ann_bucket, "job", "", "read-only").await;
    let (new, _) = app::services::credentials::rotate_credential(
        &state.db,
        &state.secrets,
        &app::services::caller::Caller::Operator,
        &old.access_key_id,
        2,
        None,
    )
    .await
    .unwrap();
    let keys = KeyStore::new(state.db.clone(), state.secrets.clone());
    let ends_at = row(&state.db, &old.access_key_id)
        .await
        .expires_at
        .expect("a grace period ends");
    // The old pair works until the grace period ends and is refused from then on, from the
    // cache too: its end is checked on every request.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let refused = loop {
        match keys.authenticated(&old.access_key_id).await {
            Ok(_) => assert!(app::services::now() <= ends_at, "works after its grace period"),
            Err(refused) => {
                assert!(
                    app::services::now() >= ends_at,
                    "refused during its grace period: {refused:?}"
                );
                break refused;
            }
        }
        assert!(std::time::Instant::now() < deadline, "the grace period never ended");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(format!("{refused:?}").contains("replaced by rotation"), "{refused:?}");
    assert!(keys.authenticated(&new.access_key_id).await.is_ok());
}

async fn bulk_changes_take_every_selected_key_or_none(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, bob_bucket) = seed::two_customers_and_an_admin(&state).await;
    let a = seed::key(&state, ann_bucket, "a", "", "read-only").await.access_key_id;
    let b = seed::key(&state, ann_bucket, "b", "", "read-only").await.access_key_id;
    let c = seed::key(&state, ann_bucket, "c", "", "read-only").await.access_key_id;
    let bobs = seed::key(&state, bob_bucket, "bobs", "", "read-only")
        .await
        .access_key_id;
    let mut ann = signed_in(&state, "ann@example.com").await;

    // One key that is not hers: nothing changes.
    let refused = ann
        .call(
            "credentials/bulk",
            &[("change", "revoke"), ("keys[]", &a), ("keys[]", &bobs)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    assert_eq!(row(&state.db, &a).await.status, KeyStatus::Active);
    let none = ann.call("credentials/bulk", &[("change", "pause")]).await;
    assert_eq!(none.json()["field"], "keys", "{}", none.body);
    let odd = ann
        .call("credentials/bulk", &[("change", "delete"), ("keys[]", &a)])
        .await;
    assert_eq!(odd.json()["field"], "change", "{}", odd.body);

    let paused = ann
        .call(
            "credentials/bulk",
            &[("change", "pause"), ("keys[]", &a), ("keys[]", &b)],
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(paused.json(), serde_json::json!(2));
    assert_eq!(row(&state.db, &a).await.status, KeyStatus::Paused);
    assert_eq!(row(&state.db, &c).await.status, KeyStatus::Active);

    let revoked = ann
        .call(
            "credentials/bulk",
            &[("change", "revoke"), ("keys[]", &a), ("keys[]", &b), ("keys[]", &c)],
        )
        .await;
    assert_eq!(revoked.json(), serde_json::json!(3), "{}", revoked.body);
    for key in [&a, &b, &c] {
        assert_eq!(row(&state.db, key).await.status, KeyStatus::Revoked);
    }
    // Already revoked: nothing more to do, and never resumed by a pause.
    let again = ann
        .call("credentials/bulk", &[("change", "pause"), ("keys[]", &a)])
        .await;
    assert_eq!(again.json(), serde_json::json!(0));
    assert_eq!(row(&state.db, &a).await.status, KeyStatus::Revoked);
    assert_eq!(row(&state.db, &bobs).await.status, KeyStatus::Active);
}

fn borrowed<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn admins_set_the_lifetime_limit_in_the_panel(db: DatabaseConnection) {
    let mut state = state(db);
    // The environment's limit holds until an admin sets one.
    state.max_key_lifetime_days = Some(30);
    let (ann_bucket, _) = seed::two_customers_and_an_admin(&state).await;
    let bucket = ann_bucket.to_string();
    let mut ann = signed_in(&state, "ann@example.com").await;
    let mut root = signed_in(&state, "root@example.com").await;
    let create = |name: &'static str, expires: &'static str| {
        [
            ("name", name.to_string()),
            ("bucket_id", bucket.clone()),
            ("actions[]", "s3:GetObject".to_string()),
            ("expires", expires.to_string()),
        ]
    };
    let shown = root.call("settings", &[]).await.json();
    assert_eq!(
        shown,
        serde_json::json!({ "max_key_lifetime_days": 30, "set_in_panel": false })
    );

    let refused = ann.call("settings/update", &[("max_key_lifetime_days", "")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let bad = root.call("settings/update", &[("max_key_lifetime_days", "0")]).await;
    assert_eq!(bad.json()["field"], "max_key_lifetime_days", "{}", bad.body);
    let set = root.call("settings/update", &[("max_key_lifetime_days", "7")]).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);

    let form = create("month", "30");
    let month = ann.call("credentials/create", &borrowed(&form)).await;
    assert_eq!(month.json()["field"], "expires", "{}", month.body);
    let form = create("week", "7");
    assert_eq!(
        ann.call("credentials/create", &borrowed(&form)).await.status,
        StatusCode::OK
    );

    // No limit: an admin may lift the environment's.
    assert_eq!(
        root.call("settings/update", &[("max_key_lifetime_days", "")])
            .await
            .status,
        StatusCode::OK
    );
    let form = create("forever", "never");
    let forever = ann.call("credentials/create", &borrowed(&form)).await;
    assert_eq!(forever.status, StatusCode::OK, "{}", forever.body);
    assert!(
        audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("setting.change"))
            .one(&state.db)
            .await
            .unwrap()
            .is_some()
    );
}

/// An edit keeps a field it leaves out and clears one it sends empty (the whole bucket,
/// anywhere): the edit form sends every field, and an emptied Networks field must widen
/// the key as asked, not be read as "keep".
async fn an_edit_clears_a_field_sent_empty(db: DatabaseConnection) {
    let state = state(db);
    let (bucket, _) = seed::customer_with_bucket(&state, "ann@example.com", "ann-bucket").await;
    let input = app::services::credentials::CreateCredential {
        bucket_id: bucket.id,
        name: "narrow",
        path: "photos/",
        actions: "read-only",
        expires_at: None,
        networks: "10.0.0.0/8",
    };
    let (view, _) = app::services::credentials::create_credential(
        &state.db,
        &state.secrets,
        &app::services::caller::Caller::Operator,
        input,
    )
    .await
    .unwrap();
    let id = view.access_key_id.as_str();
    let mut ann = signed_in(&state, "ann@example.com").await;
    let kept = ann
        .call("credentials/update", &[("access_key_id", id), ("name", "renamed")])
        .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    let after = row(&state.db, id).await;
    assert_eq!(
        (after.path.as_deref(), after.networks.as_deref()),
        (Some("photos/"), Some("10.0.0.0/8"))
    );
    let cleared = ann
        .call(
            "credentials/update",
            &[("access_key_id", id), ("path", ""), ("networks", "")],
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    let after = row(&state.db, id).await;
    assert_eq!((after.path, after.networks), (None, None));
}

on_both_databases!(
    an_edit_clears_a_field_sent_empty,
    admins_set_the_lifetime_limit_in_the_panel,
    an_edit_is_previewed_then_saved,
    the_lifetime_cap_holds_on_edits,
    rotation_keeps_the_old_pair_for_the_grace_period,
    a_short_grace_period_ends_on_its_own,
    bulk_changes_take_every_selected_key_or_none,
);
