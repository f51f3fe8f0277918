//! Stook Object Storage → Credentials: the list, the Create Credential form and the
//! detail drawer. Which of them shows is in the URL (`?new`, `?key=…`), so links, the
//! back button and plain HTML forms (no JavaScript) all work.

use super::Pager;
use super::credential_drawer::CredentialDrawer;
use super::credential_form::CreateCredentialForm;
pub use super::list_query::ListState;
use crate::domain::{CredentialDraft, CredentialPage, ListSort, SignedInUser, format_utc};
use crate::functions::buckets::list_buckets;
use crate::functions::credentials::list_credentials;
use crate::policy::KeyState;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// How long before its expiry the list warns that a key will stop.
const EXPIRY_WARNING_SECS: i64 = 7 * 86_400;

#[component]
pub fn CredentialsPage() -> impl IntoView {
    let viewer = expect_context::<SignedInUser>();
    let is_admin = viewer.is_admin();
    let query = use_query_map();
    let list_state = Memo::new(move |_| {
        let q = query.read();
        ListState {
            search: q.get("q").unwrap_or_default(),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
            owner: q.get("owner").unwrap_or_default(),
            bucket: q.get("bucket").and_then(|b| b.parse().ok()),
            sort: q.get("sort").unwrap_or_default(),
            status: q.get("status").unwrap_or_default(),
        }
    });
    let open_key = Memo::new(move |_| query.read().get("key").filter(|k| !k.is_empty()));
    let creating = Memo::new(move |_| query.read().get("new").is_some());
    let bulk = Memo::new(move |_| {
        let q = query.read();
        q.get("bulk")
            .map(|change| (change, q.get_all("keys").unwrap_or_default()))
    });
    let done = Memo::new(move |_| {
        let q = query.read();
        let count: usize = q.get("count").and_then(|c| c.parse().ok()).unwrap_or(0);
        let keys = if count == 1 { "key" } else { "keys" };
        match q.get("done").as_deref() {
            Some("paused") => Some(format!("{count} {keys} paused.")),
            Some("revoked") => Some(format!("{count} {keys} revoked.")),
            _ => None,
        }
    });

    let credentials = Resource::new(
        move || list_state.get(),
        |state| {
            list_credentials(
                state.search,
                state.page,
                state.owner,
                state.bucket,
                state.sort,
                state.status,
            )
        },
    );
    let buckets = Resource::new(|| (), |_| list_buckets());

    view! {
        <Title text="Credentials" />
        <div class="page-header">
            <div>
                <p class="crumbs">"Stook Object Storage"</p>
                <h1>"Stook Credentials"</h1>
            </div>
            <A href=move || list_state.get().href(&[("new", "1")]) attr:class="btn btn-primary">"Create Credential"</A>
        </div>
        <form method="get" action="/" class="toolbar" role="search" aria-label="Search credentials">
            <input
                type="search"
                name="q"
                aria-label="Search by name, bucket or access key id"
                placeholder="Search by name, bucket or access key id"
                value=move || list_state.get().search
            />
            {is_admin.then(|| view! {
                <input type="search" name="owner" aria-label="Customer email" placeholder="Customer email" value=move || list_state.get().owner />
            })}
            <BucketFilter buckets selected=Signal::derive(move || list_state.get().bucket) is_admin />
            <select name="status" aria-label="Status">
                <option value="" selected=move || list_state.get().status.is_empty()>"Any status"</option>
                {KeyState::ALL.into_iter().map(|s| view! {
                    <option value=s.as_str() selected=move || list_state.get().status == s.as_str()>{s.label()}</option>
                }).collect_view()}
            </select>
            <select name="sort" aria-label="Sort by">
                {ListSort::ALL.into_iter().map(|s| view! {
                    <option
                        value=s.as_str()
                        selected=move || {
                            let sort = list_state.get().sort;
                            sort == s.as_str() || (sort.is_empty() && s == ListSort::default())
                        }
                    >
                        {format!("Sort: {}", s.label())}
                    </option>
                }).collect_view()}
            </select>
            <button type="submit" class="btn">"Search"</button>
        </form>
        {move || done.get().map(|text| view! { <p class="alert alert-ok" role="status" data-testid="bulk-done">{text}</p> })}
        <Transition fallback=|| view! { <p class="muted">"Loading credentials…"</p> }>
            {move || Suspend::new(async move {
                match credentials.await {
                    Err(err) => view! { <p class="alert alert-error" role="alert">{err.to_string()}</p> }.into_any(),
                    Ok(page) => view! { <CredentialTable page list_state=list_state.get_untracked() is_admin /> }.into_any(),
                }
            })}
        </Transition>
        {move || creating.get().then(|| view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let buckets: Vec<_> = buckets.await.unwrap_or_default().into_iter().map(Into::into).collect();
                    let close_href = list_state.get().href(&[]);
                    if buckets.is_empty() {
                        view! { <NoBucketsYet close_href /> }.into_any()
                    } else {
                        let draft = draft_from_query(&query.read_untracked());
                        let my_address = crate::functions::known_client_addr();
                        view! { <CreateCredentialForm buckets close_href error=super::query_error()() draft my_address /> }.into_any()
                    }
                })}
            </Suspense>
        })}
        {move || open_key.get().map(|key| view! { <CredentialDrawer access_key_id=key list_state=list_state.get() /> })}
        {move || bulk.get().map(|(change, keys)| view! { <BulkConfirm change keys close_href=list_state.get().href(&[]) /> })}
    }
}

/// The form as the person left it, when a plain post came back refused (see
/// `functions::keep_in_redirect`), and the field the refusal names.
fn draft_from_query(query: &leptos_router::params::ParamsMap) -> CredentialDraft {
    let text = |name: &str| query.get(name).unwrap_or_default();
    let error_code = text("error");
    CredentialDraft {
        name: text("name"),
        bucket_id: text("bucket_id"),
        path: text("path"),
        actions: text("actions")
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect(),
        all_actions: !text("all_actions").is_empty(),
        expires: text("expires"),
        expires_on: text("expires_on"),
        networks: text("networks"),
        error_field: error_code
            .strip_prefix("invalid.")
            .or_else(|| error_code.strip_prefix("conflict."))
            .map(|field| if field == "bucket" { "bucket_id" } else { field }.to_string()),
    }
}

/// What Create Credential shows a customer who has no bucket: a key opens one bucket,
/// so there is nothing to choose yet; what a bucket is and who makes one.
#[component]
fn NoBucketsYet(close_href: String) -> impl IntoView {
    view! {
        <super::Overlay close_href=close_href.clone()>
            <section class="dialog" role="dialog" aria-modal="true" aria-labelledby="no-buckets-title" tabindex="-1" autofocus>
                <header class="dialog-header">
                    <h2 id="no-buckets-title">"Create Credential"</h2>
                    <a href=close_href.clone() class="btn btn-ghost btn-small" aria-label="Close">"Close"</a>
                </header>
                <div class="dialog-body">
                    <p><strong>"You have no bucket yet, and every credential is a key to one bucket."</strong></p>
                    <p>
                        "A bucket is a named store for your files in one region (like eu-west-1). It comes with a master key \
                         for the whole bucket, and from it you make credentials limited to a folder and to the actions a tool needs."
                    </p>
                    <p>
                        "Buckets are created by your Stook administrator. Ask them for one: it will show on the Buckets page, \
                         and you can then create credentials here."
                    </p>
                </div>
                <div class="dialog-footer">
                    <a href=close_href class="btn">"Close"</a>
                </div>
            </section>
        </super::Overlay>
    }
}

#[component]
fn BucketFilter(
    buckets: Resource<Result<Vec<crate::domain::BucketView>, crate::error::AppError>>,
    selected: Signal<Option<i32>>,
    is_admin: bool,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = buckets.await.unwrap_or_default();
                view! {
                    <select name="bucket" aria-label="Bucket">
                        <option value="">"All buckets"</option>
                        {list.into_iter().map(|b| {
                            let id = b.id;
                            view! {
                                <option value=id.to_string() selected=move || selected.get() == Some(id)>
                                    // A customer's buckets are all their own: no need to say whose.
                                    {if is_admin {
                                        format!("{} ({}) — {}", b.name, b.region, b.owner_email)
                                    } else {
                                        format!("{} ({})", b.name, b.region)
                                    }}
                                </option>
                            }
                        }).collect_view()}
                    </select>
                }
            })}
        </Suspense>
    }
}

#[component]
fn CredentialTable(page: CredentialPage, list_state: ListState, is_admin: bool) -> impl IntoView {
    if page.total == 0 {
        let searching = !list_state.search.is_empty()
            || !list_state.owner.is_empty()
            || list_state.bucket.is_some()
            || !list_state.status.is_empty();
        return if searching {
            view! {
                <div class="empty-state">
                    <h2>"No credential matches"</h2>
                    <p class="muted">"Try another name, bucket or access key id."</p>
                    <a href="/" class="btn">"Clear the search"</a>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="empty-state">
                    <h2>"Create your first credential"</h2>
                    <p class="muted">
                        "A credential is a key pair limited to one bucket, an optional folder and the S3 actions you choose. Make one for each tool that needs access — Cyberduck, rclone, aws-cli or your own code."
                    </p>
                    <a href=list_state.href(&[("new", "1")]) class="btn btn-primary">"Create Credential"</a>
                </div>
            }
            .into_any()
        };
    }
    let page_count = page.page_count();
    if page.items.is_empty() {
        // An address past the last page (an old link, or the last key just deleted).
        let first_page = ListState {
            page: 0,
            ..list_state.clone()
        }
        .href(&[]);
        return view! {
            <div class="empty-state">
                <h2>"No such page"</h2>
                <p class="muted">{format!(
                    "The list has {} {}; this address asks for page {}.",
                    page_count,
                    if page_count == 1 { "page" } else { "pages" },
                    page.page + 1
                )}</p>
                <a href=first_page class="btn">"Go to the first page"</a>
            </div>
        }
        .into_any();
    }
    let now = page.now;
    let first = page.page * page.page_size + 1;
    let last = first + page.items.len() as u64 - 1;
    let prev = (page.page > 0).then(|| {
        ListState {
            page: page.page - 1,
            ..list_state.clone()
        }
        .href(&[])
    });
    let next = (page.page + 1 < page_count).then(|| {
        ListState {
            page: page.page + 1,
            ..list_state.clone()
        }
        .href(&[])
    });
    view! {
        // Rows are chosen with checkboxes that belong to this form (`form="bulk-form"`);
        // it asks for a confirmation first (`?bulk=`), with or without JavaScript.
        <form id="bulk-form" method="get" action="/" class="bulk-bar" aria-label="Change the selected keys">
            {list_state.params().into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value /> }).collect_view()}
            <super::FormTokenField />
            <span class="muted">"Selected keys:"</span>
            <button type="submit" name="bulk" value="pause" class="btn btn-small">"Pause selected"</button>
            <button type="submit" name="bulk" value="revoke" class="btn btn-small btn-danger-outline">"Revoke selected"</button>
        </form>
        <div class="table-wrap">
            <table class="data-table" aria-label="Credentials">
                <thead>
                    // Narrower windows fold the less important columns (`col-fold`) into
                    // the row's detail line under the name; on a phone each row is a card.
                    <tr>
                        <th scope="col" class="col-select"><span class="sr-only">"Select"</span></th>
                        <th scope="col">"Name"</th>
                        {is_admin.then(|| view! { <th scope="col" class="col-owner">"Owner"</th> })}
                        <th scope="col">"Bucket"</th>
                        <th scope="col" class="col-path">"Path"</th>
                        <th scope="col">"Permissions"</th>
                        <th scope="col" class="col-key">"Access key id"</th>
                        <th scope="col" class="col-fold">"Created"</th>
                        <th scope="col" class="col-fold">"Last used"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|c| {
                        // Page loads are server-rendered, so "now" is the server's.
                        let state = c.state(now);
                        let revoked = state == KeyState::Revoked;
                        let (status_class, status_text) = (state.badge_class(), state.label());
                        let linked = c.replaced_by.as_ref().map(|next| format!("Replaced by {next}"))
                            .or_else(|| c.replaces.as_ref().map(|old| format!("Replaces {old}")));
                        // A week's notice before a working key stops.
                        let expiring = state
                            .is_usable()
                            .then_some(c.expires_at)
                            .flatten()
                            .filter(|t| *t - now <= EXPIRY_WARNING_SECS)
                            // Whole days left, rounded up: a key made to last 7 days says 7.
                            .map(|t| {
                                let ends = if c.replaced_by.is_some() { "Retires" } else { "Expires" };
                                // Hours, rounded up, on its last day (a 1-hour grace period says so).
                                match ((t - now + 86_399).div_euclid(86_400), (t - now + 3_599).div_euclid(3_600)) {
                                    (..=1, ..=1) => format!("{ends} within an hour"),
                                    (..=1, hours) => format!("{ends} in {hours} hours"),
                                    (days, _) => format!("{ends} in {days} days"),
                                }
                            });
                        let href = list_state.href(&[("key", &c.access_key_id)]);
                        let created = format_utc(c.created_at);
                        let last_used = c.last_used_at.map(format_utc).unwrap_or_else(|| "Never".into());
                        view! {
                            <tr class:revoked=revoked>
                                <td class="col-select">
                                    <input
                                        type="checkbox"
                                        name="keys"
                                        value=c.access_key_id.clone()
                                        form="bulk-form"
                                        aria-label=format!("Select {}", c.name.clone().unwrap_or_default())
                                    />
                                </td>
                                <td class="cell-name">
                                    <a href=href class="row-link">{c.name.unwrap_or_default()}</a>
                                    // What the folded columns would say, shown only when they fold.
                                    <span class="row-detail muted">
                                        {is_admin.then(|| view! { <span class="detail-owner">{c.owner_email.clone()}</span> })}
                                        <span class="detail-key"><code>{c.access_key_id.clone()}</code></span>
                                        <span class="detail-dates">{format!("Created {created} · Last used {last_used}")}</span>
                                    </span>
                                </td>
                                {is_admin.then(|| view! { <td class="col-owner" data-label="Owner">{c.owner_email.clone()}</td> })}
                                <td data-label="Bucket">{c.bucket} " " <span class="muted region">"(" {c.region} ")"</span></td>
                                <td class="col-path" data-label="Path"><code>{c.path.unwrap_or_else(|| "/".into())}</code></td>
                                <td data-label="Permissions">{c.permission_summary}</td>
                                <td class="col-key" data-label="Access key id"><code>{c.access_key_id}</code></td>
                                <td class="col-fold date">{created}</td>
                                <td class="col-fold date">{last_used}</td>
                                <td data-label="Status">
                                    <span class=status_class>{status_text}</span>
                                    {expiring.map(|text| view! { <span class="expiring" data-testid="expiring">{text}</span> })}
                                    {linked.map(|text| view! { <span class="muted linked" data-testid="rotation-link">{text}</span> })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <Pager first last total=page.total prev next />
    }
    .into_any()
}

/// The confirmation of a bulk change: how many keys it changes, posted only from here.
#[component]
fn BulkConfirm(change: String, keys: Vec<String>, close_href: String) -> impl IntoView {
    use crate::functions::credentials::BulkChange;
    use leptos::server_fn::ServerFn as _;
    let count = keys.len();
    let own_form = super::opened_from_own_form();
    let noun = if count == 1 { "key" } else { "keys" };
    let (title, explanation, label, busy) = match change.as_str() {
        "revoke" => (
            format!("Revoke {count} {noun}?"),
            "Every application using them loses access at once, for good. They stay in the list as revoked.",
            format!("Revoke {count} {noun}"),
            "Revoking…",
        ),
        _ => (
            format!("Pause {count} {noun}?"),
            "The S3 endpoint refuses them as inactive until each is resumed from its details.",
            format!("Pause {count} {noun}"),
            "Pausing…",
        ),
    };
    let change = if change == "revoke" { "revoke" } else { "pause" };
    // Revoking is for good; a pause is undone with Resume.
    let button_class = if change == "revoke" {
        "btn btn-danger"
    } else {
        "btn btn-primary"
    };
    view! {
        <super::Overlay close_href=close_href.clone()>
            <section class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="bulk-title" tabindex="-1" autofocus>
                <header class="dialog-header">
                    <h2 id="bulk-title">{if count == 0 { "No key selected".to_string() } else { title }}</h2>
                    <a href=close_href.clone() class="btn btn-ghost btn-small" aria-label="Close">"Close"</a>
                </header>
                <div class="dialog-body">
                    // A refused change comes back here with its reason in the address.
                    <super::ErrorNote message=Signal::derive(super::query_error()) />
                    {if count == 0 {
                        view! { <p>"Tick the keys to change in the list first, then choose Pause selected or Revoke selected."</p> }.into_any()
                    } else {
                        view! {
                            <p>{explanation}</p>
                            <ul class="bulk-keys">{keys.iter().map(|k| view! { <li><code>{k.clone()}</code></li> }).collect_view()}</ul>
                        }.into_any()
                    }}
                </div>
                <Suspense>
                    {move || {
                        let (keys, label, close_href) = (keys.clone(), label.clone(), close_href.clone());
                        Suspend::new(async move {
                            let own = own_form.await;
                            view! {
                                {(count > 0 && !own).then(|| view! {
                                    <div class="dialog-body"><super::FromALinkNote what="keys" advice="To change them, tick them in the list yourself and choose again." /></div>
                                })}
                                <div class="dialog-footer">
                                    {(count > 0 && own).then(|| view! {
                                        <form method="post" action=BulkChange::url()>
                                            <input type="hidden" name="change" value=change />
                                            {keys.into_iter().map(|k| view! { <input type="hidden" name="keys[]" value=k /> }).collect_view()}
                                            <super::BusySubmit label busy_label=busy.to_string() class=button_class.to_string() />
                                        </form>
                                    })}
                                    <a href=close_href class="btn">"Cancel"</a>
                                </div>
                            }
                        })
                    }}
                </Suspense>
            </section>
        </super::Overlay>
    }
}
