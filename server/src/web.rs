//! The panel's HTTP side: Leptos pages and server functions, sessions, and the checks
//! every request passes (same-origin writes, security headers).

use crate::client_ip::TrustedProxies;
use app::error::AppError;
use app::services::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes as _, generate_route_list};
use std::sync::Arc;

pub use app::sessions::SESSION_COOKIE;

#[derive(Clone, Debug)]
pub struct WebConfig {
    pub leptos: LeptosOptions,
    /// Off only for plain-HTTP development: browsers drop Secure cookies over http.
    pub secure_cookies: bool,
    /// Peers whose forwarding headers name the client (see [`crate::client_ip`]).
    pub trusted_proxies: TrustedProxies,
}

pub fn router(state: AppState, config: WebConfig) -> Router {
    let options = config.leptos.clone();
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let sessions = app::sessions::layer(state.db.clone(), config.secure_cookies);
    let export = {
        let state = state.clone();
        move |session: tower_sessions::Session, query: axum::extract::RawQuery| audit_csv(state.clone(), session, query)
    };
    Router::new()
        .route("/api/audit.csv", axum::routing::get(export))
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
        .with_state(options)
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            Arc::new(config.trusted_proxies),
            crate::client_ip::find_client_addr,
        ))
        .layer(middleware::from_fn(api_body_as_form))
        .layer(middleware::from_fn(api_error_status))
        .layer(middleware::from_fn(read_api_body))
        .layer(middleware::from_fn(refuse_cross_origin_writes))
        .layer(middleware::from_fn(drop_framework_error_params))
        .layer(middleware::from_fn(keep_redirects_on_this_host))
        .layer(middleware::from_fn(security_headers))
}

/// Rows the CSV export reads from the database at a time.
const EXPORT_CHUNK: u64 = 500;

/// `GET /api/audit.csv`: the audit events the signed-in person may see, with the audit
/// page's filters (`actor`, `credential`, `action`, `from`, `to`), as CSV. Streamed in
/// chunks, so a long log never sits in memory whole.
async fn audit_csv(state: AppState, session: tower_sessions::Session, query: axum::extract::RawQuery) -> Response {
    use app::services::audit::{self, AuditFilter};
    use app::services::caller::Caller;
    let fields: std::collections::HashMap<String, String> =
        form_urlencoded::parse(query.0.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
    let user = match app::sessions::current_user(&state, &session).await {
        Ok(Some(user)) => user,
        Ok(None) => return error_response(&AppError::NotSignedIn),
        Err(e) => return error_response(&e),
    };
    let filter = match AuditFilter::from_fields(
        field("actor"),
        field("credential"),
        field("action"),
        field("from"),
        field("to"),
    ) {
        Ok(filter) => filter,
        Err(e) => return error_response(&e),
    };
    // Made once, before the first byte: a bad filter is an error status, not a cut file.
    let query = match audit::visible(&state.db, &Caller::user(user, ""), &filter).await {
        Ok(query) => query,
        Err(e) => return error_response(&e),
    };
    let header = futures_util::stream::once(async { Ok::<_, std::io::Error>(audit::CSV_HEADER.to_string()) });
    let rows = futures_util::stream::unfold(Some(None), move |next: Option<Option<i64>>| {
        let (state, query) = (state.clone(), query.clone());
        async move {
            let before = next?;
            match audit::chunk(&state.db, query, before, EXPORT_CHUNK).await {
                Ok(events) if events.is_empty() => None,
                Ok(events) => {
                    let last = events.last().map(|e| e.id);
                    let text: String = events.iter().map(audit::csv_line).collect();
                    let more = (events.len() as u64 == EXPORT_CHUNK).then_some(last);
                    Some((Ok(text), more))
                }
                Err(e) => {
                    tracing::error!(error = %e, "the audit export stopped");
                    Some((Err(std::io::Error::other("the audit export stopped")), None))
                }
            }
        }
    });
    let body = Body::from_stream(futures_util::StreamExt::chain(header, rows));
    Response::builder()
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(header::CONTENT_DISPOSITION, "attachment; filename=\"stook-audit.csv\"")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// A write whose `Origin` is not this panel's own is refused: with SameSite cookies this
/// closes the door on cross-site request forgery.
async fn refuse_cross_origin_writes(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_same_origin(request.headers()) {
        return next.run(request).await;
    }
    refuse_unread(request.headers(), &AppError::CrossOrigin)
}

/// A refusal of a request whose body was not (wholly) read. The connection is closed
/// after it: the unread bytes would otherwise be taken for the next request (and a client
/// waiting on `Expect: 100-continue` would send its body into a connection that moved on).
fn refuse_unread(request_headers: &HeaderMap, err: &AppError) -> Response {
    let mut response = error_response(err);
    let has_body = request_headers.contains_key(header::TRANSFER_ENCODING)
        || request_headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|n| n.trim() != "0");
    if has_body {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The largest body the API takes (every input is a few short fields), whether form
/// fields or JSON.
pub const MAX_API_BODY: usize = 64 * 1024;

/// Reads an API request's body before any server function sees it, refusing one over
/// [`MAX_API_BODY`] with 413: the server functions would read a body of any size.
async fn read_api_body(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let too_large = AppError::TooLarge {
        limit_bytes: MAX_API_BODY as u64,
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|n| n.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_API_BODY as u64) {
        return refuse_unread(request.headers(), &too_large);
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_API_BODY).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(_) => {
            let mut response = error_response(&too_large);
            // Part of the body is still on the wire: this connection cannot carry another request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// Server functions whose arguments do not parse (a list sent as a plain field, a number
/// out of range) are answered by the framework with 500; they are the client's mistake,
/// so they get the status of the error in the body (400 for those). A plain form sent
/// back to its page that way gets the error's code in `?error=`, as `respond` gives it.
async fn api_error_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let fixable = status == StatusCode::INTERNAL_SERVER_ERROR || status == StatusCode::FOUND;
    if !fixable || !response.headers().contains_key("serverfnerror") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_API_BODY).await else {
        return error_response(&AppError::Internal);
    };
    let Ok(err) = serde_json::from_slice::<AppError>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if status == StatusCode::FOUND {
        // The framework sends the form back to its Referer as it came.
        let referer = parts.headers.get(header::LOCATION).and_then(|v| v.to_str().ok());
        if let Some(back) = referer.and_then(app::functions::same_site_path) {
            let joiner = if back.contains('?') { '&' } else { '?' };
            if let Ok(value) = HeaderValue::from_str(&format!("{back}{joiner}error={}", err.code())) {
                parts.headers.insert(header::LOCATION, value);
            }
        }
    } else if let Ok(status) = StatusCode::from_u16(err.http_status()) {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Leptos restores a server action's error from `?__err=` (base64 of the error, message
/// and all) and `?__path=`: a link could make a form show text of its author's choosing.
/// The panel never sends those (see `same_site_path`), so a page asked for with them is
/// sent to the same address without them.
async fn drop_framework_error_params(request: Request, next: Next) -> Response {
    let query = request.uri().query().unwrap_or_default();
    let is_framework_param = |p: &&str| p.starts_with("__err=") || p.starts_with("__path=");
    if request.method() != Method::GET || !query.split('&').any(|p| is_framework_param(&p)) {
        return next.run(request).await;
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !is_framework_param(p))
        .collect();
    // `//evil.example/x` is a path here but another host in a Location: one slash only.
    let path = format!("/{}", request.uri().path().trim_start_matches(['/', '\\']));
    let location = if kept.is_empty() {
        path
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    match HeaderValue::from_str(&app::functions::local_redirect(&location)) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// Every redirect the panel sends goes to a path on this host, whoever built it (a page,
/// a server function, the framework echoing a form's Referer): one check for them all.
async fn keep_redirects_on_this_host(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let location = response.headers().get(header::LOCATION).map(|v| v.to_str().ok());
    let Some(location) = location else {
        return response;
    };
    let local = location.map_or_else(|| "/".to_string(), app::functions::local_redirect);
    if location != Some(local.as_str()) {
        let value = HeaderValue::from_str(&local).unwrap_or(HeaderValue::from_static("/"));
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// An error answered before any server function runs, in the API's own JSON shape.
fn error_response(err: &AppError) -> Response {
    let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(err).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn is_same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    match text(header::ORIGIN) {
        Some(origin) => {
            let authority = origin.split_once("://").map(|(_, rest)| rest);
            authority.is_some() && authority == text(header::HOST)
        }
        // No Origin: not a browser's cross-site form or fetch (those send one), unless the
        // browser says so through Fetch Metadata.
        None => text(HeaderName::from_static("sec-fetch-site")).is_none_or(|site| site != "cross-site"),
    }
}

/// The media type of a request body, lower-cased, without its parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().unwrap_or("?");
    Some(value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

/// Scripts may send the API JSON: the server functions read form fields (so plain HTML
/// forms work too), so a JSON object is re-encoded as the same fields, once its values
/// are checked (see [`json_fields`]). A body of any other kind is refused with 415: read
/// as no fields at all, it once lifted the key lifetime limit.
async fn api_body_as_form(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_API_BODY).await else {
        return error_response(&AppError::TooLarge {
            limit_bytes: MAX_API_BODY as u64,
        });
    };
    let empty = bytes.iter().all(u8::is_ascii_whitespace);
    let fields = match media_type(&parts.headers).as_deref() {
        // `curl -X POST` sends no body and no type: no fields.
        None if empty => String::new(),
        Some("application/x-www-form-urlencoded") => {
            if bytes
                .trim_ascii_start()
                .first()
                .is_some_and(|b| matches!(b, b'{' | b'['))
            {
                return error_response(&AppError::invalid(
                    "body",
                    "This body is JSON but was sent as form fields: send it with Content-Type: application/json.",
                ));
            }
            return next.run(Request::from_parts(parts, Body::from(bytes))).await;
        }
        Some("application/json") if empty => String::new(),
        Some("application/json") => match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(_)) if let Err(e) = serde_json::from_slice::<DistinctFields>(&bytes) => {
                return error_response(&AppError::invalid("body", e.to_string()));
            }
            Ok(serde_json::Value::Object(object)) => match json_fields(object) {
                Ok(fields) => fields,
                Err(err) => return error_response(&err),
            },
            Ok(_) => {
                return error_response(&AppError::invalid(
                    "body",
                    "send a JSON object, like {\"name\": \"backup\"}",
                ));
            }
            Err(e) => return error_response(&AppError::invalid("body", format!("the body is not valid JSON: {e}"))),
        },
        other => {
            let sent = other.map_or("a body with no Content-Type".to_string(), |t| format!("“{t}”"));
            let err = AppError::invalid(
                "content_type",
                format!(
                    "The API reads form fields (Content-Type: application/x-www-form-urlencoded) or a JSON \
                     object (Content-Type: application/json), not {sent}."
                ),
            );
            let mut response = error_response(&err);
            *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
            return response;
        }
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    next.run(Request::from_parts(parts, Body::from(fields))).await
}

/// A JSON object as the form fields the server functions read. Each value must have its
/// field's type, or the field is refused by name: a list only for the list fields
/// ([`app::functions::LIST_FIELDS`], strings inside), `true` / `false` only for the yes/no
/// fields, else one string or number. `null` is refused too: leaving a field out is how
/// to say "none" (no path, anywhere), and a value of the wrong type must never mean that.
/// A JSON object whose fields each appear once. JSON readers disagree on a repeated field
/// (serde keeps the last; a proxy or validator in front may read the first), so one
/// would let `"path": "photos/", "path": ""` pass a check that read the first.
struct DistinctFields;

impl<'de> serde::Deserialize<'de> for DistinctFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = DistinctFields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<DistinctFields, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some(name) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    if !seen.insert(name.clone()) {
                        return Err(serde::de::Error::custom(format!(
                            "the field “{name}” is given twice: give each field once"
                        )));
                    }
                }
                Ok(DistinctFields)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

fn json_fields(object: serde_json::Map<String, serde_json::Value>) -> Result<String, AppError> {
    use app::functions::{FLAG_FIELDS, LIST_FIELDS};
    use serde_json::Value;
    for (field, value) in &object {
        let is_list = LIST_FIELDS.contains(&field.as_str());
        let is_flag = FLAG_FIELDS.contains(&field.as_str());
        let refusal = match value {
            Value::Null => Some("is null: leave the field out instead"),
            Value::Object(_) => Some("takes one value, not an object"),
            Value::Array(items) if is_list => items
                .iter()
                .any(|item| !item.is_string())
                .then_some("takes a list of strings"),
            _ if is_list => Some("takes a list of strings (a JSON array)"),
            Value::Array(_) => Some("takes one value, not a list"),
            Value::Bool(_) => (!is_flag).then_some("takes text or a number, not true or false"),
            Value::Number(_) => is_flag.then_some("is yes or no: send true or false, or leave it out for no"),
            Value::String(_) => None,
        };
        if let Some(message) = refusal {
            return Err(AppError::invalid(field, format!("{field} {message}.")));
        }
    }
    serde_qs::to_string(&object)
        .map_err(|_| AppError::invalid("body", "the JSON object has values the API does not take"))
}

async fn security_headers(request: Request, next: Next) -> Response<Body> {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Pages set their own policy with the hydration nonce; everything else gets the strictest.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
        );
    }
    // API answers and pages are per-user (a signed-in page shows keys and names); no
    // cache, nor the browser's back button after sign-out, may keep them.
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if is_api || is_html {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
