use sea_orm::entity::prelude::*;

/// A library file attached to a post (or to one account of it), at a position (0 first).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_media")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    pub media_id: i64,
    pub position: i32,
    /// Set when the file is for that account of the post only (then the account's files replace
    /// the post's for it).
    pub account_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::media_item::Entity",
        from = "Column::MediaId",
        to = "super::media_item::Column::Id"
    )]
    Media,
}

impl Related<super::media_item::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Media.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
