//! The policy in force: inspector's default rules overridden by
//! `[oslo_policy] policy_file` and the files of `policy_dirs`, found and
//! re-read as oslo.policy does (relative names are looked up next to the
//! configuration files, then in the standard directories; a change to any of
//! them is picked up by the next request).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use inspector_core::conf::OsloPolicy;
use inspector_core::policy::{
    Policy, PolicyFile, PolicyOptions, inspector_defaults, parse_policy_file,
};

/// oslo.config's project name for ironic-inspector, used in the standard
/// search directories.
const PROJECT: &str = "ironic-inspector";

/// Where oslo.config's `find_file` looks for a relative name, in order:
/// the `--config-dir`s, the directories of the `--config-file`s (last file
/// first), then `~/.ironic-inspector`, `~`, `/etc/ironic-inspector`, `/etc`.
pub fn config_search_dirs(config_files: &[PathBuf], config_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut dirs: Vec<PathBuf> = config_dirs.iter().map(|d| absolute(d)).collect();
    dirs.extend(
        config_files
            .iter()
            .rev()
            .filter_map(|f| absolute(f).parent().map(Path::to_path_buf)),
    );
    dirs
}

fn standard_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        dirs.push(home.join(format!(".{PROJECT}")));
        dirs.push(home);
    }
    dirs.push(Path::new("/etc").join(PROJECT));
    dirs.push(PathBuf::from("/etc"));
    dirs
}

/// Why the policy cannot be loaded; requests are then refused, never let
/// through. Clone, because the outcome is kept until the files change.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyLoadError {
    #[error("cannot read the policy file {}: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        error: Arc<std::io::Error>,
    },
    /// The file's content is not a valid policy (the parser's message).
    #[error("{0}")]
    Unparsable(String),
}

/// Identifies a version of the files, to notice edits.
type Stamp = Vec<(PathBuf, Option<SystemTime>, u64)>;

struct Loaded {
    stamp: Stamp,
    policy: Result<Arc<Policy>, PolicyLoadError>,
}

/// The policy, rebuilt whenever one of its files changes.
pub struct PolicyStore {
    options: PolicyOptions,
    policy_file: String,
    policy_dirs: Vec<String>,
    search_dirs: Vec<PathBuf>,
    loaded: Mutex<Option<Loaded>>,
}

impl PolicyStore {
    /// Loads the policy once, so that a broken policy file stops the start.
    pub fn new(conf: &OsloPolicy, config_dirs: &[PathBuf]) -> Result<Self, PolicyLoadError> {
        let mut search_dirs = config_dirs.to_vec();
        search_dirs.extend(standard_dirs());
        let store = Self {
            options: PolicyOptions {
                enforce_new_defaults: conf.enforce_new_defaults,
                default_rule: conf.policy_default_rule.clone(),
            },
            policy_file: conf.policy_file.clone(),
            policy_dirs: conf.policy_dirs.clone(),
            search_dirs,
            loaded: Mutex::new(None),
        };
        store.current()?;
        Ok(store)
    }

    /// The policy as the files say now; an error when they cannot be read
    /// or parsed (requests are then refused, never let through).
    pub fn current(&self) -> Result<Arc<Policy>, PolicyLoadError> {
        let (files, stamp) = self.locate();
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = loaded.as_ref().filter(|l| l.stamp == stamp) {
            return l.policy.clone();
        }
        let policy = self.load(&files);
        match &policy {
            Ok(_) => tracing::info!(files = ?files, "loaded the API policy"),
            Err(e) => tracing::error!("the API policy cannot be loaded: {e}"),
        }
        *loaded = Some(Loaded {
            stamp,
            policy: policy.clone(),
        });
        policy
    }

    /// The policy files in the order they apply, and their stamp.
    fn locate(&self) -> (Vec<PathBuf>, Stamp) {
        let mut files = Vec::new();
        if let Some(file) = self.find(&self.policy_file).filter(|p| !p.is_dir()) {
            files.push(file);
        }
        for dir in &self.policy_dirs {
            let Some(dir) = self.find(dir).filter(|p| p.is_dir()) else {
                continue;
            };
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut in_dir: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        }
        let stamp = files
            .iter()
            .map(|f| {
                let meta = std::fs::metadata(f).ok();
                (
                    f.clone(),
                    meta.as_ref().and_then(|m| m.modified().ok()),
                    meta.map_or(0, |m| m.len()),
                )
            })
            .collect();
        (files, stamp)
    }

    /// oslo.config's `find_file`: an absolute path as it is, a relative one
    /// in the first search directory that has it.
    fn find(&self, name: &str) -> Option<PathBuf> {
        if name.is_empty() {
            return None;
        }
        let path = Path::new(name);
        if path.is_absolute() {
            return path.exists().then(|| path.to_path_buf());
        }
        self.search_dirs
            .iter()
            .map(|d| d.join(path))
            .find(|p| p.exists())
    }

    fn load(&self, files: &[PathBuf]) -> Result<Arc<Policy>, PolicyLoadError> {
        let mut parsed: Vec<PolicyFile> = Vec::with_capacity(files.len());
        for file in files {
            let text =
                std::fs::read_to_string(file).map_err(|error| PolicyLoadError::Unreadable {
                    path: file.clone(),
                    error: Arc::new(error),
                })?;
            parsed.push(
                parse_policy_file(&file.display().to_string(), &text)
                    .map_err(PolicyLoadError::Unparsable)?,
            );
        }
        let (policy, warnings) = Policy::build(&inspector_defaults(), &parsed, &self.options);
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        Ok(Arc::new(policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    fn conf(policy_file: &str, dirs: &[&str]) -> OsloPolicy {
        OsloPolicy {
            policy_file: policy_file.into(),
            policy_dirs: dirs.iter().map(|d| d.to_string()).collect(),
            ..OsloPolicy::default()
        }
    }

    fn member() -> Map<String, Value> {
        json!({"roles": ["member"], "is_public_api": false})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn relative_files_are_found_next_to_the_config_and_reread() {
        let dir = tempfile::tempdir().unwrap();
        let config_dirs = config_search_dirs(&[dir.path().join("inspector.conf")], &[]);
        let store = PolicyStore::new(&conf("policy.yaml", &["policy.d"]), &config_dirs).unwrap();
        let allowed = |s: &PolicyStore| {
            s.current()
                .unwrap()
                .enforce("introspection:status", &Map::new(), &member())
                .unwrap()
        };
        assert!(!allowed(&store));

        std::fs::write(
            dir.path().join("policy.yaml"),
            "\"introspection:status\": \"role:member\"\n",
        )
        .unwrap();
        assert!(allowed(&store));

        // policy.d files apply after the policy file, in name order.
        std::fs::create_dir(dir.path().join("policy.d")).unwrap();
        std::fs::write(
            dir.path().join("policy.d/20-deny.yaml"),
            "\"introspection:status\": \"!\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("policy.d/10-allow.yaml"),
            "\"introspection:status\": \"@\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("policy.d/.hidden"), "broken: [\n").unwrap();
        assert!(!allowed(&store));
        std::fs::remove_file(dir.path().join("policy.d/20-deny.yaml")).unwrap();
        assert!(allowed(&store));

        // A broken file refuses instead of falling back to the defaults.
        std::fs::write(dir.path().join("policy.yaml"), "- not a mapping\n").unwrap();
        assert!(matches!(
            store.current(),
            Err(PolicyLoadError::Unparsable(_))
        ));
    }

    #[test]
    fn a_broken_file_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, "{\"a\": [1]}").unwrap();
        assert!(matches!(
            PolicyStore::new(&conf(path.to_str().unwrap(), &[]), &[]),
            Err(PolicyLoadError::Unparsable(_))
        ));
    }

    /// A file that cannot be read as text is told apart from one that does
    /// not parse, with the message the log has always shown.
    #[test]
    fn an_unreadable_file_is_not_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, [0xff, 0xfe, b'\n']).unwrap();
        let Err(err) = PolicyStore::new(&conf(path.to_str().unwrap(), &[]), &[]) else {
            panic!("a file that is not UTF-8 loaded");
        };
        let PolicyLoadError::Unreadable { path: bad, error } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(bad, &path);
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(
            err.to_string(),
            format!("cannot read the policy file {}: {error}", path.display())
        );
    }
}
