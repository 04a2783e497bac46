//! The dnsmasq driver (upstream-behaviour §pxe-dnsmasq): files in dnsmasq's `--dhcp-hostsdir`,
//! which dnsmasq watches with inotify. The directory's state is kept in
//! memory, so a sync writes only the files whose entry changes; each write
//! goes to a hidden temporary file that is then renamed over the entry, so
//! dnsmasq never reads a half-written file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use inspector_core::conf::DnsmasqPxeFilter;
use inspector_core::pxe::dnsmasq::{self as plan, HostsView, Write};
use inspector_core::pxe::{MacSets, Policy, command};

use super::runner::CommandRunner;

pub struct DnsmasqFilter {
    dir: PathBuf,
    purge: bool,
    start_command: Vec<String>,
    stop_command: Vec<String>,
    runner: Arc<CommandRunner>,
    /// What the directory holds; `None` when it must be read again (before
    /// the first sync, after a failed write).
    view: Option<HostsView>,
}

fn command_words(option: &str, text: &str) -> Result<Vec<String>, String> {
    let words = command::split(text)
        .map_err(|e| format!("[dnsmasq_pxe_filter] {option} cannot be split into words: {e}"))?;
    if command::looks_like_shell_syntax(&words) {
        tracing::warn!(
            option,
            command = text,
            "this command runs without a shell, so its shell syntax has no effect; \
             write sh -c '...' to use a shell"
        );
    }
    Ok(words)
}

impl DnsmasqFilter {
    pub fn new(conf: &DnsmasqPxeFilter, runner: Arc<CommandRunner>) -> Result<Self, String> {
        Ok(Self {
            dir: PathBuf::from(&conf.dhcp_hostsdir),
            purge: conf.purge_dhcp_hostsdir,
            start_command: command_words("dnsmasq_start_command", &conf.dnsmasq_start_command)?,
            stop_command: command_words("dnsmasq_stop_command", &conf.dnsmasq_stop_command)?,
            runner,
            view: None,
        })
    }

    /// Purges the directory (when `purge_dhcp_hostsdir`) and reads it.
    pub async fn init(&mut self) -> Result<(), String> {
        let dir = self.dir.clone();
        let purge = self.purge;
        let view = tokio::task::spawn_blocking(move || {
            if purge {
                purge_dir(&dir)
            } else {
                remove_stale_temp_files(&dir)?;
                read_view(&dir)
            }
        })
        .await
        .map_err(|e| format!("hosts directory task failed: {e}"))??;
        self.view = Some(view);
        Ok(())
    }

    /// Runs `dnsmasq_start_command`, if any.
    pub async fn start(&self) -> Result<(), String> {
        if self.start_command.is_empty() {
            return Ok(());
        }
        self.runner
            .run(&self.start_command)
            .await
            .map_err(|e| format!("dnsmasq_start_command failed: {e}"))
    }

    /// Runs `dnsmasq_stop_command`, if any; a failure is only logged.
    pub async fn stop(&self) {
        if self.stop_command.is_empty() {
            return;
        }
        if let Err(e) = self.runner.run(&self.stop_command).await {
            tracing::warn!(error = %e, "dnsmasq_stop_command failed");
        }
    }

    /// Brings the directory in line with Ironic's ports and the running
    /// introspections; returns the number of files written.
    pub async fn apply(
        &mut self,
        sets: &MacSets,
        policy: &Policy,
        introspection_active: bool,
    ) -> Result<usize, String> {
        let view = self.current_view().await?;
        let writes = plan::plan(&view, sets, policy, introspection_active);
        self.write(view, writes).await
    }

    /// Denies every MAC without a file (Ironic could not be asked which
    /// MACs are known); returns the number of files written.
    pub async fn fail_closed(&mut self) -> Result<usize, String> {
        let view = self.current_view().await?;
        let writes = plan::plan_fail_closed(&view);
        self.write(view, writes).await
    }

    async fn current_view(&mut self) -> Result<HostsView, String> {
        match self.view.take() {
            Some(view) => Ok(view),
            None => {
                let dir = self.dir.clone();
                tokio::task::spawn_blocking(move || read_view(&dir))
                    .await
                    .map_err(|e| format!("hosts directory task failed: {e}"))?
            }
        }
    }

    async fn write(&mut self, mut view: HostsView, writes: Vec<Write>) -> Result<usize, String> {
        if writes.is_empty() {
            self.view = Some(view);
            return Ok(0);
        }
        let dir = self.dir.clone();
        let (view, outcome) = tokio::task::spawn_blocking(move || {
            let pid = std::process::id();
            for write in &writes {
                if let Err(e) = write_atomically(&dir, write, pid) {
                    return (view, Err(e));
                }
                view.record(write);
            }
            (view, Ok(writes.len()))
        })
        .await
        .map_err(|e| format!("hosts directory task failed: {e}"))?;
        // After a failure the directory is read again: it is the truth.
        if outcome.is_ok() {
            self.view = Some(view);
        }
        outcome
    }
}

/// Writes a temporary file, then renames it over the entry: the rename is
/// atomic, and dnsmasq (which skips names starting with a dot) sees only
/// the complete new content.
fn write_atomically(dir: &Path, write: &Write, pid: u32) -> Result<(), String> {
    let temp = dir.join(plan::temp_name(&write.file, pid));
    let target = dir.join(write.file.name());
    std::fs::write(&temp, write.content())
        .and_then(|()| std::fs::rename(&temp, &target))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            format!("cannot write {}: {e}", target.display())
        })
}

fn list(dir: &Path) -> Result<std::fs::ReadDir, String> {
    std::fs::read_dir(dir).map_err(|e| {
        format!(
            "cannot read [dnsmasq_pxe_filter] dhcp_hostsdir {}: {e}",
            dir.display()
        )
    })
}

/// Upstream deletes every file at start so that nothing stale survives.
/// Files holding exactly the content the filter writes for their name are
/// kept instead (the first sync rewrites those that must change), every
/// other file goes: the result is the same, but a restart with tens of
/// thousands of ports does not delete and recreate as many inodes.
fn purge_dir(dir: &Path) -> Result<HostsView, String> {
    let mut view = HostsView::default();
    let (mut kept, mut removed) = (0usize, 0usize);
    for entry in list(dir)? {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let verified = entry
            .file_name()
            .to_str()
            .filter(|_| entry.file_type().is_ok_and(|t| t.is_file()))
            .and_then(|name| {
                let content = std::fs::read(&path).ok()?;
                plan::HostFile::verified(name, &content)
            });
        match verified {
            Some((file, entry)) => {
                view.record(&Write { file, entry });
                kept += 1;
            }
            None => {
                std::fs::remove_file(&path)
                    .map_err(|e| format!("cannot purge {}: {e}", path.display()))?;
                removed += 1;
            }
        }
    }
    tracing::info!(dir = %dir.display(), kept, removed, "purged the dnsmasq hosts directory");
    Ok(view)
}

/// Temporary files a killed process left behind would never be renamed.
fn remove_stale_temp_files(dir: &Path) -> Result<(), String> {
    for entry in list(dir)?.flatten() {
        if entry.file_name().to_str().is_some_and(plan::is_temp_name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// The directory's entries, classified by file size as upstream does.
fn read_view(dir: &Path) -> Result<HostsView, String> {
    let mut files = Vec::new();
    for entry in list(dir)? {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // A file removed meanwhile simply is not there.
        if let Ok(meta) = entry.metadata()
            && meta.is_file()
        {
            files.push((name, meta.len()));
        }
    }
    Ok(HostsView::from_listing(
        files.iter().map(|(n, s)| (n.as_str(), *s)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use inspector_core::pxe::Mac;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn filter(dir: &Path, purge: bool) -> DnsmasqFilter {
        let conf = DnsmasqPxeFilter {
            dhcp_hostsdir: dir.display().to_string(),
            purge_dhcp_hostsdir: purge,
            ..DnsmasqPxeFilter::default()
        };
        DnsmasqFilter::new(
            &conf,
            Arc::new(CommandRunner::new(Vec::new(), Duration::from_secs(10))),
        )
        .unwrap()
    }

    fn sets(ironic: &[&str], active: &[&str]) -> MacSets {
        let mac = |s: &&str| Mac::parse(s).unwrap();
        let ironic: std::collections::HashSet<Mac> = ironic.iter().map(mac).collect();
        let active: std::collections::HashSet<Mac> = active.iter().map(mac).collect();
        MacSets {
            inactive: ironic.difference(&active).cloned().collect(),
            ironic,
            active,
            rejected: Vec::new(),
        }
    }

    fn contents(dir: &Path) -> BTreeMap<String, String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().into_string().unwrap(),
                    std::fs::read_to_string(e.path()).unwrap(),
                )
            })
            .collect()
    }

    const POLICY: Policy = Policy {
        deny_unknown_macs: false,
        discovery: false,
    };

    #[tokio::test]
    async fn purge_keeps_only_exact_entries() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("stale", "x"),
            ("52:54:00:00:00:01", "52:54:00:00:00:01,ignore\n"),
            ("52:54:00:00:00:02", "52:54:00:00:00:09,ignore\n"),
            ("52:54:00:00:00:03", "52:54:00:00:00:03\n"),
            ("52:54:00:00:00:04", "52:54:00:00:00:04"),
            (".52:54:00:00:00:01.7.tmp", "52:54:00:00:00:01\n"),
            ("unknown_hosts_filter", "*:*:*:*:*:*\n"),
        ];
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        let mut f = filter(dir.path(), true);
        f.init().await.unwrap();
        assert_eq!(
            contents(dir.path()).keys().collect::<Vec<_>>(),
            [
                "52:54:00:00:00:01",
                "52:54:00:00:00:03",
                "unknown_hosts_filter"
            ]
        );
        // The kept entries are known: only the changes are written.
        let one = sets(
            &["52:54:00:00:00:01", "52:54:00:00:00:03"],
            &["52:54:00:00:00:03"],
        );
        assert_eq!(f.apply(&one, &POLICY, true).await.unwrap(), 0);
        assert_eq!(f.apply(&one, &POLICY, false).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn purge_then_incremental_writes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stale"), "x").unwrap();
        let mut f = filter(dir.path(), true);
        f.init().await.unwrap();
        assert!(contents(dir.path()).is_empty());

        let two = sets(
            &["52:54:00:00:00:01", "52:54:00:00:00:02"],
            &["52:54:00:00:00:02"],
        );
        assert_eq!(f.apply(&two, &POLICY, true).await.unwrap(), 3);
        assert_eq!(
            contents(dir.path()),
            BTreeMap::from([
                (
                    "52:54:00:00:00:01".into(),
                    "52:54:00:00:00:01,ignore\n".into()
                ),
                ("52:54:00:00:00:02".into(), "52:54:00:00:00:02\n".into()),
                ("unknown_hosts_filter".into(), "*:*:*:*:*:*\n".into()),
            ])
        );
        assert_eq!(f.apply(&two, &POLICY, true).await.unwrap(), 0);
        let idle = sets(&["52:54:00:00:00:01", "52:54:00:00:00:02"], &[]);
        assert_eq!(f.apply(&idle, &POLICY, false).await.unwrap(), 2);
        assert_eq!(
            contents(dir.path())["52:54:00:00:00:02"],
            "52:54:00:00:00:02,ignore\n"
        );
    }

    #[tokio::test]
    async fn without_purge_existing_entries_are_kept_and_temp_files_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("52:54:00:00:00:01"),
            "52:54:00:00:00:01,ignore\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(".52:54:00:00:00:01.77.tmp"), "52:54:").unwrap();
        std::fs::write(dir.path().join("operator-notes"), "keep me").unwrap();
        let mut f = filter(dir.path(), false);
        f.init().await.unwrap();
        let one = sets(&["52:54:00:00:00:01"], &[]);
        // Only the wildcard is missing.
        assert_eq!(f.apply(&one, &POLICY, false).await.unwrap(), 1);
        let files = contents(dir.path());
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            [
                "52:54:00:00:00:01",
                "operator-notes",
                "unknown_hosts_filter"
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_write_is_retried_from_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = filter(dir.path(), true);
        f.init().await.unwrap();
        // A directory in the way of an entry makes its rename fail.
        std::fs::create_dir(dir.path().join("52:54:00:00:00:02")).unwrap();
        std::fs::write(dir.path().join("52:54:00:00:00:02/x"), "").unwrap();
        let two = sets(&["52:54:00:00:00:01", "52:54:00:00:00:02"], &[]);
        let err = f.apply(&two, &POLICY, false).await.unwrap_err();
        assert!(err.contains("52:54:00:00:00:02"), "{err}");
        assert!(
            !contents_names(dir.path())
                .iter()
                .any(|n| n.ends_with(".tmp"))
        );
        std::fs::remove_dir_all(dir.path().join("52:54:00:00:00:02")).unwrap();
        // The next sync re-reads the directory and writes only what is missing.
        assert_eq!(f.apply(&two, &POLICY, false).await.unwrap(), 2);
        assert_eq!(f.apply(&two, &POLICY, false).await.unwrap(), 0);
    }

    fn contents_names(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn a_missing_directory_fails_init() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = filter(&dir.path().join("missing"), true);
        let err = f.init().await.unwrap_err();
        assert!(err.contains("dhcp_hostsdir"), "{err}");
    }

    #[tokio::test]
    async fn fail_closed_denies_unknown_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = filter(dir.path(), true);
        f.init().await.unwrap();
        assert_eq!(f.fail_closed().await.unwrap(), 1);
        assert_eq!(
            contents(dir.path()),
            BTreeMap::from([("unknown_hosts_filter".into(), "*:*:*:*:*:*,ignore\n".into())])
        );
        assert_eq!(f.fail_closed().await.unwrap(), 0);
    }
}
