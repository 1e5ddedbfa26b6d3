//! Legal pages and the cookie choice.

pub mod consent;
pub mod cookies;
pub mod policy;
pub mod review;
