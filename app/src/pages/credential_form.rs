//! The Create Credential form: name, bucket, path, and the action tree with Filter
//! Actions, Expand All / Collapse All, All S3 Actions and the presets. An island: the
//! page around it is server-rendered, this part runs in the browser.

use super::modal_keys;
use crate::action_tree::{TreeMove, TreeRow, is_open, key_move, tab_stop, visible_rows};
use crate::catalog::{self, Category, Preset, TriState, category_state, in_category, matches_filter, toggle_category};
use crate::domain::{BucketChoice, CredentialDraft, EXPIRY_CHOICES, normalize_credential_name, normalize_path};
use crate::functions::credentials::CreateCredential;
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use std::collections::BTreeSet;

type Chosen = RwSignal<BTreeSet<&'static str>>;

/// `error` is what a plain (no JavaScript) post of this form brought back.
#[island]
pub fn CreateCredentialForm(
    buckets: Vec<BucketChoice>,
    close_href: String,
    error: Option<String>,
    /// What was entered before a refused plain post; empty for a fresh form.
    draft: CredentialDraft,
    /// The person's own address as the server sees it, offered for the networks field.
    my_address: Option<String>,
) -> impl IntoView {
    let create = ServerAction::<CreateCredential>::new();
    let name = RwSignal::new(draft.name.clone());
    let bucket_id = RwSignal::new(draft.bucket_id.clone());
    let path = RwSignal::new(draft.path.clone());
    let networks = RwSignal::new(draft.networks.clone());
    let chosen: Chosen = RwSignal::new(
        draft
            .actions
            .iter()
            .filter_map(|a| catalog::find(a).map(|a| a.name))
            .collect(),
    );
    let all_actions = RwSignal::new(draft.all_actions);
    let expires = RwSignal::new(draft.expires.clone());
    let expires_on = RwSignal::new(draft.expires_on.clone());
    let filter = RwSignal::new(String::new());
    let expanded = RwSignal::new(BTreeSet::from(Category::ALL));
    // Until the page is hydrated the browser cannot re-check the form, so Submit stays
    // enabled for plain HTML posts; the server checks every rule either way.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    // The refusal to show: this form's own latest answer, else the plain post's that
    // brought the page back (its field named by the address).
    let plain_post_refusal = StoredValue::new(error.map(|message| (draft.error_field.clone(), message)));
    let refusal = move || -> Option<(Option<String>, String)> {
        match create.value().get() {
            Some(Err(e)) => Some((
                e.field()
                    .map(|f| if f == "bucket" { "bucket_id" } else { f }.to_string()),
                e.to_string(),
            )),
            // After this form's own answer, an error of an earlier plain post is stale.
            Some(Ok(_)) => None,
            None => plain_post_refusal.get_value(),
        }
    };
    let server_error = move |field: &'static str| {
        refusal()
            .filter(|(f, _)| f.as_deref() == Some(field))
            .map(|(_, message)| message)
    };
    // The keyboard starts at the field in error (or the name): `autofocus` in the HTML,
    // so it works without JavaScript too; after this form's own refusal, an effect.
    let focus_at = draft.error_field.clone().unwrap_or_else(|| "name".into());
    Effect::new(move |_| {
        if let Some(Err(e)) = create.value().get() {
            focus_field(e.field().unwrap_or("name"));
        }
    });
    // The server's word on the name (a duplicate) holds for the name it was sent; once
    // the name is edited, only the local checks speak until the next submit.
    let submitted_name = StoredValue::new(draft.name.clone());
    let name_error = move || {
        let typed = name.get();
        // Read first, so the message follows every answer (tracking is by what is read).
        let from_server = server_error("name");
        (!typed.is_empty())
            .then(|| normalize_credential_name(&typed).err())
            .flatten()
            .or_else(|| from_server.filter(|_| typed == submitted_name.get_value()))
    };
    let path_error = move || normalize_path(&path.get()).err().or_else(|| server_error("path"));
    let bucket_error = move || server_error("bucket_id");
    let networks_error = move || {
        crate::networks::NetworkList::parse(&networks.get())
            .err()
            .or_else(|| server_error("networks"))
    };
    let expires_error = move || server_error("expires");
    let actions_error = move || server_error("actions");
    // What still stops Submit, in the words shown beside it (None: ready).
    let missing = move || {
        if normalize_credential_name(&name.get()).is_err() {
            Some("Give the credential a name.")
        } else if bucket_id.get().is_empty() {
            Some("Choose a bucket.")
        } else if normalize_path(&path.get()).is_err() {
            Some("Correct the path.")
        } else if !all_actions.get() && chosen.read().is_empty() {
            Some("Choose at least one action.")
        } else {
            None
        }
    };
    let valid = move || missing().is_none();
    let apply_preset = move |preset: Preset| {
        all_actions.set(false);
        chosen.set(preset.actions().names().clone());
    };
    // A key limited to a folder cannot change bucket-wide settings: with a path, those
    // actions are unavailable and any already ticked are let go.
    let path_limited = Signal::derive(move || matches!(normalize_path(&path.get()), Ok(Some(_))));
    // With All S3 Actions the tree shows every action the key gets as ticked, so the
    // legend, the category counts and the boxes always agree.
    let shown_chosen: Signal<BTreeSet<&'static str>> = Signal::derive(move || {
        if all_actions.get() {
            catalog::ACTIONS
                .iter()
                .filter(|a| !(path_limited.get() && a.category.needs_whole_bucket()))
                .map(|a| a.name)
                .collect()
        } else {
            chosen.get()
        }
    });
    let chosen_count = move || shown_chosen.read().len();
    Effect::new(move |_| {
        if path_limited.get() {
            chosen.update(|c| c.retain(|name| catalog::find(name).is_none_or(|a| !a.category.needs_whole_bucket())));
        }
    });

    // Posted by hand from the form's state rather than read back from the form (an
    // `ActionForm` would put a form-data parser into the browser bundle); without
    // JavaScript the same form posts itself.
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if create.pending().get_untracked() {
            return;
        }
        submitted_name.set_value(name.get_untracked());
        create.dispatch(CreateCredential {
            name: name.get_untracked(),
            bucket_id: bucket_id.get_untracked().parse().ok(),
            path: path.get_untracked(),
            actions: shown_chosen.get_untracked().iter().map(|a| a.to_string()).collect(),
            all_actions: if all_actions.get_untracked() {
                crate::functions::Sent::Value("on".into())
            } else {
                crate::functions::Sent::Missing
            },
            expires: expires.get_untracked(),
            expires_on: expires_on.get_untracked(),
            networks: networks.get_untracked(),
        });
    };

    modal_keys(close_href.clone());
    view! {
        <div class="overlay" role="presentation">
            <section
                class="dialog"
                role="dialog"
                aria-modal="true"
                aria-labelledby="create-title"
                data-hydrated=move || hydrated.get().then_some("true")
            >
                <header class="dialog-header">
                    <h2 id="create-title">"Create Credential"</h2>
                    <a href=close_href.clone() class="btn btn-ghost btn-small" aria-label="Close">"Close"</a>
                </header>
                <form method="post" action=CreateCredential::url() class="stack" aria-labelledby="create-title" novalidate on:submit=submit>
                    // Every refusal is summed up at the top (the field's own message sits
                    // beside it too), so nobody has to look for it at the bottom.
                    {move || refusal().map(|(field, message)| view! {
                        <div class="alert alert-error error-summary" role="alert">
                            <p>{message}</p>
                            {field.map(|f| view! {
                                <a href=format!("#{}", field_element_id(&f))>"Go to the field"</a>
                            })}
                        </div>
                    })}
                    <div class="field">
                        <label for="cred-name">"Credential Name"</label>
                        <input
                            id="cred-name"
                            name="name"
                            autofocus=focus_at == "name"
                            value=draft.name.clone()
                            type="text"
                            maxlength="64"
                            required
                            autocomplete="off"
                            aria-describedby="cred-name-error"
                            aria-invalid=move || name_error().is_some().to_string()
                            on:input=move |ev| name.set(event_target_value(&ev))
                        />
                        <FieldError id="cred-name-error" message=Signal::derive(name_error) />
                    </div>
                    <div class="field">
                        <label for="cred-bucket">"Stook Bucket"</label>
                        {
                            let regions: BTreeSet<String> = buckets.iter().map(|b| b.region.clone()).collect();
                            view! {
                                <select
                                    id="cred-bucket"
                                    name="bucket_id"
                                    autofocus=focus_at == "bucket_id"
                                    required
                                    aria-describedby="cred-bucket-error"
                                    on:change=move |ev| bucket_id.set(event_target_value(&ev))
                                >
                                    <option value="">"Choose a bucket"</option>
                                    {regions.into_iter().map(|region| {
                                        let in_region: Vec<BucketChoice> = buckets.iter().filter(|b| b.region == region).cloned().collect();
                                        view! {
                                            <optgroup label=region.clone()>
                                                {in_region.into_iter().map(|b| view! {
                                                    <option value=b.id.to_string() selected=b.id.to_string() == draft.bucket_id>
                                                        {format!("{} ({})", b.name, b.region)}
                                                    </option>
                                                }).collect_view()}
                                            </optgroup>
                                        }
                                    }).collect_view()}
                                </select>
                            }
                        }
                        <FieldError id="cred-bucket-error" message=Signal::derive(bucket_error) />
                    </div>
                    <div class="field">
                        <label for="cred-path">"Path " <span class="muted">"(optional)"</span></label>
                        <input
                            id="cred-path"
                            name="path"
                            autofocus=focus_at == "path"
                            value=draft.path.clone()
                            type="text"
                            placeholder="photos/2024/"
                            autocomplete="off"
                            aria-describedby="cred-path-hint cred-path-error"
                            aria-invalid=move || path_error().is_some().to_string()
                            on:input=move |ev| path.set(event_target_value(&ev))
                        />
                        <p id="cred-path-hint" class="hint">
                            {move || match normalize_path(&path.get()) {
                                Ok(Some(p)) => format!("The key reaches only {p} and what lies below it."),
                                _ => "Limits the key to one folder. Leave empty for the whole bucket.".to_string(),
                            }}
                        </p>
                        <FieldError id="cred-path-error" message=Signal::derive(path_error) />
                    </div>
                    <div class="field">
                        <label for="cred-expires">"Expires " <span class="muted">"(optional)"</span></label>
                        <div class="row expiry">
                            <select
                                id="cred-expires"
                                name="expires"
                                aria-describedby="cred-expires-hint"
                                on:change=move |ev| expires.set(event_target_value(&ev))
                            >
                                <option value="" selected=draft.expires.is_empty()>"Never"</option>
                                {EXPIRY_CHOICES.into_iter().map(|days| view! {
                                    <option value=days.to_string() selected=draft.expires == days.to_string()>
                                        {if days == 1 { "In 1 day".to_string() } else { format!("In {days} days") }}
                                    </option>
                                }).collect_view()}
                                <option value="date" selected=draft.expires == "date">"On a date…"</option>
                            </select>
                            <label for="cred-expires-on" class="sr-only">"Expiry day"</label>
                            <input
                                id="cred-expires-on"
                                type="date"
                                name="expires_on"
                                value=draft.expires_on.clone()
                                on:input=move |ev| expires_on.set(event_target_value(&ev))
                            />
                        </div>
                        <p id="cred-expires-hint" class="hint">"After this the S3 endpoint refuses the key (with “On a date…”, at the end of that day, UTC)."</p>
                        <FieldError id="cred-expires-error" message=Signal::derive(expires_error) />
                    </div>
                    <div class="field">
                        <label for="cred-networks">"Networks " <span class="muted">"(optional)"</span></label>
                        <input
                            id="cred-networks"
                            name="networks"
                            type="text"
                            autofocus=focus_at == "networks"
                            value=draft.networks.clone()
                            prop:value=networks
                            placeholder="10.0.0.0/8, 2001:db8::/32"
                            autocomplete="off"
                            aria-describedby="cred-networks-hint cred-networks-error"
                            aria-invalid=move || networks_error().is_some().to_string()
                            on:input=move |ev| networks.set(event_target_value(&ev))
                        />
                        <p id="cred-networks-hint" class="hint">
                            "Only requests from these networks (CIDR, separated by commas) may use the key. Leave empty for anywhere."
                            {my_address.clone().map(|addr| view! { " " {format!("Your address now: {addr}.")} })}
                        </p>
                        {my_address.map(|addr| {
                            let own = if addr.contains(':') { format!("{addr}/128") } else { format!("{addr}/32") };
                            view! {
                                <button
                                    type="button"
                                    class="link-button add-address"
                                    on:click=move |_| networks.update(|list| {
                                        if !list.split(|c: char| c == ',' || c.is_whitespace()).any(|w| w == own) {
                                            if !list.trim().is_empty() {
                                                list.push_str(", ");
                                            }
                                            list.push_str(&own);
                                        }
                                    })
                                >
                                    "Add my address"
                                </button>
                            }
                        })}
                        <FieldError id="cred-networks-error" message=Signal::derive(networks_error) />
                    </div>
                    <fieldset class="actions-field" aria-describedby="cred-actions-error">
                        <legend>"Actions " <span class="muted">{move || format!("({} chosen)", chosen_count())}</span></legend>
                        <label class="check all-actions">
                            <input
                                id="cred-all-actions"
                                type="checkbox"
                                name="all_actions"
                                autofocus=focus_at == "actions"
                                value="on"
                                checked=all_actions
                                prop:checked=all_actions
                                on:change=move |ev| all_actions.set(event_target_checked(&ev))
                            />
                            " All S3 Actions"
                        </label>
                        <div class="tree-toolbar">
                            <input
                                type="search"
                                class="filter"
                                aria-label="Filter Actions"
                                placeholder="Filter Actions"
                                disabled=all_actions
                                on:input=move |ev| filter.set(event_target_value(&ev))
                            />
                            <button type="button" class="link-button" disabled=all_actions on:click=move |_| expanded.set(BTreeSet::from(Category::ALL))>
                                "Expand All"
                            </button>
                            <button type="button" class="link-button" disabled=all_actions on:click=move |_| expanded.set(BTreeSet::new())>
                                "Collapse All"
                            </button>
                        </div>
                        <div class="presets" role="group" aria-label="Presets">
                            <span class="muted">"Presets:"</span>
                            <button type="button" class="btn btn-small" on:click=move |_| apply_preset(Preset::ReadOnly)>"Read Only"</button>
                            <button type="button" class="btn btn-small" on:click=move |_| apply_preset(Preset::ReadWrite)>"Read & Write"</button>
                        </div>
                        <ActionTree chosen shown_chosen filter expanded disabled=all_actions.into() hydrated=hydrated.into() path_limited />
                        <FieldError id="cred-actions-error" message=Signal::derive(actions_error) />
                    </fieldset>
                    <div class="dialog-footer">
                        <p id="submit-missing" class="submit-missing muted" role="status">
                            {move || hydrated.get().then(missing).flatten()}
                        </p>
                        <a href=close_href.clone() class="btn">"Cancel"</a>
                        <button
                            type="submit"
                            class="btn btn-primary"
                            disabled=move || create.pending().get() || (hydrated.get() && !valid())
                            aria-describedby="submit-missing"
                        >
                            {move || if create.pending().get() { "Creating…" } else { "Submit" }}
                        </button>
                    </div>
                </form>
            </section>
        </div>
    }
}

/// The form element that takes the focus for a field's error.
fn field_element_id(field: &str) -> &'static str {
    match field {
        "bucket_id" | "bucket" => "cred-bucket",
        "path" => "cred-path",
        "expires" => "cred-expires",
        "networks" => "cred-networks",
        "actions" => "cred-all-actions",
        _ => "cred-name",
    }
}

/// Moves the keyboard focus to the control of a field in error.
fn focus_field(field: &str) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast as _;
        if let Some(element) = document()
            .get_element_by_id(field_element_id(field))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = field;
}

/// Moves the keyboard focus to a row's checkbox.
fn focus_row(row: TreeRow) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast as _;
        if let Some(checkbox) = document()
            .get_element_by_id(&row.checkbox_id())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = checkbox.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = row;
}

#[component]
fn FieldError(id: &'static str, message: Signal<Option<String>>) -> impl IntoView {
    view! { <p id=id class="field-error" role="status">{move || message.get()}</p> }
}

/// The action tree (ARIA tree pattern): a category row with a tri-state checkbox, its
/// actions below. Filtered-out rows are hidden, not removed, so their checkboxes stay in
/// the form and a filter never loses a selection. Once hydrated, one checkbox is in the
/// Tab order (roving tabindex) and the arrow keys move between rows; before that every
/// checkbox is, so the plain HTML form works by keyboard too.
#[component]
fn ActionTree(
    chosen: Chosen,
    /// What the boxes show: `chosen`, or everything under All S3 Actions.
    shown_chosen: Signal<BTreeSet<&'static str>>,
    filter: RwSignal<String>,
    expanded: RwSignal<BTreeSet<Category>>,
    disabled: Signal<bool>,
    hydrated: Signal<bool>,
    path_limited: Signal<bool>,
) -> impl IntoView {
    let last_focused = RwSignal::new(None::<TreeRow>);
    let tab_stop_row =
        Memo::new(move |_| tab_stop(&visible_rows(&filter.read(), &expanded.read()), last_focused.get()));
    let tabindex = move |row: TreeRow| {
        move || {
            if !hydrated.get() || tab_stop_row.get() == Some(row) {
                "0"
            } else {
                "-1"
            }
        }
    };
    let open = move |category| is_open(category, &expanded.read(), &filter.read());
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let Some(current) = last_focused.get_untracked() else {
            return;
        };
        let rows = visible_rows(&filter.get_untracked(), &expanded.get_untracked());
        let step = key_move(&rows, current, &ev.key(), |c| {
            is_open(c, &expanded.read_untracked(), &filter.read_untracked())
        });
        match step {
            TreeMove::Ignore => return,
            TreeMove::Focus(row) => focus_row(row),
            TreeMove::Open(category) => expanded.update(|e| {
                e.insert(category);
            }),
            TreeMove::Close(category) => expanded.update(|e| {
                e.remove(&category);
            }),
        }
        ev.prevent_default();
    };
    let nothing_matches = move || {
        let text = filter.get();
        !text.trim().is_empty() && !catalog::ACTIONS.iter().any(|a| matches_filter(a, &text))
    };
    view! {
        <ul
            class="action-tree"
            role="tree"
            aria-label="S3 actions"
            aria-multiselectable="true"
            on:keydown=on_key
        >
            {Category::ALL.into_iter().map(|category| {
                let row = TreeRow::Category(category);
                let state = move || category_state(category, &shown_chosen.read());
                let shown = move || in_category(category).any(|a| matches_filter(a, &filter.read()));
                let total = in_category(category).count();
                let picked = move || in_category(category).filter(|a| shown_chosen.read().contains(a.name)).count();
                let toggle_open = move || expanded.update(|e| {
                    if !e.remove(&category) {
                        e.insert(category);
                    }
                });
                let group_id = format!("tree-group-{category:?}");
                let unavailable = move || category.needs_whole_bucket() && path_limited.get();
                let row_disabled = move || disabled.get() || unavailable();
                let note_id = format!("tree-note-{category:?}");
                view! {
                    <li
                        role="treeitem"
                        class="tree-category"
                        hidden=move || !shown()
                        aria-expanded=move || open(category).to_string()
                        aria-checked=move || state().aria_checked()
                        aria-labelledby=format!("{}-label", row.checkbox_id())
                    >
                        <div class="tree-row">
                            <button
                                type="button"
                                class="twisty"
                                tabindex="-1"
                                aria-hidden="true"
                                on:click=move |_| toggle_open()
                            >
                                {move || if open(category) { "▾" } else { "▸" }}
                            </button>
                            <label class="check">
                                <input
                                    type="checkbox"
                                    id=row.checkbox_id()
                                    aria-controls=group_id.clone()
                                    disabled=row_disabled
                                    tabindex=tabindex(row)
                                    prop:checked=move || state() == TriState::All
                                    prop:indeterminate=move || state() == TriState::Some
                                    on:focus=move |_| last_focused.set(Some(row))
                                    on:change=move |_| chosen.update(|c| toggle_category(category, &filter.get_untracked(), c))
                                />
                                <span class="tree-label" id=format!("{}-label", row.checkbox_id())>{category.label()}</span>
                                <span class="count muted">{move || format!("{}/{total}", picked())}</span>
                            </label>
                        </div>
                        {move || unavailable().then(|| view! {
                            <p class="hint tree-note" id=note_id.clone()>
                                "Not available with a path: bucket-wide settings need a key for the whole bucket."
                            </p>
                        })}
                        <ul role="group" id=group_id hidden=move || !open(category)>
                            {in_category(category).map(|action| {
                                let name = action.name;
                                let row = TreeRow::Action(category, name);
                                let is_chosen = move || shown_chosen.read().contains(name);
                                view! {
                                    <li
                                        role="treeitem"
                                        class="tree-action"
                                        hidden=move || !matches_filter(action, &filter.read())
                                        aria-checked=move || is_chosen().to_string()
                                        aria-labelledby=format!("{}-name", row.checkbox_id())
                                        aria-describedby=format!("{}-description", row.checkbox_id())
                                    >
                                        <label class="check">
                                            <input
                                                type="checkbox"
                                                id=row.checkbox_id()
                                                name="actions[]"
                                                value=name
                                                disabled=row_disabled
                                                tabindex=tabindex(row)
                                                // The attribute for the server-rendered page
                                                // (a form sent back keeps its ticks without
                                                // JavaScript), the property once hydrated.
                                                checked=is_chosen
                                                prop:checked=is_chosen
                                                on:focus=move |_| last_focused.set(Some(row))
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    chosen.update(|c| {
                                                        if on { c.insert(name); } else { c.remove(name); }
                                                    });
                                                }
                                            />
                                            <code id=format!("{}-name", row.checkbox_id())>{name}</code>
                                            <span class="muted description" id=format!("{}-description", row.checkbox_id())>{action.description}</span>
                                        </label>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </li>
                }
            }).collect_view()}
        </ul>
        {move || nothing_matches().then(|| view! {
            <p class="muted no-match" role="status">{format!("No action matches “{}”.", filter.get().trim())}</p>
        })}
    }
}
