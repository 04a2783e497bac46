//! PXE filtering with the real tools (upstream-behaviour §pxe): a real dnsmasq serving DHCP
//! in a network namespace to a real DHCP client (busybox udhcpc) in another,
//! and real iptables chains built in a namespace. Everything runs as root
//! in namespaces created and removed by each test (unique names, so tests
//! run in parallel); guards clean up even when a test fails. A missing tool
//! fails the test: scripts/testbed/install.sh installs them.

mod dnsmasq;
mod iptables;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::TestApp;

const TOOLS: &[&str] = &[
    "ip",
    "dnsmasq",
    "busybox",
    "iptables",
    "ip6tables",
    "iptables-restore",
    "ip6tables-restore",
];

fn find_in_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// Fails (never skips) when the test bed lacks a tool or root.
pub fn require_tools() {
    for tool in TOOLS {
        assert!(
            find_in_path(tool).is_some(),
            "{tool} is not installed: run scripts/testbed/install.sh (Debian packages iproute2, \
             dnsmasq-base, busybox, iptables)"
        );
    }
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(String::from))
        });
    assert_eq!(
        uid.as_deref(),
        Some("0"),
        "the PXE filter tests create network namespaces and must run as root (as CI does)"
    );
}

/// Runs a command to completion; its output, or a panic naming it.
pub fn sh(args: &[&str]) -> String {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A name unique to this process and call, at most `12` characters.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}{}x{n}", std::process::id() % 100_000)
}

/// A network namespace, deleted (with its interfaces) on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Self {
        let name = format!("insp-{}", unique("pxe"));
        sh(&["ip", "netns", "add", &name]);
        let ns = Self { name };
        ns.exec(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    pub fn exec(&self, args: &[&str]) -> String {
        let mut full = vec!["ip", "netns", "exec", &self.name];
        full.extend_from_slice(args);
        sh(&full)
    }

    /// `ip netns exec <name>`, as a `[pxe_filter] command_prefix`.
    pub fn prefix(&self) -> String {
        format!("ip netns exec {}", self.name)
    }

    /// `iptables -S` (or `ip6tables -S`), one rule per line.
    pub fn rules(&self, program: &str) -> Vec<String> {
        self.exec(&[program, "-w", "-S"])
            .lines()
            .map(|l| l.to_ascii_lowercase())
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A DHCP server namespace and a client namespace joined by a veth pair.
pub struct DhcpLink {
    pub server: Netns,
    pub client: Netns,
    pub server_if: String,
    pub client_if: String,
}

pub const SERVER_ADDRESS: &str = "10.213.0.1/24";

impl DhcpLink {
    pub fn new() -> Self {
        let server = Netns::new();
        let client = Netns::new();
        let server_if = unique("pvs");
        let client_if = unique("pvc");
        // Both ends are created inside the namespaces: nothing is ever left
        // in the host's namespace.
        sh(&[
            "ip",
            "link",
            "add",
            &server_if,
            "netns",
            &server.name,
            "type",
            "veth",
            "peer",
            "name",
            &client_if,
            "netns",
            &client.name,
        ]);
        server.exec(&["ip", "addr", "add", SERVER_ADDRESS, "dev", &server_if]);
        server.exec(&["ip", "link", "set", &server_if, "up"]);
        client.exec(&["ip", "link", "set", &client_if, "up"]);
        Self {
            server,
            client,
            server_if,
            client_if,
        }
    }

    /// Whether a DHCP client with this MAC gets a lease (a few seconds at
    /// most: two discovers a second apart).
    pub async fn lease(&self, mac: &str) -> bool {
        self.client
            .exec(&["ip", "link", "set", &self.client_if, "down"]);
        self.client
            .exec(&["ip", "link", "set", &self.client_if, "address", mac]);
        self.client
            .exec(&["ip", "link", "set", &self.client_if, "up"]);
        let output = tokio::time::timeout(
            Duration::from_secs(20),
            tokio::process::Command::new("ip")
                .args(["netns", "exec", &self.client.name, "busybox", "udhcpc"])
                .args([
                    "-i",
                    &self.client_if,
                    "-n",
                    "-q",
                    "-t",
                    "2",
                    "-T",
                    "1",
                    "-A",
                    "1",
                ])
                .args(["-s", "/bin/true"])
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("udhcpc finishes")
        .expect("udhcpc runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        text.contains("obtained")
    }

    /// The dnsmasq command line serving this link from `hostsdir`; it
    /// daemonizes and records its pid in `<state>/dnsmasq.pid`.
    pub fn dnsmasq_command(&self, hostsdir: &Path, state: &Path) -> String {
        format!(
            "{prefix} dnsmasq --conf-file=/dev/null --port=0 --interface={iface} --bind-interfaces \
             --dhcp-range=10.213.0.10,10.213.0.200,255.255.255.0,2m --dhcp-hostsdir={hosts} \
             --dhcp-leasefile={state}/leases --pid-file={state}/dnsmasq.pid \
             --log-facility={state}/dnsmasq.log --log-dhcp --no-ping --user=root --group=root",
            prefix = self.server.prefix(),
            iface = self.server_if,
            hosts = hostsdir.display(),
            state = state.display(),
        )
    }
}

/// The dnsmasq a test started (through the driver's start command), killed
/// on drop if it still runs.
pub struct DnsmasqGuard {
    pub pid_file: PathBuf,
}

impl DnsmasqGuard {
    pub fn pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(&self.pid_file)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        // Only that dnsmasq: its command line names our pid file.
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let pid_file = self.pid_file.display().to_string();
        String::from_utf8_lossy(&cmdline)
            .contains(&pid_file)
            .then_some(pid)
    }

    pub fn running(&self) -> bool {
        self.pid().is_some()
    }
}

impl Drop for DnsmasqGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").arg(pid.to_string()).output();
        }
    }
}

/// A TCP proxy in front of Ironic that can be switched off: new
/// connections are refused and open ones cut, as when Ironic is down.
pub struct SwitchableProxy {
    pub url: String,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: JoinHandle<()>,
}

impl SwitchableProxy {
    pub async fn start(target_url: &str) -> Self {
        let target: SocketAddr = target_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("Ironic URL is http://<ip>:<port>");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let up = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (up2, connections2) = (up.clone(), connections.clone());
        let acceptor = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections2.lock().unwrap().push(task);
            }
        });
        Self {
            url,
            up,
            connections,
            acceptor,
        }
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            for task in self.connections.lock().unwrap().drain(..) {
                task.abort();
            }
        }
    }
}

impl Drop for SwitchableProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// Polls `check` until it holds (bounded).
pub async fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    crate::helpers::eventually(what, limit, || std::future::ready(check())).await
}

/// Starts introspection without managed boot and waits for `waiting`.
async fn start(app: &TestApp, node: &str) {
    app.start_introspection(node, "?manage_boot=false").await;
    app.wait_for_state(node, "waiting", Duration::from_secs(30))
        .await;
}

/// Abort finishes in the background, and its sync right after the state
/// changes: callers wait for the filter with `eventually`.
async fn abort(app: &TestApp, node: &str) {
    let response = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/introspection/{node}/abort"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    app.wait_for_state(node, "error", Duration::from_secs(30))
        .await;
}
