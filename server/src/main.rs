#![recursion_limit = "256"]
use clap::Parser as _;
use server::cli::BucketCommand;
use server::config::{Cli, Command};
use server::{cli, serve};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // Before any file is made: the database, the master key and the objects are the
    // owner's alone, whatever umask the shell had (022 would leave them world-readable).
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe { libc::umask(0o077) };
    server::memory::return_large_blocks_to_the_system();
    let Cli { global, command } = Cli::parse();
    // s3s logs every refused or failed S3 request at ERROR (a wrong key, a missing object):
    // the client's mistake, not the server's. Server errors are still logged by
    // `s3s::service`; ask for `s3s::ops` by name to see the rest.
    // The server logs what it does; an operator command prints its result and nothing
    // else unless logs are asked for (its migrations' INFO lines are noise there).
    let serving = matches!(command, None | Some(Command::Serve(_)));
    let log_filter = global
        .log_filter
        .clone()
        .unwrap_or_else(|| if serving { "info" } else { "warn" }.to_string());
    let directives = if log_filter.contains("s3s") {
        log_filter
    } else {
        format!("{log_filter},s3s::ops=off")
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives).unwrap_or_else(|_| "info,s3s::ops=off".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let fail = |message: String| {
        eprintln!("error: {message}");
        ExitCode::from(1)
    };
    if let Err(message) = private_data_dir(&global.data_dir) {
        return fail(message);
    }
    if let Some(address) = global.database_address()
        && let Err(message) = reach_database(address).await
    {
        return fail(message);
    }
    // Renaming is how an operator repairs a database the bucket-name migration refuses.
    let repairing = matches!(command, Some(Command::Bucket(BucketCommand::Rename { .. })));
    let db = match app::services::connect(&global.database_url()).await {
        Ok(db) => db,
        Err(e) if repairing => match app::services::connect_unmigrated(&global.database_url()).await {
            Ok(db) => {
                tracing::warn!(error = %e, "renaming on a database that is not fully migrated");
                db
            }
            Err(e) => return fail(format!("could not open the database: {e}")),
        },
        Err(e) => return fail(format!("could not open the database: {e}")),
    };
    let (secrets, created) = match app::services::open_master_key(&db, &global.master_key_file()).await {
        Ok(opened) => opened,
        Err(message) => return fail(message),
    };
    if created {
        eprintln!(
            "Created a new master key at {} (keep it with the database: without it stored secrets cannot be read).",
            global.master_key_file().display()
        );
    }

    let cx = cli::Context {
        db: &db,
        secrets: &secrets,
        global: &global,
    };
    let outcome = match command.unwrap_or(Command::Serve(Default::default())) {
        Command::Serve(options) => {
            return match serve::run(&global, options, db.clone(), secrets).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => fail(message),
            };
        }
        Command::User(c) => cli::user(&cx, c).await,
        Command::Region(c) => cli::region(&cx, c).await,
        Command::Bucket(c) => cli::bucket(&cx, c).await,
        Command::Credential(c) => cli::credential(&cx, c).await,
        Command::Demo(options) => cli::load_demo(&cx, options).await,
    };
    match outcome {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            // 2: the input was refused and nothing changed; 1: anything else.
            ExitCode::from(if matches!(err.http_status(), 400..=499) { 2 } else { 1 })
        }
    }
}

/// How long to wait for the database server to take a connection before saying so.
const DATABASE_REACH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Checks that something listens at the database's address: the pool would otherwise
/// wait out its timeout on a refused connection and say only "pool timed out".
async fn reach_database((host, port): (String, u16)) -> Result<(), String> {
    let shown = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let advice = "check STOOK_DATABASE_URL and that PostgreSQL is running there";
    match tokio::time::timeout(
        DATABASE_REACH_TIMEOUT,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Err(format!(
            "could not open the database: nothing listens at {shown} (connection refused); {advice}"
        )),
        Ok(Err(e)) => Err(format!(
            "could not open the database: could not connect to {shown}: {e}; {advice}"
        )),
        Err(_) => Err(format!(
            "could not open the database: {shown} did not answer within {} seconds; {advice}",
            DATABASE_REACH_TIMEOUT.as_secs()
        )),
    }
}

/// Creates the data directory with mode 0700, or tightens an existing one this user owns
/// that others could read (made by an older Stook, or under a loose umask).
fn private_data_dir(dir: &std::path::Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
    let shown = dir.display();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("could not create the data directory {shown}: {e}"))?;
    let metadata = std::fs::metadata(dir).map_err(|e| format!("could not read the data directory {shown}: {e}"))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let ours = metadata.uid() == unsafe { libc::geteuid() };
    if ours && metadata.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("could not make the data directory {shown} private (mode 0700): {e}"))?;
    }
    Ok(())
}
