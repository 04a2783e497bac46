//! Load generator of the benchmark kit (`bench/run.sh`). Every command is
//! bounded in count and time, talks only to the URLs it is given (the kit
//! gives it 127.0.0.1) and prints one JSON object on stdout.

mod drive;
mod flow;
mod lean;
mod procfs;
mod stats;
mod store;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "loadgen",
    about = "Load generator of the inspector benchmark kit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fill a database with synthetic introspection statuses through the store.
    Fill(store::FillArgs),
    /// Time lookups by MAC (and BMC address) through the store.
    Lookup(store::LookupArgs),
    /// Closed-loop HTTP load at a fixed concurrency: throughput and latency.
    Http(drive::HttpArgs),
    /// Walk every page of GET /v1/introspection, repeatedly.
    Walk(drive::WalkArgs),
    /// Whole introspections against a real Ironic: start, then /v1/continue.
    Introspect(flow::IntrospectArgs),
}

/// A duration given in seconds (fractions allowed).
pub fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if !(0.0..=3600.0).contains(&value) {
        return Err("must be between 0 and 3600 seconds".into());
    }
    Ok(Duration::from_secs_f64(value))
}

/// Reads a file that must exist, with its name in the error.
pub fn read_text(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // reqwest is built with the service's rustls features, which need a provider.
    inspector::tls::install_crypto_provider();
    // Two workers: enough to drive a service at the concurrencies used here
    // without taking more of a small machine than needed.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loadgen: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Fill(args) => store::fill(args).await,
            Command::Lookup(args) => store::lookup(args).await,
            Command::Http(args) => drive::http(args).await,
            Command::Walk(args) => drive::walk(args).await,
            Command::Introspect(args) => flow::introspect(args).await,
        }
    });
    match result {
        Ok(value) => {
            println!("{value}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
