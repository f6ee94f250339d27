//! The `tend` binary: parses the command line and runs it.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // HiGHS reports every solve stopped by a node or time limit as a warning; the
                // roster engine sets those limits on purpose, so only its errors are shown.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,highs=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = tend::cli::Cli::parse();
    match tend::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
