//! The one integration-test binary: the real application, on both databases, over HTTP and in
//! a real browser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod browser;
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
mod helpers;
mod layout;
mod media;
mod platform;
mod policies;
mod polish;
mod posts;
mod publishing;
mod retention;
mod sandbox;
mod security;
mod tokens;
mod workspaces;
