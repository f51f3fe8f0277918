use super::{ErrorNote, query_error};
use crate::AuthContext;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let from_query = query_error();
    let message = Signal::derive(move || match auth.login.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => from_query(),
    });
    let pending = auth.login.pending();
    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <div class="card narrow">
                <p class="brand brand-large">"Stook"</p>
                <h1>"Sign in"</h1>
                <p class="muted">"Manage the access keys of your object storage."</p>
                <ActionForm action=auth.login attr:class="stack" attr:aria-label="Sign in">
                    <div class="field">
                        <label for="email">"Email"</label>
                        <input id="email" type="email" name="email" autocomplete="username" required autofocus />
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input id="password" type="password" name="password" autocomplete="current-password" required />
                    </div>
                    <ErrorNote message />
                    <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
