//! Fires 200 sign-ins at once at the panel (in process, SQLite in memory) and prints the
//! process's peak resident memory. Each argon2 check holds 19 MiB while it runs; the
//! hashing slots (one per core) keep the peak flat however many arrive together.
//! Run by `scripts/bench-signin.sh` in a release build.

#[path = "../tests/common/seed.rs"]
mod seed;

use app::domain::Role;
use app::services::caller::Caller;
use app::services::secrets::SecretBox;
use app::services::{AppState, users};
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use server::web::{self, WebConfig};
use std::collections::BTreeMap;
use std::time::Instant;
use tower::ServiceExt as _;

const SIGN_INS: usize = 200;
const ACCOUNTS: usize = 10;
const PEAK_TARGET_MIB: u64 = 200;
/// The password `seed::customer_with_bucket` gives its customer.
const PASSWORD: &str = "a long enough password";

/// A line of /proc/self/status in MiB (`VmHWM`: peak resident, `VmRSS`: resident now).
fn memory_mib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux only)");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib / 1024)
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    // As `stook` does at start: argon2's blocks go back to the system when freed.
    server::memory::return_large_blocks_to_the_system();
    let db = app::services::connect("sqlite::memory:")
        .await
        .expect("SQLite in memory");
    let state = AppState::new(db, SecretBox::new(&[9; 32]));
    seed::customer_with_bucket(&state, "bench0@example.com", "bench-bucket").await;
    // Sign-ins are counted per account and address while they are checked, so the burst
    // comes from many addresses (through a trusted proxy) for several accounts, as a
    // busy panel sees it, and every one of them reaches argon2.
    for i in 1..ACCOUNTS {
        let email = format!("bench{i}@example.com");
        users::create_user(&state.db, &Caller::Operator, &email, PASSWORD, Role::Customer)
            .await
            .unwrap();
    }
    let leptos = leptos::prelude::LeptosOptions::builder()
        .output_name("stook")
        .site_root("target/site")
        .build();
    let router = web::router(
        state,
        WebConfig {
            leptos,
            secure_cookies: false,
            trusted_proxies: "127.0.0.1/32".parse().unwrap(),
        },
    )
    .layer(MockConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 1))));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "before: {} MiB resident; {cores} cores, so {cores} argon2 checks at a time",
        memory_mib("VmRSS")
    );

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..SIGN_INS {
        let router = router.clone();
        tasks.spawn(async move {
            let login = Request::post("/api/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .header("x-forwarded-for", format!("10.0.{}.{}", i / 250, i % 250))
                .body(Body::from(format!(
                    "email=bench{}%40example.com&password={}",
                    i % ACCOUNTS,
                    PASSWORD.replace(' ', "+")
                )))
                .unwrap();
            router.oneshot(login).await.unwrap().status()
        });
    }
    let mut statuses: BTreeMap<StatusCode, usize> = BTreeMap::new();
    while let Some(status) = tasks.join_next().await {
        *statuses.entry(status.expect("a sign-in task")).or_default() += 1;
    }
    let elapsed = started.elapsed();
    let answers: Vec<String> = statuses.iter().map(|(s, n)| format!("{n} x {}", s.as_u16())).collect();
    println!(
        "{SIGN_INS} parallel sign-ins in {:.1} s: {}",
        elapsed.as_secs_f64(),
        answers.join(", ")
    );
    let peak = memory_mib("VmHWM");
    println!(
        "peak resident memory: {peak} MiB, now {} MiB (target < {PEAK_TARGET_MIB} MiB: {})",
        memory_mib("VmRSS"),
        if peak < PEAK_TARGET_MIB { "met" } else { "MISSED" }
    );
    if peak >= PEAK_TARGET_MIB {
        std::process::exit(1);
    }
}
