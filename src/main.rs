//! The `inspector` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "inspector",
    version,
    about = "ironic-inspector's API and behaviour as one small service"
)]
struct Cli {
    /// A configuration file (oslo.config INI); repeat for several, later ones win.
    #[arg(long = "config-file", global = true, value_name = "FILE")]
    config_files: Vec<PathBuf>,
    /// A directory whose *.conf files are read after the config files, in sorted order.
    #[arg(long = "config-dir", global = true, value_name = "DIR")]
    config_dirs: Vec<PathBuf>,
    /// Log at debug level whatever the configuration says.
    #[arg(long, global = true)]
    debug: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and run the background work in one process.
    Serve,
    /// Database schema management.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// API access policy tools (auth_strategy = keystone).
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print the default policy as a commented YAML policy file.
    GenerateSample,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Create the schema, or migrate it forward; a no-op when current.
    Upgrade,
    /// Copy a whole database (every table, every column) into another one,
    /// of any supported backend; the target's schema is upgraded first.
    Copy {
        /// The database to read, as a `[database] connection` URL.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The database to write, as a `[database] connection` URL; it must be empty.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Empty a non-empty target first (in the copy's transaction).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Parse and validate the configuration; print every problem.
    Check {
        /// Unknown sections and options are errors (exit status 2), not warnings.
        #[arg(long)]
        strict: bool,
    },
    /// Print a sample configuration with every option and its default.
    Sample,
}

fn load_config(cli: &Cli) -> Result<inspector::config::LoadedConfig, ExitCode> {
    inspector::config::load(&cli.config_files, &cli.config_dirs).map_err(|errors| {
        for line in &errors.0 {
            eprintln!("ERROR: {line}");
        }
        ExitCode::from(2)
    })
}

async fn run(cli: Cli) -> Result<(), ExitCode> {
    match &cli.command {
        Command::Policy {
            command: PolicyCommand::GenerateSample,
        } => {
            let defaults = inspector_core::policy::inspector_defaults();
            print!("{}", inspector_core::policy::sample(&defaults));
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Sample,
        } => {
            print!("{}", inspector_core::conf::sample());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check { strict },
        } => {
            let loaded = load_config(&cli)?;
            for warning in &loaded.warnings {
                if *strict && loaded.unknown_names.contains(warning) {
                    eprintln!("ERROR: {warning}");
                } else {
                    eprintln!("WARNING: {warning}");
                }
            }
            if *strict && !loaded.unknown_names.is_empty() {
                eprintln!(
                    "ERROR: {} unknown section(s) or option(s) (--strict)",
                    loaded.unknown_names.len()
                );
                return Err(ExitCode::from(2));
            }
            if loaded.config.default.use_ssl {
                match inspector::tls::server::TlsSettings::load(&loaded.config) {
                    Ok(tls) => {
                        for warning in &tls.warnings {
                            eprintln!("WARNING: {warning}");
                        }
                    }
                    Err(e) => {
                        eprintln!("ERROR: {e:#}");
                        return Err(ExitCode::from(1));
                    }
                }
            }
            // A hook name is a configuration value like any other.
            if let Err(e) = inspector::service::processing_pipeline(&loaded.config) {
                eprintln!("ERROR: {e:#}");
                return Err(ExitCode::from(2));
            }
            let files: Vec<String> = loaded
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            println!(
                "configuration OK ({})",
                if files.is_empty() {
                    "defaults only".into()
                } else {
                    files.join(", ")
                }
            );
            Ok(())
        }
        Command::Db {
            command: DbCommand::Upgrade,
        } => {
            let loaded = load_config(&cli)?;
            inspector::telemetry::init(&loaded.config, cli.debug).map_err(fail)?;
            let store = inspector::service::open_store(&loaded.config)
                .await
                .map_err(fail)?;
            let report = store.upgrade().await.map_err(fail)?;
            if report.created_schema {
                println!(
                    "created the schema (ironic-inspector alembic head {})",
                    inspector::store::ALEMBIC_HEAD
                );
            }
            if report.adopted_upstream {
                println!("adopted a database created by ironic-inspector");
            }
            for migration in &report.applied {
                println!("applied migration {migration}");
            }
            if !report.created_schema && !report.adopted_upstream && report.applied.is_empty() {
                println!("the schema is up to date");
            }
            store.close().await;
            Ok(())
        }
        Command::Db {
            command: DbCommand::Copy { from, to, force },
        } => {
            let loaded = load_config(&cli)?;
            inspector::telemetry::init(&loaded.config, cli.debug).map_err(fail)?;
            let open = |url: String| {
                let mut config = loaded.config.clone();
                config.database.connection = Some(url);
                async move { inspector::service::open_store(&config).await }
            };
            let report = inspector::store::copy::run(from, to, *force, open)
                .await
                .map_err(fail)?;
            for table in &report.tables {
                println!("{:<20} {} → {}", table.table, table.source, table.target);
            }
            for note in &report.notes {
                println!("note: {note}");
            }
            let seconds = report.elapsed.as_secs_f64().max(1e-3);
            println!(
                "copied {} rows ({:.1} MB) in {:.1} s: {:.0} rows/s, {:.1} MB/s",
                report.rows,
                report.bytes as f64 / 1e6,
                seconds,
                report.rows as f64 / seconds,
                report.bytes as f64 / 1e6 / seconds
            );
            Ok(())
        }
        Command::Serve => {
            let loaded = load_config(&cli)?;
            inspector::telemetry::init(&loaded.config, cli.debug).map_err(fail)?;
            for warning in &loaded.warnings {
                tracing::warn!("{warning}");
            }
            if !loaded.coordination_options.is_empty() {
                tracing::info!(
                    "{} set: not needed, instances sharing the database coordinate through it",
                    loaded.coordination_options.join(", ")
                );
            }
            // Before anything can tell systemd we are ready (and so before
            // a reload can come): SIGHUP would otherwise end the process.
            inspector::telemetry::reopen_log_file_on_sighup().map_err(fail)?;
            let bound = inspector::service::bind(&loaded.config)
                .await
                .map_err(fail)?;
            let (state, inspector) = inspector::service::build_with_config_dirs(
                loaded.config,
                &loaded.policy_search_dirs,
            )
            .await
            .map_err(fail)?;
            inspector::service::serve(
                bound,
                state,
                inspector,
                inspector::service::shutdown_signal(),
            )
            .await
            .map_err(fail)
        }
    }
}

fn fail(err: impl std::fmt::Display) -> ExitCode {
    eprintln!("ERROR: {err:#}");
    tracing::error!("{err:#}");
    ExitCode::FAILURE
}

/// glibc's allocator gives each thread that contends for it an arena of its
/// own and keeps what is freed there, and raises its mmap threshold after
/// each large free, so large buffers stop being returned. A 1 MiB document
/// is parsed on one thread and written by SQLite on another: fifty of them
/// processed one or two at a time took the peak RSS to 69 MiB, against 30
/// with one arena and a fixed 64 KiB threshold (bench/memory.py). An
/// operator's own MALLOC_ARENA_MAX or MALLOC_MMAP_THRESHOLD_ wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    const SETTINGS: [(&str, libc::c_int, libc::c_int); 2] = [
        ("MALLOC_ARENA_MAX", libc::M_ARENA_MAX, 1),
        ("MALLOC_MMAP_THRESHOLD_", libc::M_MMAP_THRESHOLD, 64 * 1024),
    ];
    for (variable, parameter, value) in SETTINGS {
        if std::env::var_os(variable).is_none() {
            // SAFETY: mallopt only sets a parameter of the allocator; it is
            // called before any other thread exists.
            unsafe { libc::mallopt(parameter, value) };
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

/// The runtime's worker threads: half the CPUs, at least one, unless
/// TOKIO_WORKER_THREADS says otherwise. The service shares its host with
/// Ironic and the database, and its requests are short: a worker more than
/// it needs mostly adds wake-ups between workers. On two CPUs, one worker
/// served 1.3 to 1.5 times the status GETs of two (docs/benchmarks-analysis.md,
/// "Fifth pass"), at the same CPU per callback.
fn worker_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    workers_for(std::env::var("TOKIO_WORKER_THREADS").ok().as_deref(), cpus)
}

/// A positive number in `setting` wins; anything else is ignored.
fn workers_for(setting: Option<&str>, cpus: usize) -> usize {
    setting
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or((cpus / 2).max(1))
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    // The service runs as a task on the runtime's workers. A future given
    // to block_on runs on this thread, outside the pool: each connection it
    // accepted woke a worker, and each readiness of the listener woke this
    // thread (docs/benchmarks-analysis.md, "Fourth pass").
    match runtime.block_on(async { tokio::spawn(run(cli)).await }) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(code)) => code,
        Err(e) => fail(e),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn workers_are_half_the_cpus_unless_set() {
        use super::workers_for;
        assert_eq!(workers_for(None, 1), 1);
        assert_eq!(workers_for(None, 2), 1);
        assert_eq!(workers_for(None, 3), 1);
        assert_eq!(workers_for(None, 16), 8);
        assert_eq!(workers_for(Some("3"), 2), 3);
        assert_eq!(workers_for(Some(" 4 "), 16), 4);
        for ignored in ["0", "-1", "many", ""] {
            assert_eq!(workers_for(Some(ignored), 8), 4, "{ignored:?}");
        }
    }
}
