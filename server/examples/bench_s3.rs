//! Measures the S3 endpoint: the authorization decision (signature check, key lookup with
//! a warm cache, policy) per request, and 4 KiB GET throughput through Stook with a scoped
//! key against the same local backend served with no key checks, side by side in one run.
//! Run by `scripts/bench-s3.sh` in a release build; the load comes from `wrk`.
//! `STOOK_BENCH_QUICK=1` makes every run short (a check that the bench works);
//! `STOOK_BENCH_AUTH_ONLY=1` stops after the authorization figures (to profile them).

#[path = "../tests/common/seed.rs"]
mod seed;

use app::services::AppState;
use app::services::secrets::SecretBox;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use s3s::auth::SimpleAuth;
use s3s::dto::{GetObjectInput, GetObjectOutput};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3, S3Request, S3Response, S3Result};
use server::s3;
use std::time::{Duration, Instant};

const BUCKET: &str = "bench-bucket";
const KEY: &str = "bench/object.bin";

/// Timed calls per service, rounds of wrk runs, and seconds per wrk run.
fn sizes() -> (usize, usize, u32) {
    if std::env::var("STOOK_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0") {
        (2_000, 1, 1)
    } else {
        (20_000, 5, 4)
    }
}

/// A backend that answers at once, so only Stook's own work is timed.
struct Instant0;

#[async_trait::async_trait]
impl S3 for Instant0 {
    async fn get_object(&self, _req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        Ok(S3Response::new(GetObjectOutput::default()))
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median wall time of one request through each service, in microseconds. Calls
/// alternate between the services so that caches and clock drift treat all alike.
async fn alternating_micros(services: &[(&S3Service, &str)], host: &str) -> Vec<f64> {
    let request = |path_and_query: &str| {
        axum::http::Request::builder()
            .uri(path_and_query)
            .header("host", host)
            .body(s3s::Body::empty())
            .unwrap()
    };
    let time = |service: &S3Service, path_and_query: &str| {
        let request = request(path_and_query);
        let service = service.clone();
        async move {
            let started = Instant::now();
            let response = service.call(request).await.expect("answer");
            let elapsed = started.elapsed().as_secs_f64() * 1e6;
            assert!(response.status().is_success(), "got {}", response.status());
            elapsed
        }
    };
    for _ in 0..1_000 {
        for (service, path_and_query) in services {
            time(service, path_and_query).await;
        }
    }
    let (calls, _, _) = sizes();
    let mut timings = vec![Vec::with_capacity(calls); services.len()];
    for _ in 0..calls {
        for ((service, path_and_query), times) in services.iter().zip(&mut timings) {
            times.push(time(service, path_and_query).await);
        }
    }
    timings.into_iter().map(median).collect()
}

async fn serve(router: axum::Router) -> std::net::SocketAddr {
    use axum::serve::ListenerExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // As `stook serve` does.
    let listener = listener.tap_io(|tcp| tcp.set_nodelay(true).unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    addr
}

/// Requests per second that `wrk` gets from `url`.
async fn wrk(url: String) -> f64 {
    let target = url.clone();
    let (_, _, seconds) = sizes();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("wrk")
            .args(["-t1", "-c16", &format!("-d{seconds}s"), &target])
            .output()
            .expect("wrk (apt-get install wrk)")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        // What the server answers, to say why.
        let answer = std::process::Command::new("curl")
            .args(["-s", "-i", &url])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        panic!(
            "wrk saw errors from {}:\n{text}\none request now answers:\n{answer}",
            url.split('?').next().unwrap_or("")
        );
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk output:\n{text}"))
}

#[tokio::main]
async fn main() {
    let (_, rounds, seconds) = sizes();
    let dir = std::env::temp_dir().join(format!("stook-bench-s3-{}", std::process::id()));
    let objects = dir.join("objects");

    let db = app::services::connect("sqlite::memory:")
        .await
        .expect("SQLite in memory");
    let state = AppState::new(db, SecretBox::new(&[9; 32]));
    let (bucket, master) = seed::customer_with_bucket(&state, "bench@example.com", BUCKET).await;
    let key = seed::read_only_key(&state, bucket.id, "bench", "bench/").await;

    let keyed = s3::endpoint(
        state.db.clone(),
        state.secrets.clone(),
        s3::local::Local::new(objects.clone()).unwrap(),
        None,
    )
    .unwrap();
    let open = S3ServiceBuilder::new(s3::local::Local::new(objects.clone()).unwrap()).build();
    // The same endpoint recording only last use and denial counts (as before activity).
    let plain = s3::endpoint_with_usage(
        state.db.clone(),
        state.secrets.clone(),
        s3::local::Local::new(objects.clone()).unwrap(),
        None,
        s3::usage::Usage::without_activity(),
    )
    .unwrap();
    let keyed_addr = serve(s3::router(keyed.service.clone())).await;
    let open_addr = serve(s3::router(open)).await;
    let plain_addr = serve(s3::router(plain.service.clone())).await;

    let host = keyed_addr.to_string();
    let client_at = |host: &str, access_key_id: &str, secret: &str| {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(format!("http://{host}"))
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new(access_key_id, secret, None, None, "bench"))
                .force_path_style(true)
                .build(),
        )
    };
    let client = |access_key_id: &str, secret: &str| client_at(&host, access_key_id, secret);
    // Uploaded through the endpoint, as a client would, so the backend keeps its ETag.
    client(&master.access_key_id, &master.secret_key)
        .put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(vec![7u8; 4096].into())
        .send()
        .await
        .expect("upload the 4 KiB object");
    // A presigned GET: every request carries a full Signature V4 check.
    let presigned = client(&key.access_key_id, &key.secret_key)
        .get_object()
        .bucket(BUCKET)
        .key(KEY)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(3600)).unwrap())
        .await
        .unwrap();
    let signed_url = presigned.uri().to_string();
    let path_and_query = signed_url.trim_start_matches(&format!("http://{host}")).to_string();

    // 1. The decision: the same presigned request through s3s with and without Stook's
    //    checks, over a backend that answers at once; and through s3s checking only the
    //    signature with a fixed secret, which parts s3s's Signature V4 check from Stook's own
    //    work (key cache, key state, policy, activity).
    let checked = s3::endpoint(state.db.clone(), state.secrets.clone(), Instant0, None).unwrap();
    let unchecked = S3ServiceBuilder::new(Instant0).build();
    let mut signature_only = S3ServiceBuilder::new(Instant0);
    signature_only.set_auth(SimpleAuth::from_single(
        key.access_key_id.clone(),
        key.secret_key.clone(),
    ));
    let signature_only = signature_only.build();
    let open_path = format!("/{BUCKET}/{KEY}");
    let [with_checks, signature_checked, without] = alternating_micros(
        &[
            (&checked.service, &path_and_query),
            (&signature_only, &path_and_query),
            (&unchecked, &open_path),
        ],
        &host,
    )
    .await[..] else {
        unreachable!("three services, three medians")
    };
    let decision = with_checks - without;
    println!(
        "authorization decision (signature + warm key cache + policy): {decision:.1} µs median \
         ({with_checks:.1} µs per request with checks, {without:.1} µs without; target < 5 µs: {})",
        if decision < 5.0 { "met" } else { "MISSED" }
    );
    println!(
        "  of which s3s's Signature V4 check of the presigned URL: {:.1} µs; Stook's key cache, key \
         state, policy and activity: {:.1} µs",
        signature_checked - without,
        with_checks - signature_checked
    );

    if std::env::var_os("STOOK_BENCH_AUTH_ONLY").is_some() {
        // For profiling the decision alone (perf, callgrind): no backend, no load generator.
        std::fs::remove_dir_all(&dir).ok();
        return;
    }

    // The same with the local backend, still in process (no sockets, no load generator).
    let open_service = S3ServiceBuilder::new(s3::local::Local::new(objects.clone()).unwrap()).build();
    let [keyed_local, open_local] =
        alternating_micros(&[(&keyed.service, &path_and_query), (&open_service, &open_path)], &host).await[..]
    else {
        unreachable!("two services, two medians")
    };
    println!("4 KiB GET in process: {keyed_local:.1} µs with a scoped key, {open_local:.1} µs with no key checks");

    // 2. Throughput, alternating the two servers so drift hits both alike.
    let open_url = format!("http://{open_addr}/{BUCKET}/{KEY}");
    let (mut keyed_rates, mut open_rates) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        keyed_rates.push(wrk(signed_url.clone()).await);
        open_rates.push(wrk(open_url.clone()).await);
    }
    println!("  runs with a scoped key: {keyed_rates:.0?} req/s; with no key checks: {open_rates:.0?} req/s");
    let (keyed_rps, open_rps) = (median(keyed_rates), median(open_rates));
    let ratio = keyed_rps / open_rps;
    println!(
        "4 KiB GET: {keyed_rps:.0} req/s with a scoped key recording activity, {open_rps:.0} req/s with no key \
         checks (median of {rounds} × {seconds} s runs each); ratio {:.1} % (target within 5 %: {})",
        ratio * 100.0,
        if ratio >= 0.95 { "met" } else { "MISSED" }
    );

    // 3. The cost of recording activity: the scoped key with and without it, alternating.
    // Signed for the other server's host: the host is part of the signature.
    let plain_url = client_at(&plain_addr.to_string(), &key.access_key_id, &key.secret_key)
        .get_object()
        .bucket(BUCKET)
        .key(KEY)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(3600)).unwrap())
        .await
        .unwrap()
        .uri()
        .to_string();
    let (mut on_rates, mut off_rates) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        off_rates.push(wrk(plain_url.clone()).await);
        on_rates.push(wrk(signed_url.clone()).await);
    }
    println!("  runs with activity: {on_rates:.0?} req/s; without: {off_rates:.0?} req/s");
    let (on_rps, off_rps) = (median(on_rates), median(off_rates));
    let kept = on_rps / off_rps;
    println!(
        "4 KiB GET with a scoped key: {on_rps:.0} req/s recording activity, {off_rps:.0} req/s recording \
         only last use (median of {rounds} × {seconds} s runs each); {:.1} % (target within 5 %: {})",
        kept * 100.0,
        if kept >= 0.95 { "met" } else { "MISSED" }
    );
    let _ = keyed.usage.flush(&state.db).await;
    std::fs::remove_dir_all(&dir).ok();
}
