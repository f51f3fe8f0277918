//! Pieces shared by the credential drawer and the buckets page: copying to the
//! clipboard, and revealing a secret behind the login password. Both are islands: the
//! only parts of those pages that run in the browser.

use super::key_insight::ClientSetups;
use crate::client_setups::Setup;
use crate::functions::credentials::RevealSecret;
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;

/// A button that copies a fixed text (an access key id) to the clipboard.
#[island]
pub fn CopyText(text: String, label: String) -> impl IntoView {
    view! {
        <span class="copy-text" data-hydrated=super::hydration_marker()>
            <CopyButton text=Signal::stored(text) label />
        </span>
    }
}

/// Copies `text` to the clipboard and says so.
#[component]
pub fn CopyButton(#[prop(into)] text: Signal<String>, #[prop(into)] label: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let promise = window().navigator().clipboard().write_text(&text.get_untracked());
            drop(promise);
            copied.set(true);
            set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (text, copied);
    };
    view! {
        <button type="button" class="btn btn-small" on:click=copy aria-label=label.clone()>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

/// A masked secret; "Show secret" asks for the login password, and only then does the
/// server send the secret. It lives in this component's memory until hidden.
/// With `setups` (built on the server around a placeholder), the revealed secret comes
/// with ready-to-paste client set-ups.
#[island]
pub fn SecretReveal(access_key_id: String, setups: Vec<Setup>) -> impl IntoView {
    let reveal = ServerAction::<RevealSecret>::new();
    let asking = RwSignal::new(false);
    let secret = RwSignal::new(None::<String>);
    let password = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(value)) = reveal.value().get() {
            secret.set(Some(value));
            asking.set(false);
            password.set(String::new());
            // Drop the answer from the action too: only `secret` holds it, until Hide.
            reveal.value().set(None);
        }
    });
    // A refused password is not left in the field for the next try.
    Effect::new(move |_| {
        if let Some(Err(_)) = reveal.value().get() {
            password.set(String::new());
        }
    });
    let error = move || match reveal.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    };
    let id_for_form = access_key_id.clone();
    // Where the keyboard goes next: to the password field once asked for, then to the
    // secret once shown (Copy sits right after it).
    let password_input = NodeRef::<leptos::html::Input>::new();
    let secret_text = NodeRef::<leptos::html::Code>::new();
    Effect::new(move |_| {
        if let Some(input) = password_input.get() {
            let _ = input.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(code) = secret_text.get() {
            let _ = code.focus();
        }
    });
    view! {
        <div class="secret-box" data-hydrated=super::hydration_marker()>
            {move || match secret.get() {
                Some(value) => {
                    let copy_text = Signal::derive(move || secret.get().unwrap_or_default());
                    let setups =
                        (!setups.is_empty()).then(|| view! { <ClientSetups setups=setups.clone() secret=copy_text /> });
                    view! {
                        <code class="secret" data-testid="secret-key" tabindex="-1" node_ref=secret_text>{value}</code>
                        <div class="row">
                            <button type="button" class="btn btn-small" on:click=move |_| secret.set(None)>"Hide"</button>
                            <CopyButton text=copy_text label="Copy secret key" />
                        </div>
                        {setups}
                    }
                        .into_any()
                }
                None => view! {
                    <code class="secret masked" aria-label="Secret key, hidden">"••••••••••••••••••••••••••••••••••••••••"</code>
                }
                    .into_any(),
            }}
            {
                let id_for_form = id_for_form.clone();
                move || {
                    if secret.get().is_some() {
                        return None;
                    }
                    let id = id_for_form.clone();
                    // One page can hold several of these (the Buckets page): ids and the
                    // form's name carry the key id.
                    let input_id = format!("reveal-password-{id}");
                    let form_name = format!("Show the secret of {id}");
                    Some(if asking.get() {
                        view! {
                            <form
                                method="post"
                                action=RevealSecret::url()
                                class="reveal-form"
                                aria-label=form_name
                                // Posted by hand: an `ActionForm` would put a form-data parser
                                // into the browser bundle.
                                on:submit={
                                    let id = id.clone();
                                    move |ev| {
                                        ev.prevent_default();
                                        if !reveal.pending().get_untracked() {
                                            reveal.dispatch(RevealSecret {
                                                access_key_id: id.clone(),
                                                password: password.get_untracked(),
                                            });
                                        }
                                    }
                                }
                            >
                                <input type="hidden" name="access_key_id" value=id.clone() />
                                <label for=input_id.clone()>"Re-enter your login password to show the secret"</label>
                                <div class="row">
                                    <input
                                        id=input_id
                                        node_ref=password_input
                                        type="password"
                                        name="password"
                                        autocomplete="current-password"
                                        required
                                        autofocus
                                        prop:value=password
                                        on:input=move |ev| password.set(event_target_value(&ev))
                                    />
                                    <button type="submit" class="btn btn-primary btn-small" disabled=move || reveal.pending().get()>
                                        {move || if reveal.pending().get() { "Checking…" } else { "Show" }}
                                    </button>
                                    <button type="button" class="btn btn-small" on:click=move |_| asking.set(false)>"Cancel"</button>
                                </div>
                                {move || error().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                            </form>
                        }
                            .into_any()
                    } else {
                        view! {
                            <button type="button" class="btn btn-small" on:click=move |_| asking.set(true)>"Show secret"</button>
                            <noscript><p class="muted">"Showing a secret needs JavaScript."</p></noscript>
                        }
                            .into_any()
                    })
                }
            }
        </div>
    }
}
