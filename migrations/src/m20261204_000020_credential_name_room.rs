use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Name,
}

/// A rotation renames the retiring pair "NAME (old key AKID…)": 30 characters more than
/// the 64 a person may type, which overflowed `varchar(64)` on PostgreSQL (SQLite does
/// not enforce lengths, so it has nothing to change).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Credentials::Table)
                    .modify_column(string_len_null(Credentials::Name, 128))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        // Longer names (retiring pairs) are shortened to fit back, keeping their end (the
        // old key's id) so they stay unique.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE credentials SET name = left(name, 43) || '…' || right(name, 20) WHERE length(name) > 64",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Credentials::Table)
                    .modify_column(string_len_null(Credentials::Name, 64))
                    .to_owned(),
            )
            .await
    }
}
