use sea_orm::entity::prelude::*;

/// One published version of a policy. Never changed once published; a new text is a new row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policy_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `terms`, `privacy`, `cookies`, `refund`, `acceptable-use`, `data-deletion`.
    pub kind: String,
    pub version: String,
    pub effective_at: DateTimeUtc,
    pub summary: String,
    /// The full text, Markdown.
    pub body: String,
    /// SHA-256 of `body`, hex.
    pub sha256: String,
    pub published_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
