//! Settings (admins): the longest lifetime a customer may give a key. A plain form, so it
//! works without JavaScript.

use super::{BusySubmit, ErrorNote};
use crate::domain::SignedInUser;
use crate::functions::settings::{UpdateSettings, get_settings};
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let viewer = expect_context::<SignedInUser>();
    let settings = Resource::new(|| (), |_| get_settings());
    let saved = use_query_map().read_untracked().get("saved").is_some();
    view! {
        <Title text="Settings" />
        <div class="page-header">
            <div>
                <p class="crumbs">"Stook Object Storage"</p>
                <h1>"Settings"</h1>
            </div>
        </div>
        {if !viewer.is_admin() {
            view! { <p class="alert alert-error" role="alert">"Only admins change Stook's settings."</p> }.into_any()
        } else {
            view! {
                <ErrorNote message=Signal::derive(super::query_error()) />
                {saved.then(|| view! { <p class="alert alert-ok" role="status" data-testid="settings-saved">"Settings saved. They hold on every instance from now on."</p> })}
                <Suspense fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
                    {move || Suspend::new(async move {
                        match settings.await {
                            Err(err) => view! { <p class="alert alert-error" role="alert">{err.to_string()}</p> }.into_any(),
                            Ok(s) => {
                                let source = if s.set_in_panel {
                                    "Set here."
                                } else {
                                    "From the server's environment (STOOK_MAX_KEY_LIFETIME_DAYS) until you save one here."
                                };
                                view! {
                                    <form method="post" action=UpdateSettings::url() class="card settings-card">
                                        <div class="field">
                                            <label for="max-lifetime">"Longest key lifetime for customers (days)"</label>
                                            <input
                                                id="max-lifetime"
                                                name="max_key_lifetime_days"
                                                type="number"
                                                min="1"
                                                max=crate::domain::LONGEST_LIMIT_DAYS.to_string()
                                                value=s.max_key_lifetime_days.map(|d| d.to_string()).unwrap_or_default()
                                                aria-describedby="max-lifetime-hint"
                                            />
                                            <p id="max-lifetime-hint" class="hint">
                                                "Customers must give each key an expiry within this many days when they create, edit or rotate it. \
                                                 Empty: no limit. Admins are not held to it. "
                                                {source}
                                            </p>
                                        </div>
                                        <BusySubmit label="Save settings".to_string() busy_label="Saving…".to_string() class="btn btn-primary".to_string() />
                                    </form>
                                }.into_any()
                            }
                        }
                    })}
                </Suspense>
            }.into_any()
        }}
    }
}
