use sea_orm::entity::prelude::*;

/// A person's salt for the consent ledger: the ledger's `subject` of their rows is a keyed hash
/// of their user id and this salt. Made with their first ledger row and deleted with their
/// account, after which their detached rows' subject leads to nobody.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_subjects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub user_id: i64,
    /// 256 random bits, URL-safe base64.
    pub salt: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
