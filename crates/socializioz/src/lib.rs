//! The Socializioz binary as a library: configuration, assembly of the application, the
//! command line, and logging. `main.rs` starts logging, parses arguments and calls
//! [`cli::run`].

pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
pub mod logging;
mod tls;
