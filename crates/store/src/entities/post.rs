use super::states::PostState;
use sea_orm::entity::prelude::*;

/// A post: the base text every target starts from, its schedule and its overall state.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub campaign_id: Option<i64>,
    pub author_id: Option<i64>,
    pub body: String,
    pub first_comment: Option<String>,
    /// `draft`, `scheduled`, `publishing`, `published`, `partially_published`, `failed` or
    /// `unconfirmed`.
    pub state: PostState,
    pub failure_reason: Option<String>,
    pub scheduled_at: Option<DateTimeUtc>,
    /// The time zone the schedule was chosen in, to show it back the same way.
    pub schedule_tz: Option<String>,
    /// Grows with every change of schedule; a publish job for an older revision does nothing.
    pub revision: i32,
    pub published_at: Option<DateTimeUtc>,
    /// The month (`YYYY-MM`, in the workspace owner's time zone) this post was counted against
    /// the monthly post limit; set once, when it is first scheduled.
    pub counted_in: Option<String>,
    /// Where the text came from, when it came from an accepted AI suggestion: the provider and
    /// model, who accepted it and when.
    pub ai_provider: Option<String>,
    pub ai_model: Option<String>,
    pub ai_accepted_by: Option<i64>,
    pub ai_accepted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The last review: the reviewer's note to the author, who and when.
    pub review_note: Option<String>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    /// Who approved the post as it will go out, and when (the author, with Auto-approve).
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    /// Who last sent it for approval (whoever wrote it first): they count as its author.
    pub submitted_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
