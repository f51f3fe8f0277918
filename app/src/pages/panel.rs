use crate::AuthContext;
use crate::domain::SignedInUser;
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::components::{A, Outlet, Redirect};

/// Every signed-in page sits in this frame; without a session it sends the visitor to
/// the login page (a real 302 when rendered on the server).
#[component]
pub fn PanelLayout() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    view! {
        <Suspense fallback=|| view! { <div class="page-loading">"Loading…"</div> }>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => view! { <PanelFrame user /> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(err) => view! { <p class="alert alert-error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PanelFrame(user: SignedInUser) -> impl IntoView {
    let role = user.role.as_str();
    let is_admin = user.is_admin();
    let email = user.email.clone();
    provide_context(user);
    view! {
        <div class="panel">
            <header class="topbar">
                <a href="/" class="brand">"Stook"</a>
                <div class="whoami">
                    <span class="user-email" data-testid="signed-in-user">{email}</span>
                    <span class="badge">{role}</span>
                    <form method="post" action=crate::functions::auth::Logout::url()>
                        <button type="submit" class="btn btn-ghost">"Sign out"</button>
                    </form>
                </div>
            </header>
            <div class="panel-body">
                <nav class="sidenav" aria-label="Main">
                    <p class="nav-group">"Stook Object Storage"</p>
                    <ul>
                        <li><A href="/" exact=true>"Credentials"</A></li>
                        <li><A href="/buckets">"Buckets"</A></li>
                        <li><A href="/audit">"Audit log"</A></li>
                        {is_admin.then(|| view! { <li><A href="/settings">"Settings"</A></li> })}
                    </ul>
                </nav>
                <main class="content">
                    <Outlet />
                </main>
            </div>
        </div>
    }
}
