//! Analytics as CSV, streamed from the database a page of rows at a time (nothing is built in
//! memory, however many rows there are): the accounts' figures and the posts' figures, one row
//! per figure, UTF-8 with a byte order mark so spreadsheets read the accents, and every text
//! cell that a spreadsheet would run as a formula neutralised.

use crate::analytics::Days;
use crate::{Result, Services};
use bytes::Bytes;
use domain::{Platform, WorkspaceId};
use futures_util::Stream;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use std::fmt::Write;
use store::entities::{account_metric, post, post_metric, post_target, social_account};

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
/// Rows read from the database at a time.
const PAGE: u64 = 5_000;

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

/// Where a stream has got to.
struct Cursor {
    db: store::Db,
    ws: i64,
    days: Days,
    export: Export,
    /// The workspace's accounts shown (all, or one platform's): id → (platform, username).
    accounts: HashMap<i64, (String, String)>,
    after: i64,
    started: bool,
}

impl Services {
    /// The rows of `export` for `days` (of `platform`'s accounts only, when given), as a stream
    /// of CSV chunks: the byte order mark and the header first, then a chunk per page of rows.
    /// A failure part way ends the stream with an error (the download is cut short, never
    /// silently complete).
    pub async fn analytics_csv(
        &self,
        ws: WorkspaceId,
        export: Export,
        days: Days,
        platform: Option<Platform>,
    ) -> Result<impl Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send + 'static>
    {
        let accounts = social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ws.0))
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|a| platform.is_none_or(|p| a.platform == p.slug()))
            .map(|a| {
                let label = Platform::label_of(&a.platform).to_owned();
                (a.id, (label, a.username))
            })
            .collect();
        let cursor = Cursor {
            db: self.db.clone(),
            ws: ws.0,
            days,
            export,
            accounts,
            after: 0,
            started: false,
        };
        Ok(futures_util::stream::try_unfold(
            cursor,
            |mut cursor| async move {
                let mut out = String::new();
                if !cursor.started {
                    cursor.started = true;
                    out.push_str(BOM);
                    out.push_str(cursor.export.header());
                    return Ok(Some((Bytes::from(out), cursor)));
                }
                let read = match cursor.export {
                    Export::Accounts => accounts_page(&mut cursor, &mut out).await,
                    Export::Posts => posts_page(&mut cursor, &mut out).await,
                };
                match read {
                    Ok(0) => Ok(None),
                    Ok(_) => Ok(Some((Bytes::from(out), cursor))),
                    Err(e) => {
                        tracing::error!(error = %e, "an analytics export stopped part way");
                        Err(std::io::Error::other(
                            "the export could not be read to its end",
                        ))
                    }
                }
            },
        ))
    }
}

/// Writes the next page of account rows; how many.
async fn accounts_page(cursor: &mut Cursor, out: &mut String) -> Result<usize> {
    let rows = account_metric::Entity::find()
        .filter(account_metric::Column::WorkspaceId.eq(cursor.ws))
        .filter(account_metric::Column::AccountId.is_in(cursor.accounts.keys().copied()))
        .filter(account_metric::Column::Day.gte(cursor.days.from))
        .filter(account_metric::Column::Day.lte(cursor.days.to))
        .filter(account_metric::Column::Id.gt(cursor.after))
        .order_by_asc(account_metric::Column::Id)
        .limit(PAGE)
        .all(&cursor.db)
        .await?;
    for row in &rows {
        let Some((platform, username)) = cursor.accounts.get(&row.account_id) else {
            continue;
        };
        let _ = write!(out, "{},", row.day);
        cell(platform, out);
        out.push(',');
        cell(username, out);
        out.push(',');
        cell(&row.metric, out);
        let _ = writeln!(
            out,
            ",{},{},{}\r",
            row.span,
            row.value,
            row.read_at.format("%Y-%m-%dT%H:%M:%SZ")
        );
    }
    if let Some(last) = rows.last() {
        cursor.after = last.id;
    }
    Ok(rows.len())
}

/// Writes the next page of post rows; how many.
async fn posts_page(cursor: &mut Cursor, out: &mut String) -> Result<usize> {
    let rows = post_metric::Entity::find()
        .filter(post_metric::Column::WorkspaceId.eq(cursor.ws))
        .filter(post_metric::Column::AccountId.is_in(cursor.accounts.keys().copied()))
        .filter(post_metric::Column::Day.gte(cursor.days.from))
        .filter(post_metric::Column::Day.lte(cursor.days.to))
        .filter(post_metric::Column::Id.gt(cursor.after))
        .order_by_asc(post_metric::Column::Id)
        .limit(PAGE)
        .all(&cursor.db)
        .await?;
    // The page's posts, looked up once per page (memory stays a page's worth).
    let targets: HashMap<i64, post_target::Model> = post_target::Entity::find()
        .filter(post_target::Column::Id.is_in(rows.iter().map(|r| r.target_id)))
        .all(&cursor.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let bodies: HashMap<i64, String> = post::Entity::find()
        .filter(post::Column::Id.is_in(targets.values().map(|t| t.post_id)))
        .all(&cursor.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.body))
        .collect();
    for row in &rows {
        let (Some((platform, username)), Some(target)) = (
            cursor.accounts.get(&row.account_id),
            targets.get(&row.target_id),
        ) else {
            continue;
        };
        let text = target
            .body
            .as_deref()
            .filter(|b| !b.trim().is_empty())
            .or_else(|| bodies.get(&target.post_id).map(String::as_str))
            .unwrap_or_default();
        let _ = write!(out, "{},{},", row.day, target.post_id);
        if let Some(at) = target.published_at {
            let _ = write!(out, "{}", at.format("%Y-%m-%dT%H:%M:%SZ"));
        }
        out.push(',');
        cell(platform, out);
        out.push(',');
        cell(username, out);
        out.push(',');
        cell(target.permalink.as_deref().unwrap_or_default(), out);
        out.push(',');
        cell(text, out);
        out.push(',');
        cell(&row.metric, out);
        let _ = writeln!(out, ",{}\r", row.value);
    }
    if let Some(last) = rows.last() {
        cursor.after = last.id;
    }
    Ok(rows.len())
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
