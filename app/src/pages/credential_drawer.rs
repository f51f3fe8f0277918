//! The detail drawer: everything about one credential, the password-gated secret, and
//! revoke / delete behind a confirmation step (`&confirm=revoke|delete` in the URL, so
//! it works with and without JavaScript).

use super::key_edit::{EditValues, KeyEditor};
use super::key_insight::{CyberduckLink, KeyActivityView, KeyInsight, SIMULATE_NAME_PARAM, SIMULATE_PARAM};
use super::list_query::ListState;
use super::secret::{CopyText, SecretReveal};
use super::{BusySubmit, ConfirmStep, Overlay};
use crate::catalog::{Category, in_category};
use crate::client_setups::KeyAccess;
use crate::domain::{CredentialDetail, KeyKind, RotationGrace, format_utc};
use crate::functions::credentials::{
    DeleteCredential, PauseCredential, ResumeCredential, RevokeCredential, RotateCredential, get_credential,
};
use crate::policy::KeyState;
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;

#[component]
pub fn CredentialDrawer(access_key_id: String, list_state: ListState) -> impl IntoView {
    let detail = Resource::new(move || access_key_id.clone(), get_credential);
    let close_href = list_state.href(&[]);
    // A confirmation step takes the focus itself (see `ConfirmStep`).
    let confirming = use_query_map().read_untracked().get("confirm").is_some();
    view! {
        <Overlay close_href=close_href.clone()>
            <div class="drawer" role="dialog" aria-modal="true" aria-labelledby="drawer-title" tabindex="-1" autofocus=!confirming>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {
                        let close_href = close_href.clone();
                        let list_state = list_state.clone();
                        move || {
                            let close_href = close_href.clone();
                            let list_state = list_state.clone();
                            Suspend::new(async move {
                                match detail.await {
                                    Ok(detail) => view! { <DrawerBody detail list_state close_href /> }.into_any(),
                                    Err(err) => view! {
                                        <header class="dialog-header">
                                            <h2 id="drawer-title">"Credential"</h2>
                                            <a href=close_href class="btn btn-ghost btn-small">"Close"</a>
                                        </header>
                                        <p class="alert alert-error" role="alert">{err.to_string()}</p>
                                    }
                                        .into_any(),
                                }
                            })
                        }
                    }
                </Suspense>
            </div>
        </Overlay>
    }
}

#[component]
fn DrawerBody(detail: CredentialDetail, list_state: ListState, close_href: String) -> impl IntoView {
    let query = use_query_map();
    let confirm = move || query.read().get("confirm");
    let c = detail.credential;
    let id = c.access_key_id.clone();
    let state = c.state(detail.now);
    // Not revoked: it can still be revoked.
    let live = state != KeyState::Revoked;
    // Whether the key may still work: its secret is worth showing.
    let working = matches!(state, KeyState::Active | KeyState::Paused | KeyState::Retiring);
    let paused = state == KeyState::Paused;
    // Pausing and resuming concern keys that have not ended; a key an admin paused is
    // resumed by an admin only.
    let pausable = working && (!paused || detail.can_resume);
    let scoped = c.kind == KeyKind::Scoped;
    // Neither a rotated-out pair nor an expired key is edited back to life.
    let editable = scoped && matches!(state, KeyState::Active | KeyState::Paused);
    // A working key, or an expired one, is rotated into a new pair (once).
    let rotatable = scoped && matches!(state, KeyState::Active | KeyState::Expired);
    let confirm_href = {
        let list_state = list_state.clone();
        let id = id.clone();
        move |what: &str| list_state.href(&[("key", &id), ("confirm", what)])
    };
    let cancel_href = list_state.href(&[("key", &id)]);
    let by_category: Vec<(Category, Vec<&'static str>)> = Category::ALL
        .into_iter()
        .map(|cat| {
            (
                cat,
                in_category(cat)
                    .map(|a| a.name)
                    .filter(|n| c.actions.iter().any(|x| x == n))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, names)| !names.is_empty())
        .collect();
    let action_error = super::query_error();
    let title = c.name.clone().unwrap_or_else(|| "Master key".into());
    let asked = {
        let q = query.read_untracked();
        q.get(SIMULATE_PARAM)
            .map(|what| (what, q.get(SIMULATE_NAME_PARAM).unwrap_or_default()))
    };
    let access = KeyAccess {
        endpoint_url: detail.endpoint_url.clone(),
        region: c.region.clone(),
        bucket: c.bucket.clone(),
        path: c.path.clone(),
        name: c.name.clone(),
        access_key_id: id.clone(),
    };
    let header = view! {
        <header class="dialog-header">
            <div>
                <p class="crumbs">"Credential"</p>
                <h2 id="drawer-title">{title}</h2>
            </div>
            <a href=close_href class="btn btn-ghost btn-small" aria-label="Close the details">"Close"</a>
        </header>
    };
    let editing = query.read_untracked().get("edit");
    if let Some(step) = editing.filter(|_| editable) {
        let values = EditValues::from_query(&query.read_untracked(), &c);
        return view! {
            {header}
            <KeyEditor credential=c.clone() list_state previewing=step == "preview" values />
        }
        .into_any();
    }
    let saved = query.read_untracked().get("saved").is_some();
    view! {
        {header}
        {saved.then(|| view! { <p class="alert alert-ok" role="status" data-testid="edit-saved">"Changes saved. The S3 endpoint uses them within a second."</p> })}
        <dl class="props">
            <dt>"Status"</dt>
            <dd>
                <span class=state.badge_class() data-testid="drawer-status">{state.label()}</span>
                {paused.then(|| {
                    let note = if c.paused_by_admin {
                        " by an administrator — refused by the S3 endpoint until an administrator resumes it"
                    } else {
                        " — refused by the S3 endpoint until resumed"
                    };
                    view! { <span class="muted" data-testid="paused-note">{note}</span> }
                })}
                {c.revoked_at.map(|t| view! { <span class="muted">" since " {format_utc(t)}</span> })}
            </dd>
            {c.replaced_by.clone().map(|next| {
                let href = list_state.href(&[("key", &next)]);
                let until = c.expires_at.map(format_utc).unwrap_or_default();
                view! {
                    <dt>"Rotated"</dt>
                    <dd data-testid="replaced-by">
                        "Replaced by " <a href=href><code>{next}</code></a>
                        {match state {
                            KeyState::Retired => Some(format!("; this old key retired at {until}.")),
                            KeyState::Retiring => Some(format!("; this old key works until {until}, then retires.")),
                            _ => None,
                        }}
                    </dd>
                }
            })}
            {c.replaces.clone().map(|old| {
                let href = list_state.href(&[("key", &old)]);
                view! {
                    <dt>"Rotated from"</dt>
                    <dd data-testid="replaces">"Replaces " <a href=href><code>{old}</code></a></dd>
                }
            })}
            <dt>"Expires"</dt>
            <dd data-testid="expires">{c.expires_at.map(format_utc).unwrap_or_else(|| "Never".into())}</dd>
            <dt>"Bucket"</dt>
            <dd>{c.bucket.clone()} <span class="muted">" (" {c.region.clone()} ")"</span></dd>
            <dt>"Region endpoint"</dt>
            <dd><code>{detail.endpoint_url.clone()}</code></dd>
            <dt>"Path"</dt>
            <dd><code>{c.path.clone().unwrap_or_else(|| "/ (whole bucket)".into())}</code></dd>
            <dt>"Networks"</dt>
            <dd data-testid="networks">
                {if c.networks.is_empty() { "Anywhere".to_string() } else { c.networks.join(", ") }}
            </dd>
            <dt>"Permissions"</dt>
            <dd>{c.permission_summary.clone()}</dd>
            <dt>"Created"</dt>
            <dd>{format_utc(c.created_at)}</dd>
            <dt>"Last used"</dt>
            <dd data-testid="last-used">{c.last_used_at.map(format_utc).unwrap_or_else(|| "Never".into())}</dd>
            <dt>"Denied requests"</dt>
            <dd data-testid="denied-requests">{c.denied_requests}</dd>
        </dl>
        <section class="drawer-section" aria-labelledby="keys-title">
            <h3 id="keys-title">"Keys"</h3>
            <p class="label">"Access key id"</p>
            <div class="row">
                <code class="key-id" data-testid="access-key-id">{id.clone()}</code>
                <CopyText text=id.clone() label="Copy access key id".to_string() />
            </div>
            <p class="label">"Secret key"</p>
            {if detail.can_reveal {
                let setups = crate::client_setups::setups(&access, crate::client_setups::SECRET_PLACEHOLDER);
                view! { <SecretReveal access_key_id=id.clone() setups /> }.into_any()
            } else if !working {
                view! {
                    <p class="muted" data-testid="no-reveal">
                        {format!("This key's secret is not shown: the key is {} and no longer works.", state.label().to_lowercase())}
                    </p>
                }.into_any()
            } else {
                view! {
                    <p class="muted" data-testid="no-reveal">
                        {format!("Only its owner, {}, can reveal this secret: admins manage keys but never read them.", c.owner_email)}
                    </p>
                }.into_any()
            }}
            {working.then(|| view! {
                <div class="row">
                    <CyberduckLink access=access.clone() />
                </div>
            })}
        </section>
        <KeyActivityView activity=detail.activity.clone() />
        <KeyInsight credential=c.clone() list_state=list_state.clone() asked now=detail.now />
        <section class="drawer-section" aria-labelledby="actions-title">
            <h3 id="actions-title">"Actions"</h3>
            {by_category.into_iter().map(|(cat, names)| view! {
                <h4>{cat.label()} <span class="muted">{format!(" ({})", names.len())}</span></h4>
                <ul class="action-list">
                    {names.into_iter().map(|n| view! { <li><code>{n}</code></li> }).collect_view()}
                </ul>
            }).collect_view()}
        </section>
        {scoped.then(|| {
            let id = id.clone();
            let confirm_href = confirm_href.clone();
            let cancel_href = cancel_href.clone();
            view! {
                <section class="drawer-section danger" aria-labelledby="manage-title">
                    <h3 id="manage-title">"Manage"</h3>
                    {move || {
                    let id = id.clone();
                    let cancel_href = cancel_href.clone();
                    let revoke_href = confirm_href("revoke");
                    let delete_href = confirm_href("delete");
                    let rotate_href = confirm_href("rotate");
                    let edit_href = list_state.href(&[("key", &id), ("edit", "1")]);
                    match confirm().as_deref() {
                        Some("revoke") if live => view! {
                            <ConfirmStep
                                id="confirm-revoke".to_string()
                                message="Revoke this credential? Every application using it loses access at once. It stays in the list as revoked."
                                action=RevokeCredential::url()
                                fields=vec![("access_key_id", id.clone())]
                                label="Revoke credential"
                                busy_label="Revoking…"
                                cancel_href=cancel_href.clone()
                            />
                        }.into_any(),
                        Some("rotate") if rotatable => view! { <RotateStep access_key_id=id.clone() cancel_href=cancel_href.clone() /> }.into_any(),
                        Some("delete") => view! {
                            <ConfirmStep
                                id="confirm-delete".to_string()
                                message="Delete this credential for good? It stops working and leaves the list."
                                action=DeleteCredential::url()
                                fields=vec![("access_key_id", id.clone())]
                                label="Delete credential"
                                busy_label="Deleting…"
                                cancel_href=cancel_href.clone()
                            />
                        }.into_any(),
                        _ => view! {
                            <div class="row">
                                {pausable.then(|| {
                                    // Reversible, so no confirmation step: a plain post.
                                    let (action, label, busy) = if paused {
                                        (ResumeCredential::url(), "Resume", "Resuming…")
                                    } else {
                                        (PauseCredential::url(), "Pause", "Pausing…")
                                    };
                                    view! {
                                        <form method="post" action=action>
                                            <input type="hidden" name="access_key_id" value=id.clone() />
                                            <BusySubmit label=label.to_string() busy_label=busy.to_string() class="btn".to_string() />
                                        </form>
                                    }
                                })}
                                {editable.then(|| view! { <a href=edit_href class="btn">"Edit"</a> })}
                                {rotatable.then(|| view! { <a href=rotate_href class="btn">"Rotate"</a> })}
                                {live.then(|| view! { <a href=revoke_href class="btn btn-danger-outline">"Revoke"</a> })}
                                <a href=delete_href class="btn btn-danger-outline">"Delete"</a>
                            </div>
                        }.into_any(),
                    }}}
                    {move || action_error().map(|e| view! { <p class="alert alert-error" role="alert">{e}</p> })}
                </section>
            }
        })}
    }
    .into_any()
}

/// Rotate's second step: how long the old pair keeps working beside the new one.
#[component]
fn RotateStep(access_key_id: String, cancel_href: String) -> impl IntoView {
    view! {
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-rotate" tabindex="-1" autofocus>
            <p id="confirm-rotate">
                "Rotate this key? A new key pair with the same bucket, path, actions and networks takes its name. \
                 Update your applications to the new pair; the old one keeps working until the end of the grace period, then retires on its own."
            </p>
            <form method="post" action=RotateCredential::url()>
                <input type="hidden" name="access_key_id" value=access_key_id />
                <fieldset class="grace">
                    <legend>"The old key stops working"</legend>
                    {RotationGrace::ALL.into_iter().map(|grace| view! {
                        <label class="radio">
                            <input type="radio" name="grace" value=grace.as_str() checked=grace == RotationGrace::Day required />
                            {grace.label()}
                        </label>
                    }).collect_view()}
                </fieldset>
                <div class="row">
                    <BusySubmit label="Rotate key".to_string() busy_label="Rotating…".to_string() class="btn btn-danger".to_string() />
                    <a href=cancel_href class="btn">"Cancel"</a>
                </div>
            </form>
        </div>
    }
}
