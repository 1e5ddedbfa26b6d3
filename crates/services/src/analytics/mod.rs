//! Analytics: a workspace turns it on (owners and admins, on a plan with analytics), its
//! accounts' and published posts' figures are read back on a plan ([`ingest`]) and kept as a
//! time series, and the analytics page and each post's page read them here.
//!
//! What a figure is stays visible: a day's value or a lifetime total, the normalised metric or
//! the platform's own, never the two spans added together.

pub mod campaigns;
pub mod chart;
pub mod csv;
pub mod ingest;
pub mod kept;
pub mod report;
pub mod shown;
pub(crate) mod sql;
pub mod weekly;

use crate::plans::Need;
use crate::workspaces::{Membership, lock_as_member};
use crate::{Result, ServiceError, Services, activity};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::metrics::{Metric, Span};
use domain::plans::Feature;
use domain::{Platform, PostId, Role, WorkspaceId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, HashMap};
use store::entities::states::{AccountStatus, PostState};
use store::entities::{account_metric, post, post_target, social_account, user, workspace};

/// An account as analytics sees it.
#[derive(Debug, Clone)]
pub struct AccountReading {
    pub account: social_account::Model,
    pub platform: Platform,
    /// The permissions it must be connected again with before its figures can be read.
    pub reconnect_for: Option<String>,
    /// Its authorisation lapsed or was withdrawn at the platform: nothing is read until a
    /// person connects it again.
    pub lapsed: bool,
    /// Why its own figures could not be read the last time, and when.
    pub read_error: Option<(String, DateTime<Utc>)>,
    /// When its figures were last read.
    pub last_read: Option<DateTime<Utc>>,
    /// Its posts whose last read gave nothing, and one of the reasons (a post gone at the
    /// platform is not among them).
    pub unread_posts: u64,
    pub unread_reason: Option<String>,
}

/// A range of days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Days {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Days {
    /// The `n` days up to and including `to`.
    pub fn last(n: i64, to: NaiveDate) -> Self {
        Self {
            from: to - Duration::days(n.max(1) - 1),
            to,
        }
    }

    pub fn len(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() <= 0
    }

    /// The range of the same length just before this one.
    pub fn previous(&self) -> Self {
        Self {
            from: self.from - Duration::days(self.len()),
            to: self.from - Duration::days(1),
        }
    }

    /// The range a person asked for: `from` and `to` as `YYYY-MM-DD` (both empty: the last 30
    /// days up to `today`). Refused with a message when one end is missing or unreadable, when
    /// it ends before it starts, starts after `today`, or is longer than [`LONGEST`] days.
    pub fn between(from: &str, to: &str, today: NaiveDate) -> std::result::Result<Self, String> {
        let (from, to) = (from.trim(), to.trim());
        if from.is_empty() && to.is_empty() {
            return Ok(Self::last(30, today));
        }
        let read = |raw: &str, end: &str| {
            if raw.is_empty() {
                return Err(format!("Give the {end} of the period too, or neither end."));
            }
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| format!("The {end} of the period is not a date (YYYY-MM-DD)."))
        };
        let days = Self {
            from: read(from, "start")?,
            to: read(to, "end")?,
        };
        if days.to < days.from {
            return Err("The period ends before it starts: swap its two dates.".into());
        }
        if days.from > today {
            return Err("The period starts after today: nothing has been read for it yet.".into());
        }
        if days.from < EARLIEST {
            return Err(format!(
                "The period starts before {}: nothing can have been read for it.",
                EARLIEST.format("%-d %B %Y")
            ));
        }
        if days.len() > LONGEST {
            return Err(format!(
                "A period can be at most {LONGEST} days long; this one has {}.",
                days.len()
            ));
        }
        Ok(days)
    }

    pub fn each(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from.iter_days().take_while(|d| *d <= self.to)
    }
}

/// The longest period the analytics page and its report show at once.
pub const LONGEST: i64 = 366;

/// The earliest day a period may start on.
pub const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// Which accounts and posts a view of the analytics covers (none: all of the workspace's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    pub platform: Option<Platform>,
    pub account: Option<i64>,
    /// Narrows the posts only: an account's own figures are not a campaign's.
    pub campaign: Option<i64>,
}

impl Scope {
    fn covers(&self, account: &social_account::Model) -> bool {
        self.platform.is_none_or(|p| account.platform == p.slug())
            && self.account.is_none_or(|id| account.id == id)
    }
}

/// A figure over a range, with the previous range's for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFigure {
    pub metric: Metric,
    pub value: i64,
    pub previous: Option<i64>,
}

/// A published post's latest figures at one account.
#[derive(Debug, Clone)]
pub struct PostFigures {
    pub post_id: i64,
    pub target_id: i64,
    pub platform: Platform,
    pub username: String,
    pub excerpt: String,
    pub permalink: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// Metric key → latest lifetime total.
    pub totals: BTreeMap<String, i64>,
    pub read_at: Option<DateTime<Utc>>,
}

impl PostFigures {
    /// Interactions: reactions, comments, shares and saves.
    pub fn interactions(&self) -> i64 {
        Metric::interactions_of(&self.totals).unwrap_or(0)
    }
}

/// What the analytics page shows for a range.
#[derive(Debug, Clone)]
pub struct Overview {
    pub days: Days,
    /// Followers across the accounts shown, per day (each account's latest count carried
    /// forward); none before the first reading.
    pub followers: Vec<(NaiveDate, Option<i64>)>,
    /// Daily values summed across the accounts shown: metric → per day.
    pub daily: BTreeMap<Metric, Vec<(NaiveDate, i64)>>,
    pub key_figures: Vec<KeyFigure>,
    /// Per platform: its accounts' daily totals over the range.
    pub by_platform: Vec<(Platform, BTreeMap<Metric, i64>)>,
    pub top_posts: Vec<PostFigures>,
    /// For each hour of the day in the viewer's time zone (0 to 23): the interactions of the
    /// posts published in it during the range, added up, and how many there were (for the
    /// best hours to post).
    pub hours: [(i64, u64); 24],
    /// Whether anything has been read yet.
    pub has_readings: bool,
}

/// How long an account's follower count stands for the days after it was read: long enough to
/// bridge a missed read, short enough that an account no longer read (disconnected, or waiting
/// to be connected again) stops counting.
const FOLLOWERS_KEPT: Duration = Duration::days(7);

/// The metrics of a post shown in tables (the analytics page, a post's page), in order.
pub const POST_METRICS: [Metric; 6] = [
    Metric::Views,
    Metric::Reach,
    Metric::Reactions,
    Metric::Comments,
    Metric::Shares,
    Metric::Saves,
];

/// The daily metrics the page charts and totals.
pub const DAILY: [Metric; 4] = [
    Metric::Views,
    Metric::Reach,
    Metric::Engagement,
    Metric::Follows,
];

/// What a workspace reads beyond publishing, so what its accounts are asked permission for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wants {
    pub analytics: bool,
    pub comments: bool,
    pub inbox: bool,
}

impl Wants {
    pub fn of(workspace: &workspace::Model) -> Self {
        Self {
            analytics: workspace.analytics_on_at.is_some(),
            comments: workspace.comments_on_at.is_some(),
            inbox: workspace.inbox_on_at.is_some(),
        }
    }
}

impl Services {
    /// Whether `ctx`'s workspace reads analytics.
    pub fn analytics_on(&self, ctx: &Membership) -> bool {
        ctx.workspace.analytics_on_at.is_some()
    }

    /// Refuses, naming the plan that has it, when the workspace's plan has no analytics
    /// (nothing is refused without plans).
    pub async fn require_analytics(&self, ws: WorkspaceId) -> Result<()> {
        self.entitle(&self.db, ws, Need::Feature(Feature::Analytics))
            .await
    }

    /// Refuses, naming the plan that has them, when the workspace's plan has no analytics
    /// exports.
    pub async fn require_analytics_exports(&self, ws: WorkspaceId) -> Result<()> {
        self.entitle(&self.db, ws, Need::Feature(Feature::AnalyticsExports))
            .await
    }

    /// Turns analytics on or off. Owners and admins only, on a plan with analytics; logged.
    /// Turning it on plans a read of every connected account (those connected without the
    /// insight permissions are listed on the page until connected again); off withdraws them
    /// and keeps what was read.
    pub async fn set_analytics(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        on: bool,
    ) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        let me = lock_as_member(&txn, ctx).await?;
        if !Role::parse(&me.role).is_ok_and(|r| r.can_manage_members()) {
            return Err(ServiceError::Forbidden(
                "Only owners and admins can turn analytics on or off.".into(),
            ));
        }
        if on {
            self.entitle(&txn, ctx.workspace_id(), Need::Feature(Feature::Analytics))
                .await?;
        }
        let now = crate::now();
        workspace::Entity::update_many()
            .col_expr(
                workspace::Column::AnalyticsOnAt,
                Expr::value(on.then_some(now)),
            )
            .col_expr(workspace::Column::UpdatedAt, Expr::value(now))
            .filter(workspace::Column::Id.eq(ctx.workspace.id))
            .exec(&txn)
            .await?;
        let accounts = social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ctx.workspace.id))
            .filter(social_account::Column::Status.eq(AccountStatus::Connected))
            .all(&txn)
            .await?;
        for account in &accounts {
            crate::queue::plan_read::<ingest::MetricsOf, _>(&txn, account, on.then_some(now))
                .await?;
        }
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: if on {
                    "analytics.turned_on"
                } else {
                    "analytics.turned_off"
                },
                object_type: "workspace",
                object_id: Some(ctx.workspace.id),
                summary: if on {
                    "turned analytics on".to_owned()
                } else {
                    "turned analytics off".to_owned()
                },
            },
        )
        .await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(())
    }

    /// The permissions an account of `platform` is asked for: publishing's, the insight ones
    /// when the workspace reads analytics, and the comment ones when it has the comments
    /// workspace on.
    pub fn scopes_for(&self, platform: Platform, wants: Wants) -> Vec<&'static str> {
        let mut scopes: Vec<&'static str> = self
            .connectors
            .get(platform)
            .map(|c| c.publishing_scopes().to_vec())
            .unwrap_or_default();
        let mut add = |more: &[&'static str]| {
            for scope in more {
                if !scopes.contains(scope) {
                    scopes.push(scope);
                }
            }
        };
        if wants.analytics
            && let Some(reader) = self.metrics.get(platform)
        {
            add(reader.insight_scopes());
        }
        if wants.comments
            && let Some(adapter) = self.comments.get(platform)
        {
            add(adapter.comment_scopes());
        }
        if wants.inbox
            && let Some(adapter) = self.messages.get(platform)
        {
            add(adapter.message_scopes());
        }
        scopes
    }

    /// The X reads the workspace has made this month, and its monthly budget.
    pub async fn x_reads(&self, ws: WorkspaceId) -> Result<(u64, u64)> {
        let month = crate::plans::month_of(&self.db, ws, crate::now()).await?;
        let used = crate::plans::counted(&self.db, ws, ingest::X_READS, &month).await?;
        Ok((used, self.x_reads_per_month))
    }

    /// The member's workspace's accounts as the page shows them ([`Self::read_analytics_accounts`]),
    /// kept in this process until their state or the figures change ([`kept`]).
    pub async fn analytics_accounts(
        &self,
        ctx: &Membership,
    ) -> Result<std::sync::Arc<Vec<AccountReading>>> {
        self.kept_views
            .accounts
            .get_or(
                kept::FiguresKey::of(&ctx.workspace),
                self.read_analytics_accounts(ctx.workspace_id()),
            )
            .await
    }

    /// The workspace's accounts (connected, or waiting to be connected again), each with what
    /// analytics still needs of it, read now.
    pub async fn read_analytics_accounts(&self, ws: WorkspaceId) -> Result<Vec<AccountReading>> {
        // One statement: the accounts, the permissions each granted (stored beside its sealed
        // tokens, which stay sealed), and its posts whose last read gave nothing, with one of
        // the reasons (by the partial index of such targets; a post gone at the platform is not
        // among them).
        let mut b = sql::Binder::new(self.db.get_database_backend());
        let w = b.bind(ws.0);
        let statuses = b.bind_all(
            [AccountStatus::Connected, AccountStatus::ReconnectNeeded].map(|s| s.to_value()),
        );
        let gone = b.bind(ingest::GONE);
        let unread = format!(
            "FROM post_targets u WHERE u.account_id = a.id AND u.metrics_error IS NOT NULL AND \
             u.metrics_error <> {gone}"
        );
        let statement = b.statement(format!(
            "SELECT a.*, t.scopes AS granted_scopes, (SELECT COUNT(*) {unread}) AS unread_posts, \
             (SELECT MAX(u.metrics_error) {unread}) AS unread_reason FROM social_accounts a LEFT \
             JOIN account_tokens t ON t.account_id = a.id WHERE a.workspace_id = {w} AND \
             a.status IN ({statuses}) ORDER BY a.id"
        ));
        let mut accounts = Vec::new();
        for row in self.db.query_all_raw(statement).await? {
            accounts.push((
                social_account::Model::from_query_result(&row, "")?,
                row.try_get::<Option<String>>("", "granted_scopes")?,
                row.try_get::<i64>("", "unread_posts")?,
                row.try_get::<Option<String>>("", "unread_reason")?,
            ));
        }
        let mut out = Vec::with_capacity(accounts.len());
        for (account, granted, unread_posts, unread_reason) in accounts {
            let Ok(platform) = Platform::parse(&account.platform) else {
                continue;
            };
            let needed = self
                .metrics
                .get(platform)
                .map(|r| r.insight_scopes())
                .unwrap_or_default();
            let lapsed = account.status == AccountStatus::ReconnectNeeded;
            // A lapsed account is connected again whatever it was granted.
            let granted: Vec<String> = match (lapsed, granted) {
                (false, Some(scopes)) => scopes.split_whitespace().map(str::to_owned).collect(),
                _ => Vec::new(),
            };
            out.push(AccountReading {
                unread_posts: unread_posts.max(0) as u64,
                unread_reason,
                reconnect_for: if lapsed {
                    None
                } else {
                    ingest::missing_scopes(needed, &granted)
                },
                lapsed,
                read_error: account.metrics_error.clone().zip(account.metrics_error_at),
                platform,
                last_read: account.metrics_read_at,
                account,
            });
        }
        Ok(out)
    }

    /// [`Self::results_of_campaigns`] for the member's workspace, kept in this process until
    /// its figures change ([`kept`]).
    pub async fn kept_results_of_campaigns(
        &self,
        ctx: &Membership,
        campaigns: &[store::entities::campaign::Model],
    ) -> Result<std::sync::Arc<Vec<campaigns::CampaignResults>>> {
        self.kept_views
            .campaigns
            .get_or(
                kept::FiguresKey::of(&ctx.workspace),
                self.results_of_campaigns(ctx.workspace_id(), campaigns),
            )
            .await
    }

    /// The analytics of `days` for the member's workspace ([`Self::analytics_overview`]), what
    /// the page shows of them, the month's X reads and the campaigns, kept in this process
    /// until the workspace's figures change ([`kept`]).
    pub async fn analytics_view(
        &self,
        ctx: &Membership,
        days: Days,
        scope: Scope,
        zone: &domain::Timezone,
    ) -> Result<std::sync::Arc<kept::KeptView>> {
        let key = kept::ViewKey::of(&ctx.workspace, days, scope, zone);
        let ws = ctx.workspace_id();
        self.kept_views
            .views
            .get_or(key, async {
                let overview = self.analytics_overview(ws, days, scope, zone).await?;
                let shown = shown::shown(&overview, zone, None);
                let svgs = shown.charts.iter().map(|c| c.drawing.svg()).collect();
                let (x_reads, _) = self.x_reads(ws).await?;
                let campaigns = self.campaigns_of(ws).await?;
                Ok(kept::KeptView {
                    overview,
                    shown,
                    svgs,
                    x_reads,
                    campaigns,
                })
            })
            .await
    }

    /// The analytics of `days` for the workspace's accounts (of `platform` only, when given).
    pub async fn analytics_overview(
        &self,
        ws: WorkspaceId,
        days: Days,
        scope: Scope,
        zone: &domain::Timezone,
    ) -> Result<Overview> {
        let accounts: HashMap<i64, social_account::Model> = social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ws.0))
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|a| scope.covers(a))
            .map(|a| (a.id, a))
            .collect();
        let previous = days.previous();
        // The range, the one before it, and the week before that for a follower count to carry
        // forward from.
        let rows = account_metric::Entity::find()
            .filter(account_metric::Column::WorkspaceId.eq(ws.0))
            .filter(account_metric::Column::AccountId.is_in(accounts.keys().copied()))
            .filter(account_metric::Column::Day.gte(previous.from - FOLLOWERS_KEPT))
            .filter(account_metric::Column::Day.lte(days.to))
            .order_by_asc(account_metric::Column::Day)
            .all(&self.db)
            .await?;
        let has_readings = !rows.is_empty();

        // Daily values per metric and day; a lifetime total is never one of them.
        let mut per_day: HashMap<(Metric, NaiveDate), i64> = HashMap::new();
        let mut per_platform: HashMap<(String, Metric), i64> = HashMap::new();
        // Followers: each account's readings in day order, carried forward.
        let mut followers_of: HashMap<i64, Vec<(NaiveDate, i64)>> = HashMap::new();
        for row in &rows {
            let Some(metric) = Metric::parse(&row.metric) else {
                continue;
            };
            match Span::parse(&row.span) {
                Some(Span::Day) if DAILY.contains(&metric) => {
                    *per_day.entry((metric, row.day)).or_default() += row.value;
                    if row.day >= days.from
                        && let Some(a) = accounts.get(&row.account_id)
                    {
                        *per_platform
                            .entry((a.platform.clone(), metric))
                            .or_default() += row.value;
                    }
                }
                Some(Span::Lifetime) if metric == Metric::Followers => {
                    followers_of
                        .entry(row.account_id)
                        .or_default()
                        .push((row.day, row.value));
                }
                _ => {}
            }
        }
        let followers_on = |day: NaiveDate| -> Option<i64> {
            let counts: Vec<i64> = followers_of
                .values()
                .filter_map(|series| {
                    series
                        .iter()
                        .take_while(|(d, _)| *d <= day)
                        .last()
                        .filter(|(d, _)| day - *d <= FOLLOWERS_KEPT)
                        .map(|(_, v)| *v)
                })
                .collect();
            (!counts.is_empty()).then(|| counts.iter().sum())
        };
        let followers: Vec<(NaiveDate, Option<i64>)> =
            days.each().map(|d| (d, followers_on(d))).collect();
        let mut daily = BTreeMap::new();
        for metric in DAILY {
            daily.insert(
                metric,
                days.each()
                    .map(|d| (d, per_day.get(&(metric, d)).copied().unwrap_or(0)))
                    .collect::<Vec<_>>(),
            );
        }
        let total = |metric: Metric, range: Days| -> i64 {
            range.each().filter_map(|d| per_day.get(&(metric, d))).sum()
        };
        let any_before = rows.iter().any(|r| r.day <= previous.to);
        let mut key_figures = vec![KeyFigure {
            metric: Metric::Followers,
            value: followers_on(days.to).unwrap_or(0),
            previous: followers_on(previous.to),
        }];
        for metric in DAILY {
            key_figures.push(KeyFigure {
                metric,
                value: total(metric, days),
                previous: any_before.then(|| total(metric, previous)),
            });
        }
        let mut by_platform: Vec<(Platform, BTreeMap<Metric, i64>)> = Platform::ALL
            .into_iter()
            .filter(|p| accounts.values().any(|a| a.platform == p.slug()))
            .map(|p| {
                let figures = DAILY
                    .into_iter()
                    .map(|m| {
                        (
                            m,
                            per_platform
                                .get(&(p.slug().to_owned(), m))
                                .copied()
                                .unwrap_or(0),
                        )
                    })
                    .collect();
                (p, figures)
            })
            .collect();
        by_platform.retain(|(p, _)| scope.platform.is_none_or(|only| only == *p));
        let (top_posts, hours) = self
            .post_figures_in(ws, days, &accounts, scope.campaign, zone)
            .await?;
        Ok(Overview {
            days,
            followers,
            daily,
            key_figures,
            by_platform,
            top_posts,
            hours,
            has_readings,
        })
    }

    /// The ten posts published in `days` to `accounts` (of `campaign` only, when given) with
    /// the most interactions, with their latest figures; and the posts with figures by the hour
    /// of the day in `zone` they were published in.
    async fn post_figures_in(
        &self,
        ws: WorkspaceId,
        days: Days,
        accounts: &HashMap<i64, social_account::Model>,
        campaign: Option<i64>,
        zone: &domain::Timezone,
    ) -> Result<(Vec<PostFigures>, [(i64, u64); 24])> {
        let start = days.from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let end = (days.to + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc();
        let mut query = post_target::Entity::find()
            .filter(post_target::Column::AccountId.is_in(accounts.keys().copied()))
            .filter(post_target::Column::State.eq(PostState::Published))
            .filter(post_target::Column::PublishedAt.gte(start))
            .filter(post_target::Column::PublishedAt.lt(end))
            .filter(post_target::Column::Interactions.is_not_null());
        if let Some(id) = campaign {
            query = query.filter(
                post_target::Column::PostId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(post::Column::Id)
                        .from(post::Entity)
                        .and_where(post::Column::WorkspaceId.eq(ws.0))
                        .and_where(post::Column::CampaignId.eq(id))
                        .to_owned(),
                ),
            );
        }
        // The hours: added up by the database per quarter of an hour of the UTC day, within
        // each stretch of the range where the zone's offset stays the same (a quarter of an
        // hour is the finest step any zone's offset takes), then moved to the zone's hours.
        let mut hours = [(0i64, 0u64); 24];
        let quarter = sql::quarter_of_day(self.db.get_database_backend(), "published_at");
        for (from, to, offset) in offset_stretches(start, end, zone) {
            let rows: Vec<(i64, i64, i64)> = query
                .clone()
                .filter(post_target::Column::PublishedAt.gte(from))
                .filter(post_target::Column::PublishedAt.lt(to))
                .select_only()
                .column_as(Expr::cust(quarter.clone()), "q")
                .column_as(Expr::cust("COUNT(*)"), "n")
                .column_as(Expr::cust("CAST(SUM(interactions) AS BIGINT)"), "s")
                .group_by(Expr::cust(quarter.clone()))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (q, n, sum) in rows {
                let minute = (q * 15 + offset).rem_euclid(24 * 60);
                if let Some(slot) = hours.get_mut((minute / 60) as usize) {
                    slot.0 += sum;
                    slot.1 += n.max(0) as u64;
                }
            }
        }
        let top = query
            .order_by_desc(post_target::Column::Interactions)
            .order_by_asc(post_target::Column::Id)
            .limit(10)
            .all(&self.db)
            .await?;
        let ids = top.iter().map(|t| t.id).collect();
        let totals = sql::latest_totals(&self.db, ws.0, sql::Targets::Ids(ids)).await?;
        let figures = self.figures_of(top, totals, accounts).await?;
        Ok((figures, hours))
    }

    /// Each published target of the post `post_id` with its latest figures.
    pub async fn post_figures(&self, ws: WorkspaceId, post_id: PostId) -> Result<Vec<PostFigures>> {
        let accounts: HashMap<i64, social_account::Model> = social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ws.0))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let targets = post_target::Entity::find()
            .filter(post_target::Column::PostId.eq(post_id.0))
            .filter(post_target::Column::State.eq(PostState::Published))
            .all(&self.db)
            .await?;
        let totals = sql::latest_totals(&self.db, ws.0, sql::Targets::Post(post_id.0)).await?;
        self.figures_of(targets, totals, &accounts).await
    }

    /// `targets` with their accounts, texts and `totals`.
    async fn figures_of(
        &self,
        targets: Vec<post_target::Model>,
        mut totals: HashMap<i64, BTreeMap<String, i64>>,
        accounts: &HashMap<i64, social_account::Model>,
    ) -> Result<Vec<PostFigures>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let posts: HashMap<i64, post::Model> = post::Entity::find()
            .filter(post::Column::Id.is_in(targets.iter().map(|t| t.post_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        Ok(targets
            .into_iter()
            .filter_map(|t| {
                let account = accounts.get(&t.account_id)?;
                let platform = Platform::parse(&account.platform).ok()?;
                let text = t
                    .body
                    .clone()
                    .filter(|b| !b.trim().is_empty())
                    .or_else(|| posts.get(&t.post_id).map(|p| p.body.clone()))
                    .unwrap_or_default();
                Some(PostFigures {
                    post_id: t.post_id,
                    target_id: t.id,
                    platform,
                    username: account.username.clone(),
                    excerpt: excerpt(&text),
                    permalink: t.permalink.clone(),
                    published_at: t.published_at,
                    totals: totals.remove(&t.id).unwrap_or_default(),
                    read_at: t.metrics_read_at,
                })
            })
            .collect())
    }
}

/// `[start, end)` cut where `zone`'s offset from UTC changes (looked at every hour, the step
/// at which zones change it): each stretch with its offset in minutes.
fn offset_stretches(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    zone: &domain::Timezone,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, i64)> {
    use chrono::Offset;
    let offset_at = |at: DateTime<Utc>| {
        i64::from(
            at.with_timezone(&zone.tz())
                .offset()
                .fix()
                .local_minus_utc(),
        ) / 60
    };
    let mut out = Vec::new();
    let mut from = start;
    let mut offset = offset_at(start);
    let mut at = start;
    while at < end {
        let next = at + Duration::hours(1);
        let now = offset_at(at);
        if now != offset {
            out.push((from, at, offset));
            from = at;
            offset = now;
        }
        at = next;
    }
    if from < end {
        out.push((from, end, offset));
    }
    out
}

/// The start of a post's text for a list.
fn excerpt(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(79).collect::<String>())
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_their_previous() {
        let to = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default();
        let days = Days::last(7, to);
        assert_eq!(days.len(), 7);
        assert_eq!(days.each().count(), 7);
        let before = days.previous();
        assert_eq!(before.to, days.from - Duration::days(1));
        assert_eq!(before.len(), 7);
        assert_eq!(excerpt(&"a".repeat(100)).chars().count(), 80);
    }

    #[test]
    fn a_range_is_cut_where_the_zone_changes_its_offset() {
        let at = |d: u32, h: u32| {
            NaiveDate::from_ymd_opt(2026, 3, d)
                .and_then(|d| d.and_hms_opt(h, 0, 0))
                .unwrap_or_default()
                .and_utc()
        };
        let berlin = domain::Timezone::stored("Europe/Berlin");
        // Summer time starts at 01:00 UTC on 29 March 2026.
        let cut = offset_stretches(at(28, 0), at(31, 0), &berlin);
        assert_eq!(
            cut,
            [(at(28, 0), at(29, 1), 60), (at(29, 1), at(31, 0), 120)]
        );
        let utc = offset_stretches(at(28, 0), at(31, 0), &domain::Timezone::utc());
        assert_eq!(utc, [(at(28, 0), at(31, 0), 0)]);
        let kathmandu = offset_stretches(
            at(1, 0),
            at(2, 0),
            &domain::Timezone::stored("Asia/Kathmandu"),
        );
        assert_eq!(kathmandu, [(at(1, 0), at(2, 0), 345)]);
    }
}
