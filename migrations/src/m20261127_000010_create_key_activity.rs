use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KeyActivity {
    Table,
    CredentialId,
    /// The hour's start, Unix seconds.
    Hour,
    /// The catalog action the requests needed (`-` for ListBuckets, which needs none).
    Action,
    Requests,
    Denied,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Id,
}

/// What each key did, counted per hour and action by the S3 endpoint (kept 30 days).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KeyActivity::Table)
                    .col(integer(KeyActivity::CredentialId))
                    .col(big_integer(KeyActivity::Hour))
                    .col(string_len(KeyActivity::Action, 64))
                    .col(big_integer(KeyActivity::Requests).default(0))
                    .col(big_integer(KeyActivity::Denied).default(0))
                    .primary_key(
                        Index::create()
                            .col(KeyActivity::CredentialId)
                            .col(KeyActivity::Hour)
                            .col(KeyActivity::Action),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(KeyActivity::Table, KeyActivity::CredentialId)
                            .to(Credentials::Table, Credentials::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("key_activity_hour")
                    .table(KeyActivity::Table)
                    .col(KeyActivity::Hour)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KeyActivity::Table).to_owned())
            .await
    }
}
