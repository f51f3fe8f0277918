use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::Statement;

use crate::m20261126_000003_create_buckets::Buckets;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Bucket names are unique across all regions, as in S3: the S3 endpoint knows a bucket
/// by its name alone, so two customers with one name in two regions shared its objects.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let duplicates: Vec<String> = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT name FROM buckets GROUP BY name HAVING COUNT(*) > 1 ORDER BY name",
            ))
            .await?
            .iter()
            .map(|row| row.try_get::<String>("", "name"))
            .collect::<Result<_, _>>()?;
        if !duplicates.is_empty() {
            return Err(DbErr::Migration(duplicate_names_message(&duplicates)));
        }
        manager
            .drop_index(
                Index::drop()
                    .name("buckets_region_name_uniq")
                    .table(Buckets::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("buckets_name_uniq")
                    .table(Buckets::Table)
                    .col(Buckets::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("buckets_name_uniq").table(Buckets::Table).to_owned())
            .await?;
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
            .await
    }
}

/// What an operator whose database predates the rule reads at start.
pub fn duplicate_names_message(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("“{n}”")).collect();
    format!(
        "bucket names must be unique across all regions (the S3 endpoint knows a bucket by its \
         name alone), but this database has more than one bucket named {}. Rename all but one of \
         each with `stook bucket rename --name NAME --region REGION --to NEW_NAME` (`stook bucket \
         list` shows them), then start Stook again",
        quoted.join(", ")
    )
}
