use crate::domain::{KeyStatus, SignedInUser, format_utc};
use crate::functions::storage::list_credentials;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CredentialsPage() -> impl IntoView {
    let viewer = expect_context::<SignedInUser>();
    let is_admin = viewer.is_admin();
    let credentials = Resource::new(|| (), |_| list_credentials());
    view! {
        <Title text="Credentials" />
        <div class="page-header">
            <div>
                <p class="crumbs">"Stook Object Storage"</p>
                <h1>"Stook Credentials"</h1>
            </div>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading credentials…"</p> }>
            {move || Suspend::new(async move {
                match credentials.await {
                    Err(err) => view! { <p class="alert alert-error" role="alert">{err.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state">
                            <h2>"No credentials yet"</h2>
                            <p class="muted">
                                "A credential is a key pair limited to one bucket, an optional folder and the S3 actions you choose. Create one for each tool that needs access."
                            </p>
                        </div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="data-table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        {is_admin.then(|| view! { <th scope="col">"Owner"</th> })}
                                        <th scope="col">"Bucket"</th>
                                        <th scope="col">"Path"</th>
                                        <th scope="col">"Permissions"</th>
                                        <th scope="col">"Access key id"</th>
                                        <th scope="col">"Created"</th>
                                        <th scope="col">"Last used"</th>
                                        <th scope="col">"Status"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|c| {
                                        let revoked = c.status == KeyStatus::Revoked;
                                        view! {
                                            <tr class:revoked=revoked>
                                                <td>{c.name.unwrap_or_default()}</td>
                                                {is_admin.then(|| view! { <td>{c.owner_email.clone()}</td> })}
                                                <td>{c.bucket} <span class="muted">" (" {c.region} ")"</span></td>
                                                <td><code>{c.path.unwrap_or_else(|| "/".into())}</code></td>
                                                <td>{c.permission_summary}</td>
                                                <td><code>{c.access_key_id}</code></td>
                                                <td>{format_utc(c.created_at)}</td>
                                                <td>{c.last_used_at.map(format_utc).unwrap_or_else(|| "Never".into())}</td>
                                                <td><span class=if revoked { "status status-revoked" } else { "status status-active" }>{c.status.as_str()}</span></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
