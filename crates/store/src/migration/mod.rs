//! Schema migrations, written once for both backends with sea-orm-migration.

use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
pub mod m20261129_000002_consent;
mod m20261129_000003_policies;
mod m20261129_000004_content;
mod m20261129_000005_media;
mod m20261129_000006_account_media;
mod m20261129_000007_account_tokens;
mod m20261129_000008_oauth_states;
mod m20261129_000009_account_choices;
mod m20261129_000010_deletions;
mod m20261129_000011_retention;
mod m20261129_000012_deletion_requests;
mod m20261129_000013_exports;
mod m20261129_000014_policies_export;
mod m20261129_000015_job_recipients;
mod m20261202_000016_first_comments;
mod m20261203_000017_notices;
mod m20261203_000018_consent_subject;
mod m20261203_000019_kept_work_policy;
mod m20261203_000020_known_devices;
mod m20261203_000021_job_request_id;
mod m20261204_000022_plans;
mod m20261204_000023_subscriptions;
mod m20261204_000024_invoices;
mod m20261204_000025_billing_guards;
mod m20261205_000026_ai;
mod m20261205_000027_agent;
mod m20261206_000028_media_generation;
mod m20261207_000029_video_tasks;
mod m20261208_000030_analytics;
mod m20261209_000031_campaign_roi;
mod m20261210_000032_account_read_errors;
mod m20261211_000033_approvals;
mod m20261212_000034_preview_links;
mod m20261213_000035_comments;
mod m20261214_000036_notes_notifications;
mod m20261215_000037_inbox;
mod m20261216_000038_reply_approvals;
mod m20261217_000039_post_list_indexes;
mod m20261218_000040_figures_version;
mod m20261219_000041_posts_untimed;
mod m20261220_000042_jobs_due_order;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_consent::Migration),
            Box::new(m20261129_000003_policies::Migration),
            Box::new(m20261129_000004_content::Migration),
            Box::new(m20261129_000005_media::Migration),
            Box::new(m20261129_000006_account_media::Migration),
            Box::new(m20261129_000007_account_tokens::Migration),
            Box::new(m20261129_000008_oauth_states::Migration),
            Box::new(m20261129_000009_account_choices::Migration),
            Box::new(m20261129_000010_deletions::Migration),
            Box::new(m20261129_000011_retention::Migration),
            Box::new(m20261129_000012_deletion_requests::Migration),
            Box::new(m20261129_000013_exports::Migration),
            Box::new(m20261129_000014_policies_export::Migration),
            Box::new(m20261129_000015_job_recipients::Migration),
            Box::new(m20261202_000016_first_comments::Migration),
            Box::new(m20261203_000017_notices::Migration),
            Box::new(m20261203_000018_consent_subject::Migration),
            Box::new(m20261203_000019_kept_work_policy::Migration),
            Box::new(m20261203_000020_known_devices::Migration),
            Box::new(m20261203_000021_job_request_id::Migration),
            Box::new(m20261204_000022_plans::Migration),
            Box::new(m20261204_000023_subscriptions::Migration),
            Box::new(m20261204_000024_invoices::Migration),
            Box::new(m20261204_000025_billing_guards::Migration),
            Box::new(m20261205_000026_ai::Migration),
            Box::new(m20261205_000027_agent::Migration),
            Box::new(m20261206_000028_media_generation::Migration),
            Box::new(m20261207_000029_video_tasks::Migration),
            Box::new(m20261208_000030_analytics::Migration),
            Box::new(m20261209_000031_campaign_roi::Migration),
            Box::new(m20261210_000032_account_read_errors::Migration),
            Box::new(m20261211_000033_approvals::Migration),
            Box::new(m20261212_000034_preview_links::Migration),
            Box::new(m20261213_000035_comments::Migration),
            Box::new(m20261214_000036_notes_notifications::Migration),
            Box::new(m20261215_000037_inbox::Migration),
            Box::new(m20261216_000038_reply_approvals::Migration),
            Box::new(m20261217_000039_post_list_indexes::Migration),
            Box::new(m20261218_000040_figures_version::Migration),
            Box::new(m20261219_000041_posts_untimed::Migration),
            Box::new(m20261220_000042_jobs_due_order::Migration),
        ]
    }
}

/// The tables later migrations refer to by key (each is defined in full where it is created).
pub(crate) mod refs {
    use sea_orm_migration::prelude::*;

    #[derive(DeriveIden)]
    pub enum Users {
        Table,
        Id,
    }

    #[derive(DeriveIden)]
    pub enum Workspaces {
        Table,
        Id,
    }

    #[derive(DeriveIden)]
    pub enum Posts {
        Table,
        Id,
    }

    #[derive(DeriveIden)]
    pub enum Sessions {
        Table,
        Id,
    }

    #[derive(DeriveIden)]
    pub enum SocialAccounts {
        Table,
        Id,
    }
}

/// A foreign key from `from` (table, column) to `to` (table, column).
pub(crate) fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

/// An index on `cols` of `table` (unique when the caller says so).
pub(crate) fn index<T: IntoIden + Copy>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(*col);
    }
    index
}
