use super::states::AccountStatus;
use sea_orm::entity::prelude::*;

/// A platform account a workspace publishes to (a Facebook page, an Instagram professional
/// account, an X or LinkedIn profile, a TikTok account).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "social_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    /// The platform's slug (`facebook`, `instagram`, `tiktok`, `x`, `linkedin`).
    pub platform: String,
    /// The account's id at the platform.
    pub external_id: String,
    pub username: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// `connected` or `reconnect_needed`.
    pub status: AccountStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// As the platform last said, and when.
    pub follower_count: Option<i64>,
    pub followers_updated_at: Option<DateTimeUtc>,
    /// For accounts that share one person's authorisation (Facebook pages): that person's id
    /// at the platform.
    pub authorized_by: Option<String>,
    /// Why its own figures could not be read the last time, and when; none once a read works.
    pub metrics_error: Option<String>,
    pub metrics_error_at: Option<DateTimeUtc>,
    /// When its own figures were last read (none: never).
    pub metrics_read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
