//! sea-orm entities over the tables that `migrations` creates.

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub email: String,
        pub password_hash: String,
        pub role: crate::domain::Role,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod region {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "regions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub name: String,
        pub endpoint_url: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bucket {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "buckets")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub owner_id: i32,
        pub region_id: i32,
        pub name: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod credential {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credentials")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub owner_id: i32,
        pub bucket_id: i32,
        pub name: Option<String>,
        pub path: Option<String>,
        pub actions: String,
        pub kind: crate::domain::KeyKind,
        #[sea_orm(unique)]
        pub access_key_id: String,
        #[sea_orm(column_type = "Blob")]
        pub secret_ciphertext: Vec<u8>,
        pub status: crate::domain::KeyStatus,
        pub created_at: i64,
        pub revoked_at: Option<i64>,
        pub last_used_at: Option<i64>,
        pub expires_at: Option<i64>,
        pub denied_requests: i64,
        /// Comma-separated CIDRs the key may be used from; `None`: anywhere.
        pub networks: Option<String>,
        /// The credential that replaced this one by rotation; it keeps working until
        /// `expires_at`, the end of the grace period.
        pub replaced_by: Option<i32>,
        /// Bumped by every change: each write is conditional on the version it read.
        pub version: i32,
        /// Paused by an admin: only an admin resumes it.
        pub paused_by_admin: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub actor_id: Option<i32>,
        pub action: String,
        pub target: String,
        pub client_addr: Option<String>,
        pub created_at: i64,
        pub details: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub data: String,
        pub expires_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod key_activity {
    use sea_orm::entity::prelude::*;

    /// Requests per key, hour, action and folder (see the S3 endpoint's usage writer).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "key_activity")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub credential_id: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub hour: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub action: String,
        /// See [`crate::services::activity::folder_of`].
        #[sea_orm(primary_key, auto_increment = false)]
        pub folder: String,
        pub requests: i64,
        pub denied: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod key_denial {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "key_denials")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub credential_id: i32,
        pub at: i64,
        pub operation: String,
        pub object_key: Option<String>,
        pub reason: String,
        pub client_addr: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod key_source {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "key_sources")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub credential_id: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub client_addr: String,
        pub last_seen: i64,
        pub last_operation: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod setting {
    use sea_orm::entity::prelude::*;

    /// One setting an admin changed in the panel.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub value: String,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
