//! The migrations run up (and stay up) on SQLite and PostgreSQL.

mod common;

use app::services::entities::{audit_event, bucket, credential, region, session, user};
use migrations::{Migrator, MigratorTrait as _};
use sea_orm::{DatabaseConnection, EntityTrait as _, PaginatorTrait as _};

async fn migrations_run_up(db: DatabaseConnection) {
    assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());
    assert_eq!(
        Migrator::get_applied_migrations(&db).await.unwrap().len(),
        Migrator::migrations().len()
    );
    // Every entity maps onto its table.
    assert_eq!(user::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(region::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(bucket::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(credential::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(audit_event::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(session::Entity::find().count(&db).await.unwrap(), 0);
    // Running them again is a no-op.
    Migrator::up(&db, None).await.unwrap();
}

on_both_databases!(migrations_run_up);
