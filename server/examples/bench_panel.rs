//! Measures the Credentials page for a customer holding 10,000 credentials: the
//! server-side render of `/` and the first page of `POST /api/credentials`, in process
//! against SQLite in memory. Run by `scripts/bench-panel.sh` in a release build.

#[path = "../tests/common/seed.rs"]
mod seed;

use app::services::AppState;
use app::services::caller::Caller;
use app::services::credentials::{self, CreateCredential};
use app::services::secrets::SecretBox;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, header};
use http_body_util::BodyExt as _;
use server::web::{self, SESSION_COOKIE, WebConfig};
use std::time::{Duration, Instant};
use tower::ServiceExt as _;

const CREDENTIALS: usize = 10_000;
const RUNS: usize = 200;

#[tokio::main]
async fn main() {
    let db = app::services::connect("sqlite::memory:")
        .await
        .expect("SQLite in memory");
    let state = AppState::new(db, SecretBox::new(&[9; 32]));
    let op = Caller::Operator;
    let (bucket, _) = seed::customer_with_bucket(&state, "bench@example.com", "bench-bucket").await;
    let seeding = Instant::now();
    for i in 0..CREDENTIALS {
        let name = format!("credential {i:05}");
        let input = CreateCredential {
            bucket_id: bucket.id,
            name: &name,
            path: "",
            actions: "read-only",
            expires_at: None,
            networks: "",
        };
        credentials::create_credential(&state.db, &state.secrets, &op, input)
            .await
            .unwrap();
    }
    println!(
        "seeded {CREDENTIALS} credentials in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let leptos = leptos::prelude::LeptosOptions::builder()
        .output_name("stook")
        .site_root("target/site")
        .build();
    let router = web::router(
        state,
        WebConfig {
            leptos,
            secure_cookies: false,
            trusted_proxies: Default::default(),
        },
    )
    .layer(MockConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 1))));
    let login = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from("email=bench%40example.com&password=a+long+enough+password"))
        .unwrap();
    let response = router.clone().oneshot(login).await.unwrap();
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(SESSION_COOKIE))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();

    let page = || {
        Request::get("/")
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap()
    };
    let api = || {
        Request::post("/api/credentials")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap()
    };
    let search = || {
        Request::post("/api/credentials")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("search=credential+0999"))
            .unwrap()
    };
    // The search has no target of its own: it is printed to watch its trend.
    for (label, target_ms, make) in [
        (
            "server-side render of the Credentials page",
            Some(50.0),
            &page as &dyn Fn() -> Request<Body>,
        ),
        ("first page of POST /api/credentials", Some(20.0), &api),
        ("search over 10,000 credentials (POST /api/credentials)", None, &search),
    ] {
        let mut times = Vec::with_capacity(RUNS);
        for run in 0..RUNS + 20 {
            let started = Instant::now();
            let response = router.clone().oneshot(make()).await.unwrap();
            assert!(response.status().is_success(), "{label}: {}", response.status());
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert!(body.len() > 100);
            if run >= 20 {
                times.push(started.elapsed());
            }
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let median = ms(times[RUNS / 2]);
        let verdict = match target_ms {
            Some(target) if median < target => format!(" (target < {target} ms: met)"),
            Some(target) => format!(" (target < {target} ms: MISSED)"),
            None => String::new(),
        };
        println!(
            "{label}: median {median:.2} ms, p95 {:.2} ms over {RUNS} runs{verdict}",
            ms(times[RUNS * 95 / 100])
        );
    }
}
