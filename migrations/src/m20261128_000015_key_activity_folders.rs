use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Clone, Copy, DeriveIden)]
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
        rebuild(manager, true).await
    }

    /// The folder counts fold back into one row per hour and action.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, false).await
    }
}

/// Makes `key_activity` anew, with or without the folder in its primary key, keeping
/// every count.
async fn rebuild(manager: &SchemaManager<'_>, by_folder: bool) -> Result<(), DbErr> {
    let mut key = Index::create();
    key.col(KeyActivity::CredentialId)
        .col(KeyActivity::Hour)
        .col(KeyActivity::Action);
    let mut table = Table::create();
    table
        .table(KeyActivityNext::Table)
        .col(integer(KeyActivity::CredentialId))
        .col(big_integer(KeyActivity::Hour))
        .col(string_len(KeyActivity::Action, 64));
    if by_folder {
        key.col(KeyActivity::Folder);
        table.col(string_len(KeyActivity::Folder, 255).default("-"));
    }
    table
        .col(big_integer(KeyActivity::Requests).default(0))
        .col(big_integer(KeyActivity::Denied).default(0))
        .primary_key(&mut key)
        .foreign_key(
            ForeignKey::create()
                .from(KeyActivityNext::Table, KeyActivity::CredentialId)
                .to(Credentials::Table, Credentials::Id)
                .on_delete(ForeignKeyAction::Cascade),
        );
    manager.create_table(table.to_owned()).await?;
    let grouping = [KeyActivity::CredentialId, KeyActivity::Hour, KeyActivity::Action];
    let counts = Query::select()
        .columns(grouping)
        .expr(Expr::col(KeyActivity::Requests).sum())
        .expr(Expr::col(KeyActivity::Denied).sum())
        .from(KeyActivity::Table)
        .group_by_columns(grouping)
        .to_owned();
    let copy = Query::insert()
        .into_table(KeyActivityNext::Table)
        .columns([
            KeyActivity::CredentialId,
            KeyActivity::Hour,
            KeyActivity::Action,
            KeyActivity::Requests,
            KeyActivity::Denied,
        ])
        .select_from(counts)
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
