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
        let (tx, rx) = tokio::sync::mpsc::channel::<std::result::Result<Bytes, std::io::Error>>(4);
        tokio::spawn(async move {
            let mut out = String::with_capacity(CHUNK + 1024);
            out.push_str(BOM);
            out.push_str(export.header());
            let outcome = write_rows(&db, statement, export, &mut out, &tx).await;
            let last = match outcome {
                Ok(()) => Ok(Bytes::from(out)),
                Err(e) => {
                    tracing::error!(error = %e, "an analytics export stopped part way");
                    Err(std::io::Error::other(
                        "the export could not be read to its end",
                    ))
                }
            };
            let _ = tx.send(last).await;
        });
        Ok(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }
}

/// Reads the rows of `statement` and writes them to `out`, sending each full chunk on; stops
/// (without an error) when the download was abandoned.
async fn write_rows(
    db: &store::Db,
    statement: Statement,
    export: Export,
    out: &mut String,
    tx: &tokio::sync::mpsc::Sender<std::result::Result<Bytes, std::io::Error>>,
) -> Result<()> {
    let mut rows = db.stream_raw(statement).await?;
    // Columns by position, as the statement above lists them.
    while let Some(row) = rows.next().await {
        let row = row?;
        let day: chrono::NaiveDate = row.try_get_by_index(0)?;
        match export {
            Export::Accounts => {
                let platform: String = row.try_get_by_index(1)?;
                let username: String = row.try_get_by_index(2)?;
                let metric: String = row.try_get_by_index(3)?;
                let span: String = row.try_get_by_index(4)?;
                let value: i64 = row.try_get_by_index(5)?;
                let read_at: chrono::DateTime<chrono::Utc> = row.try_get_by_index(6)?;
                let _ = write!(out, "{day},");
                cell(Platform::label_of(&platform), out);
                out.push(',');
                cell(&username, out);
                out.push(',');
                cell(&metric, out);
                let _ = write!(out, ",{span},{value},");
                out.push_str(&read_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                out.push_str("\r\n");
            }
            Export::Posts => {
                let post_id: i64 = row.try_get_by_index(1)?;
                let published: Option<chrono::DateTime<chrono::Utc>> = row.try_get_by_index(2)?;
                let platform: String = row.try_get_by_index(3)?;
                let username: String = row.try_get_by_index(4)?;
                let link: Option<String> = row.try_get_by_index(5)?;
                let text: String = row.try_get_by_index(6)?;
                let metric: String = row.try_get_by_index(7)?;
                let value: i64 = row.try_get_by_index(8)?;
                let _ = write!(out, "{day},{post_id},");
                if let Some(at) = published {
                    out.push_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                }
                out.push(',');
                cell(Platform::label_of(&platform), out);
                out.push(',');
                cell(&username, out);
                out.push(',');
                cell(link.as_deref().unwrap_or_default(), out);
                out.push(',');
                cell(&text, out);
                out.push(',');
                cell(&metric, out);
                let _ = write!(out, ",{value}\r\n");
            }
        }
        if out.len() >= CHUNK {
            let chunk = Bytes::from(std::mem::replace(out, String::with_capacity(CHUNK + 1024)));
            if tx.send(Ok(chunk)).await.is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
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
