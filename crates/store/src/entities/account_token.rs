use sea_orm::entity::prelude::*;

/// The tokens of a connected account. `access_token` and `refresh_token` hold values sealed
/// by `store::keyring` for this table, column and account id; never plain text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub refresh_expires_at: Option<DateTimeUtc>,
    /// The scopes the platform granted, separated by spaces.
    pub scopes: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
