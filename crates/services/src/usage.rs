//! Anonymized aggregates: once a day, the UTC days that have ended are counted into
//! `usage_daily` (day, feature, platform, count), from the rows that exist then:
//!
//! | feature | counted from | platform |
//! |---|---|---|
//! | `post_created` | posts, by the day they were created | empty |
//! | `publish_<outcome>` (`published`, `failed`, `retry`, `unconfirmed`, `reconciled`) | publish attempts, by the day they ended | the account's platform |
//! | `media_<provenance>` (`uploaded`, `ai`) | media library files, by the day they were added | empty |
//!
//! A day is counted once: a marker row (`day_rolled_up`) records it, and rows are only ever
//! inserted (never recomputed or added to), so running the roll-up again, or on two workers at
//! once, does not double a count, and deleting an account later does not change the counts of
//! days already rolled up. No row names a person or a workspace.

use crate::jobs::{Job, JobError, daily};
use crate::{Result, Services};
use chrono::{DateTime, Days, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use std::collections::BTreeMap;
use store::entities::usage_daily;
use store::entities::{job, media_item, post, post_target, publish_attempt, social_account};

/// The marker feature: the day has been rolled up.
pub const ROLLED_UP: &str = "day_rolled_up";

/// Days counted per transaction (a first roll-up over a long history goes month by month).
const WINDOW_DAYS: u64 = 31;

/// What one roll-up added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollUp {
    /// The days counted, oldest first.
    pub days: Vec<NaiveDate>,
    /// Aggregate rows written (without the markers).
    pub rows: usize,
}

type Counts = BTreeMap<(NaiveDate, String, String), i64>;

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

impl Services {
    /// Counts every complete UTC day before `now` that has not been counted yet.
    pub async fn roll_up_usage(&self, now: DateTime<Utc>) -> Result<RollUp> {
        let today = now.date_naive();
        let Some(last) = today.checked_sub_days(Days::new(1)) else {
            return Ok(RollUp::default());
        };
        let done: Option<Option<NaiveDate>> = usage_daily::Entity::find()
            .select_only()
            .column_as(usage_daily::Column::Day.max(), "day")
            .filter(usage_daily::Column::Feature.eq(ROLLED_UP))
            .into_tuple()
            .one(&self.db)
            .await?;
        let first = match done.flatten() {
            Some(day) => day.checked_add_days(Days::new(1)).unwrap_or(day),
            None => Ord::min(self.earliest_activity().await?.unwrap_or(last), last),
        };
        let mut report = RollUp::default();
        let mut from = first;
        while from <= last {
            let to = from
                .checked_add_days(Days::new(WINDOW_DAYS - 1))
                .map_or(last, |end| Ord::min(end, last));
            report.rows += self.roll_up_window(from, to).await?;
            let mut day = from;
            while day <= to {
                report.days.push(day);
                day = match day.succ_opt() {
                    Some(next) => next,
                    None => break,
                };
            }
            from = match to.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
        if !report.days.is_empty() {
            tracing::info!(
                days = report.days.len(),
                rows = report.rows,
                "usage rolled up"
            );
        }
        Ok(report)
    }

    /// The first day anything countable happened, if anything did.
    async fn earliest_activity(&self) -> Result<Option<NaiveDate>> {
        let posts: Option<Option<DateTime<Utc>>> = post::Entity::find()
            .select_only()
            .column_as(post::Column::CreatedAt.min(), "at")
            .into_tuple()
            .one(&self.db)
            .await?;
        let attempts: Option<Option<DateTime<Utc>>> = publish_attempt::Entity::find()
            .select_only()
            .column_as(publish_attempt::Column::FinishedAt.min(), "at")
            .into_tuple()
            .one(&self.db)
            .await?;
        let media: Option<Option<DateTime<Utc>>> = media_item::Entity::find()
            .select_only()
            .column_as(media_item::Column::CreatedAt.min(), "at")
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok([posts, attempts, media]
            .into_iter()
            .flatten()
            .flatten()
            .min()
            .map(|at| at.date_naive()))
    }

    /// Counts the days `from..=to` and writes them with their markers in one transaction.
    /// Returns the aggregate rows written.
    async fn roll_up_window(&self, from: NaiveDate, to: NaiveDate) -> Result<usize> {
        let start = midnight(from);
        let end = midnight(to.succ_opt().unwrap_or(to));
        let mut counts = Counts::new();
        let mut add = |at: DateTime<Utc>, feature: String, platform: String| {
            *counts
                .entry((at.date_naive(), feature, platform))
                .or_default() += 1;
        };

        let created: Vec<DateTime<Utc>> = post::Entity::find()
            .select_only()
            .column(post::Column::CreatedAt)
            .filter(post::Column::CreatedAt.gte(start))
            .filter(post::Column::CreatedAt.lt(end))
            .into_tuple()
            .all(&self.db)
            .await?;
        for at in created {
            add(at, "post_created".to_owned(), String::new());
        }

        let media: Vec<(DateTime<Utc>, String)> = media_item::Entity::find()
            .select_only()
            .column(media_item::Column::CreatedAt)
            .column(media_item::Column::Provenance)
            .filter(media_item::Column::CreatedAt.gte(start))
            .filter(media_item::Column::CreatedAt.lt(end))
            .into_tuple()
            .all(&self.db)
            .await?;
        for (at, provenance) in media {
            add(at, format!("media_{provenance}"), String::new());
        }

        let finished = (publish_attempt::Entity, publish_attempt::Column::FinishedAt);
        let attempts = Query::select()
            .column(finished)
            .column((publish_attempt::Entity, publish_attempt::Column::Outcome))
            .column((social_account::Entity, social_account::Column::Platform))
            .from(publish_attempt::Entity)
            .inner_join(
                post_target::Entity,
                Expr::col((post_target::Entity, post_target::Column::Id))
                    .equals((publish_attempt::Entity, publish_attempt::Column::TargetId)),
            )
            .inner_join(
                social_account::Entity,
                Expr::col((social_account::Entity, social_account::Column::Id))
                    .equals((post_target::Entity, post_target::Column::AccountId)),
            )
            .and_where(Expr::col(finished).gte(start))
            .and_where(Expr::col(finished).lt(end))
            .and_where(
                Expr::col((publish_attempt::Entity, publish_attempt::Column::Outcome))
                    .is_not_null(),
            )
            .to_owned();
        for row in self.db.query_all(&attempts).await? {
            let at: DateTime<Utc> = row.try_get_by_index(0)?;
            let outcome: String = row.try_get_by_index(1)?;
            let platform: String = row.try_get_by_index(2)?;
            add(at, format!("publish_{outcome}"), platform);
        }

        let rows = counts.len();
        let mut models: Vec<usage_daily::ActiveModel> = counts
            .into_iter()
            .map(
                |((day, feature, platform), count)| usage_daily::ActiveModel {
                    day: Set(day),
                    feature: Set(feature),
                    platform: Set(platform),
                    count: Set(count),
                    ..Default::default()
                },
            )
            .collect();
        let mut day = from;
        while day <= to {
            models.push(usage_daily::ActiveModel {
                day: Set(day),
                feature: Set(ROLLED_UP.to_owned()),
                platform: Set(String::new()),
                count: Set(1),
                ..Default::default()
            });
            day = match day.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
        let txn = store::begin_write(&self.db).await?;
        // Rows already there (a day counted by another worker meanwhile) stay as they are.
        for chunk in models.chunks(200) {
            usage_daily::Entity::insert_many(chunk.to_vec())
                .on_conflict_do_nothing_on([
                    usage_daily::Column::Day,
                    usage_daily::Column::Feature,
                    usage_daily::Column::Platform,
                ])
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(rows)
    }
}

/// The daily roll-up; the next one is planned first, so that a failing day does not end the
/// daily runs.
pub struct Rollup;

impl Job for Rollup {
    type Payload = daily::UsageRollup;

    async fn run(
        services: &Services,
        job: &job::Model,
        _: daily::UsageRollup,
    ) -> Result<(), JobError> {
        daily::plan_next::<daily::UsageRollup>(&services.db, job)
            .await
            .map_err(JobError::retry)?;
        services
            .roll_up_usage(crate::now())
            .await
            .map(|_| ())
            .map_err(JobError::retry)
    }
}
