//! The client's address behind a trusted reverse proxy, over HTTP: only the header the
//! operator names (`STOOK_CLIENT_IP_HEADER`) is read, and a request whose
//! `X-Forwarded-For` and `Forwarded` disagree is refused, on the panel (throttles, audit
//! log) and on the S3 endpoint (keys' network limits).

mod common;

use app::services::AppState;
use app::services::caller::Caller;
use app::services::credentials::{self, CreateCredential};
use app::services::entities::audit_event;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::seed::{self, PASSWORD};
use common::{Client, state};
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use server::client_ip::TrustedProxies;
use server::web::{self, WebConfig};

/// The panel behind a proxy at the harness's peer address (203.0.113.7) that names the
/// client in `header`.
fn panel_behind(state: &AppState, header: &str) -> Client {
    let leptos = leptos::prelude::LeptosOptions::builder()
        .output_name("stook")
        .site_root("target/site")
        .build();
    let trusted: TrustedProxies = "203.0.113.0/24".parse().unwrap();
    let router = web::router(
        state.clone(),
        WebConfig {
            leptos,
            secure_cookies: true,
            trusted_proxies: trusted.with_header(header.parse().unwrap()),
        },
    )
    .layer(axum::extract::connect_info::MockConnectInfo(
        std::net::SocketAddr::from(([203, 0, 113, 7], 4711)),
    ));
    Client::new(router)
}

/// A failed sign-in with these forwarding headers.
async fn wrong_password(client: &mut Client, forwarding: &[(&str, &str)]) -> common::Reply {
    let mut request = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, common::ORIGIN);
    for (name, value) in forwarding {
        request = request.header(*name, *value);
    }
    let body = Body::from("email=ann%40example.com&password=not+the+password");
    client.send(request.body(body).unwrap()).await
}

/// The client address of the latest failed sign-in, and how many there were.
async fn last_failure(state: &AppState) -> (Option<String>, u64) {
    let failures = audit_event::Entity::find().filter(audit_event::Column::Action.eq("session.login_failed"));
    let count = failures.clone().count(&state.db).await.unwrap();
    let all = failures.all(&state.db).await.unwrap();
    (all.last().and_then(|e| e.client_addr.clone()), count)
}

async fn the_panel_reads_only_the_named_header(db: DatabaseConnection) {
    let state = state(db);
    seed::two_customers_and_an_admin(&state).await;

    // A proxy that writes only Forwarded, and Stook told so.
    let mut forwarded = panel_behind(&state, "Forwarded");
    let reply = wrong_password(&mut forwarded, &[("forwarded", "for=198.51.100.9;proto=https")]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(last_failure(&state).await, (Some("198.51.100.9".into()), 1));

    // The attack: the client adds its own X-Forwarded-For, which that proxy passes on.
    let spoofed = [("forwarded", "for=198.51.100.9"), ("x-forwarded-for", "192.0.2.5")];
    let refused = wrong_password(&mut forwarded, &spoofed).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.json()["field"], "client_address", "{}", refused.body);
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap()
            .contains("name different clients"),
        "{}",
        refused.body
    );
    // Refused before any password was checked: nothing is logged or counted.
    assert_eq!(last_failure(&state).await.1, 1);

    // Stook left at X-Forwarded-For behind that proxy: refused, not guessed.
    let mut misnamed = panel_behind(&state, "X-Forwarded-For");
    let refused = wrong_password(&mut misnamed, &[("forwarded", "for=198.51.100.9")]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("STOOK_CLIENT_IP_HEADER"), "{}", refused.body);
    // Both headers naming the same client are fine.
    let both = [("forwarded", "for=198.51.100.10"), ("x-forwarded-for", "198.51.100.10")];
    assert_eq!(
        wrong_password(&mut misnamed, &both).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(last_failure(&state).await, (Some("198.51.100.10".into()), 2));

    // Another header is read alone.
    let mut real_ip = panel_behind(&state, "X-Real-IP");
    let headers = [("x-real-ip", "198.51.100.11"), ("x-forwarded-for", "192.0.2.5")];
    assert_eq!(
        wrong_password(&mut real_ip, &headers).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(last_failure(&state).await, (Some("198.51.100.11".into()), 3));

    // A good sign-in through the proxy still works.
    let mut ok = panel_behind(&state, "Forwarded");
    let request = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("forwarded", "for=198.51.100.9")
        .body(Body::from(format!(
            "email=ann%40example.com&password={}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    assert_eq!(ok.send(request).await.status, StatusCode::OK);
}

on_both_databases!(the_panel_reads_only_the_named_header);

const BUCKET: &str = "forwarded-tests";

/// The S3 endpoint behind a proxy on 127.0.0.1 that names the client in `header`.
async fn s3_behind(state: &AppState, header: &str) -> (std::net::SocketAddr, std::path::PathBuf) {
    let trusted: TrustedProxies = "127.0.0.1/32".parse().unwrap();
    let trusted = trusted.with_header(header.parse().unwrap()).for_s3_endpoint();
    common::serve_s3(state, "forwarded", server::s3::Limits::default(), trusted).await
}

/// Lists the bucket with `key`, the proxy having written `forwarding`: the HTTP status.
async fn list_through(addr: std::net::SocketAddr, key: &(String, String), forwarding: &[(&'static str, &str)]) -> u16 {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(&key.0, &key.1, None, None, "test"))
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    let headers: Vec<(&'static str, String)> = forwarding.iter().map(|(n, v)| (*n, v.to_string())).collect();
    let result = client
        .list_objects_v2()
        .bucket(BUCKET)
        .customize()
        .mutate_request(move |request| {
            for (name, value) in &headers {
                request.headers_mut().insert(*name, value.clone());
            }
        })
        .send()
        .await;
    match result {
        Ok(_) => 200,
        Err(err) => err.raw_response().map_or(0, |r| r.status().as_u16()),
    }
}

/// A key limited to 198.51.100.0/24 was usable from anywhere by a client that wrote its
/// own X-Forwarded-For through a proxy that writes only Forwarded.
#[tokio::test]
async fn s3_network_limits_read_only_the_named_header() {
    let state = state(common::sqlite().await);
    let (bucket, _) = seed::customer_with_bucket(&state, "ann@example.com", BUCKET).await;
    let input = CreateCredential {
        bucket_id: bucket.id,
        name: "office",
        path: "",
        actions: "read-only",
        expires_at: None,
        networks: "198.51.100.0/24",
    };
    let (_, issued) = credentials::create_credential(&state.db, &state.secrets, &Caller::Operator, input)
        .await
        .unwrap();
    let key = (issued.access_key_id, issued.secret_key);

    let (addr, dir) = s3_behind(&state, "Forwarded").await;
    assert_eq!(
        list_through(addr, &key, &[("forwarded", "for=198.51.100.9")]).await,
        200
    );
    assert_eq!(
        list_through(addr, &key, &[("forwarded", "for=192.0.2.9")]).await,
        403,
        "outside the key's networks"
    );
    let spoofed = [("forwarded", "for=192.0.2.9"), ("x-forwarded-for", "198.51.100.9")];
    assert_eq!(list_through(addr, &key, &spoofed).await, 400, "the client's own header");

    let (misnamed, misnamed_dir) = s3_behind(&state, "X-Forwarded-For").await;
    assert_eq!(
        list_through(misnamed, &key, &[("forwarded", "for=198.51.100.9")]).await,
        400,
        "Stook reads X-Forwarded-For, the proxy wrote Forwarded"
    );
    assert_eq!(
        list_through(misnamed, &key, &[("x-forwarded-for", "198.51.100.9")]).await,
        200
    );
    std::fs::remove_dir_all(dir).ok();
    std::fs::remove_dir_all(misnamed_dir).ok();
}
