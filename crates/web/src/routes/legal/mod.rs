//! Legal pages and the cookie choice.

pub mod consent;
pub mod cookies;
pub mod index;
pub mod policy;
pub mod review;
