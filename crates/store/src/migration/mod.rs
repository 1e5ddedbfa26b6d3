//! Schema migrations, written once for both backends with sea-orm-migration.

use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
pub mod m20261129_000002_consent;
mod m20261129_000003_policies;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_consent::Migration),
            Box::new(m20261129_000003_policies::Migration),
        ]
    }
}
