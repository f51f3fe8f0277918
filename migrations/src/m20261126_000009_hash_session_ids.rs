//! Sessions are stored under a SHA-256 of their id from now on, so a copy of the
//! database does not hand out live cookies. The rows stored under plain ids are removed
//! (everyone signs in again).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sign_everyone_out(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Hashed ids mean nothing to the older code: sign everyone out there too.
        sign_everyone_out(manager).await
    }
}

async fn sign_everyone_out(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared("DELETE FROM sessions")
        .await
        .map(|_| ())
}
