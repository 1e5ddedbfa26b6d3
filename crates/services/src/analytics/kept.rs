//! The computed figures of recent views of the analytics page, the state of the workspace's
//! accounts as the page shows it and its campaigns' results, kept in this process so that
//! looking again reads nothing between two reads of the figures.
//!
//! And the campaigns' results (all time). All are kept under the workspace's `figures_version`,
//! which every change to what the page shows raises in its own transaction: figures read, X
//! reads counted, a post removed, a campaign saved or deleted, and each change to an account's
//! state (connected, reconnected, disconnected, its tokens stored, its authorisation lapsed,
//! its profile read again, a read of its figures that stopped or went through again). A post
//! newly published counts in its campaign's results from the first read of its figures, which
//! follows its publishing at once (or within [`KEPT_FOR`]); a published post's campaign
//! cannot change. The signed-in frame reads the workspace row
//! on every request, so what was computed before a change is never shown after it, in this
//! process or another. The workspace's creation time is part of the key, so a workspace made
//! later with a reused id cannot meet another's figures. What is kept is also forgotten after
//! [`KEPT_FOR`] (the days of "the last 30 days" move on, and a change the version does not
//! cover shows within it), the oldest go first beyond [`MOST`], and a deleted workspace's go at
//! once in the process that deleted it (elsewhere nobody can reach them any more, and they go
//! within [`KEPT_FOR`]).

use super::campaigns::CampaignResults;
use super::shown::Shown;
use super::{AccountReading, Days, Overview, Scope};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::entities::{post, social_account, workspace};

/// How long a computed view is kept.
pub const KEPT_FOR: Duration = Duration::from_secs(60);

/// How many views are kept (each some tens of kilobytes, mostly its charts drawn), and how
/// many workspaces' account states.
pub const MOST: usize = 256;

/// A view as kept: its figures, what the page shows of them (without the campaigns' results,
/// kept apart: they are all time, and only some plans show them) with each chart drawn, the
/// workspace's campaigns (for the filter, and whose results to read) and the X reads of the
/// month.
#[derive(Debug)]
pub struct KeptView {
    pub overview: Overview,
    /// Its `campaigns` is `None`.
    pub shown: Shown,
    /// Each of `shown.charts` drawn as SVG, in their order.
    pub svgs: Vec<String>,
    /// The X posts and profiles the workspace has read this month.
    pub x_reads: u64,
    /// The workspace's campaigns, the newest first.
    pub campaigns: Vec<store::entities::campaign::Model>,
}

/// Which state of a workspace's figures and accounts something was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FiguresKey {
    pub workspace: i64,
    pub born: DateTime<Utc>,
    pub version: i64,
}

impl FiguresKey {
    pub fn of(ws: &workspace::Model) -> Self {
        Self {
            workspace: ws.id,
            born: ws.created_at,
            version: ws.figures_version,
        }
    }
}

/// What a view was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ViewKey {
    pub figures: FiguresKey,
    pub days: Days,
    pub scope: Scope,
    /// The time zone the hours were counted in.
    pub zone: &'static str,
}

impl ViewKey {
    pub fn of(ws: &workspace::Model, days: Days, scope: Scope, zone: &domain::Timezone) -> Self {
        Self {
            figures: FiguresKey::of(ws),
            days,
            scope,
            zone: zone.name(),
        }
    }
}

/// A key that belongs to one workspace.
pub trait OfWorkspace {
    fn workspace(&self) -> i64;
}

impl OfWorkspace for FiguresKey {
    fn workspace(&self) -> i64 {
        self.workspace
    }
}

impl OfWorkspace for ViewKey {
    fn workspace(&self) -> i64 {
        self.figures.workspace
    }
}

/// Values kept under their key for at most [`KEPT_FOR`], at most [`MOST`] of them.
pub struct Kept<K, V> {
    entries: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    /// Each value, when it was computed, and its place in the order they were kept.
    by_key: HashMap<K, (Instant, u64, Arc<V>)>,
    kept: u64,
}

impl<K, V> Default for Kept<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(Entries {
                by_key: HashMap::new(),
                kept: 0,
            }),
        }
    }
}

impl<K: Clone + Eq + Hash + OfWorkspace, V> Kept<K, V> {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value computed for `key`, if it is still kept.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        self.entries()
            .by_key
            .get(key)
            .filter(|(at, _, _)| at.elapsed() < KEPT_FOR)
            .map(|(_, _, value)| Arc::clone(value))
    }

    /// The value kept for `key`, or else `compute`'s, kept for it (a future not yet polled:
    /// it runs only when nothing is kept).
    pub async fn get_or<E>(
        &self,
        key: K,
        compute: impl std::future::Future<Output = Result<V, E>>,
    ) -> Result<Arc<V>, E> {
        if let Some(value) = self.get(&key) {
            return Ok(value);
        }
        let value = Arc::new(compute.await?);
        self.keep(key, Arc::clone(&value));
        Ok(value)
    }

    /// Keeps `value` for `key`, making room by forgetting the values past their time and then
    /// the oldest.
    pub fn keep(&self, key: K, value: Arc<V>) {
        let mut entries = self.entries();
        if entries.by_key.len() >= MOST {
            entries
                .by_key
                .retain(|_, (at, _, _)| at.elapsed() < KEPT_FOR);
        }
        while entries.by_key.len() >= MOST {
            let Some(oldest) = entries
                .by_key
                .iter()
                .min_by_key(|(_, (_, n, _))| *n)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            entries.by_key.remove(&oldest);
        }
        entries.kept += 1;
        let n = entries.kept;
        entries.by_key.insert(key, (Instant::now(), n, value));
    }

    /// Forgets what is kept of workspace `id`.
    fn forget_workspace(&self, id: i64) {
        self.entries().by_key.retain(|key, _| key.workspace() != id);
    }

    /// Whether something of workspace `id` is kept.
    fn holds(&self, id: i64) -> bool {
        self.entries()
            .by_key
            .keys()
            .any(|key| key.workspace() == id)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().by_key.len()
    }
}

/// The kept views and account states, shared by the clones of `Services`.
#[derive(Default)]
pub struct KeptViews {
    pub views: Kept<ViewKey, KeptView>,
    /// The workspace's accounts as the page shows them ([`AccountReading`]).
    pub accounts: Kept<FiguresKey, Vec<AccountReading>>,
    /// The results of the workspace's campaigns that have published posts (all time).
    pub campaigns: Kept<FiguresKey, Vec<CampaignResults>>,
}

impl KeptViews {
    /// Forgets what is kept of workspace `id` (deleted).
    pub fn forget_workspace(&self, id: i64) {
        self.views.forget_workspace(id);
        self.accounts.forget_workspace(id);
        self.campaigns.forget_workspace(id);
    }

    /// Whether a view, the accounts or the campaigns' results of workspace `id` are kept.
    pub fn holds(&self, id: i64) -> bool {
        self.views.holds(id) || self.accounts.holds(id) || self.campaigns.holds(id)
    }
}

/// Raises the workspace's figures version: what the analytics page shows has changed (called
/// in the transaction that changes it).
pub(crate) async fn figures_changed<C: ConnectionTrait>(conn: &C, ws: i64) -> crate::Result<()> {
    raise(conn, workspace::Column::Id.eq(ws)).await
}

/// Raises the figures version of the workspace of post `post_id` (being removed).
pub(crate) async fn figures_of_post_changed<C: ConnectionTrait>(
    conn: &C,
    post_id: domain::PostId,
) -> crate::Result<()> {
    let of_post = Query::select()
        .column(post::Column::WorkspaceId)
        .from(post::Entity)
        .and_where(post::Column::Id.eq(post_id.0))
        .to_owned();
    raise(conn, workspace::Column::Id.in_subquery(of_post)).await
}

/// Raises the figures version of the workspace of account `account_id`: its state as the page
/// shows it has changed (called in the transaction that changes it).
pub(crate) async fn account_changed<C: ConnectionTrait>(
    conn: &C,
    account_id: i64,
) -> crate::Result<()> {
    let of_account = Query::select()
        .column(social_account::Column::WorkspaceId)
        .from(social_account::Entity)
        .and_where(social_account::Column::Id.eq(account_id))
        .to_owned();
    raise(conn, workspace::Column::Id.in_subquery(of_account)).await
}

/// Raises the figures version of the workspaces `which` picks.
async fn raise<C: ConnectionTrait>(conn: &C, which: Expr) -> crate::Result<()> {
    workspace::Entity::update_many()
        .col_expr(
            workspace::Column::FiguresVersion,
            Expr::col(workspace::Column::FiguresVersion).add(1),
        )
        .filter(which)
        .exec(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn key(version: i64) -> ViewKey {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        ViewKey {
            figures: FiguresKey {
                workspace: 1,
                born: DateTime::<Utc>::default(),
                version,
            },
            days: Days::last(30, day),
            scope: Scope::default(),
            zone: "UTC",
        }
    }

    fn view(n: i64) -> Arc<KeptView> {
        let days = Days::last(1, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default());
        let overview = Overview {
            days,
            followers: vec![(days.from, Some(n))],
            daily: Default::default(),
            key_figures: Vec::new(),
            by_platform: Vec::new(),
            top_posts: Vec::new(),
            hours: [(0, 0); 24],
            has_readings: true,
        };
        let shown = super::super::shown::shown(&overview, &domain::Timezone::utc(), None);
        Arc::new(KeptView {
            overview,
            shown,
            svgs: Vec::new(),
            x_reads: 0,
            campaigns: Vec::new(),
        })
    }

    #[test]
    fn a_view_is_found_only_under_the_version_it_was_computed_at() {
        let kept = Kept::default();
        kept.keep(key(1), view(10));
        assert_eq!(
            kept.get(&key(1)).map(|v| v.overview.followers[0].1),
            Some(Some(10))
        );
        assert!(kept.get(&key(2)).is_none());
    }

    #[test]
    fn no_more_than_the_most_are_kept_and_the_oldest_go_first() {
        let kept = Kept::default();
        for v in 0..(MOST as i64 + 10) {
            kept.keep(key(v), view(v));
        }
        assert_eq!(kept.len(), MOST);
        assert!(kept.get(&key(0)).is_none());
        assert!(kept.get(&key(9)).is_none());
        assert!(kept.get(&key(10)).is_some());
        assert!(kept.get(&key(MOST as i64 + 9)).is_some());
    }
}
