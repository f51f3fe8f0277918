//! Editing a credential in its drawer, in two steps that are both plain pages (so they
//! work without JavaScript and add nothing to the browser bundle): the form
//! (`?key=…&edit=1`) sends its values by GET to the preview (`&edit=preview`), which
//! shows what saving would change and break, and posts them to the update function.

use super::BusySubmit;
use super::list_query::ListState;
use crate::catalog::{Category, in_category};
use crate::domain::{CredentialView, EXPIRY_CHOICES, EditPreview, PREVIEW_DAYS, format_utc};
use crate::functions::Sent;
use crate::functions::credentials::{UpdateCredential, preview_edit};
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::params::ParamsMap;

/// The address parameters that carry an edit's values.
const EDIT_PARAMS: [&str; 7] = [
    "name",
    "path",
    "actions[]",
    "edit_actions",
    "expires",
    "expires_on",
    "networks",
];

/// The values of an edit: from the address when the person comes back from the preview,
/// else the credential's own.
#[derive(Clone, Debug, PartialEq)]
pub struct EditValues {
    pub name: String,
    pub path: String,
    pub actions: Vec<String>,
    /// `keep`, `never`, a number of days, or `date`.
    pub expires: String,
    pub expires_on: String,
    pub networks: String,
}

impl EditValues {
    pub fn from_query(query: &ParamsMap, c: &CredentialView) -> EditValues {
        let text = |name: &str| query.get(name);
        EditValues {
            name: text("name").unwrap_or_else(|| c.name.clone().unwrap_or_default()),
            path: text("path").unwrap_or_else(|| c.path.clone().unwrap_or_default()),
            actions: if text("edit_actions").is_some() {
                query.get_all("actions[]").unwrap_or_default()
            } else {
                c.actions.clone()
            },
            expires: text("expires").unwrap_or_else(|| "keep".into()),
            expires_on: text("expires_on").unwrap_or_default(),
            networks: text("networks").unwrap_or_else(|| c.networks.join(", ")),
        }
    }

    /// As form fields (also the address of the preview and of "Back to edit").
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("name", self.name.clone()),
            ("path", self.path.clone()),
            ("edit_actions", "on".to_string()),
            ("expires", self.expires.clone()),
            ("expires_on", self.expires_on.clone()),
            ("networks", self.networks.clone()),
        ];
        fields.extend(self.actions.iter().map(|a| ("actions[]", a.clone())));
        fields
    }
}

/// The editor for one credential: the form, or the preview of what it would change.
#[component]
pub fn KeyEditor(
    credential: CredentialView,
    list_state: ListState,
    previewing: bool,
    values: EditValues,
) -> impl IntoView {
    let id = credential.access_key_id.clone();
    let cancel_href = list_state.href(&[("key", &id)]);
    if previewing {
        view! { <EditPreviewStep access_key_id=id list_state values cancel_href /> }.into_any()
    } else {
        view! { <EditForm credential list_state values cancel_href /> }.into_any()
    }
}

#[component]
fn EditForm(
    credential: CredentialView,
    list_state: ListState,
    values: EditValues,
    cancel_href: String,
) -> impl IntoView {
    let expires_now = credential
        .expires_at
        .map(|t| format!("Keep ({})", format_utc(t)))
        .unwrap_or_else(|| "Keep (never)".into());
    let chosen = values.actions.clone();
    // Values in the address came from the preview's "Back to edit" (which carries the
    // form token) or from a link someone else wrote (which cannot).
    let prefilled = {
        let query = leptos_router::hooks::use_query_map();
        let query = query.read_untracked();
        EDIT_PARAMS.iter().any(|name| query.get(name).is_some())
    };
    let own_form = super::opened_from_own_form();
    view! {
        <section class="drawer-section editor" aria-labelledby="edit-title">
            <h3 id="edit-title">"Edit credential"</h3>
            {prefilled.then(|| view! {
                <Suspense>
                    {move || Suspend::new(async move {
                        (!own_form.await).then(|| view! { <super::FromALinkNote what="values" advice="Check each one before you preview and save them." /> })
                    })}
                </Suspense>
            })}
            <p class="muted">"Nothing changes until you save: the next step shows what this edit would change and which recent requests it would break."</p>
            <form method="get" action="/" class="form-grid" tabindex="-1" autofocus>
                {list_state.params().into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value /> }).collect_view()}
                <input type="hidden" name="key" value=credential.access_key_id.clone() />
                <input type="hidden" name="edit" value="preview" />
                <input type="hidden" name="edit_actions" value="on" />
                <super::FormTokenField />
                <div class="field">
                    <label for="edit-name">"Name"</label>
                    <input id="edit-name" name="name" type="text" required value=values.name.clone() autocomplete="off" />
                </div>
                <div class="field">
                    <label for="edit-path">"Path " <span class="muted">"(optional)"</span></label>
                    <input id="edit-path" name="path" type="text" value=values.path.clone() placeholder="photos/2024/" autocomplete="off" />
                    <p class="hint">"Empty for the whole bucket."</p>
                </div>
                <fieldset class="field edit-actions">
                    <legend>"Actions"</legend>
                    {Category::ALL.into_iter().map(|category| {
                        let in_it: Vec<_> = in_category(category).collect();
                        let ticked = in_it.iter().filter(|a| chosen.iter().any(|c| c == a.name)).count();
                        view! {
                            <details open={ticked > 0}>
                                <summary>{category.label()} <span class="muted">{format!(" ({ticked} of {})", in_it.len())}</span></summary>
                                <ul class="edit-action-list">
                                    {in_it.into_iter().map(|action| {
                                        let checked = chosen.iter().any(|c| c == action.name);
                                        view! {
                                            <li>
                                                <label class="check">
                                                    <input type="checkbox" name="actions[]" value=action.name checked=checked />
                                                    <code>{action.name}</code>
                                                </label>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </details>
                        }
                    }).collect_view()}
                </fieldset>
                <div class="field">
                    <label for="edit-expires">"Expires"</label>
                    <div class="row expiry">
                        <select id="edit-expires" name="expires">
                            <option value="keep" selected=values.expires == "keep">{expires_now}</option>
                            <option value="never" selected=values.expires == "never">"Never"</option>
                            {EXPIRY_CHOICES.into_iter().map(|days| view! {
                                <option value=days.to_string() selected=values.expires == days.to_string()>
                                    {if days == 1 { "In 1 day from now".to_string() } else { format!("In {days} days from now") }}
                                </option>
                            }).collect_view()}
                            <option value="date" selected=values.expires == "date">"On a date…"</option>
                        </select>
                        <label for="edit-expires-on" class="sr-only">"Expiry day"</label>
                        <input id="edit-expires-on" type="date" name="expires_on" value=values.expires_on.clone() />
                    </div>
                </div>
                <div class="field">
                    <label for="edit-networks">"Networks " <span class="muted">"(optional)"</span></label>
                    <input id="edit-networks" name="networks" type="text" value=values.networks.clone() placeholder="10.0.0.0/8, 2001:db8::/32" autocomplete="off" />
                    <p class="hint">"Empty for anywhere."</p>
                </div>
                <div class="row">
                    <button type="submit" class="btn btn-primary">"Preview changes"</button>
                    <a href=cancel_href class="btn">"Cancel"</a>
                </div>
            </form>
        </section>
    }
}

#[component]
fn EditPreviewStep(
    access_key_id: String,
    list_state: ListState,
    values: EditValues,
    cancel_href: String,
) -> impl IntoView {
    let asked = (access_key_id.clone(), values.clone());
    let own_form = super::opened_from_own_form();
    let preview = Resource::new(
        move || asked.clone(),
        |(id, v)| {
            preview_edit(
                id,
                Sent::Value(v.name),
                Sent::Value(v.path),
                v.actions,
                Sent::Value("on".into()),
                Sent::Value(v.expires),
                Sent::Value(v.expires_on),
                Sent::Value(v.networks),
            )
        },
    );
    let back_href = {
        let fields = values.fields();
        // The token goes back with the values: they are the person's own again (or still
        // a link's, which the form then says).
        let token = leptos_router::hooks::use_query_map()
            .read_untracked()
            .get(super::FORM_TOKEN_PARAM)
            .unwrap_or_default();
        let mut params: Vec<(&str, &str)> = vec![("key", &access_key_id), ("edit", "1")];
        params.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        if !token.is_empty() {
            params.push((super::FORM_TOKEN_PARAM, &token));
        }
        list_state.href(&params)
    };
    view! {
        <section class="drawer-section editor" aria-labelledby="preview-title" tabindex="-1" autofocus>
            <h3 id="preview-title">"Review the changes"</h3>
            // A refused save comes back here with its reason in the address.
            <super::ErrorNote message=Signal::derive(super::query_error()) />
            <Suspense fallback=|| view! { <p class="muted">"Working out what would change…"</p> }>
                {
                    let back_href = back_href.clone();
                    let cancel_href = cancel_href.clone();
                    let values = values.clone();
                    let access_key_id = access_key_id.clone();
                    move || {
                        let back_href = back_href.clone();
                        let cancel_href = cancel_href.clone();
                        let values = values.clone();
                        let access_key_id = access_key_id.clone();
                        Suspend::new(async move {
                            match preview.await {
                                Err(err) => view! {
                                    <p class="alert alert-error" role="alert">{err.to_string()}</p>
                                    <div class="row">
                                        <a href=back_href class="btn btn-primary">"Back to edit"</a>
                                        <a href=cancel_href class="btn">"Cancel"</a>
                                    </div>
                                }.into_any(),
                                Ok(preview) if !own_form.await => view! {
                                    <super::FromALinkNote what="changes" advice="Check each one; to go ahead, open them in the form and continue from there." />
                                    <PreviewBody preview=preview.clone() />
                                    <div class="row">
                                        <a href=back_href class="btn btn-primary">"Open in the form"</a>
                                        <a href=cancel_href class="btn">"Cancel"</a>
                                    </div>
                                }.into_any(),
                                Ok(preview) => view! {
                                    <PreviewBody preview=preview.clone() />
                                    <form method="post" action=UpdateCredential::url() class="row">
                                        <input type="hidden" name="access_key_id" value=access_key_id />
                                        {values.fields().into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value /> }).collect_view()}
                                        {(!preview.changes_nothing()).then(|| view! {
                                            <BusySubmit label="Save changes".to_string() busy_label="Saving…".to_string() class="btn btn-primary".to_string() />
                                        })}
                                        <a href=back_href class="btn">"Back to edit"</a>
                                        <a href=cancel_href class="btn">"Cancel"</a>
                                    </form>
                                }.into_any(),
                            }
                        })
                    }
                }
            </Suspense>
        </section>
    }
}

#[component]
fn PreviewBody(preview: EditPreview) -> impl IntoView {
    if preview.changes_nothing() {
        return view! { <p data-testid="edit-no-change">"Nothing would change: every field is as it was."</p> }
            .into_any();
    }
    let action_list = |names: Vec<String>| {
        view! { <ul class="action-list">{names.into_iter().map(|n| view! { <li><code>{n}</code></li> }).collect_view()}</ul> }
    };
    view! {
        <table class="data-table compact" aria-label="Changes" data-testid="edit-changes">
            <thead><tr><th scope="col">"Field"</th><th scope="col">"Now"</th><th scope="col">"After saving"</th></tr></thead>
            <tbody>
                {preview.changes.into_iter().map(|c| view! {
                    <tr><th scope="row">{c.field}</th><td data-label="Now">{c.before}</td><td data-label="After saving">{c.after}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
        {(!preview.gained.is_empty()).then(|| view! {
            <h4>{format!("Actions gained ({})", preview.gained.len())}</h4>
            <div data-testid="edit-gained">{action_list(preview.gained.clone())}</div>
        })}
        {(!preview.lost.is_empty()).then(|| view! {
            <h4>{format!("Actions lost ({})", preview.lost.len())}</h4>
            <div data-testid="edit-lost">{action_list(preview.lost.clone())}</div>
        })}
        <h4>{format!("Requests of the last {PREVIEW_DAYS} days")}</h4>
        {if preview.would_fail.is_empty() {
            view! { <p data-testid="edit-would-fail">"None of the requests this key made in that time would be denied."</p> }.into_any()
        } else {
            view! {
                <ul class="denials" data-testid="edit-would-fail">
                    {preview.would_fail.into_iter().map(|f| view! {
                        <li><strong>{f.sentence()}</strong> <span class="muted">{format!(": {}", f.reason)}</span></li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {(!preview.addresses_left_out.is_empty()).then(|| view! {
            <p class="alert alert-error" data-testid="edit-addresses">
                {format!(
                    "Requests from {} (seen in the last {PREVIEW_DAYS} days) would be refused: the new networks leave them out.",
                    preview.addresses_left_out.join(", ")
                )}
            </p>
        })}
    }
    .into_any()
}
