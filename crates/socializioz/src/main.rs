//! The `socializioz` command: starts logging, parses the command line and runs it.

use clap::Parser;

/// See the dependency's note in `Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if let Err(message) = socializioz::logging::init() {
        eprintln!("error: {message}");
        return std::process::ExitCode::FAILURE;
    }
    let cli = socializioz::cli::Cli::parse();
    match socializioz::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
