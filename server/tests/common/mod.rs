//! Shared test harness: databases (SQLite in memory, and PostgreSQL when
//! STOOK_TEST_POSTGRES_URL is set) and an HTTP client over the real router.
#![allow(dead_code)]

pub mod seed;

use app::services::AppState;
use app::services::secrets::SecretBox;
use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use sea_orm::{ConnectionTrait as _, DatabaseConnection};
use server::web::{self, SESSION_COOKIE, WebConfig};
use tower::ServiceExt as _;

pub async fn sqlite() -> DatabaseConnection {
    app::services::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite")
}

/// A throwaway PostgreSQL database, dropped by `finish`.
pub struct Postgres {
    pub db: DatabaseConnection,
    admin_url: String,
    name: String,
}

/// `None` when no PostgreSQL URL is configured; a configured but unreachable server
/// fails the test loudly.
pub async fn postgres() -> Option<Postgres> {
    let admin_url = std::env::var("STOOK_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let admin = sea_orm::Database::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("STOOK_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: {e}"));
    let name = format!(
        "stook_test_{}",
        app::services::key_pairs::new_access_key_id().to_lowercase()
    );
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
    let db = app::services::connect(&format!("{base}/{name}"))
        .await
        .expect("connect to test database");
    Some(Postgres { db, admin_url, name })
}

impl Postgres {
    pub async fn finish(self) {
        self.db.close().await.ok();
        let admin = sea_orm::Database::connect(&self.admin_url)
            .await
            .expect("reconnect to drop");
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .await
            .expect("drop test database");
    }
}

/// Runs one async test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::common::sqlite().await).await;
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(pg) = super::common::postgres().await {
                    super::$name(pg.db.clone()).await;
                    pg.finish().await;
                }
            }
        }
    )*};
}

/// The S3 endpoint over the local backend in a throwaway directory (named after `name`),
/// listening on a free loopback port: its address and the directory, which the caller
/// removes.
pub async fn serve_s3(
    state: &AppState,
    name: &str,
    limits: server::s3::Limits,
    trusted_proxies: server::client_ip::TrustedProxies,
) -> (std::net::SocketAddr, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "stook-{name}-{}",
        app::services::key_pairs::new_access_key_id().to_lowercase()
    ));
    let local = server::s3::local::Local::new(dir.join("objects")).unwrap();
    let endpoint = server::s3::endpoint(state.db.clone(), state.secrets.clone(), local, None).unwrap();
    let router = server::s3::router_with(endpoint.service, limits, trusted_proxies);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    (addr, dir)
}

pub fn state(db: DatabaseConnection) -> AppState {
    AppState::new(db, SecretBox::new(&[42; 32]))
}

pub const ORIGIN: &str = "http://panel.test";

pub fn router(state: AppState) -> Router {
    router_behind_proxy(state, "")
}

/// The router behind a reverse proxy: `trusted` (a CIDR list) holds the test peer
/// 203.0.113.7 or not.
pub fn router_behind_proxy(state: AppState, trusted: &str) -> Router {
    let leptos = leptos::prelude::LeptosOptions::builder()
        .output_name("stook")
        .site_root("target/site")
        .build();
    web::router(
        state,
        WebConfig {
            leptos,
            secure_cookies: true,
            trusted_proxies: trusted.parse().expect("a CIDR list"),
        },
    )
    .layer(MockConnectInfo(std::net::SocketAddr::from(([203, 0, 113, 7], 4711))))
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A browser-like client: keeps the session cookie, sends the panel's own Origin.
pub struct Client {
    router: Router,
    pub session: Option<String>,
}

impl Client {
    pub fn new(router: Router) -> Self {
        Client { router, session: None }
    }

    pub async fn send(&mut self, mut request: Request<Body>) -> Reply {
        request
            .headers_mut()
            .insert(header::HOST, "panel.test".parse().unwrap());
        if let Some(id) = &self.session {
            request
                .headers_mut()
                .insert(header::COOKIE, format!("{SESSION_COOKIE}={id}").parse().unwrap());
        }
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for cookie in headers.get_all(header::SET_COOKIE) {
            let cookie = cookie.to_str().unwrap();
            if let Some(rest) = cookie.strip_prefix(&format!("{SESSION_COOKIE}=")) {
                let value = rest.split(';').next().unwrap_or_default();
                let removed = cookie.contains("Max-Age=0") || value.is_empty();
                self.session = (!removed).then(|| value.to_string());
            }
        }
        let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        Reply { status, headers, body }
    }

    /// A server function call as scripts make it: form-encoded in, JSON out.
    pub async fn call(&mut self, function: &str, form: &[(&str, &str)]) -> Reply {
        self.call_from(function, form, Some(ORIGIN)).await
    }

    pub async fn call_from(&mut self, function: &str, form: &[(&str, &str)], origin: Option<&str>) -> Reply {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", app::pages::list_query::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut builder = Request::post(format!("/api/{function}"))
            .header(header::CONTENT_LENGTH, body.len())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(origin) = origin {
            builder = builder.header(header::ORIGIN, origin);
        }
        self.send(builder.body(Body::from(body)).unwrap()).await
    }

    /// A call with a JSON body, as scripts may send.
    pub async fn call_json(&mut self, function: &str, body: &str) -> Reply {
        let request = Request::post(format!("/api/{function}"))
            .header(header::CONTENT_LENGTH, body.len())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header(header::ORIGIN, ORIGIN)
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}

/// Waits until `holds()` is true, polling, and fails once the S3 key cache's lifetime and
/// a margin have passed: a change made anywhere must reach the endpoint within
/// `KEY_CACHE_TTL`, and a fixed sleep would only slow the suite down.
pub async fn within_key_cache_ttl(what: &str, mut holds: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + server::s3::keys::KEY_CACHE_TTL + std::time::Duration::from_secs(1);
    while !holds().await {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not seen within the key cache's lifetime"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
