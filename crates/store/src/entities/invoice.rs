use sea_orm::entity::prelude::*;

/// An invoice for one completed payment, with what it says fixed when it was issued.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    /// The number without its prefix: 1, 2, 3… across the instance, without gaps.
    #[sea_orm(unique)]
    pub seq: i64,
    /// As printed (`INV-000042`).
    #[sea_orm(unique)]
    pub number: String,
    pub issued_at: DateTimeUtc,
    /// The payment it is for: one invoice per payment.
    #[sea_orm(unique)]
    pub paypal_sale_id: String,
    pub paid_at: DateTimeUtc,
    pub description: String,
    pub currency: String,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub gross_minor: i64,
    /// Hundredths of a percent; none when no tax rate is configured.
    pub tax_rate_bp: Option<i64>,
    pub tax_name: String,
    pub seller_name: String,
    pub seller_address: String,
    pub seller_country: String,
    pub seller_vat_id: Option<String>,
    pub buyer_name: String,
    pub buyer_address: String,
    pub buyer_country: Option<String>,
    pub buyer_vat_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
