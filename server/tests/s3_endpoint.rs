//! The S3 endpoint over HTTP, in process: a real listener, the local backend in a
//! throwaway directory, the AWS SDK as the client, and raw sockets for the requests no
//! SDK sends (short bodies, stalled uploads, unsigned forms).

mod common;

use app::services::AppState;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use common::seed::customer_with_bucket;
use server::s3;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const BUCKET: &str = "endpoint-tests";

struct Server {
    addr: SocketAddr,
    objects: PathBuf,
    master: (String, String),
    state: AppState,
    bucket_id: i32,
}

impl Drop for Server {
    fn drop(&mut self) {
        std::fs::remove_dir_all(self.objects.parent().unwrap()).ok();
    }
}

async fn start() -> Server {
    start_with(s3::Limits::default()).await
}

async fn start_with(limits: s3::Limits) -> Server {
    let state = common::state(common::sqlite().await);
    let (bucket, master) = customer_with_bucket(&state, "eve@example.com", BUCKET).await;
    let dir = std::env::temp_dir().join(format!(
        "stook-s3-endpoint-{}",
        app::services::secrets::new_access_key_id().to_lowercase()
    ));
    let objects = dir.join("objects");
    let local = s3::local::Local::new(objects.clone()).unwrap();
    let endpoint = s3::endpoint(state.db.clone(), state.secrets.clone(), local, None).unwrap();
    let router = s3::router_with(endpoint.service, limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server {
        addr,
        objects,
        master: (master.access_key_id, master.secret_key),
        state,
        bucket_id: bucket.id,
    }
}

impl Server {
    fn client(&self, (id, secret): &(String, String)) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(format!("http://{}", self.addr))
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(id, secret, None, None, "test"))
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    fn master_client(&self) -> aws_sdk_s3::Client {
        self.client(&self.master)
    }

    /// A key made as the panel makes them.
    async fn key(&self, actions: &str, path: &str) -> (String, String) {
        let input = app::services::credentials::CreateCredential {
            bucket_id: self.bucket_id,
            name: &format!("key-{}", app::services::secrets::new_access_key_id().to_lowercase()),
            path,
            actions,
            expires_at: None,
        };
        let issued = app::services::credentials::create_credential(
            &self.state.db,
            &self.state.secrets,
            &app::services::audit::Actor::operator(),
            None,
            input,
        )
        .await
        .unwrap()
        .1;
        (issued.access_key_id, issued.secret_key)
    }

    /// Every file under the bucket's directory, relative to it.
    fn files(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    out.push(path.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.objects, &self.objects, &mut out);
        out.sort();
        out
    }
}

/// An HTTP/1.1 exchange on a fresh connection: the status and the body as text.
async fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_response(&mut stream).await
}

async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes)).await;
    if read.is_err() && bytes.is_empty() {
        panic!("no answer within 10 s");
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn get(addr: SocketAddr, path_and_query: &str) -> Vec<u8> {
    format!("GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes()
}

fn error_code(err: &aws_sdk_s3::error::SdkError<impl aws_sdk_s3::error::ProvideErrorMetadata>) -> String {
    aws_sdk_s3::error::ProvideErrorMetadata::code(err.as_service_error().expect("an S3 error answer"))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn presigned_urls_valid_for_more_than_a_week_are_refused() {
    let server = start().await;
    let s3 = server.master_client();
    s3.put_object()
        .bucket(BUCKET)
        .key("a.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .unwrap();
    let week = aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(604_800)).unwrap();
    let presigned = s3
        .get_object()
        .bucket(BUCKET)
        .key("a.txt")
        .presigned(week)
        .await
        .unwrap();
    let uri: axum::http::Uri = presigned.uri().parse().unwrap();
    let path_and_query = uri.path_and_query().unwrap().as_str();
    let (status, body) = exchange(server.addr, &get(server.addr, path_and_query)).await;
    assert_eq!((status, body.as_str()), (200, "hello"), "a week is allowed");

    // The SDK refuses to presign for longer; a URL edited by hand is refused before its
    // signature is even looked at.
    let longer = path_and_query.replace("X-Amz-Expires=604800", "X-Amz-Expires=604801");
    assert_ne!(longer, path_and_query);
    let (status, body) = exchange(server.addr, &get(server.addr, &longer)).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("<Code>AuthorizationQueryParametersError</Code>"),
        "{body}"
    );
    assert!(body.contains("604800"), "{body}");
}

#[tokio::test]
async fn delete_objects_takes_at_most_1000_keys() {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let server = start().await;
    let s3 = server.master_client();
    s3.put_object()
        .bucket(BUCKET)
        .key("keep.txt")
        .body(b"kept".to_vec().into())
        .send()
        .await
        .unwrap();
    let batch = |n: usize| {
        let objects = (0..n)
            .map(|i| {
                let key = if i == 0 {
                    "keep.txt".to_string()
                } else {
                    format!("none/{i}")
                };
                ObjectIdentifier::builder().key(key).build().unwrap()
            })
            .collect();
        Delete::builder().set_objects(Some(objects)).build().unwrap()
    };
    let refused = s3
        .delete_objects()
        .bucket(BUCKET)
        .delete(batch(1001))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&refused), "MalformedXML");
    // Refused before any work: the object named first is still there.
    s3.head_object().bucket(BUCKET).key("keep.txt").send().await.unwrap();
    let done = s3
        .delete_objects()
        .bucket(BUCKET)
        .delete(batch(1000))
        .send()
        .await
        .unwrap();
    assert!(done.errors().is_empty(), "{:?}", done.errors());
    assert!(s3.head_object().bucket(BUCKET).key("keep.txt").send().await.is_err());
}

/// A presigned PUT (unsigned payload): the request line and headers for a raw upload
/// whose body the test then sends, or does not.
async fn presigned_put(server: &Server, key: &str, content_length: usize) -> Vec<u8> {
    let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(300)).unwrap();
    let presigned = server
        .master_client()
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .presigned(config)
        .await
        .unwrap();
    let uri: axum::http::Uri = presigned.uri().parse().unwrap();
    format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {content_length}\r\n\r\n",
        uri.path_and_query().unwrap(),
        server.addr
    )
    .into_bytes()
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_an_incomplete_body() {
    let server = start().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(&presigned_put(&server, "short.bin", 100).await)
        .await
        .unwrap();
    stream.write_all(&[7; 40]).await.unwrap();
    // The client gives up sending; it still reads the answer.
    stream.shutdown().await.unwrap();
    let (status, body) = read_response(&mut stream).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>IncompleteBody</Code>"), "{body}");
    assert!(
        server
            .master_client()
            .head_object()
            .bucket(BUCKET)
            .key("short.bin")
            .send()
            .await
            .is_err(),
        "nothing is stored from a short body"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_is_cut_off_after_the_idle_timeout() {
    let server = start_with(s3::Limits {
        body_idle_timeout: Duration::from_secs(1),
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(&presigned_put(&server, "stalled.bin", 1000).await)
        .await
        .unwrap();
    stream.write_all(&[7; 100]).await.unwrap();
    // …and then nothing more, the connection left open.
    let started = std::time::Instant::now();
    let (status, body) = read_response(&mut stream).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>RequestTimeout</Code>"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_form_upload_is_refused_without_reading_its_file() {
    let server = start().await;
    let boundary = "stook-form-boundary";
    let fields = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nanonymous.bin\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let declared_file = 64 * 1024 * 1024;
    let closing = format!("\r\n--{boundary}--\r\n");
    let head = format!(
        "POST /{BUCKET} HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\n\r\n",
        server.addr,
        fields.len() + declared_file + closing.len()
    );
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // The fields and the file's first bytes, then the client waits for an answer: the
    // server must not wait for the other 64 MiB.
    let mut sent = format!("{head}{fields}").into_bytes();
    sent.extend_from_slice(&[0; 1024]);
    stream.write_all(&sent).await.unwrap();
    let (status, body) = tokio::time::timeout(Duration::from_secs(5), read_response(&mut stream))
        .await
        .expect("the form is refused before its file is read");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(body.contains("x-amz-signature"), "{body}");
}
