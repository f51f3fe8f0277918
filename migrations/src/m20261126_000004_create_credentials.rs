use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;
use crate::m20261126_000003_create_buckets::Buckets;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Credentials {
    Table,
    Id,
    OwnerId,
    BucketId,
    /// NULL for a bucket's master key pair: names are the customer's, unique per owner.
    Name,
    Path,
    /// Space-separated S3 action names from the catalog.
    Actions,
    Kind,
    AccessKeyId,
    SecretCiphertext,
    Status,
    CreatedAt,
    RevokedAt,
    LastUsedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Credentials::Table)
                    .col(pk_auto(Credentials::Id))
                    .col(integer(Credentials::OwnerId))
                    .col(integer(Credentials::BucketId))
                    .col(string_len_null(Credentials::Name, 64))
                    .col(text_null(Credentials::Path))
                    .col(text(Credentials::Actions))
                    .col(string_len(Credentials::Kind, 16))
                    .col(string_len_uniq(Credentials::AccessKeyId, 20))
                    .col(blob(Credentials::SecretCiphertext))
                    .col(string_len(Credentials::Status, 16))
                    .col(big_integer(Credentials::CreatedAt))
                    .col(big_integer_null(Credentials::RevokedAt))
                    .col(big_integer_null(Credentials::LastUsedAt))
                    .col(big_integer_null(Credentials::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Credentials::Table, Credentials::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Credentials::Table, Credentials::BucketId)
                            .to(Buckets::Table, Buckets::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // NULL names (master keys) never collide, in SQLite and PostgreSQL alike.
        manager
            .create_index(
                Index::create()
                    .name("credentials_owner_name_uniq")
                    .table(Credentials::Table)
                    .col(Credentials::OwnerId)
                    .col(Credentials::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The Credentials page lists one owner's keys newest first.
        manager
            .create_index(
                Index::create()
                    .name("credentials_owner_created")
                    .table(Credentials::Table)
                    .col(Credentials::OwnerId)
                    .col(Credentials::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("credentials_bucket")
                    .table(Credentials::Table)
                    .col(Credentials::BucketId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Credentials::Table).to_owned())
            .await
    }
}
