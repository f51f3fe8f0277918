//! `stook serve`: open the database, make sure there is an admin, and serve the panel.

use crate::config::{GlobalOptions, ServeOptions};
use crate::session_store::SeaOrmSessionStore;
use crate::web::{self, WebConfig};
use app::services::secrets::SecretBox;
use app::services::{AppState, demo, users};
use leptos::prelude::LeptosOptions;
use std::path::{Path, PathBuf};
use tower_sessions::ExpiredDeletion as _;

/// Where the built site is: the flag, else beside the binary (an installed copy), else
/// `../site` from the binary (cargo-leptos's `target/site`), else `./target/site`.
pub fn find_site_root(given: Option<&Path>) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match given {
        Some(path) => vec![path.to_path_buf()],
        None => {
            let exe_dir = std::env::current_exe()
                .ok()
                .and_then(|e| e.parent().map(Path::to_path_buf));
            let mut c = Vec::new();
            if let Some(dir) = exe_dir {
                c.push(dir.join("site"));
                c.push(dir.join("../site"));
            }
            c.push(PathBuf::from("target/site"));
            c
        }
    };
    candidates
        .iter()
        .find(|dir| dir.join("pkg/stook.js").is_file())
        .cloned()
        .ok_or_else(|| {
            let looked: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
            format!(
                "could not find the panel's site assets (pkg/stook.js); looked in: {}. Build them with \
             `cargo leptos build --release`, or pass --site-root / STOOK_SITE_ROOT",
                looked.join(", ")
            )
        })
}

pub async fn run(
    global: &GlobalOptions,
    options: ServeOptions,
    db: sea_orm::DatabaseConnection,
    secrets: SecretBox,
) -> Result<(), String> {
    let site_root = find_site_root(options.site_root.as_deref())?;
    if let Some((admin, generated)) =
        users::ensure_first_admin(&db, &options.admin_email, options.admin_password.as_deref())
            .await
            .map_err(|e| format!("could not create the first admin: {e}"))?
    {
        // Printed, not logged: the log may be shipped elsewhere.
        match generated {
            Some(password) => println!(
                "Created the first admin {} with password (shown once): {password}",
                admin.email
            ),
            None => println!(
                "Created the first admin {} with the password from STOOK_ADMIN_PASSWORD.",
                admin.email
            ),
        }
    }
    if options.demo {
        let password = options.demo_password.clone().unwrap_or_else(users::generate_password);
        let endpoint = format!("http://{}", options.s3_listen);
        match demo::load_demo(&db, &secrets, &endpoint, &password)
            .await
            .map_err(|e| format!("could not load demo data: {e}"))?
        {
            Some(loaded) => println!(
                "Loaded demo data: sign in as {} with password (shown once): {}",
                loaded.email, loaded.password
            ),
            None => tracing::info!("demo data already present"),
        }
    }

    let store = SeaOrmSessionStore::new(db.clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "could not sweep expired sessions");
            }
        }
    });

    let leptos = LeptosOptions::builder()
        .output_name("stook")
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(options.listen)
        .build();
    let router = web::router(
        AppState::new(db, secrets),
        WebConfig {
            leptos,
            secure_cookies: options.secure_cookies,
        },
    );
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| format!("could not listen on {}: {e}", options.listen))?;
    tracing::info!(site_root = %site_root.display(), data_dir = %global.data_dir.display(), "site assets");
    println!("Stook panel on http://{}", options.listen);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| format!("the server stopped: {e}"))
}
