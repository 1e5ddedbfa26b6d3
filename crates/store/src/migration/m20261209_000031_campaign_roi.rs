//! Campaign returns and the weekly analytics report.
//!
//! - `campaigns`: what a campaign cost and what its results are worth, as people enter them
//!   (`spend_cents`, `click_value_cents`, `conversions`, `conversion_value_cents`, in
//!   `currency`), and `utm_campaign`: when set, the links in the campaign's posts are published
//!   with UTM parameters naming it.
//! - `post_targets.interactions`: a published target's latest reactions, comments, shares and
//!   saves added up, kept as they are read so that the top posts of a period are found by an
//!   index instead of by adding up every figure (filled here from what was read before).
//! - `memberships.weekly_report`: whether the member asked for the workspace's analytics report
//!   by e-mail each week, and `weekly_report_sent_on` the day the last one went.

use super::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer_null, boolean, date_null, string, string_null};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_000031_campaign_roi"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Campaigns {
    Table,
    SpendCents,
    ClickValueCents,
    Conversions,
    ConversionValueCents,
    Currency,
    UtmCampaign,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostTargets {
    Table,
    Interactions,
    AccountId,
    PublishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Memberships {
    Table,
    WeeklyReport,
    WeeklyReportSentOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        let campaign_columns = [
            big_integer_null(Campaigns::SpendCents),
            big_integer_null(Campaigns::ClickValueCents),
            big_integer_null(Campaigns::Conversions),
            big_integer_null(Campaigns::ConversionValueCents),
            string(Campaigns::Currency).default("USD").take(),
            string_null(Campaigns::UtmCampaign),
        ];
        for mut column in campaign_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Campaigns::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        let membership_columns = [
            boolean(Memberships::WeeklyReport).default(false).take(),
            date_null(Memberships::WeeklyReportSentOn),
        ];
        for mut column in membership_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Memberships::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(PostTargets::Table)
                    .add_column(big_integer_null(PostTargets::Interactions))
                    .to_owned(),
            )
            .await?;
        // The latest of each figure that counts, as read so far.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE post_targets SET interactions = (SELECT SUM(m.value) FROM post_metrics m \
                 WHERE m.target_id = post_targets.id AND m.metric IN ('reactions', 'comments', \
                 'shares', 'saves') AND m.day = (SELECT MAX(x.day) FROM post_metrics x WHERE \
                 x.target_id = m.target_id AND x.metric = m.metric)) WHERE EXISTS (SELECT 1 FROM \
                 post_metrics m WHERE m.target_id = post_targets.id AND m.metric IN \
                 ('reactions', 'comments', 'shares', 'saves'))",
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_post_targets_account_published",
                    PostTargets::Table,
                    &[PostTargets::AccountId, PostTargets::PublishedAt],
                )
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}
