//! The panel's pages.

pub mod audit;
pub mod buckets;
pub mod credential_drawer;
pub mod credential_form;
pub mod credentials;
pub mod key_edit;
pub mod key_insight;
pub mod list_query;
pub mod login;
pub mod panel;
pub mod secret;
pub mod settings;

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

/// The error a plain (no JavaScript) form post brought back in `?error=`: a code, shown
/// as the panel's own text for it, never as text from the URL.
pub fn query_error() -> impl Fn() -> Option<String> + Copy {
    let query = use_query_map();
    move || {
        query
            .read()
            .get("error")
            .map(|code| crate::error::message_for_code(&code).to_string())
    }
}

/// "1–50 of 120" and links to the pages before and after.
#[component]
pub fn Pager(first: u64, last: u64, total: u64, prev: Option<String>, next: Option<String>) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="muted">{format!("{first}–{last} of {total}")}</span>
            {prev.map(|href| view! { <a href=href class="btn btn-small" rel="prev">"Previous"</a> })}
            {next.map(|href| view! { <a href=href class="btn btn-small" rel="next">"Next"</a> })}
        </nav>
    }
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

/// The field carrying this session's form token (see `sessions::form_token`), for the
/// panel's own forms that open a step whose address could also come from a link.
pub const FORM_TOKEN_PARAM: &str = "form_token";

/// The hidden form-token field, inside a form.
#[component]
pub fn FormTokenField() -> impl IntoView {
    let token = Resource::new(|| (), |_| crate::functions::credentials::form_token());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                token.await.ok().map(|t| view! { <input type="hidden" name=FORM_TOKEN_PARAM value=t /> })
            })}
        </Suspense>
    }
}

/// Whether the page's address carries this session's form token: the step was opened from
/// the panel's own form, not from a link someone else wrote.
pub fn opened_from_own_form() -> Resource<bool> {
    let query = leptos_router::hooks::use_query_map();
    let sent = query.read_untracked().get(FORM_TOKEN_PARAM);
    Resource::new(
        || (),
        move |_| {
            let sent = sent.clone();
            async move {
                match (sent, crate::functions::credentials::form_token().await) {
                    (Some(sent), Ok(token)) => !sent.is_empty() && sent == token,
                    _ => false,
                }
            }
        },
    )
}

/// Said where a step came from a link: the values are someone else's choice.
#[component]
pub fn FromALinkNote(what: &'static str, advice: &'static str) -> impl IntoView {
    view! {
        <p class="alert alert-error" role="alert" data-testid="from-a-link">
            {format!("These {what} came from a link, not from your own form: someone else chose them. {advice}")}
        </p>
    }
}

/// The dimmed layer under a dialog or drawer, with its keyboard (see [`modal_keys`]).
#[component]
pub fn Overlay(close_href: String, children: Children) -> impl IntoView {
    view! {
        <div class="overlay" role="presentation">
            <ModalKeys close_href />
            {children()}
        </div>
    }
}

/// A small island of its own, so a server-rendered drawer has the modal keyboard too.
#[island]
pub fn ModalKeys(close_href: String) -> impl IntoView {
    modal_keys(close_href);
    // Nothing to show; the marker alone tells the browser tests the keys are live.
    view! { <span hidden data-hydrated=hydration_marker()></span> }
}

/// `"true"` once the island it is called in runs in the browser, for a `data-hydrated`
/// attribute on the island's root: the browser tests check every island on every page
/// has it, so a bundle that fails to load cannot pass unnoticed. Effects never run on
/// the server, so server-rendered HTML has no marker.
pub fn hydration_marker() -> Signal<Option<&'static str>> {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    Signal::derive(move || hydrated.get().then_some("true"))
}

/// The keyboard of a modal dialog: Escape, wherever the focus is, goes to `close_href`;
/// Tab and Shift+Tab go round the dialog's own controls instead of into the page behind.
/// A function, not an island, for use inside islands: an island inside another island
/// would be hydrated twice.
pub fn modal_keys(close_href: String) {
    let closed = StoredValue::new(false);
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if closed.get_value() {
            return;
        }
        match ev.key().as_str() {
            "Escape" => {
                closed.set_value(true);
                close_in_place(&close_href);
            }
            "Tab" => keep_focus_in_dialog(&ev),
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}

/// Closes the open dialog without a page load: the server-rendered page behind it is
/// already the list, so the overlay goes, the address becomes `close_href`, and the
/// keyboard returns to the row whose link opened the drawer (or the page's own
/// "Create Credential" link).
fn close_in_place(close_href: &str) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast as _;
        let Some(overlay) = document().query_selector(".overlay").ok().flatten() else {
            let _ = window().location().set_href(close_href);
            return;
        };
        let opened_key = window()
            .location()
            .search()
            .ok()
            .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
            .and_then(|params| params.get("key"));
        overlay.remove();
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&leptos::wasm_bindgen::JsValue::NULL, "", Some(close_href));
        }
        let opener = match opened_key {
            // Access key ids are A–Z and 0–9 only, so they are safe in a selector.
            Some(key) if key.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                format!("a.row-link[href*=\"key={key}\"]")
            }
            _ => "a.btn-primary[href*=\"new=1\"]".to_string(),
        };
        if let Some(link) = document()
            .query_selector(&opener)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = link.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = close_href;
}

/// Wraps the focus from the dialog's last control to its first (and back with Shift).
fn keep_focus_in_dialog(ev: &leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast as _;
        // What Tab stops at: not hidden inputs, nor what the page took out of the Tab
        // order (the tree's roving tabindex, its twisties).
        const FOCUSABLE: &str = "a[href]:not([tabindex='-1']), button:not([disabled]):not([tabindex='-1']), \
             select:not([disabled]), input:not([disabled]):not([type=hidden]):not([tabindex='-1']), [tabindex='0']";
        let Some(dialog) = document().query_selector(".overlay [aria-modal=true]").ok().flatten() else {
            return;
        };
        let Ok(found) = dialog.query_selector_all(FOCUSABLE) else {
            return;
        };
        let controls: Vec<web_sys::HtmlElement> = (0..found.length())
            .filter_map(|i| found.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
            .filter(|c| c.offset_parent().is_some())
            .collect();
        let (Some(first), Some(last)) = (controls.first(), controls.last()) else {
            return;
        };
        let active = document().active_element();
        let is_active = |c: &web_sys::HtmlElement| active.as_ref() == Some(c.unchecked_ref::<web_sys::Element>());
        let outside = active
            .as_ref()
            .is_none_or(|a| !dialog.contains(Some(a.as_ref())) || *a == dialog);
        let target = match (ev.shift_key(), outside) {
            (false, true) => first,
            (true, true) => last,
            (false, false) if is_active(last) => first,
            (true, false) if is_active(first) => last,
            _ => return,
        };
        ev.prevent_default();
        let _ = target.focus();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// The second step of a destructive action: what will happen, a plain form that posts
/// `fields` to `action` (a server function's URL) under a danger button, and a way back.
#[component]
pub fn ConfirmStep(
    id: String,
    message: &'static str,
    action: &'static str,
    fields: Vec<(&'static str, String)>,
    label: &'static str,
    busy_label: &'static str,
    cancel_href: String,
) -> impl IntoView {
    let label_id = id.clone();
    view! {
        // Focused (and so scrolled into view) when the page opens on it: the question is
        // what the person just asked for, wherever it sits in a long drawer.
        <div class="confirm" role="alertdialog" aria-labelledby=label_id tabindex="-1" autofocus>
            <p id=id>{message}</p>
            <div class="row">
                <form method="post" action=action>
                    {fields.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value /> }).collect_view()}
                    <BusySubmit label=label.to_string() busy_label=busy_label.to_string() class="btn btn-danger".to_string() />
                </form>
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
        <button
            type="submit"
            class=class
            disabled=busy
            aria-busy=move || busy.get().to_string()
            data-hydrated=hydration_marker()
            on:click=on_click
        >
            {move || if busy.get() { busy_label.clone() } else { label.clone() }}
        </button>
    }
}
