//! The panel over HTTP against a real database: sign-in, sessions, throttling, origin
//! checks, security headers, and ownership of what the server functions return.

mod common;

use app::domain::Role;
use app::error::AppError;
use app::services::caller::Caller;
use app::services::entities::{audit_event, credential, session};
use app::services::throttle::{
    LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS, REVEAL_FAILURES_PER_USER,
};
use app::services::users::MAX_EMAIL_LEN;
use app::services::{AppState, credentials, users};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Client, router, state};
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};

use common::seed::{self, PASSWORD};

/// Two customers with a bucket and a read-only credential each, and an admin.
async fn two_customers(state: &AppState) {
    let (ann, bob) = seed::two_customers_and_an_admin(state).await;
    seed::read_only_key(state, ann, "ann-bucket key", "").await;
    seed::read_only_key(state, bob, "bob-bucket key", "").await;
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
    let stored = app::sessions::stored_id(&second.parse().expect("a session id"));
    assert!(
        session::Entity::find_by_id(stored)
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

async fn the_sessions_table_holds_no_cookie(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let mut client = Client::new(router(state.clone()));
    sign_in(&mut client, "ann@example.com", PASSWORD).await;
    let cookie = client.session.clone().expect("a session cookie after login");
    let rows = session::Entity::find().all(&state.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    for row in &rows {
        assert!(
            !row.id.contains(&cookie) && !row.data.contains(&cookie),
            "the cookie value is in the sessions table: {row:?}"
        );
    }
    // The id as tower-sessions writes it into the data, in case the cookie is encoded.
    let id: tower_sessions::session::Id = cookie.parse().unwrap();
    assert!(!rows[0].data.contains(&id.0.to_string()), "{:?}", rows[0]);
    assert_eq!(
        client.call("me", &[]).await.json()["email"],
        "ann@example.com",
        "the session still works"
    );
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
    let retry_after: u64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&retry_after), "Retry-After: {retry_after}");
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

/// Runs the futures together, polling them in the order given (as parallel requests
/// arrive), and returns their outputs in that order.
async fn join_in_order<T>(futures: Vec<std::pin::Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<T> {
    let mut pending: Vec<_> = futures.into_iter().map(Some).collect();
    let mut done: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(future) = slot
                && let std::task::Poll::Ready(value) = future.as_mut().poll(cx)
            {
                *out = Some(value);
                *slot = None;
            }
        }
        if pending.iter().all(Option::is_none) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    done.into_iter().map(|d| d.expect("every future finished")).collect()
}

async fn count_audit(state: &AppState, action: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .count(&state.db)
        .await
        .unwrap()
}

async fn a_burst_of_guesses_gets_no_more_checks_than_the_limit(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    // 20 sign-ins at once, the right password among those past the limit.
    let right_one = 15;
    let attempts = (0..20)
        .map(|i| {
            let password = if i == right_one { PASSWORD } else { "wrong password!" };
            let state = &state;
            Box::pin(async move { users::authenticate(state, "bob@example.com", password, "198.51.100.1").await })
                as std::pin::Pin<Box<dyn Future<Output = _>>>
        })
        .collect();
    let results = join_in_order(attempts).await;
    let checked = count_audit(&state, "session.login_failed").await;
    assert!(
        checked <= LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS as u64,
        "{checked} passwords were checked in the burst"
    );
    assert!(
        matches!(results[right_one], Err(AppError::Throttled { .. })),
        "the right password past the limit got {:?}",
        results[right_one]
    );
    assert_eq!(
        results.iter().filter(|r| matches!(r, Err(AppError::BadLogin))).count() as u64,
        checked
    );

    // The same for reveals: a burst of wrong passwords, the right one past the limit.
    let ann = users::find_by_email(&state.db, "ann@example.com")
        .await
        .unwrap()
        .unwrap();
    let viewer = users::signed_in_user(&state.db, ann.id).await.unwrap().unwrap();
    let key = credential::Entity::find()
        .filter(credential::Column::Name.eq("ann-bucket key"))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap()
        .access_key_id;
    let right_one = 8;
    let reveals = (0..12)
        .map(|i| {
            let password = if i == right_one { PASSWORD } else { "wrong password!" };
            let (state, viewer, key) = (&state, &viewer, &key);
            Box::pin(async move { credentials::reveal_secret(state, viewer, "198.51.100.1", key, password).await })
                as std::pin::Pin<Box<dyn Future<Output = _>>>
        })
        .collect();
    let results = join_in_order(reveals).await;
    let checked = count_audit(&state, "credential.reveal_refused").await;
    assert!(
        checked <= REVEAL_FAILURES_PER_USER as u64,
        "{checked} reveal passwords were checked in the burst"
    );
    assert!(
        matches!(results[right_one], Err(AppError::Throttled { .. })),
        "the right password past the limit revealed: {:?}",
        results[right_one].as_ref().map(|_| "the secret")
    );
}

async fn sign_in_forwarded_for(client: &mut Client, email: &str, password: &str, forwarded_for: &str) -> common::Reply {
    let body = format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    );
    let request = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, common::ORIGIN)
        .header("x-forwarded-for", forwarded_for)
        .body(Body::from(body))
        .unwrap();
    client.send(request).await
}

async fn failure_addresses(state: &AppState) -> Vec<String> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("session.login_failed"))
        .all(&state.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.client_addr)
        .collect()
}

async fn behind_a_trusted_proxy_the_forwarded_client_counts(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;

    // The test peer is not a trusted proxy: what it forwards for is ignored.
    let mut direct = Client::new(common::router_behind_proxy(state.clone(), "10.0.0.0/8"));
    sign_in_forwarded_for(&mut direct, "bob@example.com", "wrong password!", "192.0.2.1").await;
    assert_eq!(failure_addresses(&state).await, ["203.0.113.7"]);

    // Behind the proxy, 25 strangers each fail once: the address limit (20) is theirs,
    // not the proxy's, so nobody else is locked out.
    let mut proxied = Client::new(common::router_behind_proxy(state.clone(), "203.0.113.0/24"));
    for i in 0..25 {
        let reply = sign_in_forwarded_for(
            &mut proxied,
            "ann@example.com",
            "wrong password!",
            &format!("192.0.2.{i}"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    }
    let addresses = failure_addresses(&state).await;
    assert!(addresses.contains(&"192.0.2.24".to_string()), "{addresses:?}");
    let ok = sign_in_forwarded_for(&mut proxied, "root@example.com", PASSWORD, "198.51.100.1, 192.0.2.200").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let login = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("session.login"))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        login.client_addr.as_deref(),
        Some("192.0.2.200"),
        "the right-most untrusted address is the client"
    );
}

async fn a_stranger_cannot_lock_the_owner_out(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let stranger = "198.51.100.66";
    for _ in 0..LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS {
        let guess = users::authenticate(&state, "root@example.com", "wrong password!", stranger).await;
        assert_eq!(guess.unwrap_err(), AppError::BadLogin);
    }
    let locked = users::authenticate(&state, "root@example.com", PASSWORD, stranger).await;
    assert!(matches!(locked, Err(AppError::Throttled { .. })), "{locked:?}");
    let owner = users::authenticate(&state, "root@example.com", PASSWORD, "192.0.2.10").await;
    assert!(owner.is_ok(), "the owner from their own address: {owner:?}");

    // Guessing from many addresses meets the slower limit on the account as a whole.
    for i in 0..LOGIN_FAILURES_PER_ACCOUNT {
        let _ = users::authenticate(
            &state,
            "ann@example.com",
            "wrong password!",
            &format!("10.1.{}.{}", i / 250, i % 250),
        )
        .await;
    }
    let anywhere = users::authenticate(&state, "ann@example.com", PASSWORD, "192.0.2.11").await;
    assert!(matches!(anywhere, Err(AppError::Throttled { .. })), "{anywhere:?}");
}

async fn overlong_emails_are_refused_before_any_work(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let long = format!("{}@example.com", "a".repeat(10_000));
    let mut client = Client::new(router(state.clone()));
    let reply = sign_in(&mut client, &long, "wrong password!").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.json()["field"], "email");
    assert!(
        reply.body.len() < 300,
        "the email came back: {} bytes",
        reply.body.len()
    );
    assert!(
        failure_addresses(&state).await.is_empty(),
        "a refused email is not logged"
    );
    let created = users::create_user(&state.db, &Caller::Operator, &long, PASSWORD, Role::Customer).await;
    let err = created.unwrap_err();
    assert_eq!(err.field(), Some("email"));
    assert!(err.to_string().len() < 100, "{err}");
    let longest_allowed = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN - "@example.com".len()));
    assert_eq!(
        users::authenticate(&state, &longest_allowed, "wrong password!", "192.0.2.1")
            .await
            .unwrap_err(),
        AppError::BadLogin
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

async fn pages_show_only_the_panels_own_error_text(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let mut client = Client::new(router(state.clone()));
    let planted = "Your account is locked: call 555-0100 <script>alert(1)</script>";
    let encoded: String = planted
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let login = client.get(&format!("/login?error={encoded}")).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(
        !login.body.contains("555-0100") && !login.body.contains("alert(1)"),
        "text from the URL is on the page"
    );
    assert!(login.body.contains(app::error::message_for_code("no such code")));
    // Leptos would show an action error carried in the URL: such links lose it.
    let framework = client
        .get("/login?__path=%2Fapi%2Flogin&__err=eyJlcnJvciI6ImJhZF9sb2dpbiJ9&x=1")
        .await;
    assert_eq!(framework.status, StatusCode::SEE_OTHER);
    assert_eq!(framework.headers["location"], "/login?x=1");
    let bad_login = client.get("/login?error=bad_login").await;
    assert!(bad_login.body.contains("Email or password is incorrect."));

    // A plain form's failure comes back as a code, never as the message.
    let request = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, common::ORIGIN)
        .header(header::REFERER, "http://panel.test/login")
        .body(Body::from("email=ann%40example.com&password=not+it"))
        .unwrap();
    let back = client.send(request).await;
    assert_eq!(back.headers["location"], "/login?error=bad_login");

    sign_in(&mut client, "ann@example.com", PASSWORD).await;
    let panel = client.get("/?error=%3Cb%3Eplanted%3C%2Fb%3E").await;
    assert_eq!(panel.status, StatusCode::OK);
    assert!(!panel.body.contains("planted"));
    assert_eq!(
        panel.headers["cache-control"], "no-store",
        "a signed-in page may not be cached"
    );
}

/// Every redirect goes to a path on this host: a page asked for as `//host/...` (which a
/// Location reads as another host), and a plain form sent back to a Referer a script chose.
async fn redirects_stay_on_this_host(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let mut client = Client::new(router(state.clone()));
    for (asked, expected) in [
        ("//evil.example/x?__err=1", "/evil.example/x"),
        ("//evil.example/x?__err=1&y=2", "/evil.example/x?y=2"),
        ("///evil.example?__path=%2Fapi", "/evil.example"),
        ("/\\evil.example/x?__err=1", "/evil.example/x"),
    ] {
        let reply = client.get(asked).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{asked}");
        assert_eq!(reply.headers["location"], expected, "{asked}");
    }
    // The framework sends a plain form that succeeded back to its Referer (with an empty
    // query once it has stripped its own error parameters).
    let plain_form = |referer: &str| {
        Request::post("/api/me")
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, referer)
            .body(Body::empty())
            .unwrap()
    };
    for (referer, expected) in [
        ("https://evil.example/phish", "/phish?"),
        ("https://evil.example//phish", "/"),
        ("http://panel.test/\\evil.example/", "/"),
        ("http://panel.test/?key=AK", "/?key=AK"),
    ] {
        let reply = client.send(plain_form(referer)).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{referer}: {}", reply.body);
        assert_eq!(reply.headers["location"], expected, "{referer}");
    }
    // A refused plain form goes back to its page with the error's code, on this host.
    let request = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, "http://panel.test/\\evil.example/login")
        .body(Body::from("email=ann%40example.com&password=not+it"))
        .unwrap();
    let back = client.send(request).await;
    let location = back.headers.get("location").map(|v| v.to_str().unwrap());
    assert!(location.is_none_or(|l| l == "/"), "{location:?}");
}

async fn malformed_input_gets_400_or_413_never_500(db: DatabaseConnection) {
    let state = state(db);
    two_customers(&state).await;
    let mut client = Client::new(router(state.clone()));
    sign_in(&mut client, "ann@example.com", PASSWORD).await;

    let huge_page = client.call("credentials", &[("page", "18446744073709551615")]).await;
    assert_eq!(huge_page.status, StatusCode::BAD_REQUEST, "{}", huge_page.body);
    assert_eq!(huge_page.json()["field"], "page");
    let page = client.get("/?page=18446744073709551615").await;
    assert_ne!(page.status, StatusCode::INTERNAL_SERVER_ERROR);

    for form in [
        vec![
            ("name", "k"),
            ("bucket_id", "99999999999"),
            ("actions[]", "s3:GetObject"),
        ],
        vec![("name", "k"), ("bucket_id", "abc"), ("actions", "s3:GetObject")],
        vec![
            ("name", "k"),
            ("bucket_id", "1"),
            ("actions", "s3:GetObject"),
            ("actions[x]", "y"),
        ],
        vec![("page", "-1")],
    ] {
        let function = if form[0].0 == "page" {
            "credentials"
        } else {
            "credentials/create"
        };
        let reply = client.call(function, &form).await;
        assert!(
            reply.status.is_client_error(),
            "{form:?} got {}: {}",
            reply.status,
            reply.body
        );
        assert!(reply.json()["error"].is_string(), "{}", reply.body);
    }

    // A plain form whose fields do not parse goes back to its page with a code.
    let request = Request::post("/api/credentials/create")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, common::ORIGIN)
        .header(header::REFERER, "http://panel.test/?new=1&error=old")
        .body(Body::from("name=k&bucket_id=abc"))
        .unwrap();
    let back = client.send(request).await;
    assert_eq!(back.status, StatusCode::FOUND);
    assert_eq!(back.headers["location"], "/?new=1&error=transport");

    let big = "x".repeat(100 * 1024);
    let too_large = client.call("credentials/create", &[("name", &big)]).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", too_large.body);
    assert_eq!(too_large.json()["error"], "too_large");
    assert_eq!(
        too_large.headers["connection"], "close",
        "the unread body ends the connection"
    );
    let json_too_large = client
        .call_json("credentials/create", &format!("{{\"name\": \"{big}\"}}"))
        .await;
    assert_eq!(json_too_large.status, StatusCode::PAYLOAD_TOO_LARGE);

    let forged = client
        .call_from("credentials/create", &[("name", "k")], Some("http://evil.test"))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        forged.headers["connection"], "close",
        "the unread body ends the connection"
    );
}

on_both_databases!(
    login_right_wrong_unknown,
    session_cycles_at_login_and_dies_at_logout,
    the_sessions_table_holds_no_cookie,
    failed_logins_are_throttled,
    a_burst_of_guesses_gets_no_more_checks_than_the_limit,
    behind_a_trusted_proxy_the_forwarded_client_counts,
    a_stranger_cannot_lock_the_owner_out,
    overlong_emails_are_refused_before_any_work,
    pages_show_only_the_panels_own_error_text,
    redirects_stay_on_this_host,
    malformed_input_gets_400_or_413_never_500,
    customers_see_only_their_own,
    cross_origin_writes_are_refused,
    pages_send_security_headers_and_guard_the_panel,
);
