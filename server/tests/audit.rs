//! The audit log at scale and as each person may see it: a customer with 50,000 keys gets
//! their page, API answer and CSV export, right and with memory that stays flat over
//! hundreds of loads; the page's queries go through an index; a customer sees "an
//! administrator" for an admin's action on their things, an admin sees who and from where.

mod common;

use app::domain::{AuditEventView, Role};
use app::services::audit::{self, Actor, AuditAction, AuditFilter, AuditTarget};
use app::services::caller::Caller;
use app::services::entities::audit_event;
use app::services::{AppState, users};
use axum::http::StatusCode;
use common::seed::{self, PASSWORD};
use common::{Client, router, state};
use sea_orm::{
    ConnectionTrait as _, DatabaseConnection, DbBackend, EntityTrait as _, Statement, TransactionTrait as _,
};
use std::collections::HashSet;

/// Some tests here measure the process's resident memory, which every test of this file
/// shares: they run one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Past SQLite's 32,766 bound values, which a list of the customer's key ids overran.
const MANY_KEYS: u32 = 50_000;

/// An admin's client address, which a customer must never see.
const ADMIN_ADDR: &str = "198.51.100.9";

/// The access key id of the `n`th key made by [`add_keys`]: 20 characters, upper case.
fn key_id(n: u32) -> String {
    format!("AKMANY{}", 10_000_000_000_000 + u64::from(n))
}

/// `count` keys on the bucket, numbered from `first`, in one statement (50,000 service
/// calls would take minutes).
async fn add_keys(db: &DatabaseConnection, owner: i32, bucket: i32, first: u32, count: u32) {
    let empty_blob = match db.get_database_backend() {
        DbBackend::Postgres => r"'\x00'::bytea",
        _ => "X'00'",
    };
    let last = first + count - 1;
    db.execute_unprepared(&format!(
        "WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
         INSERT INTO credentials (owner_id, bucket_id, name, actions, kind, access_key_id, secret_ciphertext, status, created_at, denied_requests) \
         SELECT {owner}, {bucket}, 'many ' || i, 's3:GetObject', 'scoped', 'AKMANY' || (10000000000000 + i), {empty_blob}, 'active', 0, 0 FROM n"
    ))
    .await
    .unwrap();
}

async fn person(state: &AppState, email: &str) -> app::domain::SignedInUser {
    let id = users::find_by_email(&state.db, email).await.unwrap().unwrap().id;
    users::signed_in_user(&state.db, id).await.unwrap().unwrap()
}

async fn signed_in(state: &AppState, email: &str) -> Client {
    let mut client = Client::new(router(state.clone()));
    let reply = client.call("login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    client
}

async fn record(state: &AppState, actor: &Actor, action: AuditAction, target: AuditTarget<'_>) {
    audit::record(&state.db, actor, action, target, serde_json::json!({}))
        .await
        .unwrap();
}

/// Ann's and Bob's buckets and keys (Ann with [`MANY_KEYS`] keys) and events on them by
/// everyone: the admin, the operator, Bob, someone failing to sign in as Ann.
async fn many_keys_and_their_events(state: &AppState) {
    let (ann_bucket, bob_bucket) = seed::two_customers_and_an_admin(state).await;
    let ann = person(state, "ann@example.com").await;
    let bob = person(state, "bob@example.com").await;
    let root = person(state, "root@example.com").await;
    add_keys(&state.db, ann.id, ann_bucket, 1, MANY_KEYS).await;
    add_keys(&state.db, bob.id, bob_bucket, MANY_KEYS + 1, 100).await;
    let by_root = Actor::user(root.id, Some(ADMIN_ADDR.into()));
    for n in [1, 32_767, 40_000, MANY_KEYS] {
        record(
            state,
            &by_root,
            AuditAction::CredentialRevoke,
            AuditTarget::Credential(&key_id(n)),
        )
        .await;
    }
    record(
        state,
        &Actor::operator(),
        AuditAction::CredentialPause,
        AuditTarget::Credential(&key_id(45_000)),
    )
    .await;
    let by_bob = Actor::user(bob.id, Some("192.0.2.2".into()));
    for n in [MANY_KEYS + 1, MANY_KEYS + 100] {
        record(
            state,
            &by_bob,
            AuditAction::CredentialCreate,
            AuditTarget::Credential(&key_id(n)),
        )
        .await;
        record(
            state,
            &by_root,
            AuditAction::CredentialRevoke,
            AuditTarget::Credential(&key_id(n)),
        )
        .await;
    }
    record(
        state,
        &by_root,
        AuditAction::BucketRotateMasterKey,
        AuditTarget::Bucket(bob_bucket),
    )
    .await;
    record(
        state,
        &by_root,
        AuditAction::BucketRotateMasterKey,
        AuditTarget::Bucket(ann_bucket),
    )
    .await;
    let stranger = Actor {
        user_id: None,
        client_addr: Some("192.0.2.66".into()),
    };
    record(
        state,
        &stranger,
        AuditAction::SessionLoginFailed,
        AuditTarget::Email(&ann.email),
    )
    .await;
}

/// The ids of the events Ann may see, newest first, worked out apart from the service:
/// hers, and those on her account, buckets and keys.
async fn anns_events(state: &AppState) -> Vec<i64> {
    let ann = person(state, "ann@example.com").await;
    let mut hers: HashSet<String> = (1..=MANY_KEYS)
        .map(|n| AuditTarget::Credential(&key_id(n)).to_string())
        .collect();
    hers.insert(AuditTarget::User(ann.id).to_string());
    hers.insert(AuditTarget::Email(&ann.email).to_string());
    for bucket in app::services::buckets::list_buckets(&state.db, Some(ann.id))
        .await
        .unwrap()
    {
        hers.insert(AuditTarget::Bucket(bucket.id).to_string());
    }
    let mut ids: Vec<i64> = audit_event::Entity::find()
        .all(&state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor_id == Some(ann.id) || hers.contains(&e.target))
        .map(|e| e.id)
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids
}

fn event_ids(page: &serde_json::Value) -> Vec<i64> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

/// A customer with 50,000 keys gets their audit page from the service and the API, and
/// the whole CSV export: every event on their keys (the last key too), never another
/// customer's.
async fn a_customer_with_50000_keys_sees_their_whole_log(db: DatabaseConnection) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let state = state(db);
    many_keys_and_their_events(&state).await;
    let ann = person(&state, "ann@example.com").await;
    let as_ann = Caller::user(ann.clone(), "192.0.2.1");

    let expected = anns_events(&state).await;
    let page = audit::page(&state.db, &as_ann, &AuditFilter::default(), 0)
        .await
        .expect("the audit page of a customer with 50,000 keys");
    assert_eq!(page.total, expected.len() as u64);
    assert_eq!(page.events.iter().map(|e| e.id).collect::<Vec<_>>(), expected);
    for n in [1, 32_767, MANY_KEYS] {
        let on_key = AuditFilter {
            credential: Some(key_id(n)),
            ..AuditFilter::default()
        };
        let found = audit::page(&state.db, &as_ann, &on_key, 0).await.unwrap();
        assert_eq!(found.total, 1, "the event on key {n}");
        assert_eq!(found.events[0].target, format!("credential:{}", key_id(n)));
    }
    // Bob's keys, his bucket and his sign-ins are not hers.
    let bobs = AuditFilter {
        credential: Some(key_id(MANY_KEYS + 1)),
        ..AuditFilter::default()
    };
    assert_eq!(audit::page(&state.db, &as_ann, &bobs, 0).await.unwrap().total, 0);

    let mut client = signed_in(&state, "ann@example.com").await;
    let reply = client.call("audit", &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let expected = anns_events(&state).await;
    let answer = reply.json();
    assert_eq!(answer["total"], expected.len() as u64);
    assert_eq!(event_ids(&answer), expected);
    for theirs in [
        "bob@example.com",
        "192.0.2.2",
        &key_id(MANY_KEYS + 1),
        &key_id(MANY_KEYS + 100),
    ] {
        assert!(!reply.body.contains(theirs), "{theirs} in {}", reply.body);
    }

    let csv = client.get("/api/audit.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.body.lines().count(), expected.len() + 1, "{}", csv.body);
    for n in [1, 32_767, 40_000, 45_000, MANY_KEYS] {
        assert!(csv.body.contains(&format!(",credential:{},", key_id(n))), "key {n}");
    }
    assert!(!csv.body.contains(&key_id(MANY_KEYS + 1)) && !csv.body.contains("bob@example.com"));

    // The admin sees everyone's.
    let everyone = audit::page(
        &state.db,
        &Caller::user(person(&state, "root@example.com").await, ""),
        &bobs,
        0,
    )
    .await
    .unwrap();
    assert_eq!(everyone.total, 2);
}

/// Resident memory of this process, in bytes.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// 500 loads of the audit page (the service, the API and the CSV export, in turn) of a
/// customer with 50,000 keys who makes a key before each load leave resident memory
/// where the first loads left it: the query is one statement whatever she owns (one
/// statement per key count, cached in every pooled connection, grew 4 MB a load).
async fn audit_loads_keep_memory_flat(db: DatabaseConnection) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let state = state(db);
    many_keys_and_their_events(&state).await;
    let ann = person(&state, "ann@example.com").await;
    let as_ann = Caller::user(ann.clone(), "192.0.2.1");
    let ann_bucket = app::services::buckets::list_buckets(&state.db, Some(ann.id))
        .await
        .unwrap()[0]
        .id;
    let mut client = signed_in(&state, "ann@example.com").await;
    const LOADS: u32 = 500;
    const WARM_UP: u32 = 50;
    let mut settled = 0;
    for load in 0..LOADS {
        add_keys(&state.db, ann.id, ann_bucket, MANY_KEYS + 1_000 + load, 1).await;
        match load % 3 {
            0 => {
                let page = audit::page(&state.db, &as_ann, &AuditFilter::default(), 0).await;
                assert!(page.is_ok(), "load {load}: {page:?}");
            }
            1 => {
                let reply = client.call("audit", &[]).await;
                assert_eq!(reply.status, StatusCode::OK, "load {load}: {}", reply.body);
            }
            _ => {
                let reply = client.get("/api/audit.csv").await;
                assert_eq!(reply.status, StatusCode::OK, "load {load}: {}", reply.body);
                assert!(
                    reply.body.contains(&key_id(MANY_KEYS)),
                    "load {load}: the export is whole"
                );
            }
        }
        if load + 1 == WARM_UP {
            settled = resident_bytes();
        }
    }
    let grown = resident_bytes().saturating_sub(settled);
    assert!(
        grown < 20 << 20,
        "resident memory grew {} MiB over {} loads",
        grown >> 20,
        LOADS - WARM_UP
    );
}

/// A customer sees "an administrator" for an admin's action on their key, with neither
/// the admin's email nor address, in the page, the API and the CSV; naming the admin as
/// the actor finds nothing. The admin sees who and from where; the operator and the
/// customer themselves are shown as before.
async fn customers_see_an_administrator_not_who(db: DatabaseConnection) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let state = state(db);
    let (ann_bucket, _) = seed::two_customers_and_an_admin(&state).await;
    let ann = person(&state, "ann@example.com").await;
    let root = person(&state, "root@example.com").await;
    let as_ann = Caller::user(ann.clone(), "192.0.2.1");
    let as_root = Caller::user(root.clone(), ADMIN_ADDR);
    let paused = seed::read_only_key(&state, ann_bucket, "paused by ann", "")
        .await
        .access_key_id;
    let revoked = seed::read_only_key(&state, ann_bucket, "revoked by root", "")
        .await
        .access_key_id;
    app::services::credentials::set_paused(&state.db, &as_ann, &paused, true)
        .await
        .unwrap();
    app::services::credentials::revoke_credential(&state.db, &as_root, &revoked)
        .await
        .unwrap();
    let on = |events: &[AuditEventView], action: &str, key: &str| -> AuditEventView {
        events
            .iter()
            .find(|e| e.action == action && e.target == format!("credential:{key}"))
            .unwrap_or_else(|| panic!("{action} on {key} in {events:?}"))
            .clone()
    };

    let anns = audit::page(&state.db, &as_ann, &AuditFilter::default(), 0)
        .await
        .unwrap();
    let by_admin = on(&anns.events, "credential.revoke", &revoked);
    assert_eq!(by_admin.actor_shown(), "an administrator");
    assert_eq!((by_admin.actor, by_admin.client_addr), (None, None));
    let own = on(&anns.events, "credential.pause", &paused);
    assert_eq!(own.actor_shown(), "ann@example.com");
    assert_eq!(own.client_addr.as_deref(), Some("192.0.2.1"));
    let by_operator = on(&anns.events, "credential.create", &revoked);
    assert_eq!(by_operator.actor_shown(), "operator (CLI)");

    let roots = audit::page(&state.db, &as_root, &AuditFilter::default(), 0)
        .await
        .unwrap();
    let seen_by_admin = on(&roots.events, "credential.revoke", &revoked);
    assert_eq!(seen_by_admin.actor_shown(), "root@example.com");
    assert_eq!(seen_by_admin.client_addr.as_deref(), Some(ADMIN_ADDR));
    assert_eq!(
        on(&roots.events, "credential.pause", &paused).actor_shown(),
        "ann@example.com"
    );

    let mut ann_client = signed_in(&state, "ann@example.com").await;
    let reply = ann_client.call("audit", &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    for hidden in [root.email.as_str(), ADMIN_ADDR] {
        assert!(!reply.body.contains(hidden), "{hidden} in {}", reply.body);
    }
    let revoke = reply.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "credential.revoke")
        .unwrap()
        .clone();
    assert_eq!(revoke["actor"], serde_json::Value::Null);
    assert_eq!(revoke["client_addr"], serde_json::Value::Null);
    assert_eq!(revoke["actor_withheld"], true);
    // Naming the admin finds nothing, as an unknown email does.
    let named = ann_client.call("audit", &[("actor", &root.email)]).await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    assert_eq!(named.json()["total"], 0);
    let csv = ann_client.get("/api/audit.csv").await.body;
    assert!(
        csv.contains(&format!(",an administrator,credential.revoke,credential:{revoked},,")),
        "{csv}"
    );
    for hidden in [root.email.as_str(), ADMIN_ADDR] {
        assert!(!csv.contains(hidden), "{hidden} in {csv}");
    }

    let mut root_client = signed_in(&state, "root@example.com").await;
    let csv = root_client.get("/api/audit.csv").await.body;
    assert!(
        csv.contains(&format!(
            ",root@example.com,credential.revoke,credential:{revoked},{ADMIN_ADDR},"
        )),
        "{csv}"
    );
    let mine = root_client.call("audit", &[("actor", &root.email)]).await.json();
    assert!(event_ids(&mine).contains(&seen_by_admin.id));

    // A second admin sees the first by name, too.
    seed::person(&state, "second@example.com", Role::Admin).await;
    let second = Caller::user(person(&state, "second@example.com").await, "");
    let theirs = audit::page(&state.db, &second, &AuditFilter::default(), 0)
        .await
        .unwrap();
    assert_eq!(
        on(&theirs.events, "credential.revoke", &revoked).actor_shown(),
        "root@example.com"
    );
}

/// The plan of one statement as text: `EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on
/// PostgreSQL with sequential scans priced out. A test-sized log makes reading all of it
/// PostgreSQL's cheaper choice; with that choice taken away, an index that serves the
/// query shows in the plan (as the planner picks it for a log of a million events), and
/// a query no index serves still reads the whole table.
async fn plan(db: &DatabaseConnection, statement: Statement) -> String {
    let backend = db.get_database_backend();
    let txn = db.begin().await.unwrap();
    let explain = match backend {
        DbBackend::Postgres => {
            txn.execute_unprepared("SET LOCAL enable_seqscan = off").await.unwrap();
            "EXPLAIN"
        }
        _ => "EXPLAIN QUERY PLAN",
    };
    let rows = txn
        .query_all_raw(Statement {
            sql: format!("{explain} {}", statement.sql),
            ..statement
        })
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    rows.iter()
        .map(|row| match backend {
            DbBackend::Postgres => row.try_get::<String>("", "QUERY PLAN").unwrap(),
            _ => row.try_get::<String>("", "detail").unwrap(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The audit page's queries (its count and its rows) find their events through an index
/// for every filter, and for a customer's own view, rather than reading the whole log.
async fn the_audit_page_reads_through_indexes(db: DatabaseConnection) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let state = state(db);
    let (ann_bucket, _) = seed::two_customers_and_an_admin(&state).await;
    let ann = person(&state, "ann@example.com").await;
    let root = person(&state, "root@example.com").await;
    add_keys(&state.db, ann.id, ann_bucket, 1, 50).await;
    // A log of 5,000 old events by the operator, so each filter below is selective.
    state
        .db
        .execute_unprepared(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
             INSERT INTO audit_events (actor_id, action, target, client_addr, created_at, details) \
             SELECT NULL, 'region.create', 'region:r' || i, 'cli', 1000000 + i, '{}' FROM n",
        )
        .await
        .unwrap();
    let by_root = Actor::user(root.id, Some(ADMIN_ADDR.into()));
    record(
        &state,
        &by_root,
        AuditAction::CredentialRevoke,
        AuditTarget::Credential(&key_id(7)),
    )
    .await;
    if state.db.get_database_backend() == DbBackend::Postgres {
        state.db.execute_unprepared("ANALYZE").await.unwrap();
    }
    let admin = Caller::user(root.clone(), "");
    let customer = Caller::user(ann.clone(), "");
    let today = app::domain::format_iso8601(app::services::now())[..10].to_string();
    let filter = |actor: &str, credential: &str, action: &str, day: &str| {
        AuditFilter::from_fields(actor, credential, action, day, day).unwrap()
    };
    let cases = [
        (
            "an actor",
            &admin,
            filter("root@example.com", "", "", ""),
            "audit_events_by_actor",
        ),
        (
            "a credential",
            &admin,
            filter("", &key_id(7), "", ""),
            "audit_events_by_target",
        ),
        (
            "an action",
            &admin,
            filter("", "", "credential.revoke", ""),
            "audit_events_by_action",
        ),
        ("days", &admin, filter("", "", "", &today), "audit_events_created"),
        (
            "a customer's view",
            &customer,
            AuditFilter::default(),
            "audit_events_by_target",
        ),
        (
            "a customer's actions",
            &customer,
            filter("", "", "credential.revoke", ""),
            "audit_events_by_target",
        ),
    ];
    let mut wrong = Vec::new();
    for (what, caller, filter, index) in cases {
        let visible = audit::visible(&state.db, caller, &filter).await.unwrap();
        for statement in visible.page_statements(state.db.get_database_backend(), 0) {
            let plan = plan(&state.db, statement.clone()).await;
            let full_scan = plan.lines().any(|line| {
                let line = line.trim_start_matches(|c: char| !c.is_ascii_alphabetic());
                line.starts_with("SCAN audit_events")
                    || line.starts_with("SCAN e ")
                    || line == "SCAN e"
                    || line.contains("Seq Scan on audit_events")
            });
            if full_scan || !plan.contains(index) {
                let scan = if full_scan { "reads the whole log" } else { "" };
                wrong.push(format!("{what}: not through {index} {scan}\n{}\n{plan}", statement.sql));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

on_both_databases!(
    a_customer_with_50000_keys_sees_their_whole_log,
    audit_loads_keep_memory_flat,
    customers_see_an_administrator_not_who,
    the_audit_page_reads_through_indexes,
);
