//! The dnsmasq driver's hosts directory (upstream-behaviour §pxe-dnsmasq): one file per MAC, named
//! after the MAC, holding `<mac>\n` (may boot) or `<mac>,ignore\n` (ignored
//! by dnsmasq), plus the wildcard file `unknown_hosts_filter` for every MAC
//! without a file. Files are never deleted while the filter runs: dnsmasq
//! does not forget an entry when its file goes away.
//!
//! [`HostsView`] is what the directory holds; [`plan`] says which files to
//! (re)write so that it matches Ironic and the running introspections.

use std::collections::{HashMap, HashSet};

use super::{Mac, MacSets, Policy};

/// Name of the wildcard file.
pub const UNKNOWN_HOSTS_FILE: &str = "unknown_hosts_filter";
const ALLOW_UNKNOWN_HOSTS: &str = "*:*:*:*:*:*\n";
const DENY_UNKNOWN_HOSTS: &str = "*:*:*:*:*:*,ignore\n";
/// Size of `ff:ff:ff:ff:ff:ff\n`.
const MAC_ALLOW_LEN: u64 = 18;
/// Size of `ff:ff:ff:ff:ff:ff,ignore\n`.
const MAC_DENY_LEN: u64 = 25;

/// Whether dnsmasq answers a MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entry {
    Allow,
    Deny,
}

/// A file of the hosts directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostFile {
    Mac(Mac),
    UnknownHosts,
}

impl HostFile {
    /// The file name: the MAC itself, or the wildcard file's name.
    pub fn name(&self) -> &str {
        match self {
            HostFile::Mac(mac) => mac.as_str(),
            HostFile::UnknownHosts => UNKNOWN_HOSTS_FILE,
        }
    }

    /// The exact content upstream writes for this entry.
    pub fn content(&self, entry: Entry) -> String {
        match (self, entry) {
            (HostFile::Mac(mac), Entry::Allow) => format!("{mac}\n"),
            (HostFile::Mac(mac), Entry::Deny) => format!("{mac},ignore\n"),
            (HostFile::UnknownHosts, Entry::Allow) => ALLOW_UNKNOWN_HOSTS.to_string(),
            (HostFile::UnknownHosts, Entry::Deny) => DENY_UNKNOWN_HOSTS.to_string(),
        }
    }

    /// Reads an existing file the way upstream does, by its size only (the
    /// content is not parsed). `None` for names that are not MACs or the
    /// wildcard file, and for sizes that are neither entry.
    pub fn classify(name: &str, size: u64) -> Option<(HostFile, Entry)> {
        if name == UNKNOWN_HOSTS_FILE {
            let entry = if size == ALLOW_UNKNOWN_HOSTS.len() as u64 {
                Entry::Allow
            } else if size == DENY_UNKNOWN_HOSTS.len() as u64 {
                Entry::Deny
            } else {
                return None;
            };
            return Some((HostFile::UnknownHosts, entry));
        }
        let mac = Mac::parse(name)?;
        let entry = match size {
            MAC_ALLOW_LEN => Entry::Allow,
            MAC_DENY_LEN => Entry::Deny,
            _ => return None,
        };
        Some((HostFile::Mac(mac), entry))
    }

    /// The entry of an existing file when its content is exactly what the
    /// filter writes for it (used when purging: such a file can stay).
    pub fn verified(name: &str, content: &[u8]) -> Option<(HostFile, Entry)> {
        let (file, entry) = HostFile::classify(name, content.len() as u64)?;
        (file.content(entry).as_bytes() == content).then_some((file, entry))
    }
}

/// The temporary file a write of `file` by process `pid` goes through
/// before it is renamed into place. dnsmasq ignores names starting with a
/// dot, so it never reads a file that is still being written.
pub fn temp_name(file: &HostFile, pid: u32) -> String {
    format!(".{}.{pid}.tmp", file.name())
}

/// Whether `name` is a temporary file of [`temp_name`]'s form (left behind
/// when a process died between writing and renaming).
pub fn is_temp_name(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let Some((file, pid)) = inner.rsplit_once('.') else {
        return false;
    };
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && (file == UNKNOWN_HOSTS_FILE || Mac::parse(file).is_some())
}

/// One file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub file: HostFile,
    pub entry: Entry,
}

impl Write {
    pub fn content(&self) -> String {
        self.file.content(self.entry)
    }
}

/// What the hosts directory holds, as far as the filter is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostsView {
    macs: HashMap<Mac, Entry>,
    unknown_hosts: Option<Entry>,
}

impl HostsView {
    /// The view of a directory listing of `(file name, size)`.
    pub fn from_listing<'a>(files: impl IntoIterator<Item = (&'a str, u64)>) -> HostsView {
        let mut view = HostsView::default();
        for (name, size) in files {
            if let Some((file, entry)) = HostFile::classify(name, size) {
                view.record(&Write { file, entry });
            }
        }
        view
    }

    /// Notes a write that reached the disk.
    pub fn record(&mut self, write: &Write) {
        match &write.file {
            HostFile::Mac(mac) => {
                self.macs.insert(mac.clone(), write.entry);
            }
            HostFile::UnknownHosts => self.unknown_hosts = Some(write.entry),
        }
    }

    /// The entry of a file, if it holds one.
    pub fn entry(&self, file: &HostFile) -> Option<Entry> {
        match file {
            HostFile::Mac(mac) => self.macs.get(mac).copied(),
            HostFile::UnknownHosts => self.unknown_hosts,
        }
    }

    /// Notes a file removed from the directory.
    pub fn forget(&mut self, file: &HostFile) {
        match file {
            HostFile::Mac(mac) => {
                self.macs.remove(mac);
            }
            HostFile::UnknownHosts => self.unknown_hosts = None,
        }
    }

    /// Number of MAC files with an entry.
    pub fn mac_count(&self) -> usize {
        self.macs.len()
    }
}

/// The writes that bring the directory in line (upstream's `_sync`):
/// active MACs allowed, every other Ironic MAC denied, and the wildcard and
/// the files of ports deleted from Ironic set to allow while unknown hosts may
/// boot, to deny otherwise. A file already holding the wanted entry is not
/// rewritten. Sorted, so that the order of writes is reproducible.
pub fn plan(
    view: &HostsView,
    sets: &MacSets,
    policy: &Policy,
    introspection_active: bool,
) -> Vec<Write> {
    let unknown = if policy.unknown_hosts_allowed(introspection_active) {
        Entry::Allow
    } else {
        Entry::Deny
    };
    let mut writes = Vec::new();
    for mac in &sets.active {
        if view.macs.get(mac) != Some(&Entry::Allow) {
            writes.push(Write {
                file: HostFile::Mac(mac.clone()),
                entry: Entry::Allow,
            });
        }
    }
    for mac in &sets.ironic {
        if !sets.active.contains(mac) && view.macs.get(mac) != Some(&Entry::Deny) {
            writes.push(Write {
                file: HostFile::Mac(mac.clone()),
                entry: Entry::Deny,
            });
        }
    }
    if view.unknown_hosts != Some(unknown) {
        writes.push(Write {
            file: HostFile::UnknownHosts,
            entry: unknown,
        });
    }
    for (mac, entry) in &view.macs {
        if *entry != unknown && !sets.ironic.contains(mac) {
            writes.push(Write {
                file: HostFile::Mac(mac.clone()),
                entry: unknown,
            });
        }
    }
    writes.sort_by(|a, b| a.file.cmp(&b.file));
    writes
}

/// The files a purge kept that the first sync does not re-affirm, with
/// their entries: upstream starts from an empty directory, so a MAC file may
/// only stay when that sync writes a file for the same MAC, i.e. for the
/// MACs of Ironic's ports (`None`: Ironic could not be asked, no MAC file
/// stays). The sync then rewrites the kept files whose entry it does not
/// want, as it rewrites any file; the wildcard file stays the same way.
pub fn unaffirmed(found: &HostsView, ironic: Option<&HashSet<Mac>>) -> Vec<(HostFile, Entry)> {
    let mut stale: Vec<(HostFile, Entry)> = found
        .macs
        .iter()
        .filter(|(mac, _)| !ironic.is_some_and(|known| known.contains(*mac)))
        .map(|(mac, entry)| (HostFile::Mac(mac.clone()), *entry))
        .collect();
    stale.sort_by(|a, b| a.0.cmp(&b.0));
    stale
}

/// The writes when Ironic's ports are unknown and the filter starts: deny
/// every MAC without a file and every MAC allowed by a file kept from before,
/// so that nothing boots the ramdisk by accident until Ironic answers.
pub fn plan_fail_closed(view: &HostsView) -> Vec<Write> {
    let mut writes: Vec<Write> = view
        .macs
        .iter()
        .filter(|(_, entry)| **entry == Entry::Allow)
        .map(|(mac, _)| Write {
            file: HostFile::Mac(mac.clone()),
            entry: Entry::Deny,
        })
        .collect();
    if view.unknown_hosts != Some(Entry::Deny) {
        writes.push(Write {
            file: HostFile::UnknownHosts,
            entry: Entry::Deny,
        });
    }
    writes.sort_by(|a, b| a.file.cmp(&b.file));
    writes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn mac(s: &str) -> Mac {
        Mac::parse(s).unwrap()
    }

    fn sets(ironic: &[&str], active: &[&str]) -> MacSets {
        let ironic: HashSet<Mac> = ironic.iter().map(|m| mac(m)).collect();
        let active: HashSet<Mac> = active.iter().map(|m| mac(m)).collect();
        MacSets {
            inactive: ironic.difference(&active).cloned().collect(),
            ironic,
            active,
            rejected: Vec::new(),
        }
    }

    const PLAIN: Policy = Policy {
        deny_unknown_macs: false,
        discovery: false,
    };

    fn names(writes: &[Write]) -> Vec<(String, Entry)> {
        writes
            .iter()
            .map(|w| (w.file.name().to_string(), w.entry))
            .collect()
    }

    #[test]
    fn contents_are_upstreams() {
        let m = HostFile::Mac(mac("52:54:00:00:00:01"));
        assert_eq!(m.content(Entry::Allow), "52:54:00:00:00:01\n");
        assert_eq!(m.content(Entry::Deny), "52:54:00:00:00:01,ignore\n");
        assert_eq!(m.content(Entry::Allow).len() as u64, MAC_ALLOW_LEN);
        assert_eq!(m.content(Entry::Deny).len() as u64, MAC_DENY_LEN);
        assert_eq!(
            HostFile::UnknownHosts.content(Entry::Deny),
            "*:*:*:*:*:*,ignore\n"
        );
        assert_eq!(
            HostFile::UnknownHosts.content(Entry::Allow),
            "*:*:*:*:*:*\n"
        );
    }

    #[test]
    fn classification_is_by_size_and_name() {
        assert_eq!(
            HostFile::classify("52:54:00:00:00:01", 18),
            Some((HostFile::Mac(mac("52:54:00:00:00:01")), Entry::Allow))
        );
        assert_eq!(
            HostFile::classify("52:54:00:00:00:01", 25),
            Some((HostFile::Mac(mac("52:54:00:00:00:01")), Entry::Deny))
        );
        assert_eq!(HostFile::classify("52:54:00:00:00:01", 0), None);
        assert_eq!(HostFile::classify("not-a-mac-at-all!", 18), None);
        assert_eq!(HostFile::classify(".52:54:00:00:00:01.tmp", 18), None);
        assert_eq!(
            HostFile::classify(UNKNOWN_HOSTS_FILE, 12),
            Some((HostFile::UnknownHosts, Entry::Allow))
        );
        assert_eq!(
            HostFile::classify(UNKNOWN_HOSTS_FILE, 19),
            Some((HostFile::UnknownHosts, Entry::Deny))
        );
        assert_eq!(HostFile::classify(UNKNOWN_HOSTS_FILE, 18), None);
    }

    #[test]
    fn only_exact_contents_are_verified() {
        let m = "52:54:00:00:00:01";
        assert_eq!(
            HostFile::verified(m, b"52:54:00:00:00:01,ignore\n"),
            Some((HostFile::Mac(mac(m)), Entry::Deny))
        );
        assert_eq!(
            HostFile::verified(m, b"52:54:00:00:00:01\n"),
            Some((HostFile::Mac(mac(m)), Entry::Allow))
        );
        assert_eq!(HostFile::verified(m, b"52:54:00:00:00:02,ignore\n"), None);
        assert_eq!(HostFile::verified(m, b"52:54:00:00:00:01,IGNORE\n"), None);
        assert_eq!(HostFile::verified(m, b"xx"), None);
        assert_eq!(
            HostFile::verified(UNKNOWN_HOSTS_FILE, b"*:*:*:*:*:*\n"),
            Some((HostFile::UnknownHosts, Entry::Allow))
        );
        assert_eq!(
            HostFile::verified(UNKNOWN_HOSTS_FILE, b"*:*:*:*:*:+\n"),
            None
        );
        assert_eq!(HostFile::verified("junk", b"52:54:00:00:00:01\n"), None);
    }

    #[test]
    fn first_sync_denies_everyone_but_active_macs() {
        let view = HostsView::default();
        let s = sets(
            &["52:54:00:00:00:01", "52:54:00:00:00:02"],
            &["52:54:00:00:00:02"],
        );
        let writes = plan(&view, &s, &PLAIN, true);
        assert_eq!(
            names(&writes),
            [
                ("52:54:00:00:00:01".to_string(), Entry::Deny),
                ("52:54:00:00:00:02".to_string(), Entry::Allow),
                (UNKNOWN_HOSTS_FILE.to_string(), Entry::Allow),
            ]
        );
    }

    #[test]
    fn a_synchronised_view_needs_no_writes() {
        let s = sets(
            &["52:54:00:00:00:01", "52:54:00:00:00:02"],
            &["52:54:00:00:00:02"],
        );
        let mut view = HostsView::default();
        for w in plan(&view, &s, &PLAIN, true) {
            view.record(&w);
        }
        assert_eq!(plan(&view, &s, &PLAIN, true), []);
        // The introspection ends: only the flipped MAC and the wildcard change.
        let idle = sets(&["52:54:00:00:00:01", "52:54:00:00:00:02"], &[]);
        assert_eq!(
            names(&plan(&view, &idle, &PLAIN, false)),
            [
                ("52:54:00:00:00:02".to_string(), Entry::Deny),
                (UNKNOWN_HOSTS_FILE.to_string(), Entry::Deny),
            ]
        );
    }

    #[test]
    fn deleted_ports_follow_the_wildcard() {
        let view = HostsView::from_listing([
            ("52:54:00:00:00:01", 25),
            ("52:54:00:00:00:02", 18),
            (UNKNOWN_HOSTS_FILE, 19),
        ]);
        let none = sets(&[], &[]);
        assert_eq!(
            names(&plan(&view, &none, &PLAIN, false)),
            [("52:54:00:00:00:02".to_string(), Entry::Deny)]
        );
        assert_eq!(
            names(&plan(&view, &none, &PLAIN, true)),
            [
                ("52:54:00:00:00:01".to_string(), Entry::Allow),
                (UNKNOWN_HOSTS_FILE.to_string(), Entry::Allow),
            ]
        );
        let strict = Policy {
            deny_unknown_macs: true,
            discovery: false,
        };
        assert_eq!(
            names(&plan(&view, &none, &strict, true)),
            [("52:54:00:00:00:02".to_string(), Entry::Deny)]
        );
    }

    #[test]
    fn temp_names_are_hidden_from_dnsmasq() {
        let file = HostFile::Mac(mac("52:54:00:00:00:01"));
        let name = temp_name(&file, 4242);
        assert_eq!(name, ".52:54:00:00:00:01.4242.tmp");
        assert!(is_temp_name(&name));
        assert!(is_temp_name(&temp_name(&HostFile::UnknownHosts, 1)));
        assert_eq!(HostFile::classify(&name, 18), None);
        for other in [
            ".52:54:00:00:00:01.tmp",
            ".52:54:00:00:00:01.x1.tmp",
            ".foo.12.tmp",
            "52:54:00:00:00:01.12.tmp",
            ".52:54:00:00:00:01.12",
            ".bashrc",
        ] {
            assert!(!is_temp_name(other), "{other}");
        }
    }

    #[test]
    fn only_files_of_ironics_macs_are_reaffirmed() {
        let found = HostsView::from_listing([
            ("52:54:00:00:00:01", 25),
            ("52:54:00:00:00:02", 18),
            ("52:54:00:00:00:03", 18),
            ("52:54:00:00:00:04", 25),
            (UNKNOWN_HOSTS_FILE, 12),
        ]);
        let ironic: HashSet<Mac> = [mac("52:54:00:00:00:01"), mac("52:54:00:00:00:02")].into();
        assert_eq!(
            unaffirmed(&found, Some(&ironic)),
            [
                (HostFile::Mac(mac("52:54:00:00:00:03")), Entry::Allow),
                (HostFile::Mac(mac("52:54:00:00:00:04")), Entry::Deny),
            ]
        );
        assert_eq!(unaffirmed(&found, None).len(), 4);
        let mut view = found;
        for (file, _) in unaffirmed(&view.clone(), Some(&ironic)) {
            view.forget(&file);
        }
        assert_eq!(view.mac_count(), 2);
        assert_eq!(view.entry(&HostFile::UnknownHosts), Some(Entry::Allow));
        view.forget(&HostFile::UnknownHosts);
        assert_eq!(view.entry(&HostFile::UnknownHosts), None);
    }

    #[test]
    fn fail_closed_denies_the_wildcard_and_kept_allows() {
        let view = HostsView::from_listing([
            ("52:54:00:00:00:01", 25),
            ("52:54:00:00:00:02", 18),
            (UNKNOWN_HOSTS_FILE, 12),
        ]);
        let writes = plan_fail_closed(&view);
        assert_eq!(
            names(&writes),
            [
                ("52:54:00:00:00:02".to_string(), Entry::Deny),
                (UNKNOWN_HOSTS_FILE.to_string(), Entry::Deny)
            ]
        );
        let mut view = view;
        for w in &writes {
            view.record(w);
        }
        assert_eq!(plan_fail_closed(&view), []);
        assert_eq!(
            names(&plan_fail_closed(&HostsView::default())),
            [(UNKNOWN_HOSTS_FILE.to_string(), Entry::Deny)]
        );
    }
}
