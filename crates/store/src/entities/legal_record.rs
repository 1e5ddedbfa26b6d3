use sea_orm::entity::prelude::*;

/// What tax law requires of an invoice, kept detached from the person for the legal period:
/// no name, address, account or workspace.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legal_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub invoice_number: String,
    pub issue_date: Date,
    /// In the currency's minor unit (cents); negative for a credit note.
    pub amount_minor: i64,
    /// ISO 4217, upper case (`EUR`).
    pub currency: String,
    /// ISO 3166-1 alpha-2, upper case (`DE`).
    pub country: String,
    /// The issue date plus the legal period; the row is deleted the day after.
    pub keep_until: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
