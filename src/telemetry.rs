//! Logging: text lines on stderr or in `log_file`/`log_dir`, INFO by
//! default, DEBUG with `debug = true` or `--debug`; `RUST_LOG` overrides.
//! The log file is reopened at its configured path on SIGHUP, so logrotate
//! can rename it and signal (no copytruncate, no lines lost or duplicated).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use inspector_core::conf::Config;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

fn log_path(config: &Config) -> Option<PathBuf> {
    let file = config.default.log_file.as_ref()?;
    Some(match &config.default.log_dir {
        Some(dir) => PathBuf::from(dir).join(file),
        None => PathBuf::from(file),
    })
}

/// The open log file and the path it is reopened at.
struct LogFile {
    path: PathBuf,
    file: Mutex<File>,
}

/// The log file of this process, once [`init`] opened one.
static LOG_FILE: OnceLock<Arc<LogFile>> = OnceLock::new();

/// The log file cannot be opened (at start: the service stops; on SIGHUP:
/// lines keep going to the previous file).
#[derive(Debug, thiserror::Error)]
#[error("cannot open log file {}: {error}", path.display())]
pub struct LogFileError {
    pub path: PathBuf,
    pub error: std::io::Error,
}

fn open_log(path: &Path) -> Result<File, LogFileError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|error| LogFileError {
            path: path.to_path_buf(),
            error,
        })
}

/// Hands the subscriber the current file, locked for one log line.
struct LogWriter(Arc<LogFile>);

struct LockedLog<'a>(MutexGuard<'a, File>);

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LockedLog<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LockedLog(self.0.file.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Write for LockedLog<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

pub fn init(config: &Config, debug: bool) -> Result<(), LogFileError> {
    let level = if debug || config.default.debug {
        "debug"
    } else {
        "info"
    };
    // Our crates at the chosen level; libraries stay quieter.
    let default_filter = format!("warn,inspector={level},inspector_core={level},tower_http=warn");
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = match log_path(config) {
        Some(path) => {
            let file = open_log(&path)?;
            let log = Arc::new(LogFile {
                path,
                file: Mutex::new(file),
            });
            let _ = LOG_FILE.set(log.clone());
            builder
                .with_ansi(false)
                .with_writer(LogWriter(log))
                .try_init()
        }
        None => {
            use std::io::IsTerminal;
            builder
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .try_init()
        }
    };
    // A subscriber already installed (tests) is not an error.
    let _ = result;
    if config.default.watch_log_file {
        tracing::info!(
            "[DEFAULT] watch_log_file: the log file is not watched; it is reopened on SIGHUP, \
             which is how logrotate rotates it (postrotate: send SIGHUP, no copytruncate)"
        );
    }
    Ok(())
}

/// Opens the log file again at its configured path, so lines go to a new
/// file once logrotate has renamed the old one. Returns the path, or `None`
/// when logging to stderr.
pub fn reopen_log_file() -> Result<Option<PathBuf>, LogFileError> {
    let Some(log) = LOG_FILE.get() else {
        return Ok(None);
    };
    let file = open_log(&log.path)?;
    *log.file.lock().unwrap_or_else(PoisonError::into_inner) = file;
    Ok(Some(log.path.clone()))
}

/// Handles SIGHUP for the rest of the process's life: reopens the log file
/// (systemd's `ExecReload` and logrotate send it). Installing the handler
/// also keeps SIGHUP from terminating the process, its default action.
pub fn reopen_log_file_on_sighup() -> std::io::Result<()> {
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match reopen_log_file() {
                Ok(Some(path)) => {
                    tracing::info!(path = %path.display(), "SIGHUP: reopened the log file")
                }
                Ok(None) => tracing::info!("SIGHUP: logging to stderr, no log file to reopen"),
                Err(e) => tracing::error!("SIGHUP: {e}; still writing to the previous file"),
            }
        }
    });
    Ok(())
}
