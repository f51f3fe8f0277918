//! The panel's HTTP side: Leptos pages and server functions, sessions, and the checks
//! every request passes (same-origin writes, security headers).

use crate::session_store::SeaOrmSessionStore;
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
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub const SESSION_COOKIE: &str = "stook_session";

#[derive(Clone, Debug)]
pub struct WebConfig {
    pub leptos: LeptosOptions,
    /// Off only for plain-HTTP development: browsers drop Secure cookies over http.
    pub secure_cookies: bool,
}

pub fn router(state: AppState, config: WebConfig) -> Router {
    let options = config.leptos.clone();
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let sessions = SessionManagerLayer::new(SeaOrmSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));
    Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
        .with_state(options)
        .layer(sessions)
        .layer(middleware::from_fn(json_to_form))
        .layer(middleware::from_fn(refuse_cross_origin_writes))
        .layer(middleware::from_fn(security_headers))
}

/// A write whose `Origin` is not this panel's own is refused: with SameSite cookies this
/// closes the door on cross-site request forgery.
async fn refuse_cross_origin_writes(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_same_origin(request.headers()) {
        return next.run(request).await;
    }
    error_response(&AppError::CrossOrigin)
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

/// The largest JSON body the API takes; every input is a few short fields.
const MAX_JSON_BODY: usize = 64 * 1024;

/// Scripts may send the API JSON: the server functions read form fields (so plain HTML
/// forms work too), so a JSON object is re-encoded as the same fields. Arrays become
/// repeated fields; nulls are left out.
async fn json_to_form(request: Request, next: Next) -> Response {
    let is_json = request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"));
    if !is_json {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let refuse = |message: &str| error_response(&AppError::invalid("body", message));
    let Ok(bytes) = axum::body::to_bytes(body, MAX_JSON_BODY).await else {
        return refuse("the request body is too large");
    };
    let fields = if bytes.iter().all(u8::is_ascii_whitespace) {
        String::new()
    } else {
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(mut object)) => {
                object.retain(|_, v| !v.is_null());
                match serde_qs::to_string(&object) {
                    Ok(fields) => fields,
                    Err(_) => return refuse("the JSON object has values the API does not take"),
                }
            }
            Ok(_) => return refuse("send a JSON object, like {\"name\": \"backup\"}"),
            Err(e) => return refuse(&format!("the body is not valid JSON: {e}")),
        }
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    next.run(Request::from_parts(parts, Body::from(fields))).await
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
    // API answers are per-user; no cache may keep them.
    if is_api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
