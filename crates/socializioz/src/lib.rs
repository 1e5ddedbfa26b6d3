//! The Socializioz binary as a library: configuration, assembly of the application, and the
//! command line. `main.rs` only parses arguments and calls [`cli::run`].

pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
mod tls;
