//! Server functions, grouped by what they touch. Each one is thin: find who asks, call a
//! service, map the error. Stable endpoints under `/api/`.

pub mod audit;
pub mod auth;
pub mod buckets;
pub mod credentials;
pub mod settings;

#[cfg(feature = "ssr")]
pub use server_side::*;

/// The API's fields that take a list: repeated form fields (`actions[]=...`) or a JSON
/// array. Every other field takes one value, so a list sent there is refused rather than
/// read as "no value" (which for `path` or `networks` would widen a key).
pub const LIST_FIELDS: [&str; 2] = ["actions", "keys"];

/// A field whose empty value means something: form decoding reads an empty `Option`
/// field as left out, so a field that must be sent (empty or not) takes this instead.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Sent {
    /// Not in the request at all.
    #[default]
    Missing,
    /// In the request, perhaps empty.
    Value(String),
}

impl Sent {
    /// The value sent, empty or not; `None` when the field was left out.
    pub fn as_deref(&self) -> Option<&str> {
        match self {
            Sent::Missing => None,
            Sent::Value(value) => Some(value),
        }
    }
}

impl serde::Serialize for Sent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Sent::Missing => serializer.serialize_none(),
            Sent::Value(value) => serializer.serialize_str(value),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Sent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Sent::Value)
    }
}

/// The API's yes/no fields (a form's checkbox, JSON's `true` / `false`); see [`parse_flag`].
pub const FLAG_FIELDS: [&str; 2] = ["all_actions", "edit_actions"];

/// A yes/no field, strictly: yes is `true` or `on` (what a ticked checkbox sends), no is
/// `false` or the field left out. Anything else (`off`, `0`, `no`, empty) is refused
/// naming the field: reading it as "given, so yes" once handed out every action. A
/// [`Sent`], so that an empty value is told from a missing one.
pub fn parse_flag(field: &str, value: &Sent) -> Result<bool, crate::error::AppError> {
    match value {
        Sent::Missing => Ok(false),
        Sent::Value(value) if value == "false" => Ok(false),
        Sent::Value(value) if value == "true" || value == "on" => Ok(true),
        Sent::Value(_) => Err(crate::error::AppError::invalid(
            field,
            format!("{field} is yes or no: send true (or on) or false, or leave it out for no."),
        )),
    }
}

/// The client's address as the web layer worked it out, when the page is rendered on
/// the server for a request (`None` in the browser).
pub fn known_client_addr() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<ClientAddr>().map(|c| c.0.to_string()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

#[cfg(feature = "ssr")]
mod server_side {
    use crate::domain::SignedInUser;
    use crate::error::AppError;
    use crate::pages::list_query::percent_encode;
    use crate::services::AppState;
    use crate::services::caller::Caller;
    use axum::http::{HeaderValue, StatusCode, header};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_sessions::Session;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            // Building the route list at start renders the app with no request: its
            // resources end up here, harmlessly. Within a request this is a real fault.
            if use_context::<axum::http::request::Parts>().is_some() {
                tracing::error!("AppState missing from the server function context");
            } else {
                tracing::debug!("a server function ran outside any request (route list generation)");
            }
            AppError::Internal
        })
    }

    /// This request's session.
    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|e| {
            tracing::error!(error = %e, "session layer missing");
            AppError::Internal
        })
    }

    /// The signed-in user, read fresh from the database (a deleted user is signed out).
    pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
        // At start-up the route list is collected by rendering the app once outside any
        // request: nobody is signed in there.
        if use_context::<axum::http::request::Parts>().is_none() {
            return Ok(None);
        }
        crate::sessions::current_user(&state()?, &session().await?).await
    }

    pub async fn require_user() -> Result<(AppState, SignedInUser), AppError> {
        let user = current_user().await?.ok_or(AppError::NotSignedIn)?;
        Ok((state()?, user))
    }

    /// The signed-in person as the services take them: with their client address.
    pub async fn caller() -> Result<(AppState, Caller), AppError> {
        let (state, user) = require_user().await?;
        Ok((state, Caller::user(user, client_addr().await)))
    }

    /// The client's address as the web layer worked it out: the TCP peer, or behind a
    /// trusted proxy the address it forwards for.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ClientAddr(pub std::net::IpAddr);

    /// The client's address, for throttling and the audit log.
    pub async fn client_addr() -> String {
        use axum::extract::ConnectInfo;
        let worked_out = leptos::prelude::use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<ClientAddr>().copied());
        if let Some(ClientAddr(ip)) = worked_out {
            return ip.to_string();
        }
        match leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>().await {
            Ok(ConnectInfo(addr)) => addr.ip().to_canonical().to_string(),
            Err(_) => "unknown".into(),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %err, "internal error in a server function");
        AppError::Internal
    }

    /// Gives an error its HTTP status for scripts; a plain HTML form (no JavaScript) is
    /// sent back to its page with the error's code in `?error=`, which the page turns
    /// into its own text (see [`crate::error::message_for_code`]).
    pub async fn respond<T>(work: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
        let result = work.await;
        if let Err(err) = &result
            && let Some(response) = use_context::<ResponseOptions>()
        {
            let parts = use_context::<axum::http::request::Parts>();
            let header_of = |name| {
                parts
                    .as_ref()
                    .and_then(|p| p.headers.get(name))
                    .and_then(|v| v.to_str().ok())
            };
            let plain_form = header_of(header::ACCEPT).is_some_and(|a| a.contains("text/html"));
            let back = header_of(header::REFERER).and_then(same_site_path);
            match (plain_form, back) {
                (true, Some(back)) => {
                    let joiner = if back.contains('?') { '&' } else { '?' };
                    let location = format!("{back}{joiner}error={}", percent_encode(&err.code()));
                    if let Ok(value) = HeaderValue::from_str(&location) {
                        response.insert_header(header::LOCATION, value);
                    }
                }
                _ => {
                    response.set_status(
                        StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    );
                    if let Some(secs) = err.retry_after_secs() {
                        response.insert_header(header::RETRY_AFTER, HeaderValue::from(secs));
                    }
                }
            }
        }
        result
    }

    /// Adds what a plain form sent to the address `respond` sends it back to (replacing
    /// what an earlier refusal put there), so the page can show the form as it was.
    /// Only for fields that are not secret.
    pub fn keep_in_redirect(fields: &[(&str, String)]) {
        let Some(response) = use_context::<ResponseOptions>() else {
            return;
        };
        let Some(location) = response
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
        else {
            return;
        };
        let (path, query) = location.split_once('?').unwrap_or((&location, ""));
        let mut params: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| !fields.iter().any(|(name, _)| p.split('=').next() == Some(name)))
            .map(str::to_string)
            .collect();
        params.extend(
            fields
                .iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| format!("{name}={}", percent_encode(value))),
        );
        if let Ok(value) = HeaderValue::from_str(&format!("{path}?{}", params.join("&"))) {
            response.insert_header(header::LOCATION, value);
        }
    }

    /// Whether a redirect to `location` stays on this host: a path with one leading `/`.
    /// Browsers read `//host/...` and `/\host/...` as another host, and drop tabs and
    /// line breaks before they look, so those and any scheme are refused.
    pub fn is_local_path(location: &str) -> bool {
        let mut chars = location.chars();
        chars.next() == Some('/')
            && !matches!(chars.next(), Some('/' | '\\'))
            && !location.chars().any(|c| c.is_control() || c.is_whitespace())
    }

    /// What a response may send as `Location` in place of `location`: a local path as it
    /// is, an absolute URL (the framework sends a plain form back to its Referer) as its
    /// path on this host, anything else as the panel's home.
    pub fn local_redirect(location: &str) -> String {
        if is_local_path(location) {
            return location.to_string();
        }
        location
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
            .filter(|path| is_local_path(path))
            .unwrap_or("/")
            .to_string()
    }

    /// The path and query of a Referer, less any earlier `error` (and the framework's
    /// `__err`, which carries a message): only ever redirect within the panel.
    pub fn same_site_path(referer: &str) -> Option<String> {
        let rest = referer.split_once("://")?.1;
        let path_and_query = rest[rest.find('/')?..].split('#').next().unwrap_or("/");
        if !is_local_path(path_and_query) {
            return None;
        }
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && !["error=", "__err=", "__path="].iter().any(|e| p.starts_with(e)))
            .collect();
        Some(if kept.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", kept.join("&"))
        })
    }

    /// The page's Content-Security-Policy, with this response's nonce for the hydration
    /// scripts; the server adds the other security headers to every response.
    pub fn set_page_security_headers() {
        let (Some(response), Some(nonce)) = (use_context::<ResponseOptions>(), leptos::nonce::use_nonce()) else {
            return;
        };
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        );
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn plain_form_errors_go_back_to_the_same_page_only() {
            assert_eq!(same_site_path("http://h:3000/login").as_deref(), Some("/login"));
            assert_eq!(
                same_site_path("http://h/?new=1&error=old#x").as_deref(),
                Some("/?new=1")
            );
            assert_eq!(same_site_path("http://h/?error=old").as_deref(), Some("/"));
            assert_eq!(
                same_site_path("http://h/?new=1&__path=%2Fapi&__err=eyJ9").as_deref(),
                Some("/?new=1")
            );
            assert_eq!(same_site_path("http://h//evil.example/").as_deref(), None);
            assert_eq!(same_site_path("http://h/\\evil.example/").as_deref(), None);
            assert_eq!(same_site_path("http://h/\t/evil.example/").as_deref(), None);
            assert_eq!(same_site_path("not a url"), None);
            assert_eq!(percent_encode("a b/é"), "a%20b%2F%C3%A9");
        }

        #[test]
        fn redirects_stay_on_this_host() {
            for local in ["/", "/login?x=1", "/a/b\\c", "/?key=AK&saved=1"] {
                assert!(is_local_path(local), "{local}");
                assert_eq!(local_redirect(local), local);
            }
            for foreign in [
                "//evil.example/x",
                "/\\evil.example/x",
                "/\t/evil.example",
                "/\n/evil.example",
                "https://evil.example",
                "evil.example/x",
                "javascript:alert(1)",
                "",
            ] {
                assert!(!is_local_path(foreign), "{foreign:?}");
            }
            assert_eq!(local_redirect("http://panel.test/?new=1"), "/?new=1");
            assert_eq!(local_redirect("https://evil.example/phish"), "/phish");
            assert_eq!(local_redirect("https://evil.example//x"), "/");
            assert_eq!(local_redirect("https://evil.example"), "/");
            assert_eq!(local_redirect("//evil.example/x"), "/");
        }
    }
}
