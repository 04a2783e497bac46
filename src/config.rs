//! Reads `--config-file` and `--config-dir` files as oslo.config does (files
//! in the given order, then each directory's `*.conf` in sorted order; later
//! values win) and hands their text to the pure parser.

use std::path::{Path, PathBuf};

use inspector_core::conf::{self, Config, Source};

/// Where upstream packages install the file when none is given.
pub const DEFAULT_CONFIG_FILES: &[&str] = &[
    "/etc/ironic-inspector/inspector.conf",
    "/etc/ironic-inspector/ironic-inspector.conf",
];

#[derive(Debug)]
pub struct LoadedConfig {
    pub config: Config,
    pub warnings: Vec<String>,
    /// Upstream's options for several instances that the files set.
    pub coordination_options: Vec<String>,
    /// Those of `warnings` about unknown sections and options.
    pub unknown_names: Vec<String>,
    pub files: Vec<PathBuf>,
    /// Where relative `[oslo_policy]` files are looked up first.
    pub policy_search_dirs: Vec<PathBuf>,
}

/// Every problem found, one per line, each naming its file.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

fn conf_files_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot read config directory: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "conf") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

pub fn load(
    config_files: &[PathBuf],
    config_dirs: &[PathBuf],
) -> Result<LoadedConfig, ConfigErrors> {
    let mut files: Vec<PathBuf> = config_files.to_vec();
    if files.is_empty() && config_dirs.is_empty() {
        files.extend(
            DEFAULT_CONFIG_FILES
                .iter()
                .map(PathBuf::from)
                .filter(|p| p.is_file())
                .take(1),
        );
    }
    let policy_search_dirs = crate::policy::config_search_dirs(&files, config_dirs);
    let mut errors = Vec::new();
    for dir in config_dirs {
        match conf_files_in(dir) {
            Ok(found) => files.extend(found),
            Err(e) => errors.push(e),
        }
    }
    // oslo's default for `host` is the machine's name; a lowest-precedence
    // source makes `$host` interpolate as it does upstream.
    let mut sources = vec![Source {
        path: "<defaults>".into(),
        text: format!("[DEFAULT]\nhost = {}\n", hostname()),
    }];
    for file in &files {
        match std::fs::read_to_string(file) {
            Ok(text) => sources.push(Source {
                path: file.display().to_string(),
                text,
            }),
            Err(e) => errors.push(format!("{}: cannot read config file: {e}", file.display())),
        }
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    match conf::load(&sources) {
        Ok(loaded) => Ok(LoadedConfig {
            config: loaded.config,
            warnings: loaded.warnings,
            coordination_options: loaded.coordination_options,
            unknown_names: loaded.unknown_names,
            files,
            policy_search_dirs,
        }),
        Err(errs) => Err(ConfigErrors(errs.iter().map(ToString::to_string).collect())),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
