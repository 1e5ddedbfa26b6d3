use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workspaces")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The plan's slug (`domain::plans::PlanId`); read only when `[billing]` is configured.
    pub plan: String,
    /// Who set the plan: `operator` (the default, and `admin workspace plan`) or `billing`
    /// (PayPal). Billing changes only a plan it set, or one a live subscription pays for.
    pub plan_source: String,
    /// The AI disclosure an owner or admin agreed to (its fingerprint: provider, model and
    /// address); AI is on while the configured provider still matches it, off when `None`.
    pub ai_enabled_for: Option<String>,
    /// The agent may create drafts without asking (Professional and above; an owner's choice).
    pub agent_drafts_free: bool,
    /// When analytics was turned on (none: off, no figure is read).
    pub analytics_on_at: Option<DateTimeUtc>,
    /// When the comments workspace was turned on (none: off, no comment is read).
    pub comments_on_at: Option<DateTimeUtc>,
    /// Days a post's conversation is kept after its last comment (then purged).
    pub comments_kept_days: i32,
    /// When the inbox (Instagram direct messages) was turned on (none: off).
    pub inbox_on_at: Option<DateTimeUtc>,
    /// Replies to comments wait for an approver (the posts' approvers) before they are sent.
    pub replies_need_approval: bool,
    /// Posts wait for an approver before they are scheduled.
    pub approvals_required: bool,
    /// Who approves: `any_member`, `owners_and_admins` or `named` (`domain::approval`).
    pub approvers: String,
    /// Whether an approver may approve a post they wrote.
    pub approve_own_posts: bool,
    /// Raised with every change to what the analytics page shows (figures read, X reads
    /// counted, a post removed, a campaign saved or deleted, an account's state changed): the
    /// computed views and the accounts' state are kept under it (`services::analytics::kept`).
    pub figures_version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
