//! The data map turned into SQL: which rows of a table belong to a set of people and
//! workspaces. Deletion, the residue check, the forget list and the data export all select
//! rows through these conditions, so a table classified in `store::datamap` is deleted,
//! checked and exported without code of its own.

use sea_orm::sea_query::{
    Alias, DeleteStatement, Expr, ExprTrait, Query, SelectStatement, SimpleExpr, UpdateStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use store::datamap::{self, Names, Owner, Ref, TableClass};

/// The people, workspaces and addresses whose rows are wanted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub users: Vec<i64>,
    pub workspaces: Vec<i64>,
    /// Lower-case e-mail addresses.
    pub addresses: Vec<String>,
    /// The people's names, as free text may mention them.
    pub names: Vec<String>,
    /// The workspaces the people belonged to. A name is not unique (and may be one letter),
    /// so free text is searched for it only in these workspaces' rows; an address anywhere.
    pub member_of: Vec<i64>,
    /// The workspaces the person owns (an export carries those workspaces' third-party data).
    pub owned: Vec<i64>,
}

impl Subject {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.workspaces.is_empty() && self.addresses.is_empty()
    }
}

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

fn in_list(column: &str, ids: &[i64]) -> Option<SimpleExpr> {
    (!ids.is_empty()).then(|| col(column).is_in(ids.iter().copied()))
}

/// The rows of `table` that belong to `subject` through its owner column (for a table owned
/// through a parent, the rows whose parent belongs to it). `None` when none can.
pub fn owned(table: &TableClass, subject: &Subject) -> Option<SimpleExpr> {
    match table.owner {
        Owner::User(column) => in_list(column, &subject.users),
        Owner::Workspace(column) => in_list(column, &subject.workspaces),
        Owner::Parent {
            column,
            table: parent,
        } => {
            let parent_class = datamap::classify(parent)?;
            let parent_rows = owned(parent_class, subject)?;
            let ids = Query::select()
                .column(Alias::new("id"))
                .from(Alias::new(parent))
                .and_where(parent_rows)
                .to_owned();
            Some(col(column).in_subquery(ids))
        }
        Owner::Nobody => None,
    }
}

/// The same rows as [`owned`], written for reading a page at a time: a row owned through its
/// parent is checked with a correlated `EXISTS` on the parent's key (one index lookup per row)
/// instead of against the set of all the parent's ids, which each page would build again.
pub fn owned_per_row(table: &TableClass, subject: &Subject) -> Option<SimpleExpr> {
    match table.owner {
        Owner::Parent {
            column,
            table: parent,
        } => {
            let parent_rows = owned_per_row(datamap::classify(parent)?, subject)?;
            let query = Query::select()
                .expr(Expr::val(1))
                .from(Alias::new(parent))
                .and_where(
                    Expr::col((Alias::new(parent), Alias::new("id")))
                        .equals((Alias::new(table.table), Alias::new(column))),
                )
                .and_where(parent_rows)
                .to_owned();
            Some(Expr::exists(query))
        }
        _ => owned(table, subject),
    }
}

/// The rows of `table` whose `reference` names something of `subject`.
pub fn referencing(table: &TableClass, reference: &Ref, subject: &Subject) -> Option<SimpleExpr> {
    match reference.names {
        Names::User => in_list(reference.column, &subject.users),
        Names::NameOf(id) => in_list(id, &subject.users),
        Names::Workspace => in_list(reference.column, &subject.workspaces),
        Names::Address => (!subject.addresses.is_empty()).then(|| {
            Expr::expr(sea_orm::sea_query::Func::lower(col(reference.column)))
                .is_in(subject.addresses.iter().cloned())
        }),
        Names::Mentions => {
            let column = reference.column;
            let by_address = mentioning(column, &subject.addresses);
            let by_name = names_belong(table, subject)
                .zip(mentioning(column, &subject.names))
                .map(|(here, named)| here.and(named));
            match (by_address, by_name) {
                (Some(a), Some(n)) => Some(a.or(n)),
                (a, n) => a.or(n),
            }
        }
    }
}

/// Non-empty mentions among `texts`.
fn non_empty(texts: &[String]) -> impl Iterator<Item = &String> {
    texts.iter().filter(|m| !m.trim().is_empty())
}

/// `column` contains one of `texts`.
fn mentioning(column: &str, texts: &[String]) -> Option<SimpleExpr> {
    non_empty(texts)
        .map(|m| col(column).like(format!("%{m}%")))
        .reduce(|a, b| a.or(b))
}

/// The rows of `table` where the subject's names may be looked for: those of the workspaces
/// they belonged to (tables without a workspace have none).
fn names_belong(table: &TableClass, subject: &Subject) -> Option<SimpleExpr> {
    match table.owner {
        Owner::Workspace(column) => in_list(column, &subject.member_of),
        _ => None,
    }
}

/// `value` with every one of `texts` replaced by `text`.
fn replaced(value: SimpleExpr, texts: &[String], text: &str) -> SimpleExpr {
    non_empty(texts).fold(value, |value, m| {
        sea_orm::sea_query::Func::cust(Alias::new("REPLACE"))
            .arg(value)
            .arg(m.clone())
            .arg(text)
            .into()
    })
}

/// `column` of `table` with every mention of `subject` replaced by `text`: the addresses
/// everywhere, the names only where [`referencing`] looks for them.
pub fn without_mentions(
    table: &TableClass,
    column: &str,
    subject: &Subject,
    text: &str,
) -> SimpleExpr {
    let addresses = replaced(col(column), &subject.addresses, text);
    match names_belong(table, subject) {
        Some(here) if non_empty(&subject.names).next().is_some() => {
            Expr::case(here, replaced(addresses.clone(), &subject.names, text))
                .finally(addresses)
                .into()
        }
        _ => addresses,
    }
}

/// `SELECT <columns> FROM table WHERE condition`.
pub fn select(table: &str, columns: &[&str], condition: SimpleExpr) -> SelectStatement {
    let mut query = Query::select();
    query.from(Alias::new(table)).and_where(condition);
    for c in columns {
        query.column(Alias::new(*c));
    }
    query
}

/// `SELECT COUNT(*) FROM table WHERE condition`.
pub fn count(table: &str, condition: SimpleExpr) -> SelectStatement {
    Query::select()
        .expr_as(
            Expr::col(sea_orm::sea_query::Asterisk).count(),
            Alias::new("n"),
        )
        .from(Alias::new(table))
        .and_where(condition)
        .to_owned()
}

/// `DELETE FROM table WHERE condition`.
pub fn delete(table: &str, condition: SimpleExpr) -> DeleteStatement {
    Query::delete()
        .from_table(Alias::new(table))
        .and_where(condition)
        .to_owned()
}

/// `UPDATE table SET column = value WHERE condition`.
pub fn update(
    table: &str,
    column: &str,
    value: impl Into<SimpleExpr>,
    condition: SimpleExpr,
) -> UpdateStatement {
    Query::update()
        .table(Alias::new(table))
        .value(Alias::new(column), value)
        .and_where(condition)
        .to_owned()
}

/// Builds a statement for the connection's backend.
pub fn build<S: sea_orm::sea_query::QueryStatementWriter>(
    conn: &impl ConnectionTrait,
    statement: &S,
) -> Statement {
    let backend = conn.get_database_backend();
    match backend {
        DbBackend::Postgres => {
            let (sql, values) = statement.build(sea_orm::sea_query::PostgresQueryBuilder);
            Statement::from_sql_and_values(backend, sql, values)
        }
        _ => {
            let (sql, values) = statement.build(sea_orm::sea_query::SqliteQueryBuilder);
            Statement::from_sql_and_values(backend, sql, values)
        }
    }
}

/// Runs a statement that changes rows; returns how many it changed.
pub async fn execute<S: sea_orm::sea_query::QueryStatementWriter>(
    conn: &impl ConnectionTrait,
    statement: &S,
) -> Result<u64, sea_orm::DbErr> {
    Ok(conn
        .execute_raw(build(conn, statement))
        .await?
        .rows_affected())
}

/// Runs `SELECT COUNT(*)`.
pub async fn count_rows(
    conn: &impl ConnectionTrait,
    table: &str,
    condition: SimpleExpr,
) -> Result<u64, sea_orm::DbErr> {
    let row = conn
        .query_one_raw(build(conn, &count(table, condition)))
        .await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(condition: SimpleExpr) -> String {
        select("t", &["id"], condition)
            .to_string(sea_orm::sea_query::SqliteQueryBuilder)
            .replace('"', "")
    }

    #[test]
    fn parent_owned_rows_follow_the_parent_chain() {
        let subject = Subject {
            users: vec![7],
            workspaces: vec![3, 4],
            ..Default::default()
        };
        let attempts = datamap::classify("publish_attempts").unwrap();
        let condition = sql(owned(attempts, &subject).unwrap());
        assert!(
            condition.contains(
                "target_id IN (SELECT id FROM post_targets WHERE post_id IN \
                 (SELECT id FROM posts WHERE workspace_id IN (3, 4)))"
            ),
            "{condition}"
        );
        let sessions = datamap::classify("sessions").unwrap();
        assert!(sql(owned(sessions, &subject).unwrap()).contains("user_id IN (7)"));
    }

    #[test]
    fn names_are_looked_for_only_in_the_persons_workspaces() {
        let subject = Subject {
            users: vec![7],
            addresses: vec!["a@example.com".into()],
            names: vec!["A".into()],
            member_of: vec![3],
            ..Default::default()
        };
        let log = datamap::classify("activity_log").unwrap();
        let summary = log
            .refs
            .iter()
            .find(|r| r.names == Names::Mentions)
            .unwrap();
        let condition = sql(referencing(log, summary, &subject).unwrap());
        assert!(
            condition.contains(
                "summary LIKE '%a@example.com%' OR (workspace_id IN (3) AND summary LIKE '%A%')"
            ),
            "{condition}"
        );
        let value = sql(without_mentions(log, "summary", &subject, "X"));
        assert!(
            value.contains("CASE WHEN (workspace_id IN (3)) THEN REPLACE(REPLACE(summary, 'a@example.com', 'X'), 'A', 'X') ELSE REPLACE(summary, 'a@example.com', 'X') END"),
            "{value}"
        );
    }

    #[test]
    fn nothing_is_owned_by_an_empty_subject() {
        let empty = Subject::default();
        for table in datamap::TABLES {
            assert!(owned(table, &empty).is_none(), "{}", table.table);
            for r in table.refs {
                assert!(referencing(table, r, &empty).is_none());
            }
        }
    }
}
