//! PXE filter cost with many known MACs (issue 5: 50,000 MACs, first sync
//! under a second, incremental changes proportional to the change).
//!
//!     cargo bench --bench pxe_filter -- [dnsmasq] [iptables] [--macs N] [--runs R] [--dir D]
//!
//! Times the drivers as the service runs them, minus listing Ironic's ports
//! (that is Ironic's cost, ~N/1000 paginated requests): the dnsmasq driver
//! on a temporary hosts directory (under `D`, default the system's temp
//! directory: creating 50,000 inodes costs what the file system makes it
//! cost, so compare a disk with tmpfs), the iptables driver on the real
//! iptables in a network namespace it creates and removes (root needed).
//! Each scenario runs `R` times; the median and the spread are printed.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use inspector::pxe_filter::dnsmasq::DnsmasqFilter;
use inspector::pxe_filter::iptables::IptablesFilter;
use inspector::pxe_filter::runner::CommandRunner;
use inspector_core::conf::{DnsmasqPxeFilter, Iptables};
use inspector_core::pxe::iptables::Rules;
use inspector_core::pxe::{Mac, MacSets, Policy, PortAddress, mac_sets};

const POLICY: Policy = Policy {
    deny_unknown_macs: false,
    discovery: false,
};

struct Timings {
    rows: Vec<(String, Vec<Duration>)>,
}

impl Timings {
    fn record(&mut self, name: &str, took: Duration) {
        match self.rows.iter_mut().find(|(n, _)| n == name) {
            Some((_, samples)) => samples.push(took),
            None => self.rows.push((name.to_string(), vec![took])),
        }
    }

    fn print(&self, title: &str) {
        println!("\n{title}");
        println!(
            "  {:<48} {:>10} {:>10} {:>10}",
            "scenario", "median", "min", "max"
        );
        for (name, samples) in &self.rows {
            let mut sorted = samples.clone();
            sorted.sort();
            let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
            println!(
                "  {:<48} {:>10} {:>10} {:>10}",
                name,
                ms(sorted[sorted.len() / 2]),
                ms(sorted[0]),
                ms(sorted[sorted.len() - 1])
            );
        }
    }
}

fn macs(count: usize) -> Vec<Mac> {
    (0..count as u32)
        .map(|i| {
            let b = i.to_be_bytes();
            Mac::parse(&format!(
                "52:54:{:02x}:{:02x}:{:02x}:{:02x}",
                b[0], b[1], b[2], b[3]
            ))
            .expect("valid MAC")
        })
        .collect()
}

fn sets(all: &[Mac], active: &[Mac]) -> MacSets {
    let active: HashSet<Mac> = active.iter().cloned().collect();
    MacSets {
        ironic: all.iter().cloned().collect(),
        inactive: all
            .iter()
            .filter(|m| !active.contains(*m))
            .cloned()
            .collect(),
        active,
        rejected: Vec::new(),
    }
}

async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = f.await;
    (out, started.elapsed())
}

fn bench_classification(all: &[Mac], runs: usize) {
    let addresses: Vec<String> = all.iter().map(|m| m.to_string()).collect();
    let ports: Vec<PortAddress<'_>> = addresses
        .iter()
        .map(|a| PortAddress {
            address: a,
            client_id: None,
        })
        .collect();
    let active: HashSet<String> = addresses.iter().take(100).cloned().collect();
    let mut t = Timings { rows: Vec::new() };
    for _ in 0..runs {
        let started = Instant::now();
        let sets = mac_sets(&ports, &active, &[]);
        t.record("classify the ports (every sync)", started.elapsed());
        assert_eq!(sets.ironic.len(), all.len());
    }
    t.print(&format!("core, {} ports", all.len()));
}

async fn bench_dnsmasq(all: &[Mac], runs: usize, parent: &Path) {
    let mut t = Timings { rows: Vec::new() };
    let runner = Arc::new(CommandRunner::new(Vec::new(), Duration::from_secs(60)));
    for _ in 0..runs {
        let dir = tempfile::tempdir_in(parent).expect("temp dir");
        let conf = DnsmasqPxeFilter {
            dhcp_hostsdir: dir.path().display().to_string(),
            ..DnsmasqPxeFilter::default()
        };
        let mut filter = DnsmasqFilter::new(&conf, runner.clone()).expect("driver");
        let idle = sets(all, &[]);
        let (written, took) = timed(async {
            filter.init().await.expect("init");
            filter.apply(&idle, &POLICY, true).await.expect("sync")
        })
        .await;
        assert_eq!(written, all.len() + 1);
        t.record("first sync (purge + all files)", took);
        let (written, took) = timed(filter.apply(&idle, &POLICY, true)).await;
        assert_eq!(written.expect("sync"), 0);
        t.record("sync without change", took);
        for flips in [1, 100] {
            let flipped = sets(all, &all[..flips]);
            let (written, took) = timed(filter.apply(&flipped, &POLICY, true)).await;
            assert_eq!(written.expect("sync"), flips);
            t.record(&format!("{flips} MAC(s) allowed"), took);
            let (written, took) = timed(filter.apply(&idle, &POLICY, true)).await;
            assert_eq!(written.expect("sync"), flips);
            t.record(&format!("{flips} MAC(s) denied again"), took);
        }
        check_files(dir.path(), all.len() + 1);
        // A restart: the purge keeps the exact entries, nothing is rewritten.
        let mut restarted = DnsmasqFilter::new(&conf, runner.clone()).expect("driver");
        let (written, took) = timed(async {
            restarted.init().await.expect("init");
            restarted.apply(&idle, &POLICY, true).await.expect("sync")
        })
        .await;
        assert_eq!(written, 0);
        t.record("restart (purge keeping entries + first sync)", took);
    }
    t.print(&format!(
        "dnsmasq driver, {} MACs, hosts directory in {}",
        all.len(),
        parent.display()
    ));
}

fn check_files(dir: &Path, expected: usize) {
    let count = std::fs::read_dir(dir).expect("hosts dir").count();
    assert_eq!(count, expected, "no temporary file left behind");
}

struct Namespace(String);

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .output();
    }
}

async fn bench_iptables(all: &[Mac], runs: usize) {
    let name = format!("insp-bench-{}", std::process::id());
    let created = std::process::Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        created,
        "cannot create a network namespace: the iptables benchmark needs root and iproute2 \
         (scripts/testbed/install.sh installs iproute2 and iptables)"
    );
    let _ns = Namespace(name.clone());
    let prefix = vec!["ip".into(), "netns".into(), "exec".into(), name];
    let runner = Arc::new(CommandRunner::new(prefix, Duration::from_secs(120)));
    let conf = Iptables {
        dnsmasq_interface: "pxe0".into(),
        ..Iptables::default()
    };
    let mut t = Timings { rows: Vec::new() };
    for _ in 0..runs {
        let mut filter = IptablesFilter::new(&conf, runner.clone()).expect("driver");
        let full: Rules = Rules::Drop(all.iter().cloned().collect());
        let (changed, took) = timed(async {
            filter.init().await.expect("init");
            filter.apply(full.clone()).await.expect("sync")
        })
        .await;
        assert!(changed);
        t.record("first sync (init + chain built and swapped in)", took);
        let (changed, took) = timed(filter.apply(full.clone())).await;
        assert!(!changed.expect("sync"));
        t.record("sync without change", took);
        for flips in [1, 100] {
            let fewer = Rules::Drop(all[flips..].iter().cloned().collect());
            let (changed, took) = timed(filter.apply(fewer)).await;
            assert!(changed.expect("sync"));
            t.record(&format!("{flips} MAC(s) allowed (rules deleted)"), took);
            let (changed, took) = timed(filter.apply(full.clone())).await;
            assert!(changed.expect("sync"));
            t.record(
                &format!("{flips} MAC(s) denied again (rules inserted)"),
                took,
            );
        }
        filter.apply(Rules::RejectAll).await.expect("reject");
        let (changed, took) = timed(filter.apply(full.clone())).await;
        assert!(changed.expect("sync"));
        t.record("REJECT -> full chain (rebuild)", took);
        let (_, took) = timed(filter.tear_down()).await;
        t.record("tear down", took);
    }
    t.print(&format!(
        "iptables driver (real iptables in a namespace), {} MACs",
        all.len()
    ));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let count = value("--macs", 50_000);
    let parent = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let runs = value("--runs", 5).max(1);
    let only: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| matches!(*a, "dnsmasq" | "iptables"))
        .collect();
    let wants = |d: &str| only.is_empty() || only.contains(&d);
    let all = macs(count);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    bench_classification(&all, runs);
    if wants("dnsmasq") {
        runtime.block_on(bench_dnsmasq(&all, runs, &parent));
    }
    if wants("iptables") {
        runtime.block_on(bench_iptables(&all, runs));
    }
}
