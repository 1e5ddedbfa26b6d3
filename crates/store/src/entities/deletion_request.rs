use super::states::RequestState;
use sea_orm::entity::prelude::*;

/// A deletion request received by e-mail and recorded by an administrator (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deletion_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The address as received, lower-cased; cleared once the request is closed (confirmed,
    /// withdrawn or expired).
    pub email: Option<String>,
    /// Keyed hash of the address, kept as proof after the address is cleared.
    pub email_hash: String,
    /// The day the request arrived (UTC).
    pub received_on: Date,
    /// `received_on` + 30 days: the last day to carry it out.
    pub deadline_on: Date,
    /// `open` (awaiting confirmation), `confirmed`, `withdrawn`, `expired`.
    pub state: RequestState,
    /// SHA-256 of the confirmation token.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub link_expires_at: DateTimeUtc,
    /// The account that used the address when the request was recorded; cleared when it is
    /// deleted.
    pub user_id: Option<i64>,
    /// The account deletion the confirmation started.
    pub deletion_id: Option<i64>,
    /// The administrator who recorded it from the admin page (none from the command line).
    pub recorded_by: Option<i64>,
    /// `web` or `cli`.
    pub recorded_via: String,
    /// When the administrators were reminded 7 days before the deadline.
    pub seven_day_reminder_at: Option<DateTimeUtc>,
    /// When the administrators were reminded 2 days before the deadline.
    pub two_day_reminder_at: Option<DateTimeUtc>,
    /// When the daily check first found it open past its deadline.
    pub overdue_at: Option<DateTimeUtc>,
    pub confirmed_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
