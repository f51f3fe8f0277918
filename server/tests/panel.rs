//! The panel over HTTP against a real database: sign-in, sessions, throttling, origin
//! checks, security headers, and ownership of what the server functions return.

mod common;

use app::domain::Role;
use app::services::audit::Actor;
use app::services::credentials::CreateCredential;
use app::services::entities::{audit_event, session};
use app::services::{AppState, buckets, credentials, regions, users};
use axum::http::StatusCode;
use common::{Client, router, state};
use sea_orm::{DatabaseConnection, EntityTrait as _, PaginatorTrait as _};

const PASSWORD: &str = "a long enough password";

/// Two customers with a bucket and a credential each, and an admin.
async fn two_customers(state: &AppState) {
    let op = Actor::operator();
    regions::add_region(&state.db, &op, "eu-west-1", "http://127.0.0.1:9000")
        .await
        .unwrap();
    for (who, bucket) in [("ann@example.com", "ann-bucket"), ("bob@example.com", "bob-bucket")] {
        users::create_user(&state.db, &op, who, PASSWORD, Role::Customer)
            .await
            .unwrap();
        let (b, _) = buckets::add_bucket(&state.db, &state.secrets, &op, who, "eu-west-1", bucket)
            .await
            .unwrap();
        let input = CreateCredential {
            bucket_id: b.id,
            name: &format!("{bucket} key"),
            path: "",
            actions: "read-only",
            expires_at: None,
        };
        credentials::create_credential(&state.db, &state.secrets, &op, None, input)
            .await
            .unwrap();
    }
    users::create_user(&state.db, &op, "root@example.com", PASSWORD, Role::Admin)
        .await
        .unwrap();
}

async fn sign_in(client: &mut Client, email: &str, password: &str) -> common::Reply {
    client.call("login", &[("email", email), ("password", password)]).await
}

async fn login_right_wrong_unknown(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let mut client = Client::new(router(state.clone()));

    let wrong = sign_in(&mut client, "ann@example.com", "not the password").await;
    let unknown = sign_in(&mut client, "nobody@example.com", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.body, unknown.body,
        "unknown email and wrong password must read the same"
    );
    assert_eq!(wrong.json()["error"], "bad_login");
    assert!(client.session.is_none(), "a failed login must not start a session");

    let ok = sign_in(&mut client, "ANN@example.com ", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["email"], "ann@example.com");
    let cookie = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"),
        "{cookie}"
    );
    let me = client.call("me", &[]).await;
    assert_eq!(me.json()["email"], "ann@example.com");

    let failures = audit_event::Entity::find().all(&state.db).await.unwrap();
    assert!(
        failures
            .iter()
            .any(|e| e.action == "session.login_failed" && e.client_addr.as_deref() == Some("203.0.113.7"))
    );
    assert!(failures.iter().any(|e| e.action == "session.login"));
}

async fn session_cycles_at_login_and_dies_at_logout(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let mut client = Client::new(router(state.clone()));
    sign_in(&mut client, "ann@example.com", PASSWORD).await;
    let first = client.session.clone().expect("a session cookie after login");
    sign_in(&mut client, "ann@example.com", PASSWORD).await;
    let second = client.session.clone().expect("a session cookie after the second login");
    assert_ne!(first, second, "the session id must change at login");
    let mut stale = Client::new(router(state.clone()));
    stale.session = Some(first);
    assert_eq!(
        stale.call("me", &[]).await.json(),
        serde_json::Value::Null,
        "the old id must be dead"
    );

    let out = client.call("logout", &[]).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert!(
        session::Entity::find_by_id(second.clone())
            .one(&state.db)
            .await
            .unwrap()
            .is_none(),
        "logout must delete the session row"
    );
    let mut replay = Client::new(router(state.clone()));
    replay.session = Some(second);
    assert_eq!(replay.call("me", &[]).await.json(), serde_json::Value::Null);
}

async fn failed_logins_are_throttled(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let mut client = Client::new(router(state.clone()));
    for _ in 0..5 {
        assert_eq!(
            sign_in(&mut client, "bob@example.com", "wrong password!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = sign_in(&mut client, "bob@example.com", PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits: {}",
        locked.body
    );
    assert_eq!(locked.json()["error"], "throttled");
    assert!(client.session.is_none());
    // Other accounts from this address still work until the address limit.
    assert_eq!(
        sign_in(&mut client, "ann@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    for i in 0..15 {
        sign_in(&mut client, &format!("guess{i}@example.com"), "wrong password!").await;
    }
    let by_address = sign_in(&mut client, "root@example.com", PASSWORD).await;
    assert_eq!(
        by_address.status,
        StatusCode::TOO_MANY_REQUESTS,
        "20 failures from one address lock it"
    );
}

async fn customers_see_only_their_own(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let mut nobody = Client::new(router(state.clone()));
    for function in ["buckets", "credentials"] {
        let reply = nobody.call(function, &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{function} without a session");
        assert_eq!(reply.json()["error"], "not_signed_in");
    }

    let mut ann = Client::new(router(state.clone()));
    sign_in(&mut ann, "ann@example.com", PASSWORD).await;
    let buckets = ann.call("buckets", &[]).await.json();
    let names: Vec<&str> = buckets
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ann-bucket"]);
    let creds = ann.call("credentials", &[]).await.json();
    let owners: Vec<&str> = creds["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["owner_email"].as_str().unwrap())
        .collect();
    assert_eq!(
        owners,
        ["ann@example.com"],
        "only Ann's scoped credential, no master keys"
    );
    assert!(!creds.to_string().contains("secret"), "no secret in a list");

    let mut root = Client::new(router(state.clone()));
    sign_in(&mut root, "root@example.com", PASSWORD).await;
    assert_eq!(root.call("buckets", &[]).await.json().as_array().unwrap().len(), 2);
    assert_eq!(root.call("credentials", &[]).await.json()["total"], 2);
}

async fn cross_origin_writes_are_refused(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let mut client = Client::new(router(state.clone()));
    let forged = client
        .call_from(
            "login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
            Some("http://evil.test"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(forged.json()["error"], "cross_origin");
    assert!(client.session.is_none());
    let before = audit_event::Entity::find().count(&state.db).await.unwrap();
    assert_eq!(before, audit_event::Entity::find().count(&state.db).await.unwrap());
    let scripted = client
        .call_from("login", &[("email", "ann@example.com"), ("password", PASSWORD)], None)
        .await;
    assert_eq!(
        scripted.status,
        StatusCode::OK,
        "scripts send no Origin and are not a browser"
    );
}

async fn pages_send_security_headers_and_guard_the_panel(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let mut client = Client::new(router(state.clone()));
    let login = client.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    let csp = login.headers["content-security-policy"].to_str().unwrap().to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a nonce in the CSP");
    assert!(
        login.body.contains(&format!("nonce=\"{nonce}\"")),
        "hydration scripts carry the nonce"
    );
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(login.headers["x-content-type-options"], "nosniff");
    assert_eq!(login.headers["referrer-policy"], "same-origin");

    let panel = client.get("/").await;
    assert_eq!(panel.status, StatusCode::FOUND, "the panel redirects without a session");
    assert_eq!(panel.headers["location"], "/login");

    sign_in(&mut client, "ann@example.com", PASSWORD).await;
    let panel = client.get("/").await;
    assert_eq!(panel.status, StatusCode::OK);
    assert!(panel.body.contains("ann@example.com") && panel.body.contains("ann-bucket key"));
    assert!(
        !panel.body.contains("bob-bucket"),
        "another customer's data leaked into the page"
    );
    let api = client.call("me", &[]).await;
    assert_eq!(api.headers["cache-control"], "no-store");
}

on_both_databases!(
    login_right_wrong_unknown,
    session_cycles_at_login_and_dies_at_logout,
    failed_logins_are_throttled,
    customers_see_only_their_own,
    cross_origin_writes_are_refused,
    pages_send_security_headers_and_guard_the_panel,
);
