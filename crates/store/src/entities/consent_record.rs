use sea_orm::entity::prelude::*;

/// One decision in the consent ledger: append-only, each row carrying the hash of the one
/// before, so that an edit or a deletion breaks the chain.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_ledger")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The random id of the browser's consent cookie.
    pub consent_id: String,
    /// The signed-in person, when there was one. Not covered by the row hash, so that deleting
    /// an account can detach its records (set it to NULL) without breaking the chain; the
    /// `subject` beside it is, so that a row cannot be moved to someone else unnoticed.
    pub user_id: Option<i64>,
    /// `grant`, `update`, `withdraw`, `gpc`, `policy_accept`, or `detach` (a marker written by
    /// an account deletion).
    pub event: String,
    /// Granted categories, such as `essential,analytics`.
    pub categories: String,
    /// The policies and their versions and SHA-256 the decision refers to, as JSON.
    pub policies: String,
    pub banner_version: String,
    /// `cookie_banner`, `cookie_policy_page`, `gpc`, `signup`, `billing_checkout`,
    /// `policy_update`, `account_deletion`.
    pub source: String,
    pub locale: String,
    /// Keyed hash of the client address, never the address.
    pub ip_hash: String,
    /// Browser family ("Firefox on Linux"), never the full user agent.
    pub browser: String,
    pub created_at: DateTimeUtc,
    pub prev_hash: String,
    pub row_hash: String,
    /// Who the row was recorded for, bound into the row hash (hash version 2): a keyed hash of
    /// the user id and the person's salt (`consent_subjects`), or empty when nobody was signed
    /// in. On a detachment marker (event `detach`), the subject whose rows were detached.
    pub subject: String,
    /// 1: written before subjects were bound (a plain SHA-256 over the other fields); 2: a keyed
    /// hash that covers the subject too.
    pub hash_version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
