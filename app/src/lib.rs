//! The Stook panel: routes, components, server functions and the domain types shared by
//! the browser and the server. Server-only code sits behind the `ssr` feature.

pub mod action_tree;
pub mod catalog;
pub mod client_setups;
pub mod domain;
pub mod error;
pub mod explain;
pub mod functions;
pub mod networks;
pub mod pages;
pub mod policy;
#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod sessions;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

pub use functions::auth::AuthContext;

/// The browser entry point: the islands on the page come alive; everything else stays
/// the server-rendered document it is.
#[cfg(feature = "hydrate")]
pub fn hydrate_islands() {
    // No client-side router: a server function's redirect (a new credential opening its
    // drawer) is an ordinary page load.
    let _already_set = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        let _ = window().location().set_href(location);
    });
    leptos::mount::hydrate_islands();
}

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    functions::set_page_security_headers();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    AuthContext::provide();
    view! {
        <Stylesheet id="leptos" href="/pkg/stook.css" />
        <Title formatter=|page: String| if page.is_empty() { "Stook".to_string() } else { format!("{page} · Stook") } />
        <Router>
            <Routes fallback=pages::NotFound>
                // Async: the whole page (and a sign-in redirect) is decided before the
                // first byte, so a missing session is a real 302, not a script.
                <Route path=path!("/login") view=pages::login::LoginPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=pages::panel::PanelLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=pages::credentials::CredentialsPage ssr=SsrMode::Async />
                    <Route path=path!("buckets") view=pages::buckets::BucketsPage ssr=SsrMode::Async />
                    <Route path=path!("audit") view=pages::audit::AuditPage ssr=SsrMode::Async />
                    <Route path=path!("settings") view=pages::settings::SettingsPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
