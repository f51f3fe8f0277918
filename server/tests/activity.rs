//! Key activity stays bounded per key whatever the key is asked to do (issue 17, item 4):
//! a million requests to distinct folders from distinct addresses, gathered in memory and
//! flushed as the S3 endpoint does, leave a bounded number of rows per key, and the drawer
//! and the edit preview read them back with bounded memory. On SQLite and PostgreSQL.

mod common;

use app::catalog::ACTIONS;
use app::domain::{ACTIVITY_DAYS, DENIALS_SHOWN};
use app::services::activity::{
    ADDRESSES_PER_KEY, FOLDERS_PER_KEY_HOUR, OTHER_ADDRESSES, OTHER_FOLDERS, OTHER_FOLDERS_WORDS, PREVIEW_FOLDERS, Seen,
};
use app::services::caller::Caller;
use app::services::entities::{credential, key_activity, key_denial, key_source};
use app::services::key_edits::{self, EditCredential};
use app::services::{AppState, credentials, now};
use common::seed::{customer_with_bucket, key};
use common::state;
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use server::s3::usage::Usage;
use std::net::{IpAddr, Ipv6Addr};

/// Memory is measured for the whole process: the tests of this file run one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MILLION: u64 = 1_000_000;
/// Past hours of allowed requests, each to more distinct folders than a key keeps an hour.
const HOURS: i64 = 160;
const PER_HOUR: u64 = 300;
/// What reading a key's activity may add to the process's memory at its peak.
const READ_BUDGET_KIB: u64 = 16 * 1024;
/// What gathering a million requests between two writes may add.
const GATHER_BUDGET_KIB: u64 = 32 * 1024;

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// What `work` adds to the process's resident memory at its peak, in KiB: the peak is
/// reset first (`clear_refs` 5), so it is the peak of `work` alone.
async fn peak_growth<T>(work: impl Future<Output = T>) -> (T, u64) {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak resident memory");
    let before = status_kib("VmRSS:");
    let out = work.await;
    (out, status_kib("VmHWM:").saturating_sub(before))
}

fn address(i: u64) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(i)))
}

/// Ann's read-write key limited to `photos/`: the state, its id and access key id.
async fn fixture(db: DatabaseConnection) -> (AppState, i32, String) {
    let state = state(db);
    let (bucket, _) = customer_with_bucket(&state, "ann@example.com", "ann-photos").await;
    let issued = key(&state, bucket.id, "camera", "photos", "read-write").await;
    let id = credential::Entity::find()
        .filter(credential::Column::AccessKeyId.eq(&issued.access_key_id))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    (state, id, issued.access_key_id)
}

fn put(id: i32, at: i64, addr: IpAddr, object_key: &str) -> Seen<'_> {
    Seen {
        credential_id: id,
        at,
        operation: "PutObject",
        action: Some("s3:PutObject"),
        client_addr: Some(addr),
        object_key: Some(object_key),
    }
}

async fn a_million_folders_stay_bounded(db: DatabaseConnection) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let (state, id, access_key_id) = fixture(db).await;
    let db = &state.db;
    let usage = Usage::default();
    let now = now();
    let this_hour = now - now.rem_euclid(3600);

    // A million denied uploads this hour, each to its own folder from its own address,
    // gathered between two writes as the S3 endpoint gathers them.
    let ((), gathered) = peak_growth(async {
        for i in 0..MILLION {
            let object_key = format!("elsewhere/{i}/file");
            let seen = put(id, now, address(i), &object_key);
            usage.denied(
                &seen,
                format!("this key is limited to “photos/”; “{object_key}” is outside it"),
            );
        }
    })
    .await;
    assert!(
        gathered < GATHER_BUDGET_KIB,
        "gathering grew the process by {gathered} KiB"
    );
    usage.flush(db).await.unwrap();

    // Allowed uploads in the past hours, each hour to more folders than are kept one by one.
    for h in 1..=HOURS {
        for j in 0..PER_HOUR {
            let object_key = format!("photos/{h}/{j}/file");
            usage.allowed(&put(id, this_hour - h * 3600 + 1, address(MILLION + j), &object_key));
        }
        usage.flush(db).await.unwrap();
    }
    let allowed = HOURS as u64 * PER_HOUR;

    let activity_rows = key_activity::Entity::find()
        .filter(key_activity::Column::CredentialId.eq(id))
        .count(db)
        .await
        .unwrap();
    let hours = HOURS as u64 + 1;
    // A row per folder kept and one per action for the rest, per hour.
    let per_hour = (FOLDERS_PER_KEY_HOUR + ACTIONS.len() + 1) as u64;
    assert!(
        activity_rows <= hours * per_hour,
        "{activity_rows} activity rows for {hours} hours"
    );
    let source_rows = key_source::Entity::find()
        .filter(key_source::Column::CredentialId.eq(id))
        .count(db)
        .await
        .unwrap();
    assert_eq!(
        source_rows,
        ADDRESSES_PER_KEY as u64 + 1,
        "the latest addresses and the others"
    );
    let denial_rows = key_denial::Entity::find()
        .filter(key_denial::Column::CredentialId.eq(id))
        .count(db)
        .await
        .unwrap();
    assert_eq!(denial_rows, DENIALS_SHOWN);

    // The drawer: every request is counted, in bounded memory.
    let (detail, drawer) = peak_growth(credentials::credential_detail(db, &Caller::Operator, &access_key_id)).await;
    let detail = detail.unwrap();
    let (activity, detail_at) = (detail.activity, detail.now);
    assert!(drawer < READ_BUDGET_KIB, "the drawer grew the process by {drawer} KiB");
    let put = activity.by_action.iter().find(|a| a.action == "s3:PutObject").unwrap();
    assert_eq!(
        (put.month_requests, put.month_denied),
        ((MILLION + allowed) as i64, MILLION as i64)
    );
    // The last 24 hours as the drawer counted them (an hour may have begun meanwhile).
    let drawer_hour = detail_at - detail_at.rem_euclid(3600);
    let in_day = |hour: i64| hour >= drawer_hour - 23 * 3600;
    let day = (1..=HOURS).filter(|h| in_day(this_hour - h * 3600)).count() as u64 * PER_HOUR
        + if in_day(this_hour) { MILLION } else { 0 };
    assert_eq!(put.day_requests, day as i64);
    assert_eq!(activity.denials.len(), DENIALS_SHOWN as usize);
    // Far more went to folders past the cap than were counted one by one.
    assert!(activity.other_folder_requests >= (MILLION - FOLDERS_PER_KEY_HOUR as u64) as i64);
    assert_eq!(activity.sources.len(), ADDRESSES_PER_KEY + 1);
    assert_eq!(activity.sources.iter().filter(|s| s.others).count(), 1);
    // The latest use is a recorded address, never the others.
    let latest = activity.last_use.unwrap();
    assert_eq!(latest.at, now);
    assert!(latest.client_addr.parse::<IpAddr>().is_ok(), "{}", latest.client_addr);

    // The preview of narrowing the key to one folder: every allowed request is replayed,
    // in bounded memory.
    let narrower = EditCredential {
        path: Some("photos/0/"),
        ..Default::default()
    };
    let (preview, previewed) =
        peak_growth(key_edits::preview_edit(db, &Caller::Operator, &access_key_id, narrower)).await;
    let preview = preview.unwrap();
    assert!(
        previewed < READ_BUDGET_KIB,
        "the preview grew the process by {previewed} KiB"
    );
    let failing: i64 = preview.would_fail.iter().map(|f| f.requests).sum();
    assert_eq!(failing, allowed as i64, "every allowed request lay outside photos/0/");
    assert!(preview.would_fail.len() as u64 <= PREVIEW_FOLDERS + ACTIONS.len() as u64);
    let other = preview
        .would_fail
        .iter()
        .find(|f| f.folder.as_deref() == Some(OTHER_FOLDERS_WORDS))
        .expect("the requests past the cap are in the preview");
    assert!(other.sentence().contains("other folders (not recorded one by one)"));
    eprintln!(
        "a million folders: {activity_rows} activity rows; peak growth gathering {gathered} KiB, \
         drawer {drawer} KiB, preview {previewed} KiB"
    );
}

/// Each write knows what earlier writes (and other instances) recorded this hour: the cap
/// holds across writes, a folder recorded before goes on being counted one by one, and
/// the addresses kept are the latest.
async fn the_caps_hold_across_writes(db: DatabaseConnection) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let (state, id, _) = fixture(db).await;
    let db = &state.db;
    let usage = Usage::default();
    let now = now();
    let this_hour = now - now.rem_euclid(3600);
    let folders = 80;
    for i in 0..folders {
        usage.allowed(&put(id, this_hour, address(i % 40), &format!("photos/a{i}/x")));
    }
    usage.flush(db).await.unwrap();
    for i in 0..folders {
        usage.allowed(&put(
            id,
            this_hour + 10,
            address(40 + i % 40),
            &format!("photos/b{i}/x"),
        ));
    }
    usage.allowed(&put(id, this_hour + 10, address(0), "photos/a0/y"));
    usage.flush(db).await.unwrap();

    let rows = key_activity::Entity::find()
        .filter(key_activity::Column::CredentialId.eq(id))
        .all(db)
        .await
        .unwrap();
    let counted = |folder: &str| rows.iter().find(|r| r.folder == folder).map(|r| r.requests);
    assert_eq!(rows.len(), FOLDERS_PER_KEY_HOUR + 1, "the cap and one row for the rest");
    assert_eq!(counted("photos/a0/"), Some(2), "a folder recorded before is counted on");
    assert_eq!(
        counted(OTHER_FOLDERS),
        Some((2 * folders) as i64 - FOLDERS_PER_KEY_HOUR as i64)
    );
    assert_eq!(rows.iter().map(|r| r.requests).sum::<i64>(), (2 * folders + 1) as i64);

    let sources = key_source::Entity::find()
        .filter(key_source::Column::CredentialId.eq(id))
        .all(db)
        .await
        .unwrap();
    assert_eq!(sources.len(), ADDRESSES_PER_KEY + 1);
    // 80 addresses in all: every one of the second write is kept, with address 0 seen
    // again then.
    let kept = |i: u64| sources.iter().any(|s| s.client_addr == address(i).to_string());
    assert!((40..80).all(kept) && kept(0));
    let others = sources.iter().find(|s| s.client_addr == OTHER_ADDRESSES).unwrap();
    assert_eq!(
        others.last_seen, this_hour,
        "the others were last seen in the first write"
    );

    // A year of hours never piles up: what is older than the activity's days goes.
    usage.allowed(&put(id, now - (ACTIVITY_DAYS + 1) * 86_400, address(0), "photos/old/x"));
    usage.flush(db).await.unwrap();
    assert!(
        key_activity::Entity::find()
            .filter(key_activity::Column::Folder.eq("photos/old/"))
            .all(db)
            .await
            .unwrap()
            .is_empty()
    );
}

on_both_databases!(a_million_folders_stay_bounded, the_caps_hold_across_writes);
