//! Reading posts back for the list, the calendar and the dashboard.
//!
//! The list is in sections ([`PostGroup`]), each sorted by the time that matters for its posts,
//! and read a page at a time by keyset: a page starts after the last post of the one before
//! ([`ListCursor`]: its section, its time and its id, the tie-breaker). Each state of a section
//! is read in its order from its own index (`idx_posts_list_*`), at most a page's worth, and
//! the database merges them: one statement for the page's posts whatever the size of the
//! workspace. The month calendar reads, for each day, how many posts it has and which are the
//! first few ([`DAY_FIRST`]) in one statement, the days' bounds worked out in the person's time
//! zone by the caller. The posts themselves are then read by their ids (never by joining the
//! table again, which PostgreSQL may answer with a scan of every post), and their accounts for
//! the whole page in one more statement.

use crate::sql::{Binder, columns};
use crate::{Result, Services};
use chrono::{DateTime, Datelike, Utc};
use domain::WorkspaceId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QueryResult, QuerySelect,
};
use std::collections::HashMap;
use store::entities::states::PostState;
use store::entities::{campaign, post, post_target};

/// How many posts a page of the list shows.
pub const LIST_PAGE: usize = 50;

/// How many posts a day of the month calendar shows; the rest are behind a link to the day.
pub const DAY_FIRST: usize = 3;

/// How many drafts without a time the calendar lists under its grid.
pub const UNDATED_SHOWN: usize = 20;

/// Which posts a list or calendar shows.
#[derive(Debug, Clone, Default)]
pub struct PostFilter {
    pub state: Option<PostState>,
    pub account_id: Option<i64>,
    pub campaign_id: Option<i64>,
    /// Posts scheduled for a time in `[from, to)` (the calendar's grid). Drafts without a time
    /// are in no range: see `undated`.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only posts without a time: drafts not given one (the calendar lists them under its
    /// grid). `from` and `to` do not apply.
    pub undated: bool,
}

impl PostFilter {
    /// The filter's account and campaign as conditions on the posts table `t` (` AND …`, or
    /// ""); the state, the range and `undated` are the caller's.
    fn conditions(&self, b: &mut Binder, t: &str) -> String {
        let mut sql = String::new();
        if let Some(campaign) = self.campaign_id {
            sql.push_str(&format!(" AND {t}.campaign_id = {}", b.bind(campaign)));
        }
        if let Some(account) = self.account_id {
            // Per post, by the targets' (post, account) index.
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM post_targets pt WHERE pt.post_id = {t}.id AND \
                 pt.account_id = {})",
                b.bind(account)
            ));
        }
        sql
    }
}

/// The sections of the posts list, in the order it shows them, each sorted by the time that
/// matters for its posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PostGroup {
    /// Failed, partly published, needing a check or waiting for a reconnection: the latest
    /// change first.
    NeedsAttention,
    /// Waiting for an approver: the soonest due first.
    PendingApproval,
    /// Scheduled or being published: the soonest due first.
    Scheduled,
    /// Drafts: the last edited first.
    Drafts,
    /// Published: the latest published first.
    Published,
}

impl PostGroup {
    pub const ALL: [PostGroup; 5] = [
        Self::NeedsAttention,
        Self::PendingApproval,
        Self::Scheduled,
        Self::Drafts,
        Self::Published,
    ];

    /// The section a post in `state` belongs to.
    pub fn of(post_state: PostState) -> Self {
        match post_state {
            PostState::Scheduled | PostState::Publishing => Self::Scheduled,
            PostState::PendingApproval => Self::PendingApproval,
            PostState::Draft => Self::Drafts,
            PostState::Published => Self::Published,
            _ => Self::NeedsAttention,
        }
    }

    /// The states of the section's posts (those [`PostGroup::of`] puts in it).
    pub fn states(self) -> &'static [PostState] {
        match self {
            Self::NeedsAttention => &[
                PostState::Failed,
                PostState::PartiallyPublished,
                PostState::Unconfirmed,
                PostState::Waiting,
            ],
            Self::PendingApproval => &[PostState::PendingApproval],
            Self::Scheduled => &[PostState::Scheduled, PostState::Publishing],
            Self::Drafts => &[PostState::Draft],
            Self::Published => &[PostState::Published],
        }
    }

    /// The section's heading.
    pub fn title(self) -> &'static str {
        match self {
            Self::NeedsAttention => "Needs attention",
            Self::PendingApproval => "Waiting for approval",
            Self::Scheduled => "Scheduled",
            Self::Drafts => "Drafts",
            Self::Published => "Published",
        }
    }

    /// Its place in [`PostGroup::ALL`].
    fn number(self) -> i64 {
        match self {
            Self::NeedsAttention => 0,
            Self::PendingApproval => 1,
            Self::Scheduled => 2,
            Self::Drafts => 3,
            Self::Published => 4,
        }
    }

    /// Sorted by a time to come, soonest first (else the latest first).
    fn soonest_first(self) -> bool {
        matches!(self, Self::PendingApproval | Self::Scheduled)
    }

    /// The time the section sorts by, as SQL over the posts table `t` (written as the list's
    /// indexes are), and whether a post may have none (it then comes after those that have).
    fn order_sql(self, t: &str) -> (String, bool) {
        match self {
            Self::PendingApproval | Self::Scheduled => (format!("{t}.scheduled_at"), true),
            Self::Published => (
                format!("COALESCE({t}.published_at, {t}.scheduled_at)"),
                true,
            ),
            Self::Drafts | Self::NeedsAttention => (format!("{t}.updated_at"), false),
        }
    }
}

/// A post in a list: the post, its campaign and its targets' accounts.
#[derive(Debug, Clone)]
pub struct PostSummary {
    pub post: post::Model,
    pub campaign: Option<campaign::Model>,
    pub accounts: Vec<TargetAccount>,
}

/// An account a post goes to, as a list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetAccount {
    /// Its platform's slug (`domain::Platform::parse`).
    pub platform: String,
    pub username: String,
}

impl PostSummary {
    /// The post's section of the list.
    pub fn group(&self) -> PostGroup {
        PostGroup::of(self.post.state)
    }

    /// The time that matters for the post: when it was published (published posts), else when
    /// it is (or was) due; `None` for a draft not given a time. Never its creation.
    pub fn when(&self) -> Option<DateTime<Utc>> {
        match self.group() {
            PostGroup::Published => self.post.published_at.or(self.post.scheduled_at),
            _ => self.post.scheduled_at,
        }
    }

    /// The time its section sorts it by (see [`PostGroup`]).
    fn sorted_by(&self) -> Option<DateTime<Utc>> {
        match self.group() {
            PostGroup::Scheduled | PostGroup::PendingApproval => self.post.scheduled_at,
            PostGroup::Published => self.when(),
            PostGroup::Drafts | PostGroup::NeedsAttention => Some(self.post.updated_at),
        }
    }

    /// The list's order: by section, then as [`PostGroup`] says, posts without a time last
    /// (ties: the newer post first).
    fn sort_key(&self) -> (PostGroup, i64, i64) {
        let key = match self.sorted_by() {
            None => i64::MAX,
            Some(t) if self.group().soonest_first() => t.timestamp_micros(),
            Some(t) => -t.timestamp_micros(),
        };
        (self.group(), key, -self.post.id)
    }
}

/// Where a page of the list starts: after the post with this place in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    group: PostGroup,
    /// The time its section sorts it by (none: it has none).
    at: Option<DateTime<Utc>>,
    id: i64,
}

impl ListCursor {
    /// After `post`.
    fn after(post: &PostSummary) -> Self {
        Self {
            group: post.group(),
            at: post.sorted_by(),
            id: post.post.id,
        }
    }

    /// As a link carries it: the section's number, the time in microseconds since 1970 (`n`
    /// for none) and the post's id, joined by dots (`2.1767261400000000.1234`).
    pub fn encode(&self) -> String {
        let at = self
            .at
            .map_or_else(|| "n".to_owned(), |t| t.timestamp_micros().to_string());
        format!("{}.{at}.{}", self.group.number(), self.id)
    }

    /// Reads what [`ListCursor::encode`] wrote; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let (group, at, id) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let group = *PostGroup::ALL
            .iter()
            .find(|g| group.parse::<i64>().ok() == Some(g.number()))?;
        let at = match at {
            "n" => None,
            // Posts' times are in years 1 to 9999: beyond them a time is not one the list
            // wrote, and PostgreSQL refuses dates before 4713 BC.
            micros => Some(
                DateTime::from_timestamp_micros(micros.parse().ok()?)
                    .filter(|t| (1..=9999).contains(&t.year()))?,
            ),
        };
        let id = id.parse::<i64>().ok().filter(|id| *id > 0)?;
        Some(Self { group, at, id })
    }
}

/// A page of the list: its posts in order, and where the next one starts (none: this is the
/// last).
#[derive(Debug, Clone)]
pub struct PostPage {
    pub posts: Vec<PostSummary>,
    pub next: Option<ListCursor>,
}

/// A day of the month calendar: how many posts it has, and the first [`DAY_FIRST`] of them by
/// time.
#[derive(Debug, Clone, Default)]
pub struct DayCell {
    pub count: u64,
    pub first: Vec<PostSummary>,
}

/// What the month calendar shows: its days, and the drafts without a time under it.
#[derive(Debug, Clone)]
pub struct Month {
    /// One per day asked for, in that order.
    pub days: Vec<DayCell>,
    /// The last edited [`UNDATED_SHOWN`] drafts without a time.
    pub undated: Vec<PostSummary>,
    /// There are more of them.
    pub more_undated: bool,
}

impl Services {
    /// For the dashboard: the next `limit` scheduled posts, and the posts that need someone
    /// (failed, partly published, or with an outcome to confirm), newest change first. One
    /// statement.
    pub async fn dashboard_posts(
        &self,
        ws: WorkspaceId,
        limit: u64,
    ) -> Result<(Vec<post::Model>, Vec<post::Model>)> {
        let mut b = Binder::new(self.db.get_database_backend());
        let w = b.bind(ws.0);
        let scheduled = b.bind(PostState::Scheduled.as_str());
        let attention = b.bind_all(
            PostGroup::NeedsAttention
                .states()
                .iter()
                .map(|s| s.as_str()),
        );
        let n = b.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let sql = format!(
            "SELECT * FROM (SELECT * FROM posts WHERE workspace_id = {w} AND state = {scheduled} \
             ORDER BY scheduled_at, id DESC LIMIT {n}) AS upcoming UNION ALL SELECT * FROM \
             (SELECT * FROM posts WHERE workspace_id = {w} AND state IN ({attention}) ORDER BY \
             updated_at DESC, id DESC LIMIT {n}) AS attention"
        );
        let rows = post::Model::find_by_statement(b.statement(sql))
            .all(&self.db)
            .await?;
        let (mut upcoming, mut attention): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|p| p.state == PostState::Scheduled);
        upcoming.sort_by_key(|p| (p.scheduled_at, -p.id));
        attention.sort_by_key(|p| (std::cmp::Reverse(p.updated_at), -p.id));
        Ok((upcoming, attention))
    }

    /// The posts of a workspace that match `filter` (the newest 2,000), in the list's order:
    /// by [`PostGroup`], each section sorted by the time that matters for it. For the week and
    /// day of the calendar, the approvals and the agent; the list itself reads
    /// [`Services::post_page`].
    pub async fn list_posts(
        &self,
        ws: WorkspaceId,
        filter: &PostFilter,
    ) -> Result<Vec<PostSummary>> {
        let mut query = post::Entity::find().filter(post::Column::WorkspaceId.eq(ws.0));
        if let Some(state) = filter.state {
            query = query.filter(post::Column::State.eq(state));
        }
        if let Some(campaign) = filter.campaign_id {
            query = query.filter(post::Column::CampaignId.eq(campaign));
        }
        if let Some(account) = filter.account_id {
            use sea_orm::sea_query::ExprTrait;
            query = query.filter(
                post::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(post_target::Column::PostId)
                        .from(post_target::Entity)
                        .and_where(Expr::col(post_target::Column::AccountId).eq(account))
                        .to_owned(),
                ),
            );
        }
        if filter.undated {
            query = query.filter(post::Column::ScheduledAt.is_null());
        } else if filter.from.is_some() || filter.to.is_some() {
            let mut range = Condition::all().add(post::Column::ScheduledAt.is_not_null());
            if let Some(from) = filter.from {
                range = range.add(post::Column::ScheduledAt.gte(from));
            }
            if let Some(to) = filter.to {
                range = range.add(post::Column::ScheduledAt.lt(to));
            }
            query = query.filter(range);
        }
        let posts = query
            .order_by_desc(post::Column::Id)
            .limit(2000)
            .all(&self.db)
            .await?;
        let mut campaign_ids: Vec<i64> = posts.iter().filter_map(|p| p.campaign_id).collect();
        campaign_ids.sort_unstable();
        campaign_ids.dedup();
        let campaigns = if campaign_ids.is_empty() {
            Vec::new()
        } else {
            campaign::Entity::find()
                .filter(campaign::Column::WorkspaceId.eq(ws.0))
                .filter(campaign::Column::Id.is_in(campaign_ids))
                .all(&self.db)
                .await?
        };
        let posts = posts
            .into_iter()
            .map(|p| {
                let campaign = campaigns
                    .iter()
                    .find(|c| Some(c.id) == p.campaign_id)
                    .cloned();
                (p, campaign)
            })
            .collect();
        let mut summaries = summarise(&self.db, posts).await?;
        summaries.sort_by_key(PostSummary::sort_key);
        Ok(summaries)
    }

    /// A page of the posts list: the [`LIST_PAGE`] posts that match `filter` (its state,
    /// account and campaign) after `after` (from the first when `None`), in the list's order.
    /// Three statements: which posts, the posts, and their accounts.
    pub async fn post_page(
        &self,
        ws: WorkspaceId,
        filter: &PostFilter,
        after: Option<ListCursor>,
    ) -> Result<PostPage> {
        let mut b = Binder::new(self.db.get_database_backend());
        let w = b.bind(ws.0);
        let filters = filter.conditions(&mut b, "q");
        let limit = b.bind(i64::try_from(LIST_PAGE + 1).unwrap_or(i64::MAX));
        let cursor = after.map(|c| (c, c.at.map(|at| b.bind(at)), b.bind(c.id)));
        let mut streams = Vec::new();
        for group in PostGroup::ALL {
            if after.is_some_and(|c| group < c.group) {
                continue;
            }
            let g = group.number();
            let (key, untimed) = group.order_sql("q");
            let (dir, past) = if group.soonest_first() {
                ("ASC", ">")
            } else {
                ("DESC", "<")
            };
            let here = cursor.as_ref().filter(|(c, _, _)| c.group == group);
            for state in group.states() {
                if filter.state.is_some_and(|s| s != *state) {
                    continue;
                }
                let st = b.bind(state.as_str());
                let from =
                    format!("FROM posts q WHERE q.workspace_id = {w} AND q.state = {st}{filters}");
                // The posts with a time, in the section's order; after a cursor without a
                // time, they have all been shown.
                let timed_after = match here {
                    None => Some(String::new()),
                    Some((_, Some(at), id)) => Some(format!(
                        " AND {key} {past}= {at} AND ({key} {past} {at} OR q.id < {id})"
                    )),
                    Some((_, None, _)) => None,
                };
                if let Some(after_sql) = timed_after {
                    streams.push(format!(
                        "SELECT q.id AS id, {g} AS g, 0 AS nf, {key} AS k {from} AND {key} IS NOT \
                         NULL{after_sql} ORDER BY {key} {dir}, q.id DESC LIMIT {limit}"
                    ));
                }
                // Then those without, the newest first (a section's time is never set without
                // its time due: found by the index of posts without one).
                if untimed {
                    let after_sql = match here {
                        Some((_, None, id)) => format!(" AND q.id < {id}"),
                        _ => String::new(),
                    };
                    streams.push(format!(
                        "SELECT q.id AS id, {g} AS g, 1 AS nf, {key} AS k {from} AND \
                         q.scheduled_at IS NULL AND {key} IS NULL{after_sql} ORDER BY q.id DESC \
                         LIMIT {limit}"
                    ));
                }
            }
        }
        if streams.is_empty() {
            return Ok(PostPage {
                posts: Vec::new(),
                next: None,
            });
        }
        let union = streams
            .iter()
            .enumerate()
            .map(|(i, s)| format!("SELECT * FROM ({s}) AS s{i}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let soonest = PostGroup::ALL
            .iter()
            .filter(|g| g.soonest_first())
            .map(|g| g.number().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT id FROM ({union}) AS a ORDER BY g, nf, CASE WHEN g IN ({soonest}) THEN k END \
             ASC, CASE WHEN g NOT IN ({soonest}) THEN k END DESC, id DESC LIMIT {limit}"
        );
        let mut ids = Vec::with_capacity(LIST_PAGE + 1);
        for row in self.db.query_all_raw(b.statement(sql)).await? {
            ids.push(row.try_get::<i64>("", "id")?);
        }
        let posts = posts_with_campaigns(&self.db, &ids, None).await?;
        let mut posts = summarise(&self.db, posts).await?;
        posts.sort_by_key(PostSummary::sort_key);
        let next = if posts.len() > LIST_PAGE {
            posts.truncate(LIST_PAGE);
            posts.last().map(ListCursor::after)
        } else {
            None
        };
        Ok(PostPage { posts, next })
    }

    /// The month calendar of posts matching `filter` (its state, account and campaign): for
    /// each of `days` (the start and end of a day, in the person's time zone), how many posts
    /// are due in it and the first [`DAY_FIRST`] of them by time; and the drafts without a
    /// time. Three statements, whatever the number of posts (two without days).
    pub async fn calendar_month(
        &self,
        ws: WorkspaceId,
        filter: &PostFilter,
        days: &[(DateTime<Utc>, DateTime<Utc>)],
    ) -> Result<Month> {
        let mut cells: Vec<DayCell> = vec![DayCell::default(); days.len()];
        let mut day_of: HashMap<i64, usize> = HashMap::new();
        if !days.is_empty() {
            let mut b = Binder::new(self.db.get_database_backend());
            let w = b.bind(ws.0);
            let filters = filter.conditions(&mut b, "q") + &state_condition(filter, &mut b, "q");
            let values = days
                .iter()
                .enumerate()
                .map(|(i, (start, end))| {
                    let i = i64::try_from(i).unwrap_or(i64::MAX);
                    format!("({}, {}, {})", b.bind(i), b.bind(*start), b.bind(*end))
                })
                .collect::<Vec<_>>()
                .join(", ");
            let first = b.bind(i64::try_from(DAY_FIRST).unwrap_or(i64::MAX));
            // Each day's posts found by the (workspace, time) index, numbered and counted by
            // day.
            let sql = format!(
                "WITH days (d, starts, ends) AS (VALUES {values}) \
                 SELECT x.id, x.cal_day, x.cal_count FROM (SELECT q.id AS id, days.d AS cal_day, \
                 ROW_NUMBER() OVER (PARTITION BY days.d ORDER BY q.scheduled_at, q.id) AS \
                 cal_rank, COUNT(*) OVER (PARTITION BY days.d) AS cal_count FROM days JOIN posts \
                 q ON q.workspace_id = {w} AND q.scheduled_at >= days.starts AND q.scheduled_at < \
                 days.ends{filters}) AS x WHERE x.cal_rank <= {first}"
            );
            for row in self.db.query_all_raw(b.statement(sql)).await? {
                let day = usize::try_from(row.try_get::<i64>("", "cal_day")?).unwrap_or(0);
                if let Some(cell) = cells.get_mut(day) {
                    cell.count = u64::try_from(row.try_get::<i64>("", "cal_count")?).unwrap_or(0);
                    day_of.insert(row.try_get::<i64>("", "id")?, day);
                }
            }
        }
        // The days' first posts, and the drafts without a time (the last edited first, from the
        // drafts' index).
        let mut b = Binder::new(self.db.get_database_backend());
        let w = b.bind(ws.0);
        let filters = filter.conditions(&mut b, "q") + &state_condition(filter, &mut b, "q");
        let draft = b.bind(PostState::Draft.as_str());
        let limit = b.bind(i64::try_from(UNDATED_SHOWN + 1).unwrap_or(i64::MAX));
        let undated = format!(
            "SELECT q.*, {campaigns} FROM posts q LEFT JOIN campaigns c ON c.id = q.campaign_id \
             WHERE q.workspace_id = {w} AND q.state = {draft} AND q.scheduled_at IS \
             NULL{filters} ORDER BY q.updated_at DESC, q.id DESC LIMIT {limit}",
            campaigns = columns::<campaign::Entity>("c", "c_"),
        );
        let ids: Vec<i64> = day_of.keys().copied().collect();
        let rows = posts_with_campaigns(&self.db, &ids, Some((b, undated))).await?;
        let mut undated = Vec::new();
        for summary in summarise(&self.db, rows).await? {
            match day_of.get(&summary.post.id).and_then(|d| cells.get_mut(*d)) {
                Some(cell) => cell.first.push(summary),
                None => undated.push(summary),
            }
        }
        undated.sort_by_key(|s| (std::cmp::Reverse(s.post.updated_at), -s.post.id));
        let more_undated = undated.len() > UNDATED_SHOWN;
        undated.truncate(UNDATED_SHOWN);
        for cell in &mut cells {
            cell.first.sort_by_key(|s| (s.post.scheduled_at, s.post.id));
        }
        Ok(Month {
            days: cells,
            undated,
            more_undated,
        })
    }
}

/// The filter's state, if it has one, as a condition on the posts table `t` (` AND …`, or "").
fn state_condition(filter: &PostFilter, b: &mut Binder, t: &str) -> String {
    filter
        .state
        .map(|s| format!(" AND {t}.state = {}", b.bind(s.as_str())))
        .unwrap_or_default()
}

/// The posts `ids` with their campaigns, and the rows of `also` (a statement over `posts q` and
/// `campaigns c` whose values `b` holds), in one statement: each post found by its key, never
/// by a scan of the table.
async fn posts_with_campaigns<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
    also: Option<(Binder, String)>,
) -> Result<Vec<(post::Model, Option<campaign::Model>)>> {
    let (mut b, also) = match also {
        Some((b, sql)) => (b, Some(sql)),
        None => (Binder::new(conn.get_database_backend()), None),
    };
    let by_id = (!ids.is_empty()).then(|| {
        format!(
            "SELECT q.*, {} FROM posts q LEFT JOIN campaigns c ON c.id = q.campaign_id WHERE \
             q.id IN ({})",
            columns::<campaign::Entity>("c", "c_"),
            b.bind_all(ids.iter().copied())
        )
    });
    let sql = match (by_id, also) {
        (None, None) => return Ok(Vec::new()),
        (Some(one), None) | (None, Some(one)) => one,
        (Some(by_id), Some(also)) => format!(
            "SELECT * FROM ({by_id}) AS by_id UNION ALL SELECT * FROM ({also}) AS also_these"
        ),
    };
    conn.query_all_raw(b.statement(sql))
        .await?
        .iter()
        .map(post_and_campaign)
        .collect()
}

/// The post of a row (its columns unprefixed) and its campaign (`c_…`, none when it has none).
fn post_and_campaign(row: &QueryResult) -> Result<(post::Model, Option<campaign::Model>)> {
    let post = post::Model::from_query_result(row, "")?;
    let campaign = match row.try_get::<Option<i64>>("", "c_id")? {
        Some(_) => Some(campaign::Model::from_query_result(row, "c_")?),
        None => None,
    };
    Ok((post, campaign))
}

/// The posts with their campaigns, each with its targets' accounts: one statement for all of
/// them (reading of each target only what a list shows of its account), in the order given.
async fn summarise<C: ConnectionTrait>(
    conn: &C,
    posts: Vec<(post::Model, Option<campaign::Model>)>,
) -> Result<Vec<PostSummary>> {
    if posts.is_empty() {
        return Ok(Vec::new());
    }
    let mut b = Binder::new(conn.get_database_backend());
    let ids = b.bind_all(posts.iter().map(|(p, _)| p.id));
    let sql = format!(
        "SELECT t.post_id, a.platform, a.username FROM post_targets t JOIN social_accounts \
         a ON a.id = t.account_id WHERE t.post_id IN ({ids}) ORDER BY t.id"
    );
    let mut accounts: HashMap<i64, Vec<TargetAccount>> = HashMap::new();
    for row in conn.query_all_raw(b.statement(sql)).await? {
        accounts
            .entry(row.try_get::<i64>("", "post_id")?)
            .or_default()
            .push(TargetAccount {
                platform: row.try_get("", "platform")?,
                username: row.try_get("", "username")?,
            });
    }
    Ok(posts
        .into_iter()
        .map(|(post, campaign)| PostSummary {
            accounts: accounts.remove(&post.id).unwrap_or_default(),
            campaign,
            post,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_is_in_the_section_that_lists_it() {
        for state in PostState::ALL {
            let group = PostGroup::of(*state);
            assert!(group.states().contains(state), "{state:?} in {group:?}");
            let listed = PostGroup::ALL
                .iter()
                .filter(|g| g.states().contains(state))
                .count();
            assert_eq!(listed, 1, "{state:?} is listed by one section");
        }
    }

    #[test]
    fn a_cursor_reads_back_as_written_and_nothing_else_reads() {
        let at = DateTime::from_timestamp_micros(1_767_261_400_123_456);
        for cursor in [
            ListCursor {
                group: PostGroup::Scheduled,
                at,
                id: 1234,
            },
            ListCursor {
                group: PostGroup::Published,
                at: None,
                id: 7,
            },
        ] {
            assert_eq!(ListCursor::parse(&cursor.encode()), Some(cursor));
        }
        for bad in [
            "",
            "2",
            "2.1767261400123456",
            "5.1767261400123456.1",
            "-1.n.1",
            "2.n.0",
            "2.n.-4",
            "2.x.1",
            "2.n.1.1",
            "2.99999999999999999999.1",
            "2.9223372036854775807.1",
            "2.n.9999999999999999999",
            "2.-3000000000000000000.1",
            "2.-62135596800000001.1",
            "2.253402300800000000.1",
        ] {
            assert_eq!(ListCursor::parse(bad), None, "{bad:?}");
        }
    }
}
