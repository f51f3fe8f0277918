//! The Credentials page's server functions over HTTP against a real database: create,
//! list, search, page, reveal, revoke, delete, rotate; ownership whatever ids are sent;
//! throttled reveals; audit rows.

mod common;

use app::domain::KeyStatus;
use app::services::caller::Caller;
use app::services::entities::{audit_event, credential};
use app::services::{AppState, regions};
use axum::http::StatusCode;
use common::{Client, router, state};
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use serde_json::Value;

use common::seed::{self, PASSWORD};

/// Ann and Bob with a bucket each (ids returned), and an admin.
async fn setup(state: &AppState) -> (i32, i32) {
    seed::two_customers_and_an_admin(state).await
}

async fn signed_in(state: &AppState, email: &str) -> Client {
    let mut client = Client::new(router(state.clone()));
    let reply = client.call("login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    client
}

async fn create(client: &mut Client, bucket_id: i32, name: &str, path: &str, actions: &[&str]) -> common::Reply {
    let bucket = bucket_id.to_string();
    let mut form = vec![("name", name), ("bucket_id", bucket.as_str()), ("path", path)];
    form.extend(actions.iter().map(|a| ("actions[]", *a)));
    client.call("credentials/create", &form).await
}

async fn count_keys(state: &AppState) -> u64 {
    credential::Entity::find().count(&state.db).await.unwrap()
}

async fn create_list_reveal_revoke_delete(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;

    let created = create(
        &mut ann,
        ann_bucket,
        "Website uploads",
        "photos//2024",
        &["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let view = created.json();
    assert_eq!(view["path"], "photos/2024/");
    assert_eq!(view["permission_summary"], "Custom — 3 actions");
    assert!(
        !created.body.contains("secret"),
        "creation never answers with the secret"
    );
    let key_id = view["access_key_id"].as_str().unwrap().to_string();

    let all = ann
        .call(
            "credentials/create",
            &[
                ("name", "Everything"),
                ("bucket_id", &ann_bucket.to_string()),
                ("all_actions", "on"),
            ],
        )
        .await;
    assert_eq!(all.json()["permission_summary"], "All S3 Actions");

    let page = ann.call("credentials", &[]).await.json();
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"][0]["name"], "Everything", "newest first");

    let detail = ann
        .call("credentials/detail", &[("access_key_id", &key_id)])
        .await
        .json();
    assert_eq!(detail["endpoint_url"], "https://s3.eu-west-1.example.com");
    assert_eq!(detail["credential"]["actions"].as_array().unwrap().len(), 3);

    let wrong = ann
        .call(
            "credentials/reveal",
            &[("access_key_id", &key_id), ("password", "not my password")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json()["field"], "password");
    let right = ann
        .call(
            "credentials/reveal",
            &[("access_key_id", &key_id), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);
    assert_eq!(right.headers["cache-control"], "no-store");
    let secret: String = serde_json::from_str(&right.body).unwrap();
    let row = credential::Entity::find()
        .filter(credential::Column::AccessKeyId.eq(&key_id))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.secrets.open(&key_id, &row.secret_ciphertext).unwrap(), secret);

    let revoked = ann.call("credentials/revoke", &[("access_key_id", &key_id)]).await;
    assert_eq!(revoked.json()["status"], "revoked");
    let page = ann.call("credentials", &[]).await.json();
    assert_eq!(page["total"], 2, "a revoked credential stays listed");

    let deleted = ann.call("credentials/delete", &[("access_key_id", &key_id)]).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(ann.call("credentials", &[]).await.json()["total"], 1);

    let events = audit_event::Entity::find().all(&state.db).await.unwrap();
    for action in [
        "credential.create",
        "credential.reveal",
        "credential.reveal_refused",
        "credential.revoke",
        "credential.delete",
    ] {
        let event = events
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("no {action} audit row"));
        assert_eq!(event.client_addr.as_deref(), Some("203.0.113.7"));
    }
    assert!(
        events
            .iter()
            .all(|e| !e.details.contains(&secret) && !e.target.contains(&secret)),
        "a secret reached the audit log"
    );
}

async fn bad_input_is_refused_field_by_field(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, bob_bucket) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let before = count_keys(&state).await;
    for (bucket, name, path, actions, field) in [
        (ann_bucket, "", "", vec!["s3:GetObject"], "name"),
        (ann_bucket, "x", "/abs", vec!["s3:GetObject"], "path"),
        (ann_bucket, "x", "a/../b", vec!["s3:GetObject"], "path"),
        (ann_bucket, "x", "", vec![], "actions"),
        (ann_bucket, "x", "", vec!["s3:Teleport"], "actions"),
        (bob_bucket, "x", "", vec!["s3:GetObject"], "bucket"),
        (9999, "x", "", vec!["s3:GetObject"], "bucket"),
    ] {
        let reply = create(&mut ann, bucket, name, path, &actions).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{name:?} {path:?} {actions:?}: {}",
            reply.body
        );
        assert_eq!(reply.json()["field"], field, "{}", reply.body);
    }
    // Bytes that are not UTF-8 (`%FF%FE`) and a right-to-left override in a name.
    for raw_name in ["%FF%FEbackup", "invoice%E2%80%AEfdp.exe"] {
        let body = format!("name={raw_name}&bucket_id={ann_bucket}&actions[]=s3:GetObject");
        let request = axum::http::Request::post("/api/credentials/create")
            .header(axum::http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(axum::http::header::ACCEPT, "application/json")
            .header(axum::http::header::ORIGIN, common::ORIGIN)
            .body(axum::body::Body::from(body))
            .unwrap();
        let reply = ann.send(request).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{raw_name}: {}", reply.body);
        assert_eq!(reply.json()["field"], "name", "{}", reply.body);
    }
    create(&mut ann, ann_bucket, "twice", "", &["s3:GetObject"]).await;
    let dup = create(&mut ann, ann_bucket, "twice", "", &["s3:GetObject"]).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.json()["field"], "name");
    assert_eq!(
        count_keys(&state).await,
        before + 1,
        "only the one good credential was written"
    );
}

async fn another_customers_keys_are_out_of_reach(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, bob_bucket) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let key_id = create(&mut ann, ann_bucket, "private", "", &["s3:GetObject"])
        .await
        .json()["access_key_id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut bob = signed_in(&state, "bob@example.com").await;
    for (function, extra) in [
        ("credentials/detail", None),
        ("credentials/reveal", Some(("password", PASSWORD))),
        ("credentials/revoke", None),
        ("credentials/delete", None),
        ("credentials/simulate", Some(("operation", "GetObject"))),
        ("credentials/pause", None),
        ("credentials/resume", None),
    ] {
        let mut form = vec![("access_key_id", key_id.as_str())];
        form.extend(extra);
        let reply = bob.call(function, &form).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{function}: {}", reply.body);
    }
    assert_eq!(
        bob.call("credentials", &[("owner", "ann@example.com")]).await.json()["total"],
        0,
        "a customer cannot filter by owner"
    );
    let rotate = bob
        .call("buckets/rotate", &[("bucket_id", &ann_bucket.to_string())])
        .await;
    assert_eq!(rotate.status, StatusCode::NOT_FOUND);
    let row = credential::Entity::find()
        .filter(credential::Column::AccessKeyId.eq(&key_id))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, KeyStatus::Active);

    // The admin sees and revokes anyone's key, filters by owner and bucket, but never reads a secret.
    let mut root = signed_in(&state, "root@example.com").await;
    create(&mut bob, bob_bucket, "bob's", "", &["s3:GetObject"]).await;
    assert_eq!(root.call("credentials", &[]).await.json()["total"], 2);
    assert_eq!(
        root.call("credentials", &[("owner", "bob@example.com")]).await.json()["total"],
        1
    );
    assert_eq!(
        root.call("credentials", &[("bucket_id", &ann_bucket.to_string())])
            .await
            .json()["items"][0]["name"],
        "private"
    );
    // An admin sees every key, so is told plainly why the secret stays hidden.
    assert_eq!(
        root.call(
            "credentials/reveal",
            &[("access_key_id", &key_id), ("password", PASSWORD)]
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        root.call("credentials/revoke", &[("access_key_id", &key_id)])
            .await
            .json()["status"],
        "revoked"
    );
}

async fn wrong_passwords_lock_reveals(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let key_id = create(&mut ann, ann_bucket, "k", "", &["s3:GetObject"]).await.json()["access_key_id"]
        .as_str()
        .unwrap()
        .to_string();
    for attempt in 1..=5 {
        let reply = ann
            .call(
                "credentials/reveal",
                &[("access_key_id", &key_id), ("password", "guess guess guess")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        // The fourth wrong password warns that the next one locks reveals.
        assert_eq!(
            reply
                .body
                .contains("One more wrong password locks reveals for 15 minutes."),
            attempt == 4,
            "attempt {attempt}: {}",
            reply.body
        );
    }
    let locked = ann
        .call(
            "credentials/reveal",
            &[("access_key_id", &key_id), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.json()["retry_after_secs"].as_u64().unwrap() > 800);
    // What the drawer shows for it.
    let shown = serde_json::from_str::<app::error::AppError>(&locked.body)
        .unwrap()
        .to_string();
    assert_eq!(shown, "Too many failed attempts. Try again in 15 minutes.");
}

async fn search_and_pages_stay_bounded(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    for i in 0..55 {
        create(&mut ann, ann_bucket, &format!("tool {i:02}"), "", &["s3:GetObject"]).await;
    }
    create(&mut ann, ann_bucket, "100%_literal", "", &["s3:GetObject"]).await;
    let first = ann.call("credentials", &[]).await.json();
    assert_eq!(first["total"], 56);
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    let second = ann.call("credentials", &[("page", "1")]).await.json();
    assert_eq!(second["items"].as_array().unwrap().len(), 6);
    assert_eq!(second["items"][5]["name"], "tool 00", "oldest last");

    let by_name = ann.call("credentials", &[("search", "TOOL 1")]).await.json();
    assert_eq!(by_name["total"], 10);
    let literal = ann.call("credentials", &[("search", "%_")]).await.json();
    assert_eq!(literal["total"], 1, "% and _ are literal in a search: {literal}");
    assert_eq!(
        ann.call("credentials", &[("search", "ann-buck")]).await.json()["total"],
        56,
        "bucket names match"
    );
    let key_id = first["items"][0]["access_key_id"].as_str().unwrap().to_lowercase();
    assert_eq!(
        ann.call("credentials", &[("search", &key_id)]).await.json()["total"],
        1,
        "key ids match in any case"
    );
}

async fn rotating_a_master_key_replaces_it(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let before: Value = ann.call("buckets", &[]).await.json();
    let old_id = before[0]["master_access_key_id"].as_str().unwrap().to_string();
    let new_id: String = ann
        .call("buckets/rotate", &[("bucket_id", &ann_bucket.to_string())])
        .await
        .json()
        .as_str()
        .unwrap()
        .into();
    assert_ne!(old_id, new_id);
    let after = ann.call("buckets", &[]).await.json();
    assert_eq!(after[0]["master_access_key_id"], new_id.as_str());
    let old = credential::Entity::find()
        .filter(credential::Column::AccessKeyId.eq(&old_id))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.status, KeyStatus::Revoked);
    let secret = ann
        .call(
            "credentials/reveal",
            &[("access_key_id", &new_id), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        secret.status,
        StatusCode::OK,
        "the owner reveals the new master secret: {}",
        secret.body
    );
    assert_eq!(
        ann.call("credentials/delete", &[("access_key_id", &new_id)])
            .await
            .status,
        StatusCode::BAD_REQUEST,
        "master keys are rotated, not deleted"
    );
    // A confirmation sent again (back button, second tab) names the pair it replaced
    // then: it rotates nothing now.
    let stale = ann
        .call(
            "buckets/rotate",
            &[
                ("bucket_id", &ann_bucket.to_string()),
                ("master_access_key_id", &old_id),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    let current: Value = ann.call("buckets", &[]).await.json();
    assert_eq!(
        current[0]["master_access_key_id"],
        new_id.as_str(),
        "the new pair survives"
    );
    let revoke = ann.call("credentials/revoke", &[("access_key_id", &new_id)]).await;
    assert_eq!(revoke.status, StatusCode::BAD_REQUEST, "{}", revoke.body);
    assert!(revoke.body.contains("rotate it instead"), "{}", revoke.body);
    let after: Value = ann.call("buckets", &[]).await.json();
    assert_eq!(
        after[0]["master_access_key_id"],
        new_id.as_str(),
        "a refused revoke leaves the bucket its master key"
    );
}

/// Admins create buckets over the API; a name used in any region is a field error, and
/// customers may not create buckets at all.
async fn admins_create_buckets_with_unique_names(db: DatabaseConnection) {
    let state = state(db);
    setup(&state).await;
    regions::add_region(&state.db, &Caller::Operator, "tr-ist-1", "https://s3.tr.example.com")
        .await
        .unwrap();
    let mut root = signed_in(&state, "root@example.com").await;
    let made = root
        .call(
            "buckets/create",
            &[
                ("owner", "bob@example.com"),
                ("region", "tr-ist-1"),
                ("name", "bob-archive"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert_eq!(made.json()["region"], "tr-ist-1");
    assert_eq!(made.json()["master_access_key_id"].as_str().unwrap().len(), 20);
    assert!(
        !made.body.contains("secret"),
        "the owner's master secret is not the admin's: {}",
        made.body
    );
    let before = count_keys(&state).await;
    // Ann's bucket is in eu-west-1: the name is taken in tr-ist-1 too.
    let taken = root
        .call(
            "buckets/create",
            &[
                ("owner", "bob@example.com"),
                ("region", "tr-ist-1"),
                ("name", "ann-bucket"),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert_eq!(taken.json()["field"], "name");
    assert!(taken.body.contains("unique across all regions"), "{}", taken.body);
    assert_eq!(count_keys(&state).await, before, "a refused bucket left no master key");

    let mut ann = signed_in(&state, "ann@example.com").await;
    let refused = ann
        .call(
            "buckets/create",
            &[
                ("owner", "ann@example.com"),
                ("region", "tr-ist-1"),
                ("name", "ann-more"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

/// A key limited to a folder cannot be given bucket-wide settings by name.
async fn folder_keys_get_no_bucket_wide_actions(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let refused = create(
        &mut ann,
        ann_bucket,
        "public maker",
        "photos/",
        &["s3:GetObject", "s3:PutBucketPolicy"],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.json()["field"], "actions");
    assert!(refused.body.contains("s3:PutBucketPolicy"), "{}", refused.body);
    let whole = create(&mut ann, ann_bucket, "bucket admin", "", &["s3:PutBucketPolicy"]).await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.body);
    let all = ann
        .call(
            "credentials/create",
            &[
                ("name", "all in photos"),
                ("bucket_id", &ann_bucket.to_string()),
                ("path", "photos/"),
                ("all_actions", "on"),
            ],
        )
        .await;
    assert_eq!(
        all.status,
        StatusCode::OK,
        "All S3 Actions on a folder is all a folder key may do: {}",
        all.body
    );
    let stored: Vec<String> = serde_json::from_value(all.json()["actions"].clone()).unwrap();
    assert!(!stored.is_empty());
    assert!(
        stored
            .iter()
            .all(|a| !app::catalog::find(a).unwrap().category.needs_whole_bucket()),
        "stored without the bucket-wide actions: {stored:?}"
    );
    assert_eq!(all.json()["permission_summary"], "Read & Write");
}

/// A refused plain-form create goes back to the form with what was entered (never a
/// secret) and a code naming the field; a later good create starts clean.
async fn a_refused_form_comes_back_as_it_was_left(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let body =
        format!("name=Backup+tool&bucket_id={ann_bucket}&path=..%2Fup&actions[]=s3:GetObject&actions[]=s3:PutObject");
    let request = axum::http::Request::post("/api/credentials/create")
        .header(axum::http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(axum::http::header::ACCEPT, "text/html")
        .header(axum::http::header::ORIGIN, common::ORIGIN)
        .header(
            axum::http::header::REFERER,
            format!("{}/?new=1&name=old", common::ORIGIN),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    let reply = ann.send(request).await;
    assert!(reply.status.is_redirection(), "{} {}", reply.status, reply.body);
    let location = reply.headers[axum::http::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(location.starts_with("/?new=1&error=invalid.path&"), "{location}");
    for part in [
        "name=Backup%20tool",
        &format!("bucket_id={ann_bucket}"),
        "path=..%2Fup",
        "actions=s3%3AGetObject%2Cs3%3APutObject",
    ] {
        assert!(location.contains(part), "{part} missing from {location}");
    }
    assert!(
        !location.contains("name=old"),
        "the earlier draft is replaced: {location}"
    );
    assert!(!location.contains("all_actions"), "{location}");
}

/// The list sorts by name, creation and last use, filters by status, and the buckets
/// count their working keys.
async fn lists_sort_and_filter_by_status(db: DatabaseConnection) {
    use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
    let state = state(db);
    let (ann_bucket, _) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let mut ids = Vec::new();
    for name in ["beta", "Alpha", "gamma", "delta"] {
        let made = create(&mut ann, ann_bucket, name, "", &["s3:GetObject"]).await;
        ids.push(made.json()["access_key_id"].as_str().unwrap().to_string());
    }
    ann.call("credentials/revoke", &[("access_key_id", &ids[2])]).await;
    let row = |id: &str| {
        let id = id.to_string();
        let db = state.db.clone();
        async move {
            credential::Entity::find()
                .filter(credential::Column::AccessKeyId.eq(id))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let mut expired: credential::ActiveModel = row(&ids[3]).await.into();
    expired.expires_at = Set(Some(app::services::now() - 60));
    expired.update(&state.db).await.unwrap();
    for (i, used_at) in [(0, 1_000), (1, 2_000)] {
        let mut used: credential::ActiveModel = row(&ids[i]).await.into();
        used.last_used_at = Set(Some(used_at));
        used.update(&state.db).await.unwrap();
    }
    let names = |reply: common::Reply| -> Vec<String> {
        reply.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(ann.call("credentials", &[]).await),
        ["delta", "gamma", "Alpha", "beta"]
    );
    assert_eq!(
        names(ann.call("credentials", &[("sort", "name")]).await),
        ["Alpha", "beta", "delta", "gamma"]
    );
    assert_eq!(
        names(ann.call("credentials", &[("sort", "last_used")]).await),
        ["Alpha", "beta", "delta", "gamma"],
        "most recently used first, never used last (newest first among them)"
    );
    assert_eq!(
        names(ann.call("credentials", &[("status", "active")]).await),
        ["Alpha", "beta"]
    );
    assert_eq!(
        names(ann.call("credentials", &[("status", "revoked")]).await),
        ["gamma"]
    );
    assert_eq!(
        names(ann.call("credentials", &[("status", "expired")]).await),
        ["delta"]
    );
    for (field, value) in [("sort", "size"), ("status", "suspended")] {
        let refused = ann.call("credentials", &[(field, value)]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_eq!(refused.json()["field"], field);
    }
    let buckets: Value = ann.call("buckets", &[]).await.json();
    assert_eq!(buckets[0]["active_credentials"], 2, "{buckets}");
}

async fn scripts_may_send_json(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = setup(&state).await;
    let mut ann = Client::new(router(state.clone()));
    let login = ann
        .call_json(
            "login",
            &format!(r#"{{"email": "ann@example.com", "password": "{PASSWORD}"}}"#),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let body = format!(
        r#"{{"name": "from a script", "bucket_id": {ann_bucket}, "path": "logs", "actions": ["s3:GetObject", "s3:ListBucket"], "all_actions": false}}"#
    );
    let created = ann.call_json("credentials/create", &body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.json()["path"], "logs/");
    assert_eq!(created.json()["actions"].as_array().unwrap().len(), 2);
    assert_eq!(
        ann.call_json("credentials", r#"{"search": "script"}"#).await.json()["total"],
        1
    );
    assert_eq!(
        ann.call_json("credentials", "").await.json()["total"],
        1,
        "an empty body is no fields"
    );

    let before = count_keys(&state).await;
    for bad in ["[1, 2]", "{not json", r#"{"name": "x", "bucket_id": "#] {
        let reply = ann.call_json("credentials/create", bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {}", reply.body);
        assert_eq!(reply.json()["field"], "body");
    }
    assert_eq!(count_keys(&state).await, before);
}

/// The simulator's API answers every operation of the evaluator's table, inside and
/// outside the key's path, for a key that has the operation's action and one that does
/// not, exactly as the evaluator decides for the stored key.
async fn the_simulator_answers_from_the_stored_key(db: DatabaseConnection) {
    use app::policy::{self, Decision, KeyScope, Operation, Request};
    let state = state(db);
    let (ann_bucket, _) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let mut keys = Vec::new();
    for (name, actions) in [("everything", "all"), ("reader", "read-only")] {
        let reply = create(&mut ann, ann_bucket, name, "photos/", &[actions]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let id = reply.json()["access_key_id"].as_str().unwrap().to_string();
        let row = credential::Entity::find()
            .filter(credential::Column::AccessKeyId.eq(&id))
            .one(&state.db)
            .await
            .unwrap()
            .unwrap();
        keys.push((
            id,
            KeyScope::from_stored(row.kind, "ann-bucket".into(), row.path, &row.actions, None),
        ));
    }
    let mut denied_for_reader = 0;
    for (id, scope) in &keys {
        for &operation in Operation::ALL {
            for name in ["photos/a.jpg", "docs/a.txt"] {
                let reply = ann
                    .call(
                        "credentials/simulate",
                        &[("access_key_id", id), ("operation", operation.name()), ("key", name)],
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::OK, "{operation} {name}: {}", reply.body);
                let answer = reply.json();
                let single = match operation {
                    Operation::DeleteObjects => Some(Operation::DeleteObject),
                    Operation::PostObject => Some(Operation::PutObject),
                    _ => None,
                };
                let target = operation.rule().target;
                let request = Request {
                    bucket: Some("ann-bucket"),
                    key: Some(name),
                    prefix: (target == policy::Target::Listing).then_some(name),
                    ..Request::new(operation)
                };
                let mut expected = policy::evaluate(scope, &request);
                if let (Decision::Allow, Some(single)) = (&expected, single) {
                    expected = policy::evaluate_batch_key(scope, single, name, false);
                }
                assert_eq!(
                    answer["allowed"],
                    expected.is_allowed(),
                    "{id} {operation} {name}: {answer}"
                );
                match expected {
                    Decision::Allow => assert!(answer["reason"].is_null()),
                    Decision::Deny(denial) => {
                        assert_eq!(answer["reason"], denial.to_string());
                        if id == &keys[1].0 {
                            denied_for_reader += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(
        denied_for_reader > Operation::ALL.len(),
        "the reader is denied writes and everything outside photos/"
    );
    // An action is asked through its operation; a name that is neither is refused.
    let reply = ann
        .call(
            "credentials/simulate",
            &[
                ("access_key_id", &keys[1].0),
                ("operation", "s3:PutObject"),
                ("key", "photos/a"),
            ],
        )
        .await;
    assert_eq!(reply.json()["reason"], "this key does not allow s3:PutObject");
    let reply = ann
        .call(
            "credentials/simulate",
            &[
                ("access_key_id", &keys[1].0),
                ("operation", "CreateBucket"),
                ("key", ""),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.json()["field"], "operation");
    // A revoked key is refused outright, whatever its scope would allow.
    ann.call("credentials/revoke", &[("access_key_id", &keys[1].0)]).await;
    let reply = ann
        .call(
            "credentials/simulate",
            &[
                ("access_key_id", &keys[1].0),
                ("operation", "GetObject"),
                ("key", "photos/a"),
            ],
        )
        .await;
    assert_eq!(reply.json()["allowed"], false);
    assert_eq!(reply.json()["reason"], "This access key has been revoked.");
}

/// The audit log: a customer sees their own events (and an admin's change to their key),
/// never another customer's; an admin sees everyone's; the filters narrow both the page
/// and the CSV export, which never holds a secret.
async fn the_audit_log_shows_each_person_their_own(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, bob_bucket) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let mut bob = signed_in(&state, "bob@example.com").await;
    let mut root = signed_in(&state, "root@example.com").await;
    let key = |reply: common::Reply| reply.json()["access_key_id"].as_str().unwrap().to_string();
    let ann_key = key(create(&mut ann, ann_bucket, "ann key", "", &["s3:GetObject"]).await);
    let bob_key = key(create(&mut bob, bob_bucket, "bob key", "", &["s3:GetObject"]).await);
    let secret = ann
        .call(
            "credentials/reveal",
            &[("access_key_id", &ann_key), ("password", PASSWORD)],
        )
        .await
        .json();
    let secret = secret.as_str().unwrap().to_string();
    root.call("credentials/revoke", &[("access_key_id", &ann_key)]).await;

    let actions = |page: &serde_json::Value| -> Vec<String> {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{} {}", e["action"].as_str().unwrap(), e["target"].as_str().unwrap()))
            .collect()
    };
    let ann_page = ann.call("audit", &[]).await.json();
    let seen = actions(&ann_page);
    for expected in [
        format!("credential.create credential:{ann_key}"),
        format!("credential.reveal credential:{ann_key}"),
        format!("credential.revoke credential:{ann_key}"),
        "session.login user:".to_string(),
    ] {
        assert!(seen.iter().any(|s| s.starts_with(&expected)), "{expected} in {seen:?}");
    }
    assert!(!seen.iter().any(|s| s.contains(&bob_key)), "{seen:?}");
    let revoke = ann_page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "credential.revoke")
        .unwrap();
    // The admin's change says an administrator made it, not which one or from where.
    assert_eq!(revoke["actor"], serde_json::Value::Null);
    assert_eq!(revoke["client_addr"], serde_json::Value::Null);
    assert_eq!(revoke["actor_withheld"], true);

    let everyone = actions(&root.call("audit", &[]).await.json());
    assert!(everyone.iter().any(|s| s.contains(&bob_key)) && everyone.iter().any(|s| s.contains(&ann_key)));

    // Filters: action, credential, actor, days.
    let only = |page: serde_json::Value| actions(&page);
    let reveals = only(root.call("audit", &[("action", "credential.reveal")]).await.json());
    assert_eq!(reveals, [format!("credential.reveal credential:{ann_key}")]);
    let bobs = only(root.call("audit", &[("credential", &bob_key)]).await.json());
    assert_eq!(bobs, [format!("credential.create credential:{bob_key}")]);
    let by_root = only(root.call("audit", &[("actor", "root@example.com")]).await.json());
    assert!(
        by_root
            .iter()
            .all(|s| s.starts_with("session.login") || s.starts_with("credential.revoke")),
        "{by_root:?}"
    );
    let today = app::domain::format_iso8601(app::services::now())[..10].to_string();
    assert!(!only(root.call("audit", &[("from", &today), ("to", &today)]).await.json()).is_empty());
    assert!(only(root.call("audit", &[("to", "2001-01-01")]).await.json()).is_empty());
    for (field, value) in [
        ("action", "credential.explode"),
        ("from", "yesterday"),
        ("actor", "nobody@example.com"),
    ] {
        let reply = root.call("audit", &[(field, value)]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{field}: {}", reply.body);
        assert_eq!(reply.json()["field"], field);
    }
    let reply = root
        .call("audit", &[("from", "2026-11-27"), ("to", "2026-11-01")])
        .await;
    assert_eq!(reply.json()["field"], "to");
    // A customer cannot tell an unknown email from a known one with no event in view.
    for someone in ["nobody@example.com", "bob@example.com"] {
        let reply = ann.call("audit", &[("actor", someone)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{someone}: {}", reply.body);
        assert_eq!(reply.json()["total"], 0, "{someone}");
    }
    let lower = only(
        root.call("audit", &[("credential", &bob_key.to_lowercase())])
            .await
            .json(),
    );
    assert_eq!(lower, [format!("credential.create credential:{bob_key}")]);

    // The export: the same events as CSV, with the same filters; never the secret.
    let csv = ann.get("/api/audit.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[axum::http::header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(
        csv.body
            .starts_with("time_utc,actor,action,target,client_address,details\n")
    );
    assert_eq!(csv.body.lines().count() as u64, ann_page["total"].as_u64().unwrap() + 1);
    assert!(csv.body.contains(&format!("credential.reveal,credential:{ann_key}")));
    assert!(!csv.body.contains(&bob_key));
    let everything = root.get("/api/audit.csv").await.body;
    for text in [&csv.body, &everything] {
        assert!(!text.contains(&secret), "the export holds a secret");
    }
    let filtered = root.get(&format!("/api/audit.csv?credential={bob_key}")).await.body;
    assert_eq!(filtered.lines().count(), 2, "{filtered}");
    let refused = root.get("/api/audit.csv?action=nonsense").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let signed_out = Client::new(router(state.clone())).get("/api/audit.csv").await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
}

/// The export reads the log in chunks; more events than one chunk all arrive, in order.
async fn the_audit_export_streams_past_one_chunk(db: DatabaseConnection) {
    let state = state(db);
    setup(&state).await;
    let mut root = signed_in(&state, "root@example.com").await;
    for i in 0..1_203 {
        app::services::audit::record(
            &state.db,
            &app::services::audit::Actor::operator(),
            app::services::audit::AuditAction::RegionCreate,
            app::services::audit::AuditTarget::Region(&format!("r{i}")),
            serde_json::json!({}),
        )
        .await
        .unwrap();
    }
    let csv = root.get("/api/audit.csv?action=region.create").await.body;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines.len(),
        1 + 1_203 + 1,
        "the header, the events and the set-up's region"
    );
    assert!(lines[1].contains("region:r1202"), "{}", lines[1]);
    assert!(lines[1_203].contains("region:r0"), "{}", lines[1_203]);
    let page = root
        .call("audit", &[("action", "region.create"), ("page", "24")])
        .await
        .json();
    assert_eq!(page["events"].as_array().unwrap().len(), 4);
    assert_eq!(page["total"], 1_204);
}

/// A key may expire after a chosen number of days or on a day; with a lifetime cap a
/// customer must choose one within it (an admin need not).
async fn keys_expire_as_chosen_within_the_cap(db: DatabaseConnection) {
    let mut state = state(db);
    state.max_key_lifetime_days = Some(30);
    let (ann_bucket, _) = setup(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let bucket = ann_bucket.to_string();
    let mut results = Vec::new();
    for (name, expires, on) in [
        ("never", "", ""),
        ("ninety", "90", ""),
        ("bad", "soon", ""),
        ("past", "date", "2001-01-01"),
    ] {
        let reply = ann
            .call(
                "credentials/create",
                &[
                    ("name", name),
                    ("bucket_id", &bucket),
                    ("actions[]", "s3:GetObject"),
                    ("expires", expires),
                    ("expires_on", on),
                ],
            )
            .await;
        results.push((name, reply.status, reply.json()["field"].clone()));
    }
    for (name, status, field) in results {
        assert_eq!(
            (status, field),
            (StatusCode::BAD_REQUEST, serde_json::json!("expires")),
            "{name}"
        );
    }
    let before = app::services::now();
    let month = ann
        .call(
            "credentials/create",
            &[
                ("name", "month"),
                ("bucket_id", &bucket),
                ("actions[]", "s3:GetObject"),
                ("expires", "30"),
            ],
        )
        .await;
    assert_eq!(month.status, StatusCode::OK, "{}", month.body);
    let at = month.json()["expires_at"].as_i64().unwrap();
    assert!((before + 30 * 86_400..=before + 30 * 86_400 + 5).contains(&at));
    let mut root = signed_in(&state, "root@example.com").await;
    let forever = root
        .call(
            "credentials/create",
            &[
                ("name", "admin forever"),
                ("bucket_id", &bucket),
                ("actions[]", "s3:GetObject"),
            ],
        )
        .await;
    assert_eq!(forever.status, StatusCode::OK, "{}", forever.body);
    assert!(forever.json()["expires_at"].is_null());
}

on_both_databases!(
    keys_expire_as_chosen_within_the_cap,
    the_audit_log_shows_each_person_their_own,
    the_audit_export_streams_past_one_chunk,
    the_simulator_answers_from_the_stored_key,
    scripts_may_send_json,
    create_list_reveal_revoke_delete,
    bad_input_is_refused_field_by_field,
    another_customers_keys_are_out_of_reach,
    wrong_passwords_lock_reveals,
    search_and_pages_stay_bounded,
    rotating_a_master_key_replaces_it,
    admins_create_buckets_with_unique_names,
    folder_keys_get_no_bucket_wide_actions,
    lists_sort_and_filter_by_status,
    a_refused_form_comes_back_as_it_was_left,
);
