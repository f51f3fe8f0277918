//! The Stook schema, one change per migration so SQLite's limited ALTER never bites.
//! Times are Unix seconds (UTC) in BIGINT columns: portable across SQLite and PostgreSQL
//! and cheap to compare in the hot paths (sessions, key expiry).

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_users;
mod m20261126_000002_create_regions;
mod m20261126_000003_create_buckets;
mod m20261126_000004_create_credentials;
mod m20261126_000005_create_audit_events;
mod m20261126_000006_create_sessions;
mod m20261126_000007_count_denied_requests;
mod m20261126_000008_unique_bucket_names;
mod m20261126_000009_hash_session_ids;
mod m20261127_000010_create_key_activity;
mod m20261127_000011_create_key_denials;
mod m20261127_000012_create_key_sources;
mod m20261127_000013_credential_networks;
mod m20261128_000014_credential_rotation;
mod m20261128_000015_key_activity_folders;
mod m20261128_000016_create_settings;
mod m20261204_000017_audit_event_indexes;
mod m20261204_000018_credential_versions;
mod m20261204_000020_credential_name_room;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_users::Migration),
            Box::new(m20261126_000002_create_regions::Migration),
            Box::new(m20261126_000003_create_buckets::Migration),
            Box::new(m20261126_000004_create_credentials::Migration),
            Box::new(m20261126_000005_create_audit_events::Migration),
            Box::new(m20261126_000006_create_sessions::Migration),
            Box::new(m20261126_000007_count_denied_requests::Migration),
            Box::new(m20261126_000008_unique_bucket_names::Migration),
            Box::new(m20261126_000009_hash_session_ids::Migration),
            Box::new(m20261127_000010_create_key_activity::Migration),
            Box::new(m20261127_000011_create_key_denials::Migration),
            Box::new(m20261127_000012_create_key_sources::Migration),
            Box::new(m20261127_000013_credential_networks::Migration),
            Box::new(m20261128_000014_credential_rotation::Migration),
            Box::new(m20261128_000015_key_activity_folders::Migration),
            Box::new(m20261128_000016_create_settings::Migration),
            Box::new(m20261204_000017_audit_event_indexes::Migration),
            Box::new(m20261204_000018_credential_versions::Migration),
            Box::new(m20261204_000020_credential_name_room::Migration),
        ]
    }
}
