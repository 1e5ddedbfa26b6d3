//! How many statements a piece of work sends to the database: every connection that
//! [`crate::connect`] opens reports each statement it runs (every query and change, built or
//! written out; not the `BEGIN` and `COMMIT` of a transaction, nor `execute_unprepared`, which
//! only set-up and maintenance use), and [`counted`] adds up those run by the work it wraps (a
//! web request: its closing log line says how many). Work that is not wrapped counts nothing,
//! and costs nothing more than the report.

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static STATEMENTS: Cell<u32>;
}

/// Runs `work` and returns its output with the number of statements it ran (on this task: what
/// it hands to another task is not counted).
pub async fn counted<F: Future>(work: F) -> (F::Output, u32) {
    STATEMENTS
        .scope(Cell::new(0), async {
            let out = work.await;
            (out, STATEMENTS.with(Cell::get))
        })
        .await
}

/// Reports one statement of `db`'s connections (installed by [`crate::connect`]).
pub(crate) fn observe(db: &mut crate::Db) {
    db.set_metric_callback(|_| {
        // Outside `counted` there is nothing to add to.
        let _ = STATEMENTS.try_with(|n| n.set(n.get().saturating_add(1)));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnectionTrait;

    #[tokio::test]
    async fn the_statements_of_the_wrapped_work_are_counted() {
        // One connection: each of an in-memory database's connections has its own database.
        let mut options = sea_orm::ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).min_connections(1);
        let Ok(mut db) = sea_orm::Database::connect(options).await else {
            panic!("an in-memory SQLite database");
        };
        observe(&mut db);
        let run = |sql: &'static str| {
            let db = db.clone();
            let statement = sea_orm::Statement::from_string(db.get_database_backend(), sql);
            async move { db.execute_raw(statement).await.map(|_| ()) }
        };
        let (done, n) = counted(async {
            run("CREATE TABLE t (x INTEGER)").await?;
            run("INSERT INTO t VALUES (1)").await?;
            run("SELECT x FROM t").await
        })
        .await;
        assert!(done.is_ok(), "{done:?}");
        assert_eq!(n, 3);
        // Outside, nothing is counted and nothing fails.
        assert!(run("SELECT 1").await.is_ok());
        let ((), none) = counted(async {}).await;
        assert_eq!(none, 0);
    }
}
