//! What the HTTP API reads from a request body, over the real router on SQLite and
//! PostgreSQL: yes/no fields parse strictly, a value of the wrong JSON type is refused by
//! its field (never read as "none", which would widen a key), and a body the API cannot
//! read is refused rather than taken for no fields. Each refusal changes nothing.

mod common;

use app::services::AppState;
use app::services::entities::credential;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::seed::{self, PASSWORD};
use common::{Client, router, state};
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use serde_json::{Value, json};

async fn signed_in(state: &AppState, email: &str) -> Client {
    let mut client = Client::new(router(state.clone()));
    let reply = client.call("login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    client
}

/// Every credential row, in id order: what a refused call must leave as it was.
async fn all_keys(state: &AppState) -> Vec<credential::Model> {
    credential::Entity::find()
        .order_by_asc(credential::Column::Id)
        .all(&state.db)
        .await
        .unwrap()
}

async fn key_row(state: &AppState, access_key_id: &str) -> credential::Model {
    credential::Entity::find()
        .filter(credential::Column::AccessKeyId.eq(access_key_id))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap()
}

/// A refusal with status 400 that names `field`.
#[track_caller]
fn assert_refused(reply: &common::Reply, field: &str, what: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}: {}", reply.body);
    assert_eq!(reply.json()["field"], field, "{what}: {}", reply.body);
}

/// A body of the given type (or none), as a script might send it.
async fn post_raw(client: &mut Client, function: &str, content_type: Option<&str>, body: &str) -> common::Reply {
    let mut request = Request::post(format!("/api/{function}"))
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, common::ORIGIN);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    client.send(request.body(Body::from(body.to_string())).unwrap()).await
}

/// `all_actions: false` once gave a key every action: any value counted as "yes".
async fn yes_no_fields_parse_strictly(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = seed::two_customers_and_an_admin(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let create = |name: &str, all_actions: Value| {
        json!({"name": name, "bucket_id": ann_bucket, "actions": ["s3:GetObject"], "all_actions": all_actions})
            .to_string()
    };

    for (i, no) in [json!(false), json!("false")].into_iter().enumerate() {
        let reply = ann
            .call_json("credentials/create", &create(&format!("no {i}"), no.clone()))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{no}: {}", reply.body);
        assert_eq!(reply.json()["actions"], json!(["s3:GetObject"]), "{no}");
    }
    let before = all_keys(&state).await;
    for bad in [
        json!("off"),
        json!(0),
        json!(1),
        json!("0"),
        json!("1"),
        json!(""),
        json!("no"),
        json!("TRUE"),
        json!(["on"]),
    ] {
        let reply = ann
            .call_json("credentials/create", &create("refused", bad.clone()))
            .await;
        assert_refused(&reply, "all_actions", &bad.to_string());
    }
    // The same from a plain form.
    for bad in ["off", "", "0"] {
        let reply = ann
            .call(
                "credentials/create",
                &[
                    ("name", "refused"),
                    ("bucket_id", &ann_bucket.to_string()),
                    ("actions[]", "s3:GetObject"),
                    ("all_actions", bad),
                ],
            )
            .await;
        assert_refused(&reply, "all_actions", bad);
    }
    assert_eq!(all_keys(&state).await, before, "a refused create made a key");

    let every = app::catalog::Preset::All.actions().len();
    for (i, yes) in [json!(true), json!("true"), json!("on")].into_iter().enumerate() {
        let reply = ann
            .call_json("credentials/create", &create(&format!("yes {i}"), yes.clone()))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{yes}: {}", reply.body);
        assert_eq!(reply.json()["actions"].as_array().unwrap().len(), every, "{yes}");
    }

    // `edit_actions` on an edit and its preview.
    let reader = seed::read_only_key(&state, ann_bucket, "reader", "")
        .await
        .access_key_id;
    let before = all_keys(&state).await;
    for function in ["credentials/update/preview", "credentials/update"] {
        for bad in [json!("off"), json!(0), json!("")] {
            let body = json!({"access_key_id": reader, "edit_actions": bad}).to_string();
            assert_refused(
                &ann.call_json(function, &body).await,
                "edit_actions",
                &format!("{function} {bad}"),
            );
        }
        let reply = ann
            .call(function, &[("access_key_id", &reader), ("edit_actions", "no")])
            .await;
        assert_refused(&reply, "edit_actions", function);
    }
    assert_eq!(all_keys(&state).await, before, "a refused edit changed a key");
    // `false` keeps the actions; `true` with none is the "choose an action" error.
    let kept = ann
        .call_json(
            "credentials/update",
            &json!({"access_key_id": reader, "edit_actions": false, "name": "still reading"}).to_string(),
        )
        .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    assert_eq!(key_row(&state, &reader).await.actions, before.last().unwrap().actions);
    let none = ann
        .call_json(
            "credentials/update",
            &json!({"access_key_id": reader, "edit_actions": true}).to_string(),
        )
        .await;
    assert_refused(&none, "actions", "edit_actions with no actions");
}

/// `"path": []` once made a whole-bucket key and `"networks": []` one usable from
/// anywhere: a value the API could not read counted as no value.
async fn wrong_json_types_are_refused_by_field(db: DatabaseConnection) {
    let state = state(db);
    let (ann_bucket, _) = seed::two_customers_and_an_admin(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let base = json!({"name": "typed", "bucket_id": ann_bucket, "path": "photos/", "actions": ["s3:GetObject"], "networks": "10.0.0.0/8"});
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body.to_string()
    };
    let before = all_keys(&state).await;
    for (field, value) in [
        ("path", json!([])),
        ("path", json!(null)),
        ("path", json!(["photos/"])),
        ("path", json!({})),
        ("path", json!(true)),
        ("networks", json!([])),
        ("networks", json!(null)),
        ("networks", json!(["10.0.0.0/8"])),
        ("networks", json!(false)),
        ("name", json!(null)),
        ("name", json!(["typed"])),
        ("bucket_id", json!([ann_bucket])),
        ("bucket_id", json!(null)),
        ("expires", json!([])),
        ("actions", json!("s3:GetObject")),
        ("actions", json!([["s3:GetObject"]])),
        ("actions", json!([null])),
        ("actions", json!([1])),
        ("actions", json!(null)),
        ("actions", json!({"0": "s3:GetObject"})),
    ] {
        let reply = ann.call_json("credentials/create", &with(field, value.clone())).await;
        assert_refused(&reply, field, &format!("create {field}: {value}"));
    }
    // A field given twice: readers disagree on which one counts, so neither does.
    for body in [
        r#"{"name": "twice", "bucket_id": BUCKET, "actions": ["s3:GetObject"], "path": "photos/", "path": ""}"#,
        r#"{"name": "twice", "bucket_id": BUCKET, "actions": ["s3:GetObject"], "all_actions": false, "all_actions": true}"#,
    ] {
        let reply = ann
            .call_json("credentials/create", &body.replace("BUCKET", &ann_bucket.to_string()))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(reply.body.contains("given twice"), "{}", reply.body);
    }
    assert_eq!(all_keys(&state).await, before, "a refused create made a key");

    // Leaving a field out, or the empty string, says "none" on purpose.
    let mut open = base.clone();
    open["name"] = json!("open");
    open.as_object_mut().unwrap().remove("path");
    open["networks"] = json!("");
    let made = ann.call_json("credentials/create", &open.to_string()).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert_eq!(made.json()["path"], Value::Null);
    assert_eq!(made.json()["networks"], json!([]));
    let made = ann.call_json("credentials/create", &base.to_string()).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let key = made.json()["access_key_id"].as_str().unwrap().to_string();

    // Edits and their preview: a wrong type never clears a path or the networks.
    let before = all_keys(&state).await;
    for function in ["credentials/update/preview", "credentials/update"] {
        for (field, value) in [
            ("path", json!([])),
            ("path", json!(null)),
            ("networks", json!([])),
            ("networks", json!(null)),
            ("name", json!({})),
            ("expires", json!(null)),
            ("actions", json!("s3:PutObject")),
            ("access_key_id", json!([key])),
        ] {
            let mut body = json!({"access_key_id": key});
            body[field] = value.clone();
            let reply = ann.call_json(function, &body.to_string()).await;
            assert_refused(&reply, field, &format!("{function} {field}: {value}"));
        }
    }
    assert_eq!(all_keys(&state).await, before, "a refused edit changed a key");
    let row = key_row(&state, &key).await;
    assert_eq!(row.path.as_deref(), Some("photos/"));
    assert_eq!(row.networks.as_deref(), Some("10.0.0.0/8"));

    // Bulk changes: the keys are a list of strings, the change one word.
    for (field, body) in [
        ("keys", json!({"change": "revoke", "keys": key})),
        ("keys", json!({"change": "revoke", "keys": [key, null]})),
        ("keys", json!({"change": "revoke", "keys": [[key]]})),
        ("keys", json!({"change": "revoke", "keys": null})),
        ("change", json!({"change": ["revoke"], "keys": [key]})),
        ("change", json!({"change": null, "keys": [key]})),
    ] {
        let reply = ann.call_json("credentials/bulk", &body.to_string()).await;
        assert_refused(&reply, field, &body.to_string());
    }
    assert_eq!(all_keys(&state).await, before, "a refused bulk change changed a key");
    let paused = ann
        .call_json(
            "credentials/bulk",
            &json!({"change": "pause", "keys": [key]}).to_string(),
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
}

/// The key lifetime limit as the settings say it.
async fn limit(client: &mut Client) -> Value {
    client.call("settings", &[]).await.json()["max_key_lifetime_days"].clone()
}

/// The settings update once read a body it could not parse as no fields, and no field as
/// "no limit": a text/plain or multipart body, JSON without its type, `{}` or `null`
/// all lifted the key lifetime limit.
async fn unreadable_bodies_leave_the_lifetime_limit(db: DatabaseConnection) {
    let state = state(db);
    seed::two_customers_and_an_admin(&state).await;
    let mut root = signed_in(&state, "root@example.com").await;
    let set = root.call("settings/update", &[("max_key_lifetime_days", "30")]).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(limit(&mut root).await, 30);

    let multipart = "--b\r\nContent-Disposition: form-data; name=\"max_key_lifetime_days\"\r\n\r\n\r\n--b--\r\n";
    for (content_type, body, status) in [
        (
            Some("text/plain"),
            "max_key_lifetime_days=",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (Some("text/plain"), "", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (
            Some("multipart/form-data; boundary=b"),
            multipart,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            None,
            r#"{"max_key_lifetime_days": ""}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (None, "max_key_lifetime_days=", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (
            Some("application/x-www-form-urlencoded"),
            r#"{"max_key_lifetime_days": ""}"#,
            StatusCode::BAD_REQUEST,
        ),
        (Some("application/json"), "{}", StatusCode::BAD_REQUEST),
        (Some("application/json"), "null", StatusCode::BAD_REQUEST),
        (Some("application/json"), "", StatusCode::BAD_REQUEST),
        (
            Some("application/json"),
            r#"{"max_key_lifetime_days": null}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            Some("application/json"),
            r#"{"max_key_lifetime_days": []}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            Some("application/json"),
            r#"{"max_key_lifetime_days": "never"}"#,
            StatusCode::BAD_REQUEST,
        ),
        (Some("application/x-www-form-urlencoded"), "", StatusCode::BAD_REQUEST),
        (None, "", StatusCode::BAD_REQUEST),
    ] {
        let what = format!("{content_type:?} {body:?}");
        let reply = post_raw(&mut root, "settings/update", content_type, body).await;
        assert_eq!(reply.status, status, "{what}: {}", reply.body);
        assert!(reply.json()["error"].is_string(), "{what}: {}", reply.body);
        assert!(
            reply.json()["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}"
        );
        assert_eq!(limit(&mut root).await, 30, "{what} changed the limit");
    }
    let missing = post_raw(&mut root, "settings/update", Some("application/json"), "{}").await;
    assert_eq!(missing.json()["field"], "max_key_lifetime_days", "{}", missing.body);
    let unsupported = post_raw(&mut root, "settings/update", Some("text/plain"), "").await;
    assert_eq!(unsupported.json()["field"], "content_type", "{}", unsupported.body);

    // Other endpoints refuse such bodies the same way, and make nothing.
    let before = all_keys(&state).await;
    let mut ann = signed_in(&state, "ann@example.com").await;
    let reply = post_raw(
        &mut ann,
        "credentials/create",
        Some("text/plain"),
        "name=k&bucket_id=1&actions[]=s3:GetObject",
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", reply.body);
    assert_eq!(all_keys(&state).await, before);

    // Lifting the limit is said outright: the empty value.
    let lifted = root
        .call_json("settings/update", r#"{"max_key_lifetime_days": ""}"#)
        .await;
    assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.body);
    assert_eq!(limit(&mut root).await, Value::Null);
    let number = root
        .call_json("settings/update", r#"{"max_key_lifetime_days": 7}"#)
        .await;
    assert_eq!(number.status, StatusCode::OK, "{}", number.body);
    assert_eq!(limit(&mut root).await, 7);

    // The Settings page's plain form (no JavaScript) still saves, and its empty field
    // still lifts the limit.
    for (value, expected) in [("14", json!(14)), ("", Value::Null)] {
        let request = Request::post("/api/settings/update")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::ORIGIN, common::ORIGIN)
            .header(header::REFERER, "http://panel.test/settings")
            .body(Body::from(format!("max_key_lifetime_days={value}")))
            .unwrap();
        let saved = root.send(request).await;
        assert_eq!(saved.status, StatusCode::FOUND, "{}", saved.body);
        assert_eq!(saved.headers["location"], "/settings?saved=1");
        assert_eq!(limit(&mut root).await, expected);
    }
}

on_both_databases!(
    yes_no_fields_parse_strictly,
    wrong_json_types_are_refused_by_field,
    unreadable_bodies_leave_the_lifetime_limit,
);
