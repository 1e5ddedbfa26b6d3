use sea_orm::entity::prelude::*;

/// One unit of a concurrency limit: a job may run only while it holds a free slot of each
/// limited key it belongs to. Slots are rows so that the limit holds across worker processes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_slots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key: String,
    pub slot: i32,
    pub job_id: Option<i64>,
    pub locked_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
