use sea_orm::entity::prelude::*;

/// A comment (or reply) under a published post, read back from the platform (see the
/// migration). Its author never signed up here: the name and text are a third party's.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub account_id: i64,
    /// The post target (one account's copy of a post) it is under.
    pub target_id: i64,
    /// Its id at the platform, unique per account.
    pub platform_id: String,
    /// The comment it answers, by the platform's id; none for a comment on the post.
    pub parent_platform_id: Option<String>,
    pub author_name: String,
    pub author_platform_id: Option<String>,
    pub body: String,
    /// Written by the connected account itself (a reply from the team, here or elsewhere).
    pub by_account: bool,
    pub hidden: bool,
    /// When it was written, as the platform says.
    pub written_at: DateTimeUtc,
    /// When it was first read here.
    pub seen_at: DateTimeUtc,
    /// When it was deleted (here, or found gone at the platform).
    pub gone_at: Option<DateTimeUtc>,
    /// Labels from the workspace's keyword rules, comma-separated.
    pub labels: String,
    pub assigned_to: Option<i64>,
    /// Handled: no reply needed, or answered.
    pub done: bool,
    /// When the account last answered it.
    pub replied_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
