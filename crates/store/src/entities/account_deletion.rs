use super::states::{DeletionStep, DeletionVia};
use sea_orm::entity::prelude::*;

/// An account deletion from confirmation to its end (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_deletions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The account being deleted; cleared when the deletion ends.
    pub user_id: Option<i64>,
    /// Keyed hash of the user id (the forget list's value), kept to find the receipt later.
    pub subject_hash: String,
    /// Where the receipt goes; cleared when the deletion ends.
    pub email: Option<String>,
    /// Cleared when the deletion ends.
    pub name: Option<String>,
    /// `app` or `email` (a confirmed request sent to the privacy address).
    pub via: DeletionVia,
    /// The next step: `revoke`, `objects`, `rows`, `done`.
    pub step: DeletionStep,
    /// What was done so far, as JSON (the receipt); reduced to counts when the deletion ends.
    pub receipt: Option<String>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
