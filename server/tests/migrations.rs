//! The migrations run up (and stay up) on SQLite and PostgreSQL.

mod common;

use app::services::entities::{audit_event, bucket, credential, region, session, user};
use migrations::{Migrator, MigratorTrait as _};
use sea_orm::{DatabaseConnection, EntityTrait as _, PaginatorTrait as _};

async fn migrations_run_up(db: DatabaseConnection) {
    assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());
    assert_eq!(
        Migrator::get_applied_migrations(&db).await.unwrap().len(),
        Migrator::migrations().len()
    );
    // Every entity maps onto its table.
    assert_eq!(user::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(region::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(bucket::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(credential::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(audit_event::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(session::Entity::find().count(&db).await.unwrap(), 0);
    // Running them again is a no-op.
    Migrator::up(&db, None).await.unwrap();
}

/// Activity counted before folders were recorded survives the table's rebuild (its
/// folder unknown), and the way back folds the folders into one row again.
async fn activity_counts_survive_the_folder_rebuild(db: DatabaseConnection) {
    use app::services::entities::key_activity;
    use sea_orm::ConnectionTrait as _;
    Migrator::down(&db, Some(Migrator::migrations().len() as u32 - 14))
        .await
        .unwrap();
    for sql in [
        "INSERT INTO users (id, email, password_hash, role, created_at) VALUES (1, 'ann@example.com', 'x', 'customer', 0)",
        "INSERT INTO regions (id, name, endpoint_url, created_at) VALUES (1, 'eu-west-1', 'https://eu.example.com', 0)",
        "INSERT INTO buckets (id, owner_id, region_id, name, created_at) VALUES (1, 1, 1, 'media', 0)",
        "INSERT INTO credentials (id, owner_id, bucket_id, name, actions, kind, access_key_id, secret_ciphertext, status, created_at, denied_requests) \
         VALUES (1, 1, 1, 'k', 's3:GetObject', 'scoped', 'AKID0000000000000001', '', 'active', 0, 0)",
        "INSERT INTO key_activity (credential_id, hour, action, requests, denied) VALUES (1, 3600, 's3:GetObject', 7, 2)",
    ] {
        db.execute_unprepared(sql).await.unwrap();
    }
    Migrator::up(&db, None).await.unwrap();
    let rows = key_activity::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].folder.as_str(), rows[0].requests, rows[0].denied), ("-", 7, 2));
    db.execute_unprepared(
        "INSERT INTO key_activity (credential_id, hour, action, folder, requests, denied) VALUES (1, 3600, 's3:GetObject', 'photos/', 3, 0)",
    )
    .await
    .unwrap();
    Migrator::down(&db, Some(Migrator::migrations().len() as u32 - 14))
        .await
        .unwrap();
    let folded = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT requests FROM key_activity",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(folded.try_get::<i64>("", "requests").unwrap(), 10);
    Migrator::up(&db, None).await.unwrap();
}

/// The names of the indexes on `audit_events`.
async fn audit_event_indexes(db: &DatabaseConnection) -> Vec<String> {
    use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'audit_events'",
        _ => "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events'",
    };
    let mut names: Vec<String> = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .filter(|name| name.starts_with("audit_events_") && name != "audit_events_pkey")
        .collect();
    names.sort();
    names
}

/// The audit log's filter indexes come with their migration, and go with it: the way
/// down leaves the indexes the log had before.
async fn audit_indexes_go_down_and_up(db: DatabaseConnection) {
    let with = [
        "audit_events_by_action",
        "audit_events_by_actor",
        "audit_events_by_target",
        "audit_events_created",
    ];
    assert_eq!(audit_event_indexes(&db).await, with);
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261204_000017_audit_event_indexes")
        .expect("the migration is registered");
    let after = (Migrator::migrations().len() - position) as u32;
    Migrator::down(&db, Some(after)).await.unwrap();
    assert_eq!(
        audit_event_indexes(&db).await,
        ["audit_events_actor", "audit_events_created"]
    );
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(audit_event_indexes(&db).await, with);
}

on_both_databases!(
    migrations_run_up,
    activity_counts_survive_the_folder_rebuild,
    audit_indexes_go_down_and_up,
);

/// A database made before bucket names were unique across regions refuses to start,
/// names the duplicates and the command that fixes them; after the rename it starts.
#[tokio::test]
async fn duplicate_bucket_names_stop_the_start_until_renamed() {
    use sea_orm::ConnectionTrait as _;
    let dir = std::env::temp_dir().join(format!(
        "stook-dup-buckets-{}",
        app::services::key_pairs::new_access_key_id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("stook.db").display());
    let db = app::services::connect_unmigrated(&url).await.unwrap();
    Migrator::up(&db, Some(7)).await.unwrap();
    for sql in [
        "INSERT INTO users (id, email, password_hash, role, created_at) VALUES (1, 'ann@example.com', 'x', 'customer', 0), (2, 'bob@example.com', 'x', 'customer', 0)",
        "INSERT INTO regions (id, name, endpoint_url, created_at) VALUES (1, 'eu-west-1', 'https://eu.example.com', 0), (2, 'tr-ist-1', 'https://tr.example.com', 0)",
        "INSERT INTO buckets (owner_id, region_id, name, created_at) VALUES (1, 1, 'media', 0), (2, 2, 'media', 0), (1, 1, 'solo', 0)",
    ] {
        db.execute_unprepared(sql).await.unwrap();
    }
    db.close().await.unwrap();

    let stook = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_stook"))
            .args(args)
            .env("STOOK_DATA_DIR", &dir)
            .env_remove("STOOK_DATABASE_URL")
            .env_remove("DATABASE_URL")
            .env_remove("STOOK_MASTER_KEY_FILE")
            .env("RUST_LOG", "error")
            .output()
            .unwrap()
    };
    let refused = stook(&["bucket", "list"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("“media”") && !stderr.contains("“solo”"), "{stderr}");
    assert!(
        stderr.contains("stook bucket rename --name NAME --region REGION --to NEW_NAME"),
        "{stderr}"
    );

    let ambiguous = stook(&["bucket", "rename", "--name", "media", "--to", "bob-media"]);
    assert_eq!(
        ambiguous.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&ambiguous.stderr)
    );
    let renamed = stook(&[
        "bucket",
        "rename",
        "--name",
        "media",
        "--region",
        "tr-ist-1",
        "--to",
        "bob-media",
    ]);
    assert!(renamed.status.success(), "{}", String::from_utf8_lossy(&renamed.stderr));

    let listed = stook(&["bucket", "list", "--json"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let buckets: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let mut owners: Vec<(String, String)> = buckets
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["name"].as_str().unwrap().into(),
                b["owner_email"].as_str().unwrap().into(),
            )
        })
        .collect();
    owners.sort();
    assert_eq!(
        owners,
        [
            ("bob-media".to_string(), "bob@example.com".to_string()),
            ("media".into(), "ann@example.com".into()),
            ("solo".into(), "ann@example.com".into())
        ]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A SQLite file runs in WAL mode with full syncs, so readers never wait for the writer
/// and a committed revocation survives a power cut.
#[tokio::test]
async fn sqlite_files_use_the_write_ahead_log() {
    use sea_orm::{ConnectionTrait as _, Statement};
    let dir = std::env::temp_dir().join(format!("stook-wal-{}", app::services::key_pairs::new_access_key_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = app::services::connect(&format!("sqlite://{}?mode=rwc", dir.join("stook.db").display()))
        .await
        .unwrap();
    let pragma = |name: &str| {
        let db = db.clone();
        let sql = format!("PRAGMA {name}");
        async move {
            db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(
        pragma("journal_mode").await.try_get_by_index::<String>(0).unwrap(),
        "wal"
    );
    // 2 is FULL.
    assert_eq!(pragma("synchronous").await.try_get_by_index::<i32>(0).unwrap(), 2);
    db.close().await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
}
