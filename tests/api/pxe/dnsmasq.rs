//! The dnsmasq driver with a real dnsmasq: the service writes the hosts
//! directory, starts dnsmasq in a namespace through `dnsmasq_start_command`,
//! and a DHCP client in another namespace gets a lease or not.

use std::path::{Path, PathBuf};
use std::time::Duration;

use inspector_core::conf::{Config, PxeDriver};
use tempfile::TempDir;

use super::{DhcpLink, DnsmasqGuard, SwitchableProxy, abort, eventually, require_tools, start};
use crate::bed::{Ironic, env, random_mac};
use crate::helpers::{TestApp, json_with_status};
use crate::processing::{Machine, post_continue};

/// Dropped in field order: dnsmasq is killed while its pid file exists.
struct Bed {
    dnsmasq: DnsmasqGuard,
    link: DhcpLink,
    state: TempDir,
}

impl Bed {
    fn new() -> Self {
        require_tools();
        let link = DhcpLink::new();
        let state = tempfile::tempdir().unwrap();
        std::fs::create_dir(state.path().join("hosts")).unwrap();
        let dnsmasq = DnsmasqGuard {
            pid_file: state.path().join("dnsmasq.pid"),
        };
        Self {
            dnsmasq,
            link,
            state,
        }
    }

    fn hostsdir(&self) -> PathBuf {
        self.state.path().join("hosts")
    }

    /// The driver configured to run this bed's dnsmasq; the stop command
    /// needs a shell, written the documented way.
    fn configure(&self, c: &mut Config) {
        c.pxe_filter.driver = PxeDriver::Dnsmasq;
        c.dnsmasq_pxe_filter.dhcp_hostsdir = self.hostsdir().display().to_string();
        c.dnsmasq_pxe_filter.dnsmasq_start_command = self
            .link
            .dnsmasq_command(&self.hostsdir(), self.state.path());
        c.dnsmasq_pxe_filter.dnsmasq_stop_command = format!(
            "sh -c 'kill \"$(cat {})\"'",
            self.dnsmasq.pid_file.display()
        );
    }

    fn file(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.hostsdir().join(name)).ok()
    }

    /// Writes an allow entry, as the filter would for an introspected MAC.
    fn write_allow(&self, mac: &str) {
        std::fs::write(self.hostsdir().join(mac), allow(mac).unwrap()).unwrap();
    }

    /// Runs this bed's dnsmasq outside the service, as an operator's own.
    async fn run_dnsmasq(&self) {
        let command = self
            .link
            .dnsmasq_command(&self.hostsdir(), self.state.path());
        let words = inspector_core::pxe::command::split(&command).unwrap();
        super::sh(&words.iter().map(String::as_str).collect::<Vec<_>>());
        eventually("dnsmasq running", Duration::from_secs(10), || {
            self.dnsmasq.running()
        })
        .await;
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.state.path().join("dnsmasq.log")).unwrap_or_default()
    }
}

fn allow(mac: &str) -> Option<String> {
    Some(format!("{mac}\n"))
}

fn deny(mac: &str) -> Option<String> {
    Some(format!("{mac},ignore\n"))
}

const WILDCARD_ALLOW: &str = "*:*:*:*:*:*\n";
const WILDCARD_DENY: &str = "*:*:*:*:*:*,ignore\n";

#[tokio::test]
#[cfg_attr(
    not(all(bed_pxe, bed_ironic)),
    ignore = "needs the test bed (root, dnsmasq, iptables, Ironic): run scripts/test.sh"
)]
async fn leases_follow_introspection() {
    let bed = Bed::new();
    let ironic = Ironic::new();
    let m = Machine::new();
    let node = m.node(&ironic).await;
    ironic.create_port(&node, &m.pxe).await;
    let (_, idle_mac) = ironic.node_with_port().await;
    let stranger = random_mac();

    let app = TestApp::with_ironic(|c| {
        bed.configure(c);
        c.pxe_filter.sync_period = 600;
    })
    .await;
    assert!(bed.dnsmasq.running(), "the start command started dnsmasq");
    assert_eq!(bed.file(&m.pxe), deny(&m.pxe));
    assert_eq!(bed.file(&idle_mac), deny(&idle_mac));
    assert_eq!(
        bed.file("unknown_hosts_filter").as_deref(),
        Some(WILDCARD_DENY)
    );
    assert!(!bed.link.lease(&m.pxe).await, "no introspection: denied");
    assert!(
        !bed.link.lease(&stranger).await,
        "no introspection: unknown denied"
    );

    start(&app, &node).await;
    assert_eq!(bed.file(&m.pxe), allow(&m.pxe));
    assert_eq!(
        bed.file("unknown_hosts_filter").as_deref(),
        Some(WILDCARD_ALLOW)
    );
    assert!(bed.link.lease(&m.pxe).await, "under introspection: allowed");
    assert!(
        bed.link.lease(&stranger).await,
        "introspection running: unknown allowed"
    );
    assert!(
        !bed.link.lease(&idle_mac).await,
        "other known nodes stay denied"
    );

    abort(&app, &node).await;
    eventually(
        "the aborted node's file denies it",
        Duration::from_secs(10),
        || bed.file(&m.pxe) == deny(&m.pxe),
    )
    .await;
    assert!(!bed.link.lease(&m.pxe).await, "aborted: denied");
    assert!(
        !bed.link.lease(&stranger).await,
        "idle again: unknown denied"
    );

    start(&app, &node).await;
    assert!(bed.link.lease(&m.pxe).await, "started again: allowed");
    json_with_status(post_continue(&app, &m.data()).await, 200).await;
    app.wait_for_state(&node, "finished", Duration::from_secs(30))
        .await;
    eventually(
        "the finished node's file denies it",
        Duration::from_secs(10),
        || bed.file(&m.pxe) == deny(&m.pxe),
    )
    .await;
    assert!(!bed.link.lease(&m.pxe).await, "finished: denied");

    // dnsmasq never read a temporary file, only entries.
    let log = bed.log();
    assert!(
        log.contains(&format!("read {}", bed.hostsdir().join(&m.pxe).display())),
        "{log}"
    );
    assert!(
        !log.contains(&format!("{}/.", bed.hostsdir().display())),
        "{log}"
    );

    // Shutdown runs the stop command.
    app.inspector.shutdown(Duration::from_secs(10)).await;
    eventually("dnsmasq stopped", Duration::from_secs(10), || {
        !bed.dnsmasq.running()
    })
    .await;
}

/// The temporary names the driver writes through are ignored by dnsmasq,
/// and the rename into place is noticed: the atomic-write scheme checked
/// against the real dnsmasq.
#[tokio::test]
#[cfg_attr(
    not(bed_pxe),
    ignore = "needs the test bed (root, dnsmasq, iptables): run scripts/test.sh"
)]
async fn dnsmasq_ignores_temporary_files_and_reads_renamed_ones() {
    let bed = Bed::new();
    let mac = random_mac();
    let hosts = bed.hostsdir();
    std::fs::write(hosts.join("unknown_hosts_filter"), WILDCARD_DENY).unwrap();
    bed.run_dnsmasq().await;

    let file =
        inspector_core::pxe::dnsmasq::HostFile::Mac(inspector_core::pxe::Mac::parse(&mac).unwrap());
    let temp = hosts.join(inspector_core::pxe::dnsmasq::temp_name(
        &file,
        std::process::id(),
    ));
    std::fs::write(&temp, format!("{mac}\n")).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !bed.link.lease(&mac).await,
        "a temporary file is not an entry"
    );
    std::fs::rename(&temp, hosts.join(&mac)).unwrap();
    eventually(
        "dnsmasq read the renamed file",
        Duration::from_secs(5),
        || {
            bed.log()
                .contains(&format!("read {}", hosts.join(&mac).display()))
        },
    )
    .await;
    assert!(
        bed.link.lease(&mac).await,
        "the renamed file allows the MAC"
    );
    assert!(!bed.log().contains(&temp.display().to_string()));
}

fn hostsdir_snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// While Ironic cannot be reached the files stay as they are; once it is
/// back, the next periodic sync applies what changed meanwhile.
#[tokio::test]
#[cfg_attr(
    not(all(bed_pxe, bed_ironic)),
    ignore = "needs the test bed (root, dnsmasq, iptables, Ironic): run scripts/test.sh"
)]
async fn ironic_outage_keeps_the_files_and_the_next_sync_catches_up() {
    let bed = Bed::new();
    let ironic = Ironic::new();
    let proxy = SwitchableProxy::start(&env("INSPECTOR_TEST_IRONIC_URL")).await;
    let (node, mac) = ironic.node_with_port().await;
    let app = TestApp::with_ironic(|c| {
        bed.configure(c);
        c.ironic.client.endpoint_override = Some(proxy.url.clone());
        c.ironic.max_retries = 0;
        c.pxe_filter.sync_period = 1;
    })
    .await;
    start(&app, &node).await;
    assert_eq!(bed.file(&mac), allow(&mac));

    proxy.set_up(false);
    // Waits for a periodic sync that may be running, and cannot reach Ironic.
    assert_eq!(app.inspector.sync_pxe_filter().await, Ok(()));
    let before = hostsdir_snapshot(&bed.hostsdir());
    let (_, new_mac) = ironic.node_with_port().await;
    assert_eq!(app.inspector.sync_pxe_filter().await, Ok(()));
    // Several periodic syncs fail to reach Ironic meanwhile.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(hostsdir_snapshot(&bed.hostsdir()), before);
    assert!(
        bed.link.lease(&mac).await,
        "still allowed during the outage"
    );

    proxy.set_up(true);
    eventually("the new port is denied", Duration::from_secs(15), || {
        bed.file(&new_mac) == deny(&new_mac)
    })
    .await;
    assert_eq!(bed.file(&mac), allow(&mac));
    assert!(!bed.link.lease(&new_mac).await);
}

/// Starting while Ironic is down closes the filter (discovery would
/// otherwise let every unknown host in); the first sync that reaches
/// Ironic opens it as configured.
#[tokio::test]
#[cfg_attr(
    not(all(bed_pxe, bed_ironic)),
    ignore = "needs the test bed (root, dnsmasq, iptables, Ironic): run scripts/test.sh"
)]
async fn starting_without_ironic_fails_closed() {
    let bed = Bed::new();
    let ironic = Ironic::new();
    let proxy = SwitchableProxy::start(&env("INSPECTOR_TEST_IRONIC_URL")).await;
    let (_, mac) = ironic.node_with_port().await;
    proxy.set_up(false);
    let app = TestApp::with_ironic(|c| {
        bed.configure(c);
        c.ironic.client.endpoint_override = Some(proxy.url.clone());
        c.ironic.max_retries = 0;
        c.pxe_filter.sync_period = 1;
        c.processing.node_not_found_hook = Some("enroll".into());
    })
    .await;
    assert_eq!(
        hostsdir_snapshot(&bed.hostsdir()),
        [(
            "unknown_hosts_filter".to_string(),
            WILDCARD_DENY.to_string()
        )]
    );
    assert!(
        !bed.link.lease(&random_mac()).await,
        "closed while Ironic is unknown"
    );

    proxy.set_up(true);
    eventually(
        "discovery opens the wildcard",
        Duration::from_secs(15),
        || bed.file("unknown_hosts_filter").as_deref() == Some(WILDCARD_ALLOW),
    )
    .await;
    assert_eq!(bed.file(&mac), deny(&mac));
    assert!(
        bed.link.lease(&random_mac()).await,
        "discovery: unknown hosts boot"
    );
    assert!(!bed.link.lease(&mac).await, "known, idle nodes do not");
    drop(app);
}

/// An allow entry left in the hosts directory before start (by hand, or by
/// a run that crashed) for a machine Ironic does not know: it would win over
/// the wildcard deny, so dnsmasq would serve that machine while nothing is
/// introspected. The start removes it before dnsmasq runs.
#[tokio::test]
#[cfg_attr(
    not(all(bed_pxe, bed_ironic)),
    ignore = "needs the test bed (root, dnsmasq, iptables, Ironic): run scripts/test.sh"
)]
async fn a_stale_allow_entry_does_not_survive_start_up() {
    let bed = Bed::new();
    let ironic = Ironic::new();
    let (_, idle_mac) = ironic.node_with_port().await;
    let stranger = random_mac();
    bed.write_allow(&stranger);

    let _app = TestApp::with_ironic(|c| {
        bed.configure(c);
        c.pxe_filter.sync_period = 600;
    })
    .await;
    assert!(bed.dnsmasq.running(), "the start command started dnsmasq");
    assert_eq!(bed.file(&stranger), None, "the stale entry is gone");
    assert_eq!(bed.file(&idle_mac), deny(&idle_mac));
    assert!(
        !bed.link.lease(&stranger).await,
        "no introspection: the stale entry's machine is denied"
    );
}

/// Across a restart, the entry of a node still under introspection is kept
/// as it is (the first sync re-affirms it) and its machine still gets a
/// lease; a stale allow entry written meanwhile for an unknown machine does
/// not (unknown machines are denied here even during introspection).
#[tokio::test]
#[cfg_attr(
    not(all(bed_pxe, bed_ironic)),
    ignore = "needs the test bed (root, dnsmasq, iptables, Ironic): run scripts/test.sh"
)]
async fn a_restart_keeps_introspected_entries_and_drops_stale_ones() {
    let bed = Bed::new();
    let ironic = Ironic::new();
    let (node, mac) = ironic.node_with_port().await;
    let stranger = random_mac();
    // The first run filters nothing: the node only has to be waiting.
    let app = TestApp::with_ironic(|c| c.pxe_filter.sync_period = 600).await;
    start(&app, &node).await;

    // What the previous run's filter left, plus a stale entry.
    let hosts = bed.hostsdir();
    bed.write_allow(&mac);
    bed.write_allow(&stranger);
    let inode = |name: &str| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(hosts.join(name)).unwrap().ino()
    };
    let kept_inode = inode(&mac);

    let mut app = app;
    bed.configure(&mut app.config);
    app.config.pxe_filter.deny_unknown_macs = true;
    let app = app.restart().await;
    assert!(bed.dnsmasq.running(), "the start command started dnsmasq");
    assert_eq!(
        app.wait_for_state(&node, "waiting", Duration::from_secs(5))
            .await["state"],
        "waiting"
    );
    assert_eq!(bed.file(&mac), allow(&mac));
    assert_eq!(inode(&mac), kept_inode, "the re-affirmed entry was kept");
    assert_eq!(bed.file(&stranger), None, "the stale entry is gone");
    assert_eq!(
        bed.file("unknown_hosts_filter").as_deref(),
        Some(WILDCARD_DENY)
    );
    assert!(
        bed.link.lease(&mac).await,
        "under introspection: still allowed"
    );
    assert!(
        !bed.link.lease(&stranger).await,
        "the stale entry's machine is denied"
    );
}

/// A dnsmasq run outside the service (no start command) has read a stale
/// allow entry before the service starts. dnsmasq keeps serving an entry
/// whose file is deleted, so the start rewrites it to deny, and the next
/// sync removes the file.
#[tokio::test]
#[cfg_attr(
    not(bed_pxe),
    ignore = "needs the test bed (root, dnsmasq, iptables): run scripts/test.sh"
)]
async fn a_running_dnsmasq_stops_serving_a_stale_allow_entry_at_start() {
    let bed = Bed::new();
    let stranger = random_mac();
    let hosts = bed.hostsdir();
    std::fs::write(hosts.join("unknown_hosts_filter"), WILDCARD_DENY).unwrap();
    bed.write_allow(&stranger);
    bed.run_dnsmasq().await;
    assert!(
        bed.link.lease(&stranger).await,
        "before the start, dnsmasq serves the stale entry"
    );

    let app = TestApp::with_ironic(|c| {
        c.pxe_filter.driver = PxeDriver::Dnsmasq;
        c.dnsmasq_pxe_filter.dhcp_hostsdir = hosts.display().to_string();
        c.pxe_filter.sync_period = 600;
    })
    .await;
    assert_eq!(bed.file(&stranger), deny(&stranger));
    assert!(
        !bed.link.lease(&stranger).await,
        "the running dnsmasq no longer serves it"
    );
    assert_eq!(app.inspector.sync_pxe_filter().await, Ok(()));
    assert_eq!(bed.file(&stranger), None, "the stale file is gone");
    assert!(!bed.link.lease(&stranger).await, "and stays denied");
}
