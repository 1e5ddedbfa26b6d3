//! The one integration-test binary: the real application, on both databases, over HTTP and in
//! a real browser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod abuse_limits;
mod accounts;
mod agent;
mod ai;
mod analytics;
mod analytics_reports;
mod approvals;
mod auth_abuse;
mod billing;
mod browser;
mod comments;
mod composer;
mod confirmations;
mod connect;
mod consent;
mod crash;
mod deletion;
mod deletion_requests;
mod disconnect;
mod export;
mod first_comment;
mod fixtures;
mod generate;
mod generate_character;
mod generate_video;
mod hardening;
mod helpers;
mod import;
mod inbox;
mod input_hygiene;
mod kept_content;
mod layout;
mod ledger;
mod log_trail;
mod media;
mod notes;
mod pkce;
mod plans;
mod platform;
mod policies;
mod polish;
mod post_formats;
mod posts;
mod publishing;
mod residue;
mod retention;
mod sandbox;
mod security;
mod tokens;
mod video;
mod workspaces;
