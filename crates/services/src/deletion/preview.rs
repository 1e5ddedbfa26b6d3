//! What the deletion page shows before anyone confirms: the workspaces that go and the ones
//! handed over, the connected accounts to revoke, the posts and files in workspaces others
//! keep, and (after a deletion) what became of that work.

use super::kept_work;
use super::receipt::{KeptLine, KeptWork, Receipt, Step, WorkspaceLine, recorded_choice};
use super::steps::owned_rows;
use crate::datamap::Subject;
use crate::{Result, ServiceError, Services};
use domain::UserId;
use sea_orm::EntityTrait;
use store::datamap::{self, OnDeletion, TABLES};
use store::entities::{account_deletion, user};

/// What confirming would do, for the page that asks.
#[derive(Debug, Clone)]
pub struct Preview {
    pub deleted: Vec<WorkspaceLine>,
    pub handed_over: Vec<WorkspaceLine>,
    /// The workspaces others keep where the person made posts or files, with what is there:
    /// deleted too unless they choose to leave them.
    pub kept: Vec<KeptLine>,
    /// Per category of the privacy page: what is deleted, with how many rows.
    pub deleted_data: Vec<PreviewLine>,
    /// What is kept, and why.
    pub retained: Vec<PreviewLine>,
    /// The connected accounts of the deleted workspaces: (platform, username, what happens).
    pub accounts: Vec<(String, String, String)>,
}

/// What became of the person's posts and files in workspaces others keep, for the page shown
/// once the account is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptOutcome {
    /// There were none.
    Nothing,
    /// Deleted with the account.
    Deleted,
    /// Deleted, except posts with a platform call under way: those go once it has ended.
    Pending,
    /// Left with the workspaces, as the person chose.
    Left,
}

impl KeptOutcome {
    /// How the page after the deletion is told (a query value; nothing when there were none).
    pub fn as_query(self) -> Option<&'static str> {
        match self {
            Self::Nothing => None,
            Self::Deleted => Some("deleted"),
            Self::Pending => Some("pending"),
            Self::Left => Some("left"),
        }
    }

    /// The outcome a query value names; anything else reads as none.
    pub fn from_query(value: Option<&str>) -> Self {
        match value {
            Some("deleted") => Self::Deleted,
            Some("pending") => Self::Pending,
            Some("left") => Self::Left,
            _ => Self::Nothing,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PreviewLine {
    pub category: &'static str,
    pub what: &'static str,
    pub rows: u64,
    /// For retained data: why, and for how long.
    pub reason: String,
}

impl Services {
    /// What deleting `user` would do: the workspaces deleted and handed over, the rows per
    /// category, what is kept and why, and what happens to each connected account.
    pub async fn deletion_preview(&self, user: &user::Model) -> Result<Preview> {
        let (deleted, handed_over) = self.workspace_fates(&self.db, UserId(user.id)).await?;
        let subject = Subject {
            users: vec![user.id],
            workspaces: deleted.iter().map(|w| w.id).collect(),
            addresses: vec![user.email.to_lowercase()],
            ..Default::default()
        };
        let mut deleted_data = Vec::new();
        let mut retained = Vec::new();
        for table in TABLES {
            if table.category == datamap::Category::System {
                continue;
            }
            let rows = owned_rows(&self.db, table, &subject).await?;
            let line = PreviewLine {
                category: table.category.label(),
                what: table.holds,
                rows,
                reason: String::new(),
            };
            match table.deletion {
                OnDeletion::Delete | OnDeletion::FollowWorkspace => deleted_data.push(line),
                OnDeletion::Retain(reason) => retained.push(PreviewLine {
                    reason: reason.to_owned(),
                    ..line
                }),
            }
        }
        for (what, how_long) in crate::retention::kept_after_deletion(&self.retention) {
            retained.push(PreviewLine {
                category: "Kept after deletion",
                what,
                rows: 0,
                reason: how_long,
            });
        }
        let kept = kept_work::survey(&self.db, user.id, &subject.workspaces).await?;
        let accounts = self.connected_accounts_of(&deleted).await?;
        let leaving: Vec<i64> = accounts.iter().map(|a| a.id).collect();
        let mut lines = Vec::new();
        for account in &accounts {
            let sharing = self.sharing_authorisation(account, &leaving).await?;
            let platform = domain::Platform::parse(&account.platform).ok();
            let what = if sharing > 0 {
                format!(
                    "kept: the authorisation also serves {} in workspaces that stay",
                    domain::counted(sharing, "account", "accounts")
                )
            } else if platform == Some(domain::Platform::Instagram) {
                "Instagram offers no revocation: remove Socializioz in Instagram's settings"
                    .to_owned()
            } else {
                "access revoked at the platform".to_owned()
            };
            lines.push((
                domain::Platform::label_of(&account.platform).to_owned(),
                account.username.clone(),
                what,
            ));
        }
        Ok(Preview {
            deleted,
            handed_over,
            kept,
            deleted_data,
            retained,
            accounts: lines,
        })
    }

    /// What deletion `id` did with the posts and files the person made in workspaces others
    /// keep, as far as it has gone.
    pub(crate) async fn kept_outcome(&self, id: i64) -> Result<KeptOutcome> {
        let row = account_deletion::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let text = row.receipt.as_deref().unwrap_or("{}");
        let (choice, any, pending) = if row.step == Step::Done {
            let summary: serde_json::Value =
                serde_json::from_str(text).map_err(anyhow::Error::from)?;
            let choice = recorded_choice(Some(text));
            let any = summary["kept"]["workspaces"].as_u64().unwrap_or(0) > 0;
            (choice, any, false)
        } else {
            let receipt: Receipt = serde_json::from_str(text).map_err(anyhow::Error::from)?;
            (
                receipt.kept_work,
                !receipt.kept.is_empty(),
                row.step == Step::InFlight,
            )
        };
        Ok(match (any, choice) {
            (false, _) => KeptOutcome::Nothing,
            (true, KeptWork::Leave) => KeptOutcome::Left,
            (true, KeptWork::Delete) if pending => KeptOutcome::Pending,
            (true, KeptWork::Delete) => KeptOutcome::Deleted,
        })
    }
}
