//! The panel's pages.

pub mod buckets;
pub mod credential_drawer;
pub mod credential_form;
pub mod credentials;
pub mod login;
pub mod panel;
pub mod secret;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="auth-page">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <a class="btn btn-primary" href="/">"Go to the panel"</a>
            </div>
        </main>
    }
}

/// The error a plain (no JavaScript) form post brought back in `?error=`.
pub fn query_error() -> impl Fn() -> Option<String> + Copy {
    let query = use_query_map();
    move || query.read().get("error")
}

/// An alert box for an error message, if there is one.
#[component]
pub fn ErrorNote(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message
            .get()
            .map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })
    }
}

/// The dimmed layer under a dialog or drawer; Escape, wherever the focus is, goes to
/// `close_href`.
#[component]
pub fn Overlay(close_href: String, children: Children) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            navigate(&close_href, Default::default());
        }
    });
    on_cleanup(move || handle.remove());
    view! {
        <div class="overlay" role="presentation">
            {children()}
        </div>
    }
}

/// The second step of a destructive action: what will happen, the form that does it
/// (`children`), and a way back.
#[component]
pub fn ConfirmStep(id: String, message: &'static str, cancel_href: String, children: Children) -> impl IntoView {
    let label_id = id.clone();
    view! {
        <div class="confirm" role="alertdialog" aria-labelledby=label_id>
            <p id=id>{message}</p>
            <div class="row">
                {children()}
                <a href=cancel_href class="btn">"Cancel"</a>
            </div>
        </div>
    }
}

/// A red submit button that says it is busy while its action runs.
#[component]
pub fn DangerSubmit(label: &'static str, busy_label: &'static str, pending: Signal<bool>) -> impl IntoView {
    view! {
        <button type="submit" class="btn btn-danger" disabled=pending>
            {move || if pending.get() { busy_label } else { label }}
        </button>
    }
}
