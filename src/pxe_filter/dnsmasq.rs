//! The dnsmasq driver (upstream-behaviour §pxe-dnsmasq): files in dnsmasq's `--dhcp-hostsdir`,
//! which dnsmasq watches with inotify. The directory's state is kept in
//! memory, so a sync writes only the files whose entry changes; each write
//! goes to a hidden temporary file that is then renamed over the entry, so
//! dnsmasq never reads a half-written file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use inspector_core::conf::DnsmasqPxeFilter;
use inspector_core::pxe::dnsmasq::{self as plan, Entry, HostFile, HostsView, Write};
use inspector_core::pxe::{Mac, MacSets, Policy, command};

use super::error::{HostsDirError, PxeFilterError};
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
    /// A purge kept files the first sync has yet to re-affirm.
    purged: bool,
    /// Stale allow files the first sync rewrote to deny, and when: removed
    /// by a later sync.
    revoked: Vec<HostFile>,
    revoked_at: Option<Instant>,
}

/// How long a revoked file stays before a sync removes it: dnsmasq reads a
/// changed file as soon as inotify tells it, well within this.
const REVOKE_GRACE: Duration = Duration::from_secs(1);

fn command_words(option: &str, text: &str) -> Result<Vec<String>, PxeFilterError> {
    let words = command::split(text).map_err(|e| {
        PxeFilterError::Config(format!(
            "[dnsmasq_pxe_filter] {option} cannot be split into words: {e}"
        ))
    })?;
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
    pub fn new(
        conf: &DnsmasqPxeFilter,
        runner: Arc<CommandRunner>,
    ) -> Result<Self, PxeFilterError> {
        Ok(Self {
            dir: PathBuf::from(&conf.dhcp_hostsdir),
            purge: conf.purge_dhcp_hostsdir,
            start_command: command_words("dnsmasq_start_command", &conf.dnsmasq_start_command)?,
            stop_command: command_words("dnsmasq_stop_command", &conf.dnsmasq_stop_command)?,
            runner,
            view: None,
            purged: false,
            revoked: Vec::new(),
            revoked_at: None,
        })
    }

    /// Purges the directory (when `purge_dhcp_hostsdir`) and reads it.
    pub async fn init(&mut self) -> Result<(), HostsDirError> {
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
        .map_err(HostsDirError::Task)??;
        self.view = Some(view);
        self.purged = purge;
        Ok(())
    }

    /// Runs `dnsmasq_start_command`, if any.
    pub async fn start(&self) -> Result<(), PxeFilterError> {
        if self.start_command.is_empty() {
            return Ok(());
        }
        self.runner
            .run(&self.start_command)
            .await
            .map_err(PxeFilterError::StartCommand)
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
    ) -> Result<usize, HostsDirError> {
        let view = self.current_view().await?;
        let view = self.remove_unaffirmed(view, Some(&sets.ironic)).await?;
        let writes = plan::plan(&view, sets, policy, introspection_active);
        self.write(view, writes).await
    }

    /// Denies every MAC without a file (Ironic could not be asked which
    /// MACs are known); returns the number of files written.
    pub async fn fail_closed(&mut self) -> Result<usize, HostsDirError> {
        let view = self.current_view().await?;
        let view = self.remove_unaffirmed(view, None).await?;
        let writes = plan::plan_fail_closed(&view);
        self.write(view, writes).await
    }

    async fn current_view(&mut self) -> Result<HostsView, HostsDirError> {
        match self.view.take() {
            Some(view) => Ok(view),
            None => {
                let dir = self.dir.clone();
                tokio::task::spawn_blocking(move || read_view(&dir))
                    .await
                    .map_err(HostsDirError::Task)?
            }
        }
    }

    /// At the first sync after a purge, removes the kept files that sync
    /// does not re-affirm (`ironic`: the MACs of Ironic's ports, if known),
    /// so that nothing stale outlives the start, as with upstream's purge.
    ///
    /// dnsmasq keeps serving an entry whose file is deleted, and only
    /// re-reads a file that still exists. When the service starts dnsmasq
    /// (`dnsmasq_start_command`), dnsmasq is not running yet and the files
    /// simply go. Otherwise dnsmasq may already serve a stale allow entry:
    /// its file is rewritten to deny now and removed by a later sync, once
    /// dnsmasq has had time to read the deny.
    async fn remove_unaffirmed(
        &mut self,
        mut view: HostsView,
        ironic: Option<&HashSet<Mac>>,
    ) -> Result<HostsView, HostsDirError> {
        let mut steps = Vec::new();
        let mut pending = Vec::new();
        let dnsmasq_had_time = self
            .revoked_at
            .is_some_and(|at| at.elapsed() >= REVOKE_GRACE);
        let previous = std::mem::take(&mut self.revoked);
        for file in previous.iter().cloned() {
            let now_known = matches!(&file, HostFile::Mac(mac) if ironic.is_some_and(|known| known.contains(mac)));
            if now_known {
                continue;
            }
            if dnsmasq_had_time {
                steps.push(Cleanup::Remove(file));
            } else {
                // Kept from the plan (a view read again after a failed
                // write has it) until it goes.
                view.forget(&file);
                pending.push(file);
            }
        }
        if self.purged {
            let dnsmasq_may_run = self.start_command.is_empty();
            for (file, entry) in plan::unaffirmed(&view, ironic) {
                steps.push(if entry == Entry::Allow && dnsmasq_may_run {
                    Cleanup::Revoke(file)
                } else {
                    Cleanup::Remove(file)
                });
            }
        }
        if steps.is_empty() {
            self.purged = false;
            self.revoked = pending;
            return Ok(view);
        }
        let dir = self.dir.clone();
        let (view, outcome) = tokio::task::spawn_blocking(move || {
            let pid = std::process::id();
            let mut revoked = Vec::new();
            for step in steps {
                let done = match step {
                    Cleanup::Remove(file) => remove_file(&dir, &file).map(|()| view.forget(&file)),
                    Cleanup::Revoke(file) => {
                        let deny = Write {
                            file,
                            entry: Entry::Deny,
                        };
                        // The plan must not see a file on its way out: it
                        // would make it follow the wildcard.
                        write_atomically(&dir, &deny, pid).map(|()| {
                            view.forget(&deny.file);
                            revoked.push(deny.file);
                        })
                    }
                };
                if let Err(e) = done {
                    return (view, Err(e));
                }
            }
            (view, Ok(revoked))
        })
        .await
        .map_err(HostsDirError::Task)?;
        // On failure the view is dropped and read again next time, and the
        // cleanup is attempted again.
        let revoked = match outcome {
            Ok(revoked) => revoked,
            Err(e) => {
                self.revoked = previous;
                return Err(e);
            }
        };
        if !revoked.is_empty() {
            tracing::info!(
                dir = %self.dir.display(),
                count = revoked.len(),
                "stale allow entries denied; their files go at a later sync"
            );
            self.revoked_at = Some(Instant::now());
        }
        self.purged = false;
        self.revoked = pending.into_iter().chain(revoked).collect();
        Ok(view)
    }

    async fn write(
        &mut self,
        mut view: HostsView,
        writes: Vec<Write>,
    ) -> Result<usize, HostsDirError> {
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
        .map_err(HostsDirError::Task)?;
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
fn write_atomically(dir: &Path, write: &Write, pid: u32) -> Result<(), HostsDirError> {
    let temp = dir.join(plan::temp_name(&write.file, pid));
    let target = dir.join(write.file.name());
    std::fs::write(&temp, write.content())
        .and_then(|()| std::fs::rename(&temp, &target))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            HostsDirError::Write {
                path: target,
                error: e,
            }
        })
}

/// What the start does with a file it does not keep.
enum Cleanup {
    Remove(HostFile),
    /// Rewrite an allow entry to deny, for a dnsmasq that may be running.
    Revoke(HostFile),
}

fn remove_file(dir: &Path, file: &HostFile) -> Result<(), HostsDirError> {
    let path = dir.join(file.name());
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(HostsDirError::Remove { path, error: e })
        }
        _ => Ok(()),
    }
}

fn list(dir: &Path) -> Result<std::fs::ReadDir, HostsDirError> {
    std::fs::read_dir(dir).map_err(|error| HostsDirError::List {
        dir: dir.to_path_buf(),
        error,
    })
}

fn read_entry_error(dir: &Path) -> impl Fn(std::io::Error) -> HostsDirError + '_ {
    |error| HostsDirError::ReadEntry {
        dir: dir.to_path_buf(),
        error,
    }
}

/// Upstream deletes every file at start so that nothing stale survives.
/// Files holding exactly the content the filter writes for their name are
/// kept instead, every other file goes; the first sync then removes the kept
/// files it does not re-affirm and rewrites those that must change. The
/// result is the same, but a restart with tens of thousands of ports does
/// not delete and recreate as many inodes.
fn purge_dir(dir: &Path) -> Result<HostsView, HostsDirError> {
    let mut view = HostsView::default();
    let (mut kept, mut removed) = (0usize, 0usize);
    for entry in list(dir)? {
        let entry = entry.map_err(read_entry_error(dir))?;
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
                std::fs::remove_file(&path).map_err(|error| HostsDirError::Purge {
                    path: path.clone(),
                    error,
                })?;
                removed += 1;
            }
        }
    }
    tracing::info!(dir = %dir.display(), kept, removed, "purged the dnsmasq hosts directory");
    Ok(view)
}

/// Temporary files a killed process left behind would never be renamed.
fn remove_stale_temp_files(dir: &Path) -> Result<(), HostsDirError> {
    for entry in list(dir)?.flatten() {
        if entry.file_name().to_str().is_some_and(plan::is_temp_name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// The directory's entries, classified by file size as upstream does.
fn read_view(dir: &Path) -> Result<HostsView, HostsDirError> {
    let mut files = Vec::new();
    for entry in list(dir)? {
        let entry = entry.map_err(read_entry_error(dir))?;
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

    /// A filter for a dnsmasq that runs on its own (no start command).
    fn filter(dir: &Path, purge: bool) -> DnsmasqFilter {
        filter_with(dir, purge, "")
    }

    /// A filter that starts dnsmasq itself, after its first sync.
    fn filter_starting_dnsmasq(dir: &Path) -> DnsmasqFilter {
        filter_with(dir, true, "dnsmasq --conf-file=/etc/dnsmasq.conf")
    }

    fn filter_with(dir: &Path, purge: bool, start_command: &str) -> DnsmasqFilter {
        let conf = DnsmasqPxeFilter {
            dhcp_hostsdir: dir.display().to_string(),
            purge_dhcp_hostsdir: purge,
            dnsmasq_start_command: start_command.into(),
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

    /// A directory holding these files.
    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        dir
    }

    fn inode(dir: &Path, name: &str) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(dir.join(name)).unwrap().ino()
    }

    /// Upstream starts from an empty directory; a file survives the start
    /// only when it holds exactly what the first sync wants for it.
    #[tokio::test]
    async fn purge_keeps_only_entries_the_first_sync_reaffirms() {
        let dir = dir_with(&[
            ("stale", "x"),
            ("52:54:00:00:00:01", "52:54:00:00:00:01,ignore\n"),
            ("52:54:00:00:00:02", "52:54:00:00:00:09,ignore\n"),
            ("52:54:00:00:00:03", "52:54:00:00:00:03\n"),
            ("52:54:00:00:00:04", "52:54:00:00:00:04"),
            // Exact entries, but for MACs Ironic does not know.
            ("52:54:00:00:00:05", "52:54:00:00:00:05\n"),
            ("52:54:00:00:00:06", "52:54:00:00:00:06,ignore\n"),
            // Known and not under introspection, yet allowed.
            ("52:54:00:00:00:07", "52:54:00:00:00:07\n"),
            (".52:54:00:00:00:01.7.tmp", "52:54:00:00:00:01\n"),
            ("unknown_hosts_filter", "*:*:*:*:*:*\n"),
        ]);
        let before: Vec<u64> = [
            "52:54:00:00:00:01",
            "52:54:00:00:00:03",
            "unknown_hosts_filter",
        ]
        .iter()
        .map(|name| inode(dir.path(), name))
        .collect();
        let mut f = filter_starting_dnsmasq(dir.path());
        f.init().await.unwrap();
        let one = sets(
            &[
                "52:54:00:00:00:01",
                "52:54:00:00:00:03",
                "52:54:00:00:00:07",
            ],
            &["52:54:00:00:00:03"],
        );
        // Only the allowed idle MAC is written; the re-affirmed files stay.
        assert_eq!(f.apply(&one, &POLICY, true).await.unwrap(), 1);
        assert_eq!(
            contents(dir.path()),
            BTreeMap::from([
                (
                    "52:54:00:00:00:01".into(),
                    "52:54:00:00:00:01,ignore\n".into()
                ),
                ("52:54:00:00:00:03".into(), "52:54:00:00:00:03\n".into()),
                (
                    "52:54:00:00:00:07".into(),
                    "52:54:00:00:00:07,ignore\n".into()
                ),
                ("unknown_hosts_filter".into(), "*:*:*:*:*:*\n".into()),
            ])
        );
        let after: Vec<u64> = [
            "52:54:00:00:00:01",
            "52:54:00:00:00:03",
            "unknown_hosts_filter",
        ]
        .iter()
        .map(|name| inode(dir.path(), name))
        .collect();
        assert_eq!(after, before, "re-affirmed files are not rewritten");
        assert_eq!(f.apply(&one, &POLICY, true).await.unwrap(), 0);
        assert_eq!(f.apply(&one, &POLICY, false).await.unwrap(), 1);
    }

    /// The case of an operator's hand-written (or a crashed run's) allow
    /// entry for a machine Ironic does not know: it would override the
    /// wildcard deny, so dnsmasq would serve that machine.
    #[tokio::test]
    async fn a_stale_allow_entry_for_an_unknown_mac_goes_at_start() {
        let dir = dir_with(&[("52:54:00:00:00:05", "52:54:00:00:00:05\n")]);
        let mut f = filter_starting_dnsmasq(dir.path());
        f.init().await.unwrap();
        f.apply(&sets(&["52:54:00:00:00:01"], &[]), &POLICY, false)
            .await
            .unwrap();
        assert_eq!(
            contents(dir.path()),
            BTreeMap::from([
                (
                    "52:54:00:00:00:01".into(),
                    "52:54:00:00:00:01,ignore\n".into()
                ),
                ("unknown_hosts_filter".into(), "*:*:*:*:*:*,ignore\n".into()),
            ])
        );
    }

    /// With a dnsmasq that may already serve the stale entry, deleting its
    /// file would not stop it: the file is rewritten to deny, and removed at
    /// the next sync.
    #[tokio::test]
    async fn for_a_running_dnsmasq_a_stale_allow_entry_is_denied_then_removed() {
        let dir = dir_with(&[
            ("52:54:00:00:00:05", "52:54:00:00:00:05\n"),
            ("52:54:00:00:00:06", "52:54:00:00:00:06,ignore\n"),
        ]);
        let mut f = filter(dir.path(), true);
        f.init().await.unwrap();
        let one = sets(&["52:54:00:00:00:01"], &["52:54:00:00:00:01"]);
        // Introspection runs: unknown hosts may boot, yet the stale entry's
        // MAC is denied until its file is gone.
        f.apply(&one, &POLICY, true).await.unwrap();
        assert_eq!(
            contents(dir.path()),
            BTreeMap::from([
                ("52:54:00:00:00:01".into(), "52:54:00:00:00:01\n".into()),
                (
                    "52:54:00:00:00:05".into(),
                    "52:54:00:00:00:05,ignore\n".into()
                ),
                ("unknown_hosts_filter".into(), "*:*:*:*:*:*\n".into()),
            ])
        );
        // Right after, dnsmasq may not have read the deny yet: the file
        // stays, and the plan leaves it alone.
        assert_eq!(f.apply(&one, &POLICY, true).await.unwrap(), 0);
        assert_eq!(
            contents(dir.path())["52:54:00:00:00:05"],
            "52:54:00:00:00:05,ignore\n"
        );
        f.revoked_at = Some(Instant::now() - REVOKE_GRACE);
        assert_eq!(f.apply(&one, &POLICY, true).await.unwrap(), 0);
        assert_eq!(
            contents(dir.path()).keys().collect::<Vec<_>>(),
            ["52:54:00:00:00:01", "unknown_hosts_filter"]
        );
    }

    /// A stale allow entry is denied even while unknown hosts may boot;
    /// should its MAC become a port meanwhile, the file stays and the next
    /// sync writes it as any port's.
    #[tokio::test]
    async fn a_revoked_entry_of_a_new_port_is_kept() {
        let dir = dir_with(&[("52:54:00:00:00:05", "52:54:00:00:00:05\n")]);
        let mut f = filter(dir.path(), true);
        f.init().await.unwrap();
        f.apply(&sets(&[], &[]), &POLICY, true).await.unwrap();
        assert_eq!(
            contents(dir.path())["52:54:00:00:00:05"],
            "52:54:00:00:00:05,ignore\n"
        );
        let now_a_port = sets(&["52:54:00:00:00:05"], &["52:54:00:00:00:05"]);
        assert_eq!(f.apply(&now_a_port, &POLICY, true).await.unwrap(), 1);
        assert_eq!(
            contents(dir.path())["52:54:00:00:00:05"],
            "52:54:00:00:00:05\n"
        );
    }

    /// Starting while Ironic cannot be asked, no MAC is known: every MAC
    /// file goes and the wildcard denies, as after upstream's purge.
    #[tokio::test]
    async fn a_fail_closed_start_keeps_no_mac_file() {
        let dir = dir_with(&[
            ("52:54:00:00:00:05", "52:54:00:00:00:05\n"),
            ("52:54:00:00:00:06", "52:54:00:00:00:06,ignore\n"),
        ]);
        let mut f = filter_starting_dnsmasq(dir.path());
        f.init().await.unwrap();
        assert_eq!(f.fail_closed().await.unwrap(), 1);
        assert_eq!(
            contents(dir.path()),
            BTreeMap::from([("unknown_hosts_filter".into(), "*:*:*:*:*:*,ignore\n".into())])
        );
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
        assert!(
            matches!(&err, HostsDirError::Write { path, .. } if path.ends_with("52:54:00:00:00:02")),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "cannot write {}: {}",
                dir.path().join("52:54:00:00:00:02").display(),
                err.io_error().unwrap()
            )
        );
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
        assert!(
            matches!(&err, HostsDirError::List { error, .. } if error.kind() == std::io::ErrorKind::NotFound),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with(&format!(
                "cannot read [dnsmasq_pxe_filter] dhcp_hostsdir {}: ",
                dir.path().join("missing").display()
            )),
            "{err}"
        );
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
