//! Adapters to services outside the process. Each takes its endpoint and credentials from
//! configuration and maps its failures into a small provider-neutral error.

pub mod ai;
pub mod billing;
pub mod fetch;
pub mod mail;
pub mod social;
