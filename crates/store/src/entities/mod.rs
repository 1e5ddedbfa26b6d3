//! One SeaORM entity per table; the same definitions serve SQLite and PostgreSQL.

pub mod activity;
pub mod consent_chain;
pub mod consent_record;
pub mod email_token;
pub mod invitation;
pub mod job;
pub mod membership;
pub mod policy_acceptance;
pub mod policy_version;
pub mod session;
pub mod user;
pub mod workspace;
