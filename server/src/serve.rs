//! `stook serve`: open the database, make sure there is an admin, and serve the panel and
//! the S3 endpoint side by side.

use crate::config::{GlobalOptions, S3Backend, ServeOptions};
use crate::s3;
use crate::web::{self, WebConfig};
use app::services::secrets::SecretBox;
use app::services::{AppState, demo, users};
use axum::serve::ListenerExt as _;
use leptos::prelude::LeptosOptions;
use std::path::{Path, PathBuf};

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
             ./scripts/build.sh, or pass --site-root / STOOK_SITE_ROOT",
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
            // Like the admin's: a password the operator chose is not echoed.
            Some(loaded) if options.demo_password.is_some() => println!(
                "Loaded demo data: sign in as {} with the password from STOOK_DEMO_PASSWORD.",
                loaded.email
            ),
            Some(loaded) => println!(
                "Loaded demo data: sign in as {} with password (shown once): {}",
                loaded.email, loaded.password
            ),
            None => tracing::info!("demo data already present"),
        }
    }

    app::sessions::sweep_expired(db.clone());

    let leptos = LeptosOptions::builder()
        .output_name("stook")
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(options.listen)
        .build();
    let mut state = AppState::new(db, secrets);
    state.max_key_lifetime_days = options.max_key_lifetime_days;
    let (s3_router, usage) = s3_endpoint(global, &options, &state).await?;
    let db = state.db.clone();
    let router = web::router(
        state,
        WebConfig {
            leptos,
            secure_cookies: options.secure_cookies,
            trusted_proxies: options.client_addresses(),
        },
    );
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| format!("could not listen on {}: {e}", options.listen))?;
    let s3_listener = tokio::net::TcpListener::bind(options.s3_listen)
        .await
        .map_err(|e| format!("could not listen on {} for the S3 endpoint: {e}", options.s3_listen))?;
    tracing::info!(site_root = %site_root.display(), data_dir = %global.data_dir.display(), "site assets");
    println!("Stook panel on http://{}", options.listen);
    println!("S3 endpoint on http://{}", options.s3_listen);
    // Small responses go out in more than one write: without TCP_NODELAY, Nagle's
    // algorithm and the client's delayed ACK hold each one back by up to 40 ms.
    let listener = listener.tap_io(no_delay);
    let s3_listener = s3_listener.tap_io(no_delay);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.send_replace(true);
    });
    let stopped = |mut stopping: tokio::sync::watch::Receiver<bool>| async move {
        // An error means the sender is gone, which it only is after sending.
        let _ = stopping.wait_for(|stopped| *stopped).await;
    };
    let panel = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(stopped(stopping.clone()));
    let s3 = axum::serve(
        s3_listener,
        s3_router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(stopped(stopping.clone()));
    let grace = std::time::Duration::from_secs(options.shutdown_grace_secs);
    // A client that holds a request open must not hold the stop (and the flush below) up.
    let deadline = async {
        stopped(stopping).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = async { tokio::try_join!(panel.into_future(), s3.into_future()) } => {
            served.map_err(|e| format!("the server stopped: {e}"))?;
        }
        () = deadline => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "requests still under way after the shutdown grace period were cut off"
            );
        }
    }
    // The last few seconds of key usage, which the periodic flush has not written yet.
    usage
        .flush(&db)
        .await
        .map_err(|e| format!("could not record the last S3 key usage: {e}"))?;
    Ok(())
}

fn no_delay(stream: &mut tokio::net::TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
}

/// Ctrl-C, or SIGTERM from a service manager: stop taking requests, finish the ones
/// under way (for at most the grace period), then write what is still pending.
async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// Builds the S3 endpoint over the configured backend and starts its usage writer.
async fn s3_endpoint(
    global: &GlobalOptions,
    options: &ServeOptions,
    state: &AppState,
) -> Result<(axum::Router, std::sync::Arc<s3::usage::Usage>), String> {
    let domain = options.s3_domain.as_deref();
    let endpoint = match options.s3_backend {
        S3Backend::Local => {
            let root = global.data_dir.join("objects");
            let local = s3::local::Local::new(root.clone())
                .map_err(|e| format!("could not use {} for objects: {e}", root.display()))?;
            local.sweep_abandoned_uploads(std::time::Duration::from_secs(
                options.s3_multipart_max_age_days.saturating_mul(24 * 3600),
            ));
            s3::endpoint(state.db.clone(), state.secrets.clone(), local, domain)?
        }
        S3Backend::Proxy => {
            // clap refuses `--s3-backend proxy` without these (`required_if_eq`).
            let (Some(url), Some(access_key_id), Some(secret_access_key)) = (
                options.s3_upstream_url.as_deref(),
                options.s3_upstream_access_key_id.as_deref(),
                options.s3_upstream_secret_access_key.as_deref(),
            ) else {
                return Err(
                    "the proxy backend needs STOOK_S3_UPSTREAM_URL, _ACCESS_KEY_ID and _SECRET_ACCESS_KEY".into(),
                );
            };
            let upstream = s3::proxy::Upstream {
                url,
                region: &options.s3_upstream_region,
                access_key_id,
                secret_access_key,
            };
            println!("S3 backend: proxy to {}", upstream.url);
            s3::endpoint(
                state.db.clone(),
                state.secrets.clone(),
                s3::proxy::proxy(upstream)?,
                domain,
            )?
        }
    };
    s3::usage::spawn_flusher(endpoint.usage.clone(), state.db.clone());
    let limits = s3::Limits {
        body_idle_timeout: std::time::Duration::from_secs(options.s3_body_idle_timeout_secs.max(1)),
    };
    Ok((
        s3::router_with(endpoint.service, limits, options.client_addresses().for_s3_endpoint()),
        endpoint.usage,
    ))
}
