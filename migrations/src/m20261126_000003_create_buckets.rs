use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;
use crate::m20261126_000002_create_regions::Regions;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Buckets {
    Table,
    Id,
    OwnerId,
    RegionId,
    Name,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Buckets::Table)
                    .col(pk_auto(Buckets::Id))
                    .col(integer(Buckets::OwnerId))
                    .col(integer(Buckets::RegionId))
                    .col(string_len(Buckets::Name, 63))
                    .col(big_integer(Buckets::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Buckets::Table, Buckets::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Buckets::Table, Buckets::RegionId)
                            .to(Regions::Table, Regions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // S3 bucket names are unique within a region (one endpoint, one namespace).
        manager
            .create_index(
                Index::create()
                    .name("buckets_region_name_uniq")
                    .table(Buckets::Table)
                    .col(Buckets::RegionId)
                    .col(Buckets::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("buckets_owner")
                    .table(Buckets::Table)
                    .col(Buckets::OwnerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Buckets::Table).to_owned()).await
    }
}
