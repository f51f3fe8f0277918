//! One customer owning one bucket, and keys for it, for the tests and the benchmarks
//! (which include this file by path; not every one uses every helper).
#![allow(dead_code)]

use app::domain::{BucketView, Role};
use app::services::buckets::{self, IssuedKey};
use app::services::caller::Caller;
use app::services::credentials::{self, CreateCredential};
use app::services::{AppState, regions, users};

pub const REGION: &str = "eu-west-1";

/// Adds the region, `email` as a customer and their `bucket`; returns the bucket and its
/// master key pair. For a fresh database: the region is added, not looked up.
pub async fn customer_with_bucket(state: &AppState, email: &str, bucket: &str) -> (BucketView, IssuedKey) {
    let op = Caller::Operator;
    regions::add_region(&state.db, &op, REGION, "http://127.0.0.1:9000")
        .await
        .unwrap();
    users::create_user(&state.db, &op, email, "a long enough password", Role::Customer)
        .await
        .unwrap();
    buckets::add_bucket(&state.db, &state.secrets, &op, email, REGION, bucket)
        .await
        .unwrap()
}

/// A read-only credential named `name` on the bucket, limited to `path`, made by the
/// operator; returns its key pair.
pub async fn read_only_key(state: &AppState, bucket_id: i32, name: &str, path: &str) -> IssuedKey {
    let input = CreateCredential {
        bucket_id,
        name,
        path,
        actions: "read-only",
        expires_at: None,
    };
    credentials::create_credential(&state.db, &state.secrets, &Caller::Operator, input)
        .await
        .unwrap()
        .1
}
