//! "Know your key" in the credential drawer: what it can do in words, a simulator that
//! asks the S3 endpoint's own evaluator, the equivalent IAM policy, and ready-to-paste
//! client set-ups (after the secret is revealed) with a Cyberduck bookmark.

use super::list_query::{ListState, percent_encode};
use super::secret::{CopyButton, CopyText};
use crate::catalog::ACTIONS;
use crate::client_setups::{self, KeyAccess};
use crate::domain::{CredentialView, KeyKind};
use crate::explain;
use crate::policy::{KeyScope, Operation, simulate};
use leptos::prelude::*;

/// The simulator's inputs in the address, so it also answers without JavaScript.
pub const SIMULATE_PARAM: &str = "sim";
pub const SIMULATE_NAME_PARAM: &str = "sim_key";

/// The summary, the simulator and the IAM policy of one credential.
#[component]
pub fn KeyInsight(
    credential: CredentialView,
    list_state: ListState,
    asked: Option<(String, String)>,
    /// The server's time when it read the key (for expiry).
    now: i64,
) -> impl IntoView {
    let scope = KeyScope::of_view(&credential);
    let refusal = credential.state(now).refusal().map(str::to_string);
    let summary = match &refusal {
        Some(reason) => format!(
            "The S3 endpoint refuses every request with this key. {reason} While it worked: {}",
            explain::summary(&scope, &credential.region)
        ),
        None => explain::summary(&scope, &credential.region),
    };
    let policy = serde_json::to_string_pretty(&explain::iam_policy(&scope)).unwrap_or_default();
    let (what, name) = asked.unwrap_or_else(|| ("GetObject".into(), credential.path.clone().unwrap_or_default()));
    let mut keep = list_state.params();
    keep.push(("key".into(), credential.access_key_id.clone()));
    view! {
        <section class="drawer-section" aria-labelledby="can-title">
            <h3 id="can-title">"What this key can do"</h3>
            <p data-testid="scope-summary">{summary}</p>
            <KeySimulator
                bucket=credential.bucket.clone()
                path=credential.path.clone()
                actions=credential.actions.clone()
                master=credential.kind == KeyKind::Master
                what
                name
                keep
                refusal
            />
        </section>
        <section class="drawer-section" aria-labelledby="iam-title">
            <h3 id="iam-title">"As an AWS IAM policy"</h3>
            <p class="hint">"The same grant written for AWS or another S3 system that reads IAM policies."</p>
            <pre class="code-block" tabindex="0" aria-label="IAM policy document" data-testid="iam-policy"><code>{policy.clone()}</code></pre>
            <CopyText text=policy label="Copy the IAM policy".to_string() />
        </section>
    }
}

/// Pick an S3 operation or action and type an object key or prefix: Allowed or Denied,
/// with the reason, from the evaluator the S3 endpoint uses (compiled into the page).
#[island]
pub fn KeySimulator(
    bucket: String,
    path: Option<String>,
    actions: Vec<String>,
    master: bool,
    what: String,
    name: String,
    /// The address parameters a plain (no JavaScript) check keeps: the list and the key.
    keep: Vec<(String, String)>,
    /// Why the endpoint refuses this key outright (revoked, expired), if it does.
    refusal: Option<String>,
) -> impl IntoView {
    let kind = if master { KeyKind::Master } else { KeyKind::Scoped };
    let scope = StoredValue::new(KeyScope::from_stored(kind, bucket, path, &actions.join(" "), None));
    let what = RwSignal::new(what);
    let name = RwSignal::new(name);
    let answer = Memo::new(move |_| {
        scope.with_value(|scope| simulate(scope, &what.get(), &name.get()).map(|s| s.refused(refusal.as_deref())))
    });
    let chosen = what.get_untracked();
    let option = move |value: &'static str| {
        view! { <option value=value selected=chosen == value>{value}</option> }
    };
    view! {
        <form
            method="get"
            action="/"
            class="simulator"
            aria-label="Check what this key may do"
            data-hydrated=super::hydration_marker()
            // In the browser the answer follows every change; no page load needed.
            on:submit=|ev| ev.prevent_default()
        >
            {keep.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v /> }).collect_view()}
            <div class="field">
                <label for="sim-op">"S3 operation or action"</label>
                <select id="sim-op" name=SIMULATE_PARAM on:change=move |ev| what.set(event_target_value(&ev))>
                    <optgroup label="Operations">
                        {Operation::ALL.iter().map(|o| option(o.name())).collect_view()}
                    </optgroup>
                    <optgroup label="Actions">
                        {ACTIONS.iter().map(|a| option(a.name)).collect_view()}
                    </optgroup>
                </select>
            </div>
            <div class="field">
                <label for="sim-name">"Object key or prefix"</label>
                <input
                    id="sim-name"
                    type="text"
                    name=SIMULATE_NAME_PARAM
                    placeholder="photos/2024/beach.jpg"
                    // The attribute for the server-rendered page, the property once live.
                    value=name.get_untracked()
                    prop:value=name
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
            </div>
            <noscript><button type="submit" class="btn btn-small">"Check"</button></noscript>
        </form>
        <p class="simulation" role="status" aria-live="polite" data-testid="simulation">
            {move || match answer.get() {
                Ok(s) if s.allowed => view! {
                    <span class="verdict verdict-allowed">"Allowed"</span>
                    " "
                    {match &s.action {
                        Some(action) => format!("{} on this {} needs {action}, which this key has.", s.operation, s.applies_to_short()),
                        None => format!("{} needs no action: any key may ask.", s.operation),
                    }}
                    {s.note.as_ref().map(|note| format!(" {note}"))}
                }.into_any(),
                Ok(s) => view! {
                    <span class="verdict verdict-denied">"Denied"</span>
                    " "
                    {format!("{}: {}.", s.operation, s.reason.unwrap_or_default())}
                }.into_any(),
                Err(message) => view! { <span class="field-error">{message}</span> }.into_any(),
            }}
        </p>
    }
}

impl crate::policy::Simulation {
    /// "object key", "prefix" or "bucket", for a sentence about the answer.
    fn applies_to_short(&self) -> &str {
        if self.applies_to.starts_with("nothing") {
            "bucket"
        } else {
            &self.applies_to
        }
    }
}

/// The Cyberduck bookmark as a download (it holds no secret, so it needs no reveal and
/// no JavaScript).
#[component]
pub fn CyberduckLink(access: KeyAccess) -> impl IntoView {
    let file_name = client_setups::cyberduck_file_name(&access);
    let href = format!(
        "data:application/octet-stream;charset=utf-8,{}",
        percent_encode(&client_setups::cyberduck_bookmark(&access))
    );
    view! {
        <a class="btn btn-small" href=href download=file_name data-testid="cyberduck-bookmark">
            "Download a Cyberduck bookmark"
        </a>
    }
}

/// The ready-to-paste set-ups, once the secret is known in the browser.
#[component]
pub fn ClientSetups(setups: Vec<client_setups::Setup>, #[prop(into)] secret: Signal<String>) -> impl IntoView {
    let secret_now = secret.get_untracked();
    view! {
        <div class="setups" data-testid="client-setups">
            <p class="label">"Use this key with…"</p>
            {setups
                .into_iter()
                .map(|setup| {
                    let text = setup.with_secret(&secret_now);
                    view! {
                        <details class="setup">
                            <summary>{setup.client.clone()}</summary>
                            <p class="hint">{format!("Paste into {}, then try: ", setup.place)} <code>{setup.try_it.clone()}</code></p>
                            <pre class="code-block" tabindex="0" aria-label=format!("{} set-up", setup.client)><code>{text.clone()}</code></pre>
                            <CopyButton text=Signal::stored(text) label=format!("Copy the {} set-up", setup.client) />
                        </details>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// What the key did at the S3 endpoint: last use, requests per action, the latest denied
/// requests with the evaluator's reasons, and the addresses it came from.
#[component]
pub fn KeyActivityView(activity: crate::domain::KeyActivity) -> impl IntoView {
    use crate::domain::format_utc;
    let crate::domain::KeyActivity {
        last_use,
        by_action,
        denials,
        sources,
        other_folder_requests,
    } = activity;
    let quiet = by_action.is_empty();
    view! {
        <section class="drawer-section" aria-labelledby="activity-title" data-testid="activity">
            <h3 id="activity-title">"Activity"</h3>
            {match last_use {
                Some(last) => view! {
                    <p data-testid="activity-last-use">
                        {format!("Latest request (allowed or denied): {}, {} from {}.", format_utc(last.at), last.operation, last.client_addr)}
                    </p>
                }.into_any(),
                None if quiet => view! {
                    <p class="muted">"No requests in the last 30 days. The S3 endpoint writes what it sees every few seconds."</p>
                }.into_any(),
                None => view! { <p class="muted">"No source address was recorded."</p> }.into_any(),
            }}
            {(!quiet).then(|| view! {
                <div class="table-wrap">
                    <table class="data-table compact" data-testid="activity-by-action">
                        <caption class="sr-only">"Requests per action"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Action"</th>
                                <th scope="col">"Last 24 hours"</th>
                                <th scope="col">"Last 30 days"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {by_action.into_iter().map(|a| {
                                let cell = |requests: i64, denied: i64| match denied {
                                    0 => requests.to_string(),
                                    d => format!("{requests} ({d} denied)"),
                                };
                                view! {
                                    <tr>
                                        <td data-label="Action"><code>{if a.action == "-" { "none needed (ListBuckets, or an operation Stook does not serve)".to_string() } else { a.action.clone() }}</code></td>
                                        <td data-label="Last 24 hours">{cell(a.day_requests, a.day_denied)}</td>
                                        <td data-label="Last 30 days">{cell(a.month_requests, a.month_denied)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {(other_folder_requests > 0).then(|| view! {
                    <p class="hint" data-testid="activity-other-folders">
                        {format!(
                            "{other_folder_requests} of these requests went to other folders (not recorded one by one): past a number of folders a key is counted in per hour, the rest are counted together."
                        )}
                    </p>
                })}
            })}
            {(!denials.is_empty()).then(|| view! {
                <h4>"Latest denied requests"</h4>
                <ul class="denials" data-testid="activity-denials">
                    {denials.into_iter().map(|d| view! {
                        <li>
                            <span class="muted">{format_utc(d.at)}</span>
                            " " <strong>{d.operation}</strong>
                            {d.object_key.filter(|k| !k.is_empty()).map(|k| view! { " " <code>{k}</code> })}
                            {d.client_addr.map(|a| format!(" from {a}"))}
                            ": " {d.reason}
                        </li>
                    }).collect_view()}
                </ul>
            })}
            {(!sources.is_empty()).then(|| view! {
                <h4>{match sources.iter().filter(|s| !s.others).count() {
                    n if n < sources.len() => format!("Source addresses ({n} and others)"),
                    n => format!("Source addresses ({n})"),
                }}</h4>
                <ul class="sources" data-testid="activity-sources">
                    {sources.into_iter().map(|s| {
                        // Addresses past the ones a key keeps are counted together.
                        let address = if s.others {
                            view! { <span>"Other addresses (not recorded one by one)"</span> }.into_any()
                        } else {
                            view! { <code>{s.client_addr}</code> }.into_any()
                        };
                        view! {
                            <li>{address} <span class="muted">{format!(" last {}", format_utc(s.last_seen))}</span></li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}
