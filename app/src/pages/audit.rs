//! Stook Object Storage → Audit log: who did what, when and from where. Customers see
//! their own events, admins everyone's. The filters are a plain GET form, so the page
//! and its CSV export (`/api/audit.csv`, the same filters) work without JavaScript.

use super::Pager;
use super::list_query::percent_encode;
use crate::domain::{AuditAction, AuditPage, SignedInUser, format_utc};
use crate::functions::audit::audit_events;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The filter fields, as the address carries them.
const FIELDS: [&str; 5] = ["actor", "credential", "action", "from", "to"];

#[component]
pub fn AuditPage() -> impl IntoView {
    let viewer = expect_context::<SignedInUser>();
    let query = use_query_map();
    let fields = Memo::new(move |_| {
        let q = query.read();
        FIELDS.map(|name| q.get(name).unwrap_or_default())
    });
    let page = Memo::new(move |_| {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(0)
    });
    let events = Resource::new(
        move || (fields.get(), page.get()),
        |([actor, credential, action, from, to], page)| audit_events(actor, credential, action, from, to, page),
    );
    let intro = if viewer.is_admin() {
        "Every person's sign-ins, keys, reveals and changes, newest first."
    } else {
        "Your sign-ins, your keys, reveals and changes (and an admin's changes to them), newest first."
    };
    view! {
        <Title text="Audit log" />
        <div class="page-header">
            <div>
                <p class="crumbs">"Stook Object Storage"</p>
                <h1>"Audit log"</h1>
            </div>
        </div>
        <p class="intro muted">{intro}</p>
        {move || {
            let [actor, credential, action, from, to] = fields.get();
            let filters: Vec<(&str, String)> = FIELDS.into_iter().zip(fields.get()).filter(|(_, v)| !v.is_empty()).collect();
            let export_href = if filters.is_empty() {
                "/api/audit.csv".to_string()
            } else {
                let query: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect();
                format!("/api/audit.csv?{}", query.join("&"))
            };
            view! {
                <form method="get" action="/audit" class="toolbar audit-filters" aria-label="Filter the audit log">
                    <div class="field">
                        <label for="audit-actor">"Actor email"</label>
                        <input id="audit-actor" type="text" name="actor" value=actor autocomplete="off" />
                    </div>
                    <div class="field">
                        <label for="audit-credential">"Access key id"</label>
                        <input id="audit-credential" type="text" name="credential" value=credential autocomplete="off" />
                    </div>
                    <div class="field">
                        <label for="audit-action">"Action"</label>
                        <select id="audit-action" name="action">
                            <option value="" selected=action.is_empty()>"Any action"</option>
                            {AuditAction::ALL.into_iter().map(|a| view! {
                                <option value=a.as_str() selected=action == a.as_str()>{a.label()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="audit-from">"From (UTC day)"</label>
                        <input id="audit-from" type="date" name="from" value=from />
                    </div>
                    <div class="field">
                        <label for="audit-to">"To (UTC day)"</label>
                        <input id="audit-to" type="date" name="to" value=to />
                    </div>
                    <div class="row filter-buttons">
                        <button type="submit" class="btn btn-primary">"Apply"</button>
                        <a href="/audit" class="btn">"Clear"</a>
                        <a href=export_href class="btn" download="stook-audit.csv" data-testid="audit-export">"Export CSV"</a>
                    </div>
                </form>
            }
        }}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(found) => view! { <AuditTable found fields=fields.get_untracked() /> }.into_any(),
                    Err(err) => view! { <p class="alert alert-error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AuditTable(found: AuditPage, fields: [String; 5]) -> impl IntoView {
    if found.events.is_empty() {
        return view! {
            <div class="empty-state"><p>"No event matches these filters."</p></div>
        }
        .into_any();
    }
    let page_href = move |page: u64| {
        let mut params: Vec<String> = FIELDS
            .into_iter()
            .zip(fields.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        if page > 0 {
            params.push(format!("page={page}"));
        }
        if params.is_empty() {
            "/audit".to_string()
        } else {
            format!("/audit?{}", params.join("&"))
        }
    };
    let first = found.page * found.page_size + 1;
    let last = first + found.events.len() as u64 - 1;
    let prev = (found.page > 0).then(|| page_href(found.page - 1));
    let next = (last < found.total).then(|| page_href(found.page + 1));
    view! {
        <div class="table-wrap">
            <table class="data-table audit-table" data-testid="audit-table">
                <caption class="sr-only">"Audit events"</caption>
                <thead>
                    <tr>
                        <th scope="col">"When (UTC)"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"On"</th>
                        <th scope="col">"From"</th>
                    </tr>
                </thead>
                <tbody>
                    {found.events.into_iter().map(|e| {
                        let label = e.action_label();
                        view! {
                            <tr>
                                <td class="when" data-label="When">{format_utc(e.at)}</td>
                                <td data-label="Who">{e.actor_shown()}</td>
                                <td data-label="What">{label} <span class="muted action-name">{format!(" {}", e.action)}</span></td>
                                <td data-label="On"><code>{e.target.clone()}</code></td>
                                <td data-label="From">{e.client_addr.clone().unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <Pager first last total=found.total prev next />
    }
    .into_any()
}
