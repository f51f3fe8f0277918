use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    ActorId,
    Action,
    Target,
}

/// The audit page filters by actor, target (a key, and a customer's own things) and
/// action, newest first: one index each, ending in the id so PostgreSQL reads a page in
/// order and stops (SQLite's indexes end in the row id anyway). Without them a page of a
/// million-event log read the whole table. `(actor_id, id)` replaces `(actor_id)`.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in [
            ("audit_events_by_actor", AuditEvents::ActorId),
            ("audit_events_by_target", AuditEvents::Target),
            ("audit_events_by_action", AuditEvents::Action),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEvents::Table)
                        .col(column)
                        .col(AuditEvents::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("audit_events_actor")
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("audit_events_actor")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::ActorId)
                    .to_owned(),
            )
            .await?;
        for name in [
            "audit_events_by_actor",
            "audit_events_by_target",
            "audit_events_by_action",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(AuditEvents::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
