use sea_orm::entity::prelude::*;

/// Which version of a policy a person accepted (the newest acceptance per policy counts). The
/// proof lives in the consent ledger; this is the quick answer to "has this person accepted
/// the version in effect?".
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policy_acceptances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub version: String,
    pub sha256: String,
    pub source: String,
    pub accepted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
