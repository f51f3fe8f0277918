use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KeyDenials {
    Table,
    Id,
    CredentialId,
    At,
    Operation,
    ObjectKey,
    /// The evaluator's reason, as the client was told.
    Reason,
    ClientAddr,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Id,
}

/// The last denied requests of each key, with the evaluator's reason (the S3 endpoint
/// keeps 20 per key, for 30 days).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KeyDenials::Table)
                    .col(big_pk_auto(KeyDenials::Id))
                    .col(integer(KeyDenials::CredentialId))
                    .col(big_integer(KeyDenials::At))
                    .col(string_len(KeyDenials::Operation, 64))
                    .col(text_null(KeyDenials::ObjectKey))
                    .col(text(KeyDenials::Reason))
                    .col(string_len_null(KeyDenials::ClientAddr, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .from(KeyDenials::Table, KeyDenials::CredentialId)
                            .to(Credentials::Table, Credentials::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("key_denials_credential")
                    .table(KeyDenials::Table)
                    .col(KeyDenials::CredentialId)
                    .col(KeyDenials::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KeyDenials::Table).to_owned())
            .await
    }
}
