use crate::domain::{SignedInUser, format_utc};
use crate::functions::storage::list_buckets;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn BucketsPage() -> impl IntoView {
    let viewer = expect_context::<SignedInUser>();
    let is_admin = viewer.is_admin();
    let buckets = Resource::new(|| (), |_| list_buckets());
    view! {
        <Title text="Buckets" />
        <div class="page-header">
            <div>
                <p class="crumbs">"Stook Object Storage"</p>
                <h1>"Buckets"</h1>
            </div>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading buckets…"</p> }>
            {move || Suspend::new(async move {
                match buckets.await {
                    Err(err) => view! { <p class="alert alert-error" role="alert">{err.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state">
                            <h2>"No buckets yet"</h2>
                            <p class="muted">"Your operator creates buckets for you in the regions you use."</p>
                        </div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="data-table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Bucket"</th>
                                        <th scope="col">"Region"</th>
                                        <th scope="col">"S3 endpoint"</th>
                                        {is_admin.then(|| view! { <th scope="col">"Owner"</th> })}
                                        <th scope="col">"Created"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|b| view! {
                                        <tr>
                                            <td>{b.name}</td>
                                            <td>{b.region}</td>
                                            <td><code>{b.endpoint_url}</code></td>
                                            {is_admin.then(|| view! { <td>{b.owner_email.clone()}</td> })}
                                            <td>{format_utc(b.created_at)}</td>
                                        </tr>
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
