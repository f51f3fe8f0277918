use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Version,
    PausedByAdmin,
}

/// Every change of a credential is a conditional write on the version it read (`WHERE
/// version = <read>`, then `version + 1`), so two changes at once never undo each other:
/// the later one finds the row changed and is refused. A pause by an admin holds until an
/// admin resumes it. One ALTER per column: SQLite takes one at a time.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Credentials::Table)
                    .add_column(integer(Credentials::Version).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Credentials::Table)
                    .add_column(boolean(Credentials::PausedByAdmin).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Credentials::PausedByAdmin, Credentials::Version] {
            manager
                .alter_table(Table::alter().table(Credentials::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
