//! The analytics queries that the query builder does not say well: statements with their
//! values bound in the backend's own placeholder style, and the latest lifetime total of each
//! metric of a set of published targets, picked by the database.

use crate::Result;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use std::collections::{BTreeMap, HashMap};

/// Values bound to a statement as it is written: each [`Binder::bind`] gives the next
/// placeholder (`$1`, `$2` on PostgreSQL; `?1`, `?2` on SQLite), which may be written more than
/// once.
pub(crate) struct Binder {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Binder {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            // Numbered, so that a value can be used twice.
            _ => format!("?{}", self.values.len()),
        }
    }

    pub(crate) fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// Which published targets' totals are read.
#[derive(Debug, Clone)]
pub(crate) enum Targets {
    /// Those of the workspace's posts in a campaign.
    Campaign(i64),
    /// Those of one post.
    Post(i64),
    /// These (a page's worth: each is a value of the statement).
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
    let w = b.bind(ws);
    let which = match targets {
        Targets::Campaign(id) => format!(
            "t.post_id IN (SELECT p.id FROM posts p WHERE p.workspace_id = {w} AND \
             p.campaign_id = {})",
            b.bind(id)
        ),
        Targets::Post(id) => format!("t.post_id = {}", b.bind(id)),
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
    let sql = format!(
        "SELECT m.target_id, m.metric, m.value FROM post_metrics m JOIN post_targets t ON t.id \
         = m.target_id WHERE m.workspace_id = {w} AND t.state = {published} AND {which} AND \
         m.day = (SELECT MAX(x.day) FROM post_metrics x WHERE x.target_id = m.target_id AND \
         x.metric = m.metric)"
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
