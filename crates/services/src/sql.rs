//! Statements the query builder does not say well, written once for both backends: values
//! bound in the backend's own placeholder style ([`Binder`]), and the columns of an entity
//! named with a prefix, to read a joined row back into its models
//! (`Model::from_query_result(row, "w_")`).

use sea_orm::{DbBackend, Iterable, Statement, Value};

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

    /// Binds each of `values`, separated by commas (for `IN (…)`).
    pub(crate) fn bind_all<V: Into<Value>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> String {
        values
            .into_iter()
            .map(|v| self.bind(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(crate) fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// Every column of entity `E` in table alias `table`, each named `{prefix}{column}`:
/// `w."id" AS "w_id", w."name" AS "w_name", …`.
pub(crate) fn columns<E: sea_orm::EntityTrait>(table: &str, prefix: &str) -> String {
    use sea_orm::IdenStatic;
    E::Column::iter()
        .map(|c| {
            let name = c.as_str();
            format!("{table}.\"{name}\" AS \"{prefix}{name}\"")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
