//! The S3 endpoint: s3s parses and checks signatures, [`keys`] finds each key's secret
//! and scope in the credentials table, [`access`] asks the evaluator (`app::policy`) whether the request is
//! allowed, and [`gateway`] passes it on to a backend ([`local`] files or an upstream store).

pub mod access;
mod body;
mod forward;
pub mod gateway;
pub mod keys;
pub mod local;
mod post_form;
pub mod proxy;
pub mod store;
mod tags;
pub mod usage;

use app::services::secrets::SecretBox;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use s3s::host::{S3Host, VirtualHost};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3, S3Result};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// The built endpoint and the parts the server keeps running beside it.
pub struct Endpoint {
    pub service: S3Service,
    pub keys: Arc<keys::KeyStore>,
    pub usage: Arc<usage::Usage>,
}

pub fn endpoint(
    db: DatabaseConnection,
    secrets: Arc<SecretBox>,
    backend: impl S3,
    domain: Option<&str>,
) -> Result<Endpoint, String> {
    endpoint_with_usage(db, secrets, backend, domain, usage::Usage::default())
}

/// [`endpoint`] with a given usage recorder (the benchmark compares recording the full
/// activity with recording only last use and denial counts).
pub fn endpoint_with_usage(
    db: DatabaseConnection,
    secrets: Arc<SecretBox>,
    backend: impl S3,
    domain: Option<&str>,
    usage: usage::Usage,
) -> Result<Endpoint, String> {
    let keys = Arc::new(keys::KeyStore::new(db, secrets));
    let usage = Arc::new(usage);
    let mut builder = S3ServiceBuilder::new(gateway::Gateway { backend });
    builder.set_auth(keys::KeyAuth(keys.clone()));
    builder.set_access(access::Access {
        keys: keys.clone(),
        usage: usage.clone(),
    });
    if let Some(domain) = domain {
        builder.set_host(Host::new(domain)?);
    }
    let mut config = s3s::config::S3Config::default();
    config.post_object_max_file_size = post_form::MAX_POST_OBJECT_FILE_BYTES;
    config.form_max_fields_size = post_form::MAX_FORM_FIELDS_BYTES;
    builder.set_config(Arc::new(s3s::config::StaticConfigProvider::new(Arc::new(config))));
    Ok(Endpoint {
        service: builder.build(),
        keys,
        usage,
    })
}

/// Virtual-hosted style on `<bucket>.<domain>`; path style on the domain itself and on
/// any other host name (an IP address, a load balancer's name).
struct Host {
    domain: String,
}

impl Host {
    fn new(domain: &str) -> Result<Host, String> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let valid = !domain.is_empty()
            && domain
                .split('.')
                .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if valid {
            Ok(Host { domain })
        } else {
            Err(format!(
                "“{domain}” is not a domain name: set STOOK_S3_DOMAIN to a name like s3.example.com"
            ))
        }
    }
}

impl S3Host for Host {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let name = host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        });
        match name
            .strip_suffix(self.domain.as_str())
            .and_then(|b| b.strip_suffix('.'))
        {
            Some(bucket) if !bucket.is_empty() => Ok(VirtualHost::new(host).with_bucket(bucket)),
            _ => Ok(VirtualHost::new(host)),
        }
    }
}

/// Signature Version 2 (`Authorization: AWS …` or `?AWSAccessKeyId=…&Signature=…`).
fn uses_signature_v2(headers: &HeaderMap, query: Option<&str>) -> bool {
    let header_v2 = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS "));
    let query_v2 = query
        .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "AWSAccessKeyId" || k == "Signature"));
    header_v2 || query_v2
}

/// An S3 error document, for the refusals made before s3s sees the request: byte for
/// byte as s3s writes its own (a refused key's answer must not differ from an unknown
/// key's by so much as a line break).
fn s3_error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// The longest a presigned URL may stay valid, as S3 allows: seven days.
pub const PRESIGNED_MAX_EXPIRES_SECS: u64 = 7 * 24 * 60 * 60;

/// What is wrong with a presigned URL's `X-Amz-Expires`, in S3's words; `None` when it is
/// absent or fine. s3s accepts any 32-bit number of seconds, S3 at most a week.
fn presigned_expiry_problem(query: Option<&str>) -> Option<&'static str> {
    let (_, expires) = form_urlencoded::parse(query?.as_bytes()).find(|(name, _)| name == "X-Amz-Expires")?;
    match expires.parse::<i64>() {
        Err(_) => Some("X-Amz-Expires should be a number"),
        Ok(seconds) if seconds < 0 => Some("X-Amz-Expires must be non-negative"),
        Ok(seconds) if seconds.unsigned_abs() > PRESIGNED_MAX_EXPIRES_SECS => {
            Some("X-Amz-Expires must be less than a week (in seconds) that is 604800")
        }
        Ok(_) => None,
    }
}

/// Refusals S3 makes from the request line and headers alone, before s3s sees them.
async fn refuse_unsupported_signing(request: Request<Body>, next: axum::middleware::Next) -> Response {
    if uses_signature_v2(request.headers(), request.uri().query()) {
        return s3_error_response(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "Signature Version 2 is not supported. Please use AWS Signature Version 4 (AWS4-HMAC-SHA256).",
        );
    }
    if let Some(problem) = presigned_expiry_problem(request.uri().query()) {
        return s3_error_response(StatusCode::BAD_REQUEST, "AuthorizationQueryParametersError", problem);
    }
    next.run(request).await
}

/// The largest request header S3 takes, and the most all headers may hold together (S3
/// caps a PUT's header at 8 KiB; the rest is room for proxies' additions).
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
pub const MAX_HEADERS_BYTES: usize = 64 * 1024;
/// The longest request target (path and query): an S3 key is at most 1,024 bytes, and even
/// percent-encoded three times over, with a presigned query, it fits.
pub const MAX_TARGET_BYTES: usize = 16 * 1024;

/// Refuses oversized headers and request targets before anything reads them: an
/// unauthenticated client must not make the endpoint hold (or cache) what it sends.
async fn refuse_oversized_headers(request: Request<Body>, next: axum::middleware::Next) -> Response {
    let mut total = 0;
    let mut too_large = false;
    for (name, value) in request.headers() {
        let size = name.as_str().len() + value.len();
        total += size;
        too_large |= size > MAX_HEADER_BYTES;
    }
    let target = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if too_large || total > MAX_HEADERS_BYTES {
        return s3_error_response(
            StatusCode::BAD_REQUEST,
            "RequestHeaderSectionTooLarge",
            &format!(
                "Your request header section exceeds the maximum allowed size: {} bytes a header, {} in all.",
                MAX_HEADER_BYTES, MAX_HEADERS_BYTES
            ),
        );
    }
    if target > MAX_TARGET_BYTES {
        return s3_error_response(
            StatusCode::URI_TOO_LONG,
            "InvalidURI",
            &format!("The request's path and query exceed {MAX_TARGET_BYTES} bytes."),
        );
    }
    next.run(request).await
}

/// A refusal sent before the request body was read (an upload denied, say) closes the
/// connection: with `Expect: 100-continue` the client may or may not send the body
/// after all, and reusing the connection would read its bytes as the next request.
async fn close_after_unread_bodies(request: Request<Body>, next: axum::middleware::Next) -> Response {
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v != "0");
    let mut response = next.run(request).await;
    if has_body && (response.status().is_client_error() || response.status().is_server_error()) {
        response
            .headers_mut()
            .insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    }
    response
}

/// Reads request bodies through [`body::Guarded`], and answers for bodies that ended
/// badly as S3 does, whatever failed on reading them.
async fn guard_bodies(
    axum::extract::State(limits): axum::extract::State<Limits>,
    request: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let watch = std::sync::Arc::new(body::Watch::default());
    let request = request.map(|inner| {
        Body::new(body::Guarded::new(
            inner,
            limits.body_idle_timeout,
            declared,
            watch.clone(),
        ))
    });
    let response = next.run(request).await;
    if !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    match watch.ending() {
        body::Ending::Fine => response,
        body::Ending::Short => s3_error_response(
            StatusCode::BAD_REQUEST,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ),
        body::Ending::Stalled => s3_error_response(
            StatusCode::BAD_REQUEST,
            "RequestTimeout",
            &format!(
                "Your socket connection to the server was not read from or written to within the timeout period ({} s without a byte).",
                limits.body_idle_timeout.as_secs()
            ),
        ),
    }
}

/// Limits of the HTTP face, around what s3s itself checks.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A request body that sends no byte for this long is cut off (`RequestTimeout`):
    /// a stalled client would otherwise hold its request, and a graceful stop, forever.
    pub body_idle_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_idle_timeout: std::time::Duration::from_secs(60),
        }
    }
}

/// The HTTP face of the endpoint, with the default [`Limits`] and no trusted proxies.
pub fn router(service: S3Service) -> axum::Router {
    router_with(service, Limits::default(), Default::default())
}

/// The HTTP face of the endpoint.
/// The S3 endpoint's HTTP side. `trusted_proxies` name the reverse proxies whose
/// forwarding headers say which client a request came from (for each key's activity).
pub fn router_with(
    service: S3Service,
    limits: Limits,
    trusted_proxies: crate::client_ip::TrustedProxies,
) -> axum::Router {
    let service = axum::error_handling::HandleError::new(service, |err: s3s::HttpError| async move {
        tracing::error!(error = ?err, "the S3 endpoint could not answer");
        s3_error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "Stook could not answer this request.",
        )
    });
    // Innermost first: the form check reads through the body guard.
    axum::Router::new()
        .fallback_service(service)
        .layer(axum::middleware::from_fn(keys::hide_refused_keys))
        .layer(axum::middleware::from_fn(post_form::refuse_unsigned_forms))
        .layer(axum::middleware::from_fn_with_state(limits, guard_bodies))
        .layer(axum::middleware::from_fn(refuse_unsupported_signing))
        .layer(axum::middleware::from_fn(close_after_unread_bodies))
        .layer(axum::middleware::from_fn(refuse_oversized_headers))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(trusted_proxies),
            crate::client_ip::find_client_addr,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_v2_is_recognised_in_headers_and_queries() {
        let mut headers = HeaderMap::new();
        assert!(!uses_signature_v2(&headers, Some("prefix=a")));
        assert!(uses_signature_v2(
            &headers,
            Some("AWSAccessKeyId=AK&Expires=1&Signature=x")
        ));
        headers.insert(header::AUTHORIZATION, "AWS AKID:c2ln".parse().unwrap());
        assert!(uses_signature_v2(&headers, None));
        headers.insert(
            header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AK/…".parse().unwrap(),
        );
        assert!(!uses_signature_v2(&headers, None));
    }

    #[test]
    fn presigned_urls_last_at_most_a_week() {
        let problem = |q: &str| presigned_expiry_problem(Some(q));
        assert_eq!(problem("prefix=a"), None);
        assert_eq!(problem("X-Amz-Expires=60&X-Amz-Signature=ab"), None);
        assert_eq!(problem("X-Amz-Expires=604800"), None);
        assert!(problem("X-Amz-Expires=604801").unwrap().contains("604800"));
        assert!(problem("X-Amz-Expires=4294967295").unwrap().contains("a week"));
        assert!(problem("X-Amz-Expires=-1").unwrap().contains("non-negative"));
        assert!(problem("X-Amz-Expires=soon").unwrap().contains("a number"));
        assert_eq!(presigned_expiry_problem(None), None);
    }

    #[test]
    fn hosts_under_the_domain_name_a_bucket() {
        let host = Host::new("s3.example.com").unwrap();
        let bucket = |h: &'static str| host.parse_host_header(h).unwrap().bucket().map(str::to_string);
        assert_eq!(bucket("photos.s3.example.com").as_deref(), Some("photos"));
        assert_eq!(bucket("photos.s3.example.com:9000").as_deref(), Some("photos"));
        assert_eq!(bucket("s3.example.com"), None);
        assert_eq!(bucket("127.0.0.1:9000"), None);
        assert!(Host::new("not a domain").is_err());
    }
}
