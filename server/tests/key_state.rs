//! A key's state, decided once (`app::policy::KeyState`), and its changes as conditional
//! writes: the S3 endpoint, the list's badge and status filter and the buckets' counts
//! agree on every stored combination; revoking stays final under any interleaving; an
//! edit racing a rotation neither undoes it nor is silently lost; the lifetime limit
//! counts from a key's creation; an admin's pause holds. On SQLite (a file, so that
//! several connections really race) and PostgreSQL.

mod common;

use app::domain::{KeyStatus, Role, SignedInUser};
use app::error::AppError;
use app::policy::{KeyLife, KeyState};
use app::services::AppState;
use app::services::buckets;
use app::services::caller::Caller;
use app::services::credentials::{self, BulkChange, ListQuery};
use app::services::entities::credential;
use app::services::key_edits::{self, EditCredential};
use app::services::users;
use common::seed;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _};
use server::s3::keys::{KeyStore, NO_SUCH_KEY};

/// Runs a test body on a SQLite file (WAL, a pool of connections: real concurrency) and
/// on PostgreSQL.
macro_rules! on_both_databases_concurrently {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let dir = std::env::temp_dir().join(format!(
                    "stook-key-state-{}",
                    app::services::key_pairs::new_access_key_id().to_lowercase()
                ));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.join("stook.db").display());
                let db = app::services::connect(&url).await.unwrap();
                super::$name(db).await;
                std::fs::remove_dir_all(dir).ok();
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(pg) = super::common::postgres().await {
                    super::$name(pg.db.clone()).await;
                    pg.finish().await;
                }
            }
        }
    )*};
}

async fn row(db: &DatabaseConnection, access_key_id: &str) -> credential::Model {
    credential::Entity::find()
        .filter(credential::Column::AccessKeyId.eq(access_key_id))
        .one(db)
        .await
        .unwrap()
        .expect("the credential exists")
}

async fn person(state: &AppState, email: &str) -> Caller {
    let user = users::find_by_email(&state.db, email).await.unwrap().unwrap();
    Caller::user(
        SignedInUser {
            id: user.id,
            email: user.email,
            role: user.role,
        },
        "203.0.113.7",
    )
}

/// Sets a key's stored life straight in the table, as time and other instances would.
async fn set_life(
    db: &DatabaseConnection,
    id: i32,
    status: KeyStatus,
    expires_at: Option<i64>,
    replaced_by: Option<i32>,
) {
    credential::Entity::update_many()
        .col_expr(credential::Column::Status, Expr::value(status))
        .col_expr(credential::Column::ExpiresAt, Expr::value(expires_at))
        .col_expr(credential::Column::ReplacedBy, Expr::value(replaced_by))
        .filter(credential::Column::Id.eq(id))
        .exec(db)
        .await
        .unwrap();
}

/// Every status × expiry (none, ahead, passed) × replacement: the S3 endpoint, the list's
/// badge, each status filter and the bucket's count of working keys say the same.
async fn every_place_agrees_on_a_keys_state(db: DatabaseConnection) {
    let state = common::state(db);
    let (bucket, master) = seed::customer_with_bucket(&state, "ann@example.com", "ann-bucket").await;
    let master_id = row(&state.db, &master.access_key_id).await.id;
    let now = app::services::now();
    let mut cases = Vec::new();
    for status in KeyStatus::ALL {
        for expires_at in [None, Some(now + 3_600), Some(now - 60)] {
            for replaced in [false, true] {
                let name = format!("k{}", cases.len());
                let key = seed::key(&state, bucket.id, &name, "", "read-only").await;
                let id = row(&state.db, &key.access_key_id).await.id;
                set_life(&state.db, id, status, expires_at, replaced.then_some(master_id)).await;
                let expected = KeyLife {
                    status,
                    expires_at,
                    replaced,
                }
                .state(now);
                cases.push((key.access_key_id, expected));
            }
        }
    }
    // Every state is among the cases, so each filter is tried on keys in and out of it.
    for state_ in KeyState::ALL {
        assert!(cases.iter().any(|(_, s)| *s == state_), "no case is {state_:?}");
    }

    let keys = KeyStore::new(state.db.clone(), state.secrets.clone());
    let listed = credentials::list_credentials(&state.db, None, Some(app::domain::KeyKind::Scoped))
        .await
        .unwrap();
    for (id, expected) in &cases {
        let view = listed.iter().find(|c| &c.access_key_id == id).unwrap();
        assert_eq!(view.state(now), *expected, "{id}: the badge");
        assert_eq!(view.state, *expected, "{id}: the API's state");
        match keys.authenticated(id).await {
            Ok(_) => assert!(expected.is_usable(), "{id} is {expected:?} but the S3 endpoint took it"),
            Err(refused) => {
                assert!(
                    !expected.is_usable(),
                    "{id} is {expected:?} but the S3 endpoint refused it"
                );
                assert_eq!(refused.message(), expected.refusal(), "{id}: the S3 endpoint's words");
            }
        }
    }
    let ann = users::find_by_email(&state.db, "ann@example.com")
        .await
        .unwrap()
        .unwrap();
    let viewer = SignedInUser {
        id: ann.id,
        email: ann.email,
        role: Role::Customer,
    };
    for filter in KeyState::ALL {
        let page = credentials::page_credentials(
            &state.db,
            &viewer,
            &ListQuery {
                status: Some(filter),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
        let mut shown: Vec<&str> = page.items.iter().map(|c| c.access_key_id.as_str()).collect();
        let mut expected: Vec<&str> = cases
            .iter()
            .filter(|(_, s)| *s == filter)
            .map(|(id, _)| id.as_str())
            .collect();
        shown.sort_unstable();
        expected.sort_unstable();
        assert_eq!(shown, expected, "the {filter:?} filter");
        assert_eq!(page.total, expected.len() as u64);
    }
    let counted = buckets::list_buckets(&state.db, Some(ann.id)).await.unwrap()[0].active_credentials;
    let usable = cases.iter().filter(|(_, s)| s.is_usable()).count() as u64;
    assert_eq!(counted, usable, "the bucket's count of working keys");
}

/// Races a revocation against a pause, a resume, an edit, a rotation and a bulk change,
/// 100 times each: whatever answers first, the key ends revoked and the S3 endpoint
/// refuses it.
async fn revoked_stays_revoked_under_any_race(db: DatabaseConnection) {
    let state = common::state(db);
    let (bucket, _) = seed::customer_with_bucket(&state, "ann@example.com", "ann-bucket").await;
    let op = Caller::Operator;
    let keys = KeyStore::new(state.db.clone(), state.secrets.clone());
    for rival in ["pause", "resume", "edit", "rotate", "bulk-pause"] {
        for round in 0..100 {
            let key = seed::key(&state, bucket.id, &format!("{rival}-{round}"), "", "read-write").await;
            let id = key.access_key_id.as_str();
            if rival == "resume" {
                credentials::set_paused(&state.db, &op, id, true).await.unwrap();
            }
            let revoke = credentials::revoke_credential(&state.db, &op, id);
            let other = async {
                match rival {
                    "pause" => credentials::set_paused(&state.db, &op, id, true).await.map(drop),
                    "resume" => credentials::set_paused(&state.db, &op, id, false).await.map(drop),
                    "edit" => {
                        let input = EditCredential {
                            actions: Some("all"),
                            ..EditCredential::default()
                        };
                        key_edits::edit_credential(&state.db, &op, id, input).await.map(drop)
                    }
                    "rotate" => credentials::rotate_credential(&state.db, &state.secrets, &op, id, 3_600, None)
                        .await
                        .map(drop),
                    _ => credentials::bulk_change(&state.db, &op, &[id.to_string()], BulkChange::Pause)
                        .await
                        .map(drop),
                }
            };
            let (revoked, _) = tokio::join!(revoke, other);
            revoked.unwrap_or_else(|e| panic!("{rival} round {round}: the revoke failed: {e}"));
            let after = row(&state.db, id).await;
            assert_eq!(
                after.status,
                KeyStatus::Revoked,
                "{rival} round {round} revived the key"
            );
            let refused = keys.authenticated(id).await.unwrap_err();
            assert_eq!(refused.code().as_str(), "InvalidAccessKeyId");
        }
    }
    // A bulk revoke of many keys racing a resume of each: every one ends revoked.
    let mut ids = Vec::new();
    for i in 0..50 {
        let key = seed::key(&state, bucket.id, &format!("bulk-{i}"), "", "read-only").await;
        credentials::set_paused(&state.db, &op, &key.access_key_id, true)
            .await
            .unwrap();
        ids.push(key.access_key_id);
    }
    let bulk = credentials::bulk_change(&state.db, &op, &ids, BulkChange::Revoke);
    let resumes =
        futures_util::future::join_all(ids.iter().map(|id| credentials::set_paused(&state.db, &op, id, false)));
    let (bulk, _) = tokio::join!(bulk, resumes);
    assert_eq!(bulk.unwrap(), 50);
    for id in &ids {
        assert_eq!(
            row(&state.db, id).await.status,
            KeyStatus::Revoked,
            "{id} survived the bulk revoke"
        );
    }
}

/// An edit narrowing a key races its rotation, 50 times: the new pair never keeps the
/// wider scope after the edit answered, and the retiring pair keeps its grace period's end.
async fn an_edit_racing_a_rotation_is_never_undone(db: DatabaseConnection) {
    let state = common::state(db);
    let (bucket, _) = seed::customer_with_bucket(&state, "ann@example.com", "ann-bucket").await;
    let op = Caller::Operator;
    let (mut edits_won, mut rotations_won) = (0, 0);
    for round in 0..50 {
        let key = seed::key(&state, bucket.id, &format!("race-{round}"), "", "read-write").await;
        let id = key.access_key_id.as_str();
        let started = app::services::now();
        let edit = key_edits::edit_credential(
            &state.db,
            &op,
            id,
            EditCredential {
                actions: Some("read-only"),
                expires_at: Some(Some(started + 400 * 86_400)),
                ..EditCredential::default()
            },
        );
        let rotate = credentials::rotate_credential(&state.db, &state.secrets, &op, id, 3_600, None);
        let (edited, rotated) = tokio::join!(edit, rotate);
        let old = row(&state.db, id).await;
        match rotated {
            Ok((new, _)) => {
                rotations_won += 1;
                // The old pair retires within the grace period, whatever the edit asked.
                let retires = old.expires_at.expect("a retiring pair has an end");
                assert!(
                    retires <= app::services::now() + 3_600,
                    "round {round}: the grace period was undone"
                );
                let narrowed = edited.is_ok();
                let new_row = row(&state.db, &new.access_key_id).await;
                let read_only = app::catalog::Preset::ReadOnly.actions().to_storage();
                if narrowed {
                    assert_eq!(
                        new_row.actions, read_only,
                        "round {round}: the edit answered but was lost"
                    );
                } else {
                    assert_ne!(new_row.actions, read_only);
                }
            }
            Err(e) => {
                assert!(matches!(e, AppError::Conflict { .. }), "round {round}: {e}");
                edits_won += 1;
                assert!(
                    edited.is_ok(),
                    "round {round}: neither the edit nor the rotation went through"
                );
                assert_eq!(old.replaced_by, None);
            }
        }
        if let Err(e) = edited {
            assert!(
                matches!(e, AppError::Conflict { .. } | AppError::Invalid { .. }),
                "round {round}: the edit failed oddly: {e}"
            );
        }
    }
    assert_eq!(edits_won + rotations_won, 50);
}

/// The lifetime limit bounds a secret's age from its creation: re-editing the expiry does
/// not extend it; an expired key is not edited back to life, but may be rotated.
async fn the_lifetime_limit_counts_from_creation(db: DatabaseConnection) {
    let state = common::state(db);
    let (bucket, _) = seed::customer_with_bucket(&state, "ann@example.com", "ann-bucket").await;
    let ann = person(&state, "ann@example.com").await;
    let key = seed::key(&state, bucket.id, "aging", "", "read-only").await;
    let id = key.access_key_id.as_str();
    let now = app::services::now();
    // Made 25 days ago under a 30-day limit: it may live 5 more days, not 30.
    credential::Entity::update_many()
        .col_expr(credential::Column::CreatedAt, Expr::value(now - 25 * 86_400))
        .col_expr(credential::Column::ExpiresAt, Expr::value(now + 86_400))
        .filter(credential::Column::AccessKeyId.eq(id))
        .exec(&state.db)
        .await
        .unwrap();
    let edit = |expires_at: Option<i64>| EditCredential {
        expires_at: Some(expires_at),
        lifetime_cap: Some(30),
        ..EditCredential::default()
    };
    let refused = key_edits::edit_credential(&state.db, &ann, id, edit(Some(now + 10 * 86_400)))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("from their creation"), "{refused}");
    let refused = key_edits::edit_credential(&state.db, &ann, id, edit(None))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("at most 30 days"), "{refused}");
    assert_eq!(
        row(&state.db, id).await.expires_at,
        Some(now + 86_400),
        "a refused edit changed nothing"
    );
    key_edits::edit_credential(&state.db, &ann, id, edit(Some(now + 4 * 86_400)))
        .await
        .unwrap();

    // Expired: refused for edits, rotated into a new pair within the limit.
    credential::Entity::update_many()
        .col_expr(credential::Column::ExpiresAt, Expr::value(now - 1))
        .filter(credential::Column::AccessKeyId.eq(id))
        .exec(&state.db)
        .await
        .unwrap();
    let refused = key_edits::edit_credential(
        &state.db,
        &ann,
        id,
        EditCredential {
            name: Some("renamed"),
            ..EditCredential::default()
        },
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("expired"), "{refused}");
    let refused = credentials::set_paused(&state.db, &ann, id, true).await.unwrap_err();
    assert!(refused.to_string().contains("ended"), "{refused}");
    let (new, _) = credentials::rotate_credential(&state.db, &state.secrets, &ann, id, 3_600, Some(30))
        .await
        .unwrap();
    let new_row = row(&state.db, &new.access_key_id).await;
    assert!(
        new_row
            .expires_at
            .is_some_and(|t| t <= app::services::now() + 30 * 86_400)
    );
    let old = row(&state.db, id).await;
    assert_eq!(
        KeyLife {
            status: old.status,
            expires_at: old.expires_at,
            replaced: old.replaced_by.is_some()
        }
        .state(app::services::now()),
        KeyState::Retired,
        "rotating an expired key does not bring the old pair back"
    );
}

/// A pause by an admin holds until an admin resumes the key; the owner is told why.
async fn an_admins_pause_holds(db: DatabaseConnection) {
    let state = common::state(db);
    seed::two_customers_and_an_admin(&state).await;
    let bucket = buckets::find_bucket(&state.db, "ann-bucket", None).await.unwrap();
    let key = seed::key(&state, bucket.id, "held", "", "read-only").await;
    let id = key.access_key_id.as_str();
    let (ann, root) = (
        person(&state, "ann@example.com").await,
        person(&state, "root@example.com").await,
    );
    credentials::set_paused(&state.db, &root, id, true).await.unwrap();
    assert!(row(&state.db, id).await.paused_by_admin);
    let detail = credentials::credential_detail(&state.db, &ann, id).await.unwrap();
    assert!(detail.credential.paused_by_admin && !detail.can_resume);
    let refused = credentials::set_paused(&state.db, &ann, id, false).await.unwrap_err();
    assert!(refused.to_string().contains("only an administrator"), "{refused}");
    assert_eq!(row(&state.db, id).await.status, KeyStatus::Paused);
    credentials::set_paused(&state.db, &root, id, false).await.unwrap();
    // An admin's pause takes over one the owner made, so the owner cannot lift it.
    credentials::set_paused(&state.db, &ann, id, true).await.unwrap();
    credentials::set_paused(&state.db, &root, id, true).await.unwrap();
    assert!(row(&state.db, id).await.paused_by_admin);
    assert!(credentials::set_paused(&state.db, &ann, id, false).await.is_err());
    credentials::set_paused(&state.db, &root, id, false).await.unwrap();
    // The owner's own pause is theirs to lift.
    credentials::set_paused(&state.db, &ann, id, true).await.unwrap();
    assert!(!row(&state.db, id).await.paused_by_admin);
    credentials::set_paused(&state.db, &ann, id, false).await.unwrap();
    // Changes that change nothing say so.
    let refused = credentials::set_paused(&state.db, &ann, id, false).await.unwrap_err();
    assert!(refused.to_string().contains("already active"), "{refused}");
    credentials::revoke_credential(&state.db, &ann, id).await.unwrap();
    let refused = credentials::revoke_credential(&state.db, &ann, id).await.unwrap_err();
    assert!(refused.to_string().contains("already revoked"), "{refused}");
}

/// A key whose name takes the 64 characters a person may type rotates on both databases
/// (the retiring pair's longer name once overflowed PostgreSQL's column).
async fn a_long_name_rotates(db: DatabaseConnection) {
    let state = common::state(db);
    let (bucket, _) = seed::customer_with_bucket(&state, "ann@example.com", "ann-bucket").await;
    let name = "n".repeat(64);
    let key = seed::key(&state, bucket.id, &name, "", "read-only").await;
    let (new, _) = credentials::rotate_credential(
        &state.db,
        &state.secrets,
        &Caller::Operator,
        &key.access_key_id,
        60,
        None,
    )
    .await
    .unwrap();
    assert_eq!(new.name.as_deref(), Some(name.as_str()));
    let old = row(&state.db, &key.access_key_id).await;
    assert!(old.name.unwrap().contains(&key.access_key_id));
}

/// An unknown key id and a refused key named with a wrong secret get the same words;
/// ids that are not Stook's form are not even looked up, and the cache stays bounded.
async fn the_key_cache_is_bounded(db: DatabaseConnection) {
    let state = common::state(db);
    seed::customer_with_bucket(&state, "ann@example.com", "ann-bucket").await;
    let keys = KeyStore::new(state.db.clone(), state.secrets.clone());
    for bad in [
        "",
        "short",
        &"A".repeat(21),
        &"a".repeat(20),
        &"X".repeat(400_000),
        "AKIA/000000000000000",
    ] {
        assert!(keys.get(bad).await.unwrap().is_none());
    }
    assert_eq!(keys.cached().0, 0, "malformed ids are neither looked up nor kept");
    let refused = keys.authenticated("AKIANOSUCHKEY0000000").await.unwrap_err();
    assert_eq!(refused.message(), Some(NO_SUCH_KEY));
    for i in 0..(server::s3::keys::MAX_CACHED_KEYS + 2_000) {
        keys.get(&format!("AKIA{i:016}")).await.unwrap();
    }
    let (entries, bytes) = keys.cached();
    assert!(entries <= server::s3::keys::MAX_CACHED_KEYS, "{entries} entries");
    assert!(bytes <= server::s3::keys::MAX_CACHED_BYTES, "{bytes} bytes");
}

on_both_databases_concurrently!(
    every_place_agrees_on_a_keys_state,
    revoked_stays_revoked_under_any_race,
    an_edit_racing_a_rotation_is_never_undone,
    the_lifetime_limit_counts_from_creation,
    an_admins_pause_holds,
    a_long_name_rotates,
    the_key_cache_is_bounded,
);
