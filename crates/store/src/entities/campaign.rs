use sea_orm::entity::prelude::*;

/// A named group of posts with an optional date range and a colour for the calendar.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub description: String,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    /// `#rrggbb`.
    pub colour: String,
    /// What the campaign cost, in cents of `currency`, as entered.
    pub spend_cents: Option<i64>,
    /// What one click on a campaign post's link is worth, as entered.
    pub click_value_cents: Option<i64>,
    /// Conversions the campaign brought, as counted elsewhere and entered here.
    pub conversions: Option<i64>,
    /// What one conversion is worth, as entered.
    pub conversion_value_cents: Option<i64>,
    /// ISO 4217 code of the amounts.
    pub currency: String,
    /// When set, links in the campaign's posts are published with UTM parameters and this as
    /// `utm_campaign`.
    pub utm_campaign: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
