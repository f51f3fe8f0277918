//! The S3 endpoint's memory under a flood from an unauthenticated client, in a test
//! binary of its own: it measures the whole process's resident memory, which other
//! tests running beside it would move.

mod common;

use common::seed::customer_with_bucket;
use server::s3;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const BUCKET: &str = "flood-tests";

struct Server {
    addr: SocketAddr,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

async fn start() -> Server {
    let state = common::state(common::sqlite().await);
    customer_with_bucket(&state, "eve@example.com", BUCKET).await;
    let (addr, dir) = common::serve_s3(&state, "s3-flood", s3::Limits::default(), Default::default()).await;
    Server { addr, dir }
}

/// An HTTP/1.1 exchange on a fresh connection: the status and the body as text.
async fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut bytes))
        .await
        .expect("an answer within 30 s")
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Now as SigV4 writes it (`20261204T162109Z`): s3s checks the time before the key.
fn amz_date() -> String {
    app::domain::format_iso8601(app::services::now()).replace(['-', ':'], "")
}

fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

/// 2,500 unsigned requests whose `Credential=` carries a 380 KB random id once raised the
/// server's memory from 24 to 954 MiB for good (each id was cached). Now an oversized
/// header is refused before anything reads it, ids that are not Stook's are never looked
/// up or kept, and memory stays where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_huge_key_ids_leaves_memory_flat() {
    let server = start().await;
    let send = |id: String| {
        let addr = server.addr;
        async move {
            let date = amz_date();
            let request = format!(
                "GET /{BUCKET}/x HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nx-amz-date: {date}\r\n\
                 x-amz-content-sha256: UNSIGNED-PAYLOAD\r\nAuthorization: AWS4-HMAC-SHA256 Credential={id}/{}/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature={}\r\n\r\n",
                &date[..8],
                "0".repeat(64)
            );
            exchange(addr, request.as_bytes()).await
        }
    };
    // Warm up the server's own allocations before measuring.
    for _ in 0..20 {
        send("AKIANOSUCHKEY0000000".into()).await;
    }
    let before = resident_bytes();
    let huge = |i: usize| format!("{i:08}{}", "Q".repeat(380 * 1024));
    use futures_util::StreamExt as _;
    let answers: Vec<(u16, String)> = futures_util::stream::iter(0..2_500)
        .map(|i| send(huge(i)))
        .buffer_unordered(4)
        .collect()
        .await;
    for (status, body) in answers {
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("RequestHeaderSectionTooLarge"), "{body}");
    }
    // Ids under the header limit that are not of Stook's form: refused, and not kept.
    let answers: Vec<(u16, String)> = futures_util::stream::iter(0..2_500)
        .map(|i| send(format!("{i:08}{}", "q".repeat(6 * 1024))))
        .buffer_unordered(4)
        .collect()
        .await;
    for (status, body) in answers {
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("InvalidAccessKeyId"), "{body}");
    }
    let grown = resident_bytes().saturating_sub(before);
    assert!(grown < 20 * 1024 * 1024, "memory grew by {} MiB", grown / (1024 * 1024));
}
