//! Buckets by region, each with its master key pair: the access key id in view, the
//! secret behind the password, and rotation behind a confirmation (`?rotate=<bucket>`).

use super::secret::{CopyText, SecretReveal};
use super::{ConfirmStep, ErrorNote};
use crate::domain::{BucketView, SignedInUser, format_utc};
use crate::functions::buckets::{RotateMasterKey, list_buckets};
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BucketsPage() -> impl IntoView {
    let viewer = expect_context::<SignedInUser>();
    let is_admin = viewer.is_admin();
    let viewer_email = StoredValue::new(viewer.email.clone());
    let buckets = Resource::new(|| (), |_| list_buckets());
    let query = use_query_map();
    let rotating = Memo::new(move |_| query.read().get("rotate").and_then(|b| b.parse::<i32>().ok()));
    let rotated = Memo::new(move |_| query.read().get("rotated").and_then(|b| b.parse::<i32>().ok()));
    view! {
        <Title text="Buckets" />
        <div class="page-header">
            <div>
                <p class="crumbs">"Stook Object Storage"</p>
                <h1>"Buckets"</h1>
            </div>
        </div>
        <p class="muted intro">
            "Each bucket has one master key pair with full access to that bucket. For tools, prefer a credential limited to what they need."
        </p>
        <ErrorNote message=Signal::derive(super::query_error()) />
        <Transition fallback=|| view! { <p class="muted">"Loading buckets…"</p> }>
            {move || Suspend::new(async move {
                match buckets.await {
                    Err(err) => view! { <p class="alert alert-error" role="alert">{err.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state">
                            <h2>"No buckets yet"</h2>
                            <p class="muted">"Your operator creates buckets for you in the regions you use."</p>
                        </div>
                    }.into_any(),
                    Ok(list) => list
                        .into_iter()
                        .map(|bucket| view! { <BucketCard bucket is_admin viewer_email=viewer_email.get_value() rotating rotated /> })
                        .collect_view()
                        .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn BucketCard(
    bucket: BucketView,
    is_admin: bool,
    viewer_email: String,
    rotating: Memo<Option<i32>>,
    rotated: Memo<Option<i32>>,
) -> impl IntoView {
    let id = bucket.id;
    let own = bucket.owner_email == viewer_email;
    let key_id = bucket.master_access_key_id.clone().unwrap_or_default();
    let title_id = format!("bucket-{id}");
    let master_access = crate::client_setups::KeyAccess {
        endpoint_url: bucket.endpoint_url.clone(),
        region: bucket.region.clone(),
        bucket: bucket.name.clone(),
        path: None,
        name: None,
        access_key_id: key_id.clone(),
    };
    view! {
        <section class="card bucket-card" aria-labelledby=title_id.clone()>
            <header class="bucket-head">
                <h2 id=title_id.clone()>{bucket.name.clone()}</h2>
                <span class="badge">{bucket.region.clone()}</span>
            </header>
            {
                let key_id = key_id.clone();
                move || (rotated.get() == Some(id)).then(|| view! {
                    <p class="alert alert-ok" role="status" data-testid="rotated">
                        {format!("The master key was rotated. The new access key id is {key_id}; the old pair no longer works.")}
                        {own.then_some(" Show the new secret below with your password.")}
                    </p>
                })
            }
            <dl class="props">
                <dt>"S3 endpoint"</dt>
                <dd><code>{bucket.endpoint_url.clone()}</code></dd>
                {is_admin.then(|| view! { <dt>"Owner"</dt><dd>{bucket.owner_email.clone()}</dd> })}
                <dt>"Created"</dt>
                <dd>{format_utc(bucket.created_at)}</dd>
                <dt>"Active credentials"</dt>
                <dd data-testid="active-credentials">
                    <a href=format!("/?bucket={id}&status=active")>
                        {match bucket.active_credentials {
                            1 => "1 active key".to_string(),
                            n => format!("{n} active keys"),
                        }}
                    </a>
                </dd>
                <dt>"Master access key id"</dt>
                <dd class="row">
                    <code class="key-id">{key_id.clone()}</code>
                    <CopyText text=key_id.clone() label=format!("Copy the master access key id of {}", bucket.name) />
                </dd>
                {own.then(|| view! {
                    <dt>"Master secret key"</dt>
                    <dd><SecretReveal access_key_id=key_id.clone() setups=crate::client_setups::setups(&master_access, crate::client_setups::SECRET_PLACEHOLDER) /></dd>
                })}
            </dl>
            {move || if rotating.get() == Some(id) {
                let key_id = key_id.clone();
                view! {
                    <ConfirmStep
                        id=format!("rotate-{id}")
                        message="Rotate the master key? The current pair stops working at once; a new pair replaces it."
                        action=RotateMasterKey::url()
                        fields=vec![("bucket_id", id.to_string()), ("master_access_key_id", key_id.clone())]
                        label="Rotate master key"
                        busy_label="Rotating…"
                        cancel_href="/buckets".to_string()
                    />
                }.into_any()
            } else {
                view! { <a href=format!("/buckets?rotate={id}") class="btn btn-danger-outline">"Rotate master key"</a> }.into_any()
            }}
        </section>
    }
}
