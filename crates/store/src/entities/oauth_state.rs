use sea_orm::entity::prelude::*;

/// An authorisation in progress (see the migration): ten minutes, one use, one session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 of the state sent to the platform.
    #[sea_orm(unique)]
    pub state_hash: String,
    pub user_id: i64,
    pub session_id: i64,
    pub workspace_id: i64,
    pub platform: String,
    /// The scopes asked for, separated by spaces.
    pub scopes: String,
    pub expires_at: DateTimeUtc,
    /// For a choice between accounts: the person's grant, sealed (bound to this row).
    pub pending_grant: Option<String>,
    /// For a choice between accounts: the accounts offered, as JSON (no tokens).
    pub candidates: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
