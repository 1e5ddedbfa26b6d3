use super::states::SubscriptionStatus;
use sea_orm::entity::prelude::*;

/// A checkout a workspace owner started, and the PayPal subscription it became. The workspace's
/// plan follows it: PayPal's confirmation starts the plan, a payment failure starts the grace
/// period, a cancellation ends the plan when the paid period does.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    /// The owner who started the checkout (cleared when their account is deleted).
    pub started_by: Option<i64>,
    /// The checkout form's one-time id: a second submission of the same form finds this row,
    /// and PayPal is sent the same `PayPal-Request-Id`, so one subscription is made.
    #[sea_orm(unique)]
    pub request_id: String,
    /// PayPal's `I-…`, once created.
    #[sea_orm(unique)]
    pub paypal_id: Option<String>,
    /// Where the owner approves it at PayPal (while approval is pending).
    pub approve_url: Option<String>,
    /// The plan paid for (`starter`, `professional`).
    pub plan: String,
    /// `month` or `year`.
    pub interval: String,
    pub status: SubscriptionStatus,
    /// The end of the period paid for (PayPal's next billing time).
    pub paid_until: Option<DateTimeUtc>,
    /// When payments began to fail (the grace period runs from here); cleared by a payment.
    pub payment_failed_at: Option<DateTimeUtc>,
    /// After a cancellation: when the plan ends.
    pub ends_at: Option<DateTimeUtc>,
    /// A change of plan asked for (an upgrade, or a downgrade that waits for the paid period's
    /// end), and its interval.
    pub change_to: Option<String>,
    pub change_interval: Option<String>,
    /// When an approved downgrade takes effect.
    pub change_from: Option<DateTimeUtc>,
    /// Whether PayPal confirmed the change.
    pub change_approved: bool,
    /// When it last moved to a bigger plan; cleared by the first payment after that. While set,
    /// a move back down is refused (PayPal charges the new price only from the next cycle).
    pub upgraded_at: Option<DateTimeUtc>,
    /// PayPal's `update_time` of the last state applied (older news is read again from PayPal).
    pub paypal_updated_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
