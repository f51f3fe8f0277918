use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KeySources {
    Table,
    CredentialId,
    ClientAddr,
    /// The latest request from this address, and its operation.
    LastSeen,
    LastOperation,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Id,
}

/// The addresses each key was used from (kept 30 days after the last request).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KeySources::Table)
                    .col(integer(KeySources::CredentialId))
                    .col(string_len(KeySources::ClientAddr, 64))
                    .col(big_integer(KeySources::LastSeen))
                    .col(string_len(KeySources::LastOperation, 64))
                    .primary_key(
                        Index::create()
                            .col(KeySources::CredentialId)
                            .col(KeySources::ClientAddr),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(KeySources::Table, KeySources::CredentialId)
                            .to(Credentials::Table, Credentials::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KeySources::Table).to_owned())
            .await
    }
}
