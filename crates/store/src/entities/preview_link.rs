use sea_orm::entity::prelude::*;

/// A client preview link (see the migration): only its token's hash is kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "preview_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub created_by: Option<i64>,
    pub token_hash: String,
    /// One post, or the posts scheduled from `from_day` to `to_day` (the creator's days).
    pub post_id: Option<i64>,
    pub from_day: Option<Date>,
    pub to_day: Option<Date>,
    /// The zone the days are the creator's in.
    pub time_zone: String,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// The client may approve a post or leave a comment, by name.
    pub client_may_respond: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
