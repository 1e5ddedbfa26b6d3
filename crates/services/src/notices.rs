//! Notices: what happened to a person while they were away, said once on the next page they
//! open. A workspace deleted with its owner's account is the one kind so far (its members are
//! e-mailed too; the notice tells them in the product, where they would otherwise land on
//! "Create your first workspace" with no word of why). A notice is written in the transaction
//! of what happened and taken (read, then deleted) by the page that shows it.

use crate::Result;
use crate::Services;
use chrono::{DateTime, Utc};
use domain::Timezone;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use store::entities::notice;

/// What a notice says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A workspace the person belonged to was deleted with its owner's account.
    WorkspaceDeleted,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::WorkspaceDeleted => "workspace_deleted",
        }
    }

    fn parse(stored: &str) -> Option<Self> {
        [Self::WorkspaceDeleted]
            .into_iter()
            .find(|k| k.as_str() == stored)
    }
}

/// A notice to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: Kind,
    /// What it happened to (the workspace's name).
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
        }
    }
}

/// Tells `user_id` (on their next page) that the workspace `name` was deleted at `at`.
pub(crate) async fn workspace_deleted<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    name: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    notice::ActiveModel {
        user_id: Set(user_id),
        kind: Set(Kind::WorkspaceDeleted.as_str().to_owned()),
        subject: Set(name.to_owned()),
        occurred_at: Set(at),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

impl Services {
    /// The notices waiting for `user_id`, oldest first, deleted as they are handed over: the
    /// page that asks shows them, and no later page does.
    #[tracing::instrument(skip_all, err, fields(user.id = user_id))]
    pub async fn take_notices(&self, user_id: i64) -> Result<Vec<Notice>> {
        let rows = notice::Entity::find()
            .filter(notice::Column::UserId.eq(user_id))
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
            .filter_map(|row| {
                Some(Notice {
                    kind: Kind::parse(&row.kind)?,
                    subject: row.subject,
                    occurred_at: row.occurred_at,
                })
            })
            .collect())
    }
}
