use super::states::{CommentState, PostState};
use sea_orm::entity::prelude::*;

/// One account a post goes to, with its own variant of the text and its own outcome.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_targets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    pub account_id: i64,
    /// The text for this account; `None` means the post's base text.
    pub body: Option<String>,
    /// Platform options as a JSON object.
    pub options: String,
    /// `draft`, `scheduled`, `publishing`, `published`, `failed`, `unconfirmed` or `waiting`.
    pub state: PostState,
    pub attempts: i32,
    pub platform_post_id: Option<String>,
    pub permalink: Option<String>,
    pub last_error: Option<String>,
    pub published_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The first comment's outcome: `None` when the post has none (or it is not due yet),
    /// else `pending`, `posting`, `posted`, `failed`, `unconfirmed` or `unsupported`.
    pub comment_state: Option<CommentState>,
    /// The first comment's id at the platform, once posted.
    pub comment_id: Option<String>,
    /// Why the first comment failed or is unknown.
    pub comment_error: Option<String>,
    /// When the published post's figures were last read (analytics).
    pub metrics_read_at: Option<DateTimeUtc>,
    /// Why the last read of its figures gave nothing (`gone at the platform`: not asked again).
    pub metrics_error: Option<String>,
    /// The latest reactions, comments, shares and saves added up (none until read).
    pub interactions: Option<i64>,
    /// When the published post's comments were last read (the comments workspace).
    pub comments_read_at: Option<DateTimeUtc>,
    /// Why the last read of its comments gave nothing (`gone at the platform`: not asked again).
    pub comments_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::post::Entity",
        from = "Column::PostId",
        to = "super::post::Column::Id"
    )]
    Post,
    #[sea_orm(
        belongs_to = "super::social_account::Entity",
        from = "Column::AccountId",
        to = "super::social_account::Column::Id"
    )]
    Account,
}

impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

impl Related<super::social_account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
