//! The analytics queries that the query builder does not say well (their values bound by
//! [`Binder`]): the latest lifetime total of each metric of a set of published targets, picked
//! by the database.

use crate::Result;
pub(crate) use crate::sql::Binder;
use sea_orm::{ConnectionTrait, DbBackend};
use std::collections::{BTreeMap, HashMap};

/// Which published targets' totals are read.
#[derive(Debug, Clone)]
pub(crate) enum Targets {
    /// Those of the workspace's posts in these campaigns.
    Campaigns(Vec<i64>),
    /// Those of one post.
    Post(i64),
    /// These, which the caller found among the workspace's (a page's worth: each is a value
    /// of the statement).
    Ids(Vec<i64>),
}

/// Target id → metric key → its latest lifetime total: one query, the latest day of each
/// (target, metric) found through the `(target_id, metric, day)` index.
pub(crate) async fn latest_totals<C: ConnectionTrait>(
    conn: &C,
    ws: i64,
    targets: Targets,
) -> Result<HashMap<i64, BTreeMap<String, i64>>> {
    let mut b = Binder::new(conn.get_database_backend());
    let which = match targets {
        Targets::Campaigns(ids) if ids.is_empty() => return Ok(HashMap::new()),
        Targets::Campaigns(ids) => format!(
            "t.post_id IN (SELECT p.id FROM posts p WHERE p.workspace_id = {} AND \
             p.campaign_id IN ({}))",
            b.bind(ws),
            b.bind_all(ids)
        ),
        Targets::Post(id) => format!(
            "t.post_id IN (SELECT p.id FROM posts p WHERE p.workspace_id = {} AND p.id = {})",
            b.bind(ws),
            b.bind(id)
        ),
        Targets::Ids(ids) if ids.is_empty() => return Ok(HashMap::new()),
        Targets::Ids(ids) => format!(
            "t.id IN ({})",
            ids.into_iter()
                .map(|id| b.bind(id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let published = b.bind("published");
    // From the targets to their figures (CROSS JOIN keeps that order on SQLite), each
    // target's rows found by the (target, metric, day) index. The figures are not filtered by
    // their workspace column: SQLite would then walk the workspace's every figure by the
    // (workspace, day) index; the targets are the workspace's already.
    let sql = format!(
        "SELECT m.target_id, m.metric, m.value FROM post_targets t CROSS JOIN post_metrics m \
         WHERE m.target_id = t.id AND {which} AND t.state = {published} AND m.day = (SELECT \
         MAX(x.day) FROM post_metrics x WHERE x.target_id = m.target_id AND x.metric = \
         m.metric)"
    );
    let rows = conn.query_all_raw(b.statement(sql)).await?;
    let mut out: HashMap<i64, BTreeMap<String, i64>> = HashMap::new();
    for row in rows {
        let target: i64 = row.try_get_by_index(0)?;
        let metric: String = row.try_get_by_index(1)?;
        let value: i64 = row.try_get_by_index(2)?;
        out.entry(target).or_default().insert(metric, value);
    }
    Ok(out)
}

/// The quarter of an hour of the UTC day (0 to 95) that the stored time `column` falls in, as
/// the backend computes it.
pub(crate) fn quarter_of_day(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!(
            "CAST(EXTRACT(HOUR FROM {column} AT TIME ZONE 'UTC') * 4 + FLOOR(EXTRACT(MINUTE \
             FROM {column} AT TIME ZONE 'UTC') / 15) AS BIGINT)"
        ),
        _ => format!(
            "(CAST(strftime('%H', {column}) AS INTEGER) * 4 + CAST(strftime('%M', {column}) AS \
             INTEGER) / 15)"
        ),
    }
}
