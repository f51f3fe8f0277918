//! The panel's HTTP side: Leptos pages and server functions, sessions, and the checks
//! every request passes (same-origin writes, security headers).

use crate::session_store::SeaOrmSessionStore;
use app::error::AppError;
use app::services::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
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
    let body = serde_json::to_string(&AppError::CrossOrigin).unwrap_or_default();
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
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

use axum::http::HeaderName;

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
