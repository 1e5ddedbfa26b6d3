use sea_orm::entity::prelude::*;

/// What `admin billing sync` created at PayPal: the product, one plan per plan, interval and
/// price (a new price is a new PayPal plan; subscribers keep theirs), and the webhook
/// registration whose id PayPal signs deliveries with.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_catalogue")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `product`, `plan` or `webhook`.
    pub kind: String,
    pub plan: Option<String>,
    pub interval: Option<String>,
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    #[sea_orm(unique)]
    pub paypal_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
