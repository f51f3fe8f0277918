//! The people, buckets and keys the tests and the benchmarks start from (the benchmarks
//! include this file by path; not every one uses every helper).
#![allow(dead_code)]

use app::domain::{BucketView, Role};
use app::services::buckets::{self, IssuedKey};
use app::services::caller::Caller;
use app::services::credentials::{self, CreateCredential};
use app::services::{AppState, regions, users};

pub const REGION: &str = "eu-west-1";
/// The region's advertised endpoint.
pub const ENDPOINT: &str = "https://s3.eu-west-1.example.com";
/// Every seeded person's password.
pub const PASSWORD: &str = "a long enough password";

/// Adds [`REGION`]. For a fresh database: the region is added, not looked up.
pub async fn region(state: &AppState) {
    regions::add_region(&state.db, &Caller::Operator, REGION, ENDPOINT)
        .await
        .unwrap();
}

/// Adds `email` as a person with [`PASSWORD`].
pub async fn person(state: &AppState, email: &str, role: Role) {
    users::create_user(&state.db, &Caller::Operator, email, PASSWORD, role)
        .await
        .unwrap();
}

/// Adds a customer and their bucket in [`REGION`] (already added); returns the bucket and
/// its master key pair.
pub async fn customer(state: &AppState, email: &str, bucket: &str) -> (BucketView, IssuedKey) {
    person(state, email, Role::Customer).await;
    buckets::add_bucket(&state.db, &state.secrets, &Caller::Operator, email, REGION, bucket)
        .await
        .unwrap()
}

/// Adds the region, `email` as a customer and their `bucket`; returns the bucket and its
/// master key pair.
pub async fn customer_with_bucket(state: &AppState, email: &str, bucket: &str) -> (BucketView, IssuedKey) {
    region(state).await;
    customer(state, email, bucket).await
}

/// Ann and Bob with a bucket each (`ann-bucket`, `bob-bucket`) and the admin
/// `root@example.com`; returns Ann's and Bob's bucket ids.
pub async fn two_customers_and_an_admin(state: &AppState) -> (i32, i32) {
    region(state).await;
    let (ann, _) = customer(state, "ann@example.com", "ann-bucket").await;
    let (bob, _) = customer(state, "bob@example.com", "bob-bucket").await;
    person(state, "root@example.com", Role::Admin).await;
    (ann.id, bob.id)
}

/// A credential named `name` on the bucket with `actions` (a preset or action names),
/// limited to `path`, made by the operator; returns its key pair.
pub async fn key(state: &AppState, bucket_id: i32, name: &str, path: &str, actions: &str) -> IssuedKey {
    let input = CreateCredential {
        bucket_id,
        name,
        path,
        actions,
        expires_at: None,
        networks: "",
    };
    credentials::create_credential(&state.db, &state.secrets, &Caller::Operator, input)
        .await
        .unwrap()
        .1
}

/// A read-only credential named `name` on the bucket, limited to `path`.
pub async fn read_only_key(state: &AppState, bucket_id: i32, name: &str, path: &str) -> IssuedKey {
    key(state, bucket_id, name, path, "read-only").await
}
