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

/// The dimmed layer under a dialog or drawer; Escape closes it (see [`CloseOnEscape`]).
#[component]
pub fn Overlay(close_href: String, children: Children) -> impl IntoView {
    view! {
        <div class="overlay" role="presentation">
            <CloseOnEscape close_href />
            {children()}
        </div>
    }
}

/// A small island of its own, so a server-rendered drawer closes by keyboard too.
#[island]
pub fn CloseOnEscape(close_href: String) -> impl IntoView {
    close_on_escape(close_href);
}

/// Escape, wherever the focus is, goes to `close_href`. For islands: one island inside
/// another would be hydrated twice.
pub fn close_on_escape(close_href: String) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            let _ = window().location().set_href(&close_href);
        }
    });
    on_cleanup(move || handle.remove());
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

/// A submit button for a plain form post that says it is busy once the form is on its
/// way (the page is replaced when the answer comes).
#[island]
pub fn BusySubmit(label: String, busy_label: String, class: String) -> impl IntoView {
    let busy = RwSignal::new(false);
    let on_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast as _;
            // An invalid form does not go anywhere: the browser points at the field.
            let valid = ev
                .current_target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlButtonElement>().ok())
                .and_then(|button| button.form())
                .is_none_or(|form| form.check_validity());
            if valid {
                // After this click's submit has started, or the browser would not send a
                // disabled button's form.
                set_timeout(move || busy.set(true), std::time::Duration::ZERO);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <button type="submit" class=class disabled=busy aria-busy=move || busy.get().to_string() on:click=on_click>
            {move || if busy.get() { busy_label.clone() } else { label.clone() }}
        </button>
    }
}
