use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KeyActivity {
    Table,
    CredentialId,
    Hour,
    Action,
    /// The folder of the object key or listing prefix the requests named, at most a few
    /// levels deep (`photos/2024/`; `""` for the bucket's top level, `-` for requests that
    /// name nothing): what an edit's preview replays against the new scope.
    Folder,
    Requests,
    Denied,
}

#[derive(DeriveIden)]
enum KeyActivityNext {
    Table,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Id,
}

/// Counts key activity per folder too. The primary key changes, which SQLite cannot alter:
/// the table is made anew and the counts so far are copied in (their folder unknown, `-`).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All steps or none, on one connection: on SQLite a pooled connection still reading
    /// the old schema would otherwise find `key_activity` in the way of the rename.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KeyActivityNext::Table)
                    .col(integer(KeyActivity::CredentialId))
                    .col(big_integer(KeyActivity::Hour))
                    .col(string_len(KeyActivity::Action, 64))
                    .col(string_len(KeyActivity::Folder, 255).default("-"))
                    .col(big_integer(KeyActivity::Requests).default(0))
                    .col(big_integer(KeyActivity::Denied).default(0))
                    .primary_key(
                        Index::create()
                            .col(KeyActivity::CredentialId)
                            .col(KeyActivity::Hour)
                            .col(KeyActivity::Action)
                            .col(KeyActivity::Folder),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(KeyActivityNext::Table, KeyActivity::CredentialId)
                            .to(Credentials::Table, Credentials::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let copy = Query::insert()
            .into_table(KeyActivityNext::Table)
            .columns([
                KeyActivity::CredentialId,
                KeyActivity::Hour,
                KeyActivity::Action,
                KeyActivity::Requests,
                KeyActivity::Denied,
            ])
            .select_from(
                Query::select()
                    .columns([
                        KeyActivity::CredentialId,
                        KeyActivity::Hour,
                        KeyActivity::Action,
                        KeyActivity::Requests,
                        KeyActivity::Denied,
                    ])
                    .from(KeyActivity::Table)
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(copy).await?;
        manager
            .drop_table(Table::drop().table(KeyActivity::Table).to_owned())
            .await?;
        manager
            .rename_table(
                Table::rename()
                    .table(KeyActivityNext::Table, KeyActivity::Table)
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
        // The folder counts fold back into one row per hour and action.
        manager
            .create_table(
                Table::create()
                    .table(KeyActivityNext::Table)
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
                            .from(KeyActivityNext::Table, KeyActivity::CredentialId)
                            .to(Credentials::Table, Credentials::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let fold = Query::insert()
            .into_table(KeyActivityNext::Table)
            .columns([
                KeyActivity::CredentialId,
                KeyActivity::Hour,
                KeyActivity::Action,
                KeyActivity::Requests,
                KeyActivity::Denied,
            ])
            .select_from(
                Query::select()
                    .columns([KeyActivity::CredentialId, KeyActivity::Hour, KeyActivity::Action])
                    .expr(Expr::col(KeyActivity::Requests).sum())
                    .expr(Expr::col(KeyActivity::Denied).sum())
                    .from(KeyActivity::Table)
                    .group_by_columns([KeyActivity::CredentialId, KeyActivity::Hour, KeyActivity::Action])
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(fold).await?;
        manager
            .drop_table(Table::drop().table(KeyActivity::Table).to_owned())
            .await?;
        manager
            .rename_table(
                Table::rename()
                    .table(KeyActivityNext::Table, KeyActivity::Table)
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
}
