use super::{BusySubmit, ErrorNote, query_error};
use crate::functions::auth::Login;
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    let message = Signal::derive(query_error());
    // After a failed sign-in the email is still there; only the password is typed again.
    let email = crate::functions::auth::remembered_email();
    let focus_password = email.is_some();
    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <div class="card narrow">
                <p class="brand brand-large">"Stook"</p>
                <h1>"Sign in"</h1>
                <p class="muted">"Manage the access keys of your object storage."</p>
                <form method="post" action=Login::url() class="stack" aria-label="Sign in">
                    <div class="field">
                        <label for="email">"Email"</label>
                        <input
                            id="email"
                            type="email"
                            name="email"
                            autocomplete="username"
                            required
                            autofocus=!focus_password
                            value=email
                        />
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input
                            id="password"
                            type="password"
                            name="password"
                            autocomplete="current-password"
                            required
                            autofocus=focus_password
                        />
                    </div>
                    <ErrorNote message />
                    <BusySubmit label="Sign in".to_string() busy_label="Signing in…".to_string() class="btn btn-primary".to_string() />
                </form>
            </div>
        </main>
    }
}
