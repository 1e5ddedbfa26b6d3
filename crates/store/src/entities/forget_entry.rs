use super::states::ForgetKind;
use sea_orm::entity::prelude::*;

/// A keyed hash of something deleted (a user id, a workspace id, an address), re-applied when a
/// backup is restored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "forget_list")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The `account_deletions` row that added it.
    pub deletion_id: Option<i64>,
    /// `user`, `workspace` or `address`.
    pub kind: ForgetKind,
    /// HMAC-SHA256 of the value under the server's key, hex.
    pub hash: String,
    pub created_at: DateTimeUtc,
    /// Later than the oldest backup could be kept.
    pub keep_until: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
