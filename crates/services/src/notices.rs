//! Notices: what happened to a person while they were away, said once on the next page they
//! open. Three kinds so far: a failed payment (PayPal could not take it; the plan lasts to the
//! end of the grace period), a workspace deleted with its owner's account (its members are
//! e-mailed too; the notice tells them in the product, where they would otherwise land on
//! "Create your first workspace" with no word of why), and the posts and files someone made in
//! a workspace, deleted with their account (with the scheduled posts that will no longer go
//! out). A notice is written in the transaction of what happened and taken (read, then deleted)
//! by the page that shows it.

use crate::Result;
use crate::Services;
use chrono::{DateTime, Utc};
use domain::{Timezone, UserId, schedule};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use store::entities::notice;

use store::entities::states::NoticeKind as Kind;

/// What went from a workspace when someone deleted their account (stored as JSON in the
/// notice's subject).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkDeleted {
    pub workspace: String,
    pub posts: u64,
    pub files: u64,
    /// The scheduled posts withdrawn before they went out: an excerpt, and when each was due.
    pub withdrawn: Vec<(String, Option<DateTime<Utc>>)>,
    /// Posts being published at that moment, deleted once publishing ends: excerpts.
    pub publishing: Vec<String>,
    /// Other people's posts, not all out yet, that carried one of the deleted files: excerpts.
    pub lost_files: Vec<String>,
}

impl WorkDeleted {
    fn text(&self, day: &str, tz: Timezone) -> String {
        let mut what = Vec::new();
        if self.posts > 0 {
            what.push(domain::counted(self.posts, "post", "posts"));
        }
        if self.files > 0 {
            what.push(domain::counted(self.files, "file", "files"));
        }
        let mut text = if what.is_empty() {
            format!(
                "Someone who worked in the workspace {} deleted their account on {day}.",
                self.workspace
            )
        } else {
            format!(
                "Someone who worked in the workspace {} deleted their account on {day}, and the \
                 {} they made there {} deleted with it.",
                self.workspace,
                what.join(" and "),
                if self.posts + self.files == 1 {
                    "was"
                } else {
                    "were"
                }
            )
        };
        let quoted = |items: Vec<String>| items.join("; ");
        if !self.withdrawn.is_empty() {
            let posts = self
                .withdrawn
                .iter()
                .map(|(excerpt, due)| match due {
                    Some(at) => format!("“{excerpt}” (due {})", schedule::describe(*at, tz)),
                    None => format!("“{excerpt}”"),
                })
                .collect();
            text.push_str(&format!(
                " Withdrawn, so they will not go out: {}.",
                quoted(posts)
            ));
        }
        if !self.publishing.is_empty() {
            let posts = self.publishing.iter().map(|e| format!("“{e}”")).collect();
            text.push_str(&format!(
                " Being published at that moment, and deleted once publishing ends: {}.",
                quoted(posts)
            ));
        }
        if !self.lost_files.is_empty() {
            let posts = self.lost_files.iter().map(|e| format!("“{e}”")).collect();
            text.push_str(&format!(
                " These posts no longer carry their files and have not all gone out yet; check \
                 them: {}.",
                quoted(posts)
            ));
        }
        text
    }
}

/// A notice to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: Kind,
    /// What it happened to: the workspace's name, or for [`Kind::WorkDeleted`] a
    /// [`WorkDeleted`] as JSON.
    pub subject: String,
    pub occurred_at: DateTime<Utc>,
}

impl Notice {
    /// In words, with the day in the person's time zone: "The workspace Acme Social was deleted
    /// by its owner on 2 December 2026."
    pub fn text(&self, tz: Timezone) -> String {
        let day = self.occurred_at.with_timezone(&tz.tz()).format("%-d %B %Y");
        match self.kind {
            Kind::WorkspaceDeleted => format!(
                "The workspace {} was deleted by its owner on {day}.",
                self.subject
            ),
            Kind::PaymentFailed => match serde_json::from_str::<PaymentFailed>(&self.subject) {
                Ok(p) => format!(
                    "PayPal could not take the payment for the workspace {} on {day}. Its plan \
                     lasts until {}; after that it moves to Free unless a payment goes through. \
                     Check the payment method at PayPal, or see the workspace's billing page.",
                    p.workspace,
                    p.until.with_timezone(&tz.tz()).format("%-d %B %Y")
                ),
                Err(_) => {
                    format!("PayPal could not take a payment for one of your workspaces on {day}.")
                }
            },
            Kind::WorkDeleted => match serde_json::from_str::<WorkDeleted>(&self.subject) {
                Ok(work) => work.text(&day.to_string(), tz),
                Err(_) => format!(
                    "Someone deleted their account on {day}, and the posts and files they made \
                     in one of your workspaces were deleted with it."
                ),
            },
        }
    }
}

/// A failed payment (stored as JSON in the notice's subject).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PaymentFailed {
    workspace: String,
    /// When the grace period ends.
    until: DateTime<Utc>,
}

/// Tells `user_id` (on their next page) that PayPal could not take the payment for the
/// workspace `name` at `at`, and that its plan lasts `until`.
pub(crate) async fn payment_failed<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    name: &str,
    until: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<()> {
    let subject = PaymentFailed {
        workspace: name.to_owned(),
        until,
    };
    let subject = serde_json::to_string(&subject).map_err(anyhow::Error::from)?;
    add(conn, user_id, Kind::PaymentFailed, subject, at).await
}

/// Writes one notice for `user_id`.
async fn add<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    kind: Kind,
    subject: String,
    at: DateTime<Utc>,
) -> Result<()> {
    notice::ActiveModel {
        user_id: Set(user_id.0),
        kind: Set(kind),
        subject: Set(subject),
        occurred_at: Set(at),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Tells `user_id` (on their next page) that the workspace `name` was deleted at `at`.
pub(crate) async fn workspace_deleted<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    name: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    add(conn, user_id, Kind::WorkspaceDeleted, name.to_owned(), at).await
}

/// Tells `user_id` (on their next page) what went from a workspace of theirs when someone
/// deleted their account at `at`.
pub(crate) async fn work_deleted<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    work: &WorkDeleted,
    at: DateTime<Utc>,
) -> Result<()> {
    let subject = serde_json::to_string(work).map_err(anyhow::Error::from)?;
    add(conn, user_id, Kind::WorkDeleted, subject, at).await
}

impl Services {
    /// The notices waiting for `user_id`, oldest first, deleted as they are handed over: the
    /// page that asks shows them, and no later page does.
    #[tracing::instrument(skip_all, err, fields(user.id = user_id.0))]
    pub async fn take_notices(&self, user_id: UserId) -> Result<Vec<Notice>> {
        let rows = notice::Entity::find()
            .filter(notice::Column::UserId.eq(user_id.0))
            .order_by_asc(notice::Column::Id)
            .all(&self.db)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        notice::Entity::delete_many()
            .filter(notice::Column::Id.is_in(rows.iter().map(|r| r.id)))
            .exec(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| Notice {
                kind: row.kind,
                subject: row.subject,
                occurred_at: row.occurred_at,
            })
            .collect())
    }
}
