//! Logging: text lines on stderr or in `log_file`/`log_dir`, INFO by
//! default, DEBUG with `debug = true` or `--debug`; `RUST_LOG` overrides.

use std::fs::OpenOptions;
use std::path::PathBuf;

use inspector_core::conf::Config;
use tracing_subscriber::EnvFilter;

fn log_path(config: &Config) -> Option<PathBuf> {
    let file = config.default.log_file.as_ref()?;
    Some(match &config.default.log_dir {
        Some(dir) => PathBuf::from(dir).join(file),
        None => PathBuf::from(file),
    })
}

pub fn init(config: &Config, debug: bool) -> Result<(), String> {
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
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| format!("cannot open log file {}: {e}", path.display()))?;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
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
    Ok(())
}
