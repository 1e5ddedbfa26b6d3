//! Analytics as CSV, streamed from the database as one query gives its rows (nothing is built
//! in memory, however many rows there are): the accounts' figures and the posts' figures, one row
//! per figure, UTF-8 with a byte order mark so spreadsheets read the accents, and every text
//! cell that a spreadsheet would run as a formula neutralised.

use crate::analytics::sql::Binder;
use crate::analytics::{Days, Scope};
use crate::{Result, Services};
use bytes::Bytes;
use domain::{Platform, WorkspaceId};
use futures_util::{Stream, StreamExt};
use sea_orm::{Statement, StreamTrait};
use std::fmt::Write;

/// What is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// Each account's day values and lifetime totals.
    Accounts,
    /// Each published post's lifetime totals, by the day they were read.
    Posts,
}

impl Export {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::Posts => "posts",
        }
    }

    fn header(self) -> &'static str {
        match self {
            Self::Accounts => "day,platform,account,metric,kind,value,read_at\r\n",
            Self::Posts => {
                "read_on,post_id,published_at,platform,account,link,text,metric,value\r\n"
            }
        }
    }
}

/// UTF-8's byte order mark, first in the file.
pub const BOM: &str = "\u{feff}";

/// Appends `text` as one CSV cell: quoted when it holds a separator, a quote or a line break,
/// and, when it starts as a formula would (`=`, `+`, `-`, `@`, a tab or a carriage return),
/// quoted with a leading apostrophe so that a spreadsheet shows it as text instead of running
/// it.
pub fn cell(text: &str, out: &mut String) {
    let formula = matches!(
        text.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    );
    if !formula && !text.contains([',', '"', '\n', '\r']) {
        out.push_str(text);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// Rows are sent on in chunks of about this many bytes.
const CHUNK: usize = 64 * 1024;

impl Services {
    /// The rows of `export` for `days` (of the accounts and posts `scope` covers), as a stream
    /// of CSV chunks: the byte order mark and the header first, then the rows as one query
    /// gives them, a chunk at a time (the query runs on its own task and waits while the
    /// download does). A failure part way ends the stream with an error: the download is cut
    /// short, never silently complete.
    pub async fn analytics_csv(
        &self,
        ws: WorkspaceId,
        export: Export,
        days: Days,
        scope: Scope,
    ) -> Result<impl Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send + 'static>
    {
        let db = self.db.clone();
        let mut b = Binder::new(db.get_database_backend());
        let (w, from, to) = (b.bind(ws.0), b.bind(days.from), b.bind(days.to));
        let mut only = String::new();
        if let Some(p) = scope.platform {
            only.push_str(&format!(" AND a.platform = {}", b.bind(p.slug())));
        }
        if let Some(id) = scope.account {
            only.push_str(&format!(" AND a.id = {}", b.bind(id)));
        }
        // A campaign narrows the posts; an account's own figures are not a campaign's.
        let campaign = match (export, scope.campaign) {
            (Export::Posts, Some(id)) => format!(
                " AND t.post_id IN (SELECT p2.id FROM posts p2 WHERE p2.workspace_id = {w} AND \
                 p2.campaign_id = {})",
                b.bind(id)
            ),
            _ => String::new(),
        };
        let sql = match export {
            Export::Accounts => format!(
                "SELECT m.day, a.platform, a.username, m.metric, m.span, m.value, m.read_at FROM \
                 account_metrics m JOIN social_accounts a ON a.id = m.account_id WHERE \
                 m.workspace_id = {w} AND m.day >= {from} AND m.day <= {to}{only} ORDER BY m.day, \
                 m.id"
            ),
            Export::Posts => format!(
                "SELECT m.day, t.post_id, t.published_at, a.platform, a.username, t.permalink, \
                 CASE WHEN t.body IS NULL OR TRIM(t.body) = '' THEN p.body ELSE t.body END AS \
                 text, m.metric, m.value FROM post_metrics m JOIN post_targets t ON t.id = \
                 m.target_id JOIN posts p ON p.id = t.post_id JOIN social_accounts a ON a.id = \
                 m.account_id WHERE m.workspace_id = {w} AND m.day >= {from} AND m.day <= \
                 {to}{only}{campaign} ORDER BY m.day, m.id"
            ),
        };
        let statement = b.statement(sql);
        // On SQLite kept in a file, the rows are read on a connection of the export's own, on a
        // blocking thread: the pool's driver hands rows over one at a time between threads,
        // which makes a long export several times slower than SQLite reads it.
        let file = store::database_files(&db)
            .await
            .map_err(crate::ServiceError::Unexpected)?
            .into_iter()
            .next();
        let (tx, rx) = tokio::sync::mpsc::channel::<std::result::Result<Bytes, std::io::Error>>(4);
        let finish = |outcome: Result<()>, out: String| match outcome {
            Ok(()) => Ok(Bytes::from(out)),
            Err(e) => {
                tracing::error!(error = %e, "an analytics export stopped part way");
                Err(std::io::Error::other(
                    "the export could not be read to its end",
                ))
            }
        };
        match file {
            Some(file) => {
                tokio::task::spawn_blocking(move || {
                    let mut out = first_chunk(export);
                    let outcome =
                        own_connection::write_rows(&file, statement, export, &mut out, &tx);
                    let _ = tx.blocking_send(finish(outcome, out));
                });
            }
            None => {
                tokio::spawn(async move {
                    let mut out = first_chunk(export);
                    let outcome = write_rows(&db, statement, export, &mut out, &tx).await;
                    let _ = tx.send(finish(outcome, out)).await;
                });
            }
        }
        Ok(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }
}

/// The byte order mark and the header, which every export starts with.
fn first_chunk(export: Export) -> String {
    let mut out = String::with_capacity(CHUNK + 1024);
    out.push_str(BOM);
    out.push_str(export.header());
    out
}

/// One row's cells by position, as the statement lists them, from whichever driver read it.
trait Cells {
    fn int(&self, i: usize) -> Result<i64>;
    fn text(&self, i: usize) -> Result<Option<std::borrow::Cow<'_, str>>>;
    fn day(&self, i: usize) -> Result<chrono::NaiveDate>;
    fn time(&self, i: usize) -> Result<Option<chrono::DateTime<chrono::Utc>>>;
}

impl Cells for sea_orm::QueryResult {
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.try_get_by_index(i)?)
    }
    fn text(&self, i: usize) -> Result<Option<std::borrow::Cow<'_, str>>> {
        Ok(self
            .try_get_by_index::<Option<String>>(i)?
            .map(std::borrow::Cow::Owned))
    }
    fn day(&self, i: usize) -> Result<chrono::NaiveDate> {
        Ok(self.try_get_by_index(i)?)
    }
    fn time(&self, i: usize) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        Ok(self.try_get_by_index(i)?)
    }
}

/// Writes one row of `export` to `out`: the one place an export's columns are formatted.
fn write_row(export: Export, row: &impl Cells, out: &mut String) -> Result<()> {
    let text = |i| -> Result<std::borrow::Cow<'_, str>> { Ok(row.text(i)?.unwrap_or_default()) };
    let time = |at: Option<chrono::DateTime<chrono::Utc>>, out: &mut String| {
        if let Some(at) = at {
            out.push_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
    };
    let _ = write!(out, "{},", row.day(0)?);
    match export {
        Export::Accounts => {
            cell(Platform::label_of(&text(1)?), out);
            out.push(',');
            cell(&text(2)?, out);
            out.push(',');
            cell(&text(3)?, out);
            let _ = write!(out, ",{},{},", text(4)?, row.int(5)?);
            time(row.time(6)?, out);
        }
        Export::Posts => {
            let _ = write!(out, "{},", row.int(1)?);
            time(row.time(2)?, out);
            out.push(',');
            cell(Platform::label_of(&text(3)?), out);
            for i in 4..=7 {
                out.push(',');
                cell(&text(i)?, out);
            }
            let _ = write!(out, ",{}", row.int(8)?);
        }
    }
    out.push_str("\r\n");
    Ok(())
}

/// Takes what `out` holds once it is a chunk's worth, to be sent on.
fn full_chunk(out: &mut String) -> Option<Bytes> {
    (out.len() >= CHUNK)
        .then(|| Bytes::from(std::mem::replace(out, String::with_capacity(CHUNK + 1024))))
}

/// Reads the rows of `statement` through the pool and writes them to `out`, sending each full
/// chunk on; stops (without an error) when the download was abandoned.
async fn write_rows(
    db: &store::Db,
    statement: Statement,
    export: Export,
    out: &mut String,
    tx: &tokio::sync::mpsc::Sender<std::result::Result<Bytes, std::io::Error>>,
) -> Result<()> {
    let mut rows = db.stream_raw(statement).await?;
    while let Some(row) = rows.next().await {
        write_row(export, &row?, out)?;
        if let Some(chunk) = full_chunk(out)
            && tx.send(Ok(chunk)).await.is_err()
        {
            return Ok(());
        }
    }
    Ok(())
}

/// The export read from a SQLite file on a read-only connection of its own.
mod own_connection {
    use super::{Bytes, Cells, Export, Result, full_chunk, write_row};
    use anyhow::Context;
    use rusqlite::types::ValueRef;
    use sea_orm::{Statement, Value};
    use std::borrow::Cow;

    pub(super) fn write_rows(
        file: &std::path::Path,
        statement: Statement,
        export: Export,
        out: &mut String,
        tx: &tokio::sync::mpsc::Sender<std::result::Result<Bytes, std::io::Error>>,
    ) -> Result<()> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .context("could not open the database for an export")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .context("could not set the export's busy timeout")?;
        let mut query = conn
            .prepare(&statement.sql)
            .context("could not prepare the export's query")?;
        let values = statement.values.map(|v| v.0).unwrap_or_default();
        for (i, value) in values.into_iter().enumerate() {
            let i = i + 1;
            match value {
                Value::BigInt(Some(n)) => query.raw_bind_parameter(i, n),
                Value::String(Some(s)) => query.raw_bind_parameter(i, s.as_str()),
                // As sqlx writes a date on SQLite, which the stored days were written by.
                Value::ChronoDate(Some(d)) => {
                    query.raw_bind_parameter(i, d.format("%F").to_string())
                }
                other => return Err(anyhow::anyhow!("an export cannot bind {other:?}").into()),
            }
            .context("could not bind the export's values")?;
        }
        let mut rows = query.raw_query();
        while let Some(row) = rows.next().context("could not read the export's rows")? {
            write_row(export, &Row(row), out)?;
            if let Some(chunk) = full_chunk(out)
                && tx.blocking_send(Ok(chunk)).is_err()
            {
                return Ok(());
            }
        }
        Ok(())
    }

    struct Row<'a>(&'a rusqlite::Row<'a>);

    impl Row<'_> {
        fn value(&self, i: usize) -> Result<ValueRef<'_>> {
            Ok(self.0.get_ref(i).context("could not read an export cell")?)
        }
    }

    impl Cells for Row<'_> {
        fn int(&self, i: usize) -> Result<i64> {
            match self.value(i)? {
                ValueRef::Integer(n) => Ok(n),
                other => Err(anyhow::anyhow!(
                    "column {i} is {:?}, not a number",
                    other.data_type()
                )
                .into()),
            }
        }
        fn text(&self, i: usize) -> Result<Option<Cow<'_, str>>> {
            match self.value(i)? {
                ValueRef::Null => Ok(None),
                ValueRef::Text(bytes) => Ok(Some(Cow::Borrowed(
                    std::str::from_utf8(bytes).context("an export cell is not UTF-8")?,
                ))),
                other => {
                    Err(anyhow::anyhow!("column {i} is {:?}, not text", other.data_type()).into())
                }
            }
        }
        fn day(&self, i: usize) -> Result<chrono::NaiveDate> {
            let text = self.text(i)?.unwrap_or_default();
            Ok(chrono::NaiveDate::parse_from_str(&text, "%F")
                .with_context(|| format!("column {i} is not a day"))?)
        }
        fn time(&self, i: usize) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
            let Some(text) = self.text(i)? else {
                return Ok(None);
            };
            Ok(Some(
                store_time(&text).with_context(|| format!("column {i} is not a time"))?,
            ))
        }
    }

    /// A time as sqlx writes one on SQLite (RFC 3339), or in the other shapes it reads.
    fn store_time(text: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
        use chrono::{DateTime, NaiveDateTime, Utc};
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(at.with_timezone(&Utc));
        }
        for format in ["%F %T%.f%:z", "%F %T%.fZ"] {
            if let Ok(at) = DateTime::parse_from_str(text, format) {
                return Ok(at.with_timezone(&Utc));
            }
        }
        for format in ["%F %T%.f", "%FT%T%.f"] {
            if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
                return Ok(at.and_utc());
            }
        }
        anyhow::bail!("unreadable time")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> String {
        let mut out = String::new();
        cell(text, &mut out);
        out
    }

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(one("views"), "views");
        assert_eq!(one("a, b"), "\"a, b\"");
        assert_eq!(one("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(one("two\nlines"), "\"two\nlines\"");
        assert_eq!(
            one("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        for start in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(one(start).starts_with("\"'"), "{start}");
        }
        assert_eq!(one("Café 🎉"), "Café 🎉");
    }
}
