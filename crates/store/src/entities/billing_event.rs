use sea_orm::entity::prelude::*;

/// A PayPal webhook event handled once: its ids and type and what was done, never its body.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub event_id: String,
    pub event_type: String,
    /// The subscription (`I-…`) or sale it was about.
    pub resource_id: Option<String>,
    /// The delivery that was handled (a replay of it is refused).
    pub transmission_id: String,
    /// What was done: `applied`, `read from PayPal`, `unknown subscription`, `ignored`.
    pub outcome: String,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
