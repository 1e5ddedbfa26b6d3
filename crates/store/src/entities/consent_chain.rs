use sea_orm::entity::prelude::*;

/// The head of the consent ledger's hash chain: one row, written first by every append, which
/// serialises appends on both backends. Being in the same database, it cannot by itself show
/// that rows were cut from the end; an outside witness of it can (`services::consent`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_chain")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub head_hash: String,
    pub length: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
