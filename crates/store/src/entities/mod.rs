//! One SeaORM entity per table; the same definitions serve SQLite and PostgreSQL.

pub mod account_token;
pub mod activity;
pub mod campaign;
pub mod consent_chain;
pub mod consent_record;
pub mod email_token;
pub mod invitation;
pub mod job;
pub mod job_slot;
pub mod media_item;
pub mod membership;
pub mod oauth_state;
pub mod policy_acceptance;
pub mod policy_version;
pub mod post;
pub mod post_media;
pub mod post_target;
pub mod publish_attempt;
pub mod session;
pub mod social_account;
pub mod user;
pub mod workspace;
