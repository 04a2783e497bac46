//! The iptables driver with real iptables, each test in its own network
//! namespace (`[pxe_filter] command_prefix = ip netns exec <ns>`), checked
//! with `iptables -S` / `ip6tables -S`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use inspector::pxe_filter::iptables::IptablesFilter;
use inspector::pxe_filter::runner::CommandRunner;
use inspector_core::conf::{Config, IpVersion, Iptables, PxeDriver};
use inspector_core::pxe::Mac;
use inspector_core::pxe::iptables::Rules;

use super::{Netns, SwitchableProxy, abort, eventually, require_tools, start};
use crate::bed::{Ironic, env};
use crate::helpers::{TestApp, json_with_status};
use crate::processing::{Machine, post_continue};

const IFACE: &str = "pxe-dhcp0";
const POLICIES: [&str; 3] = ["-p input accept", "-p forward accept", "-p output accept"];

fn configure(ns: &Netns, c: &mut Config) {
    c.pxe_filter.driver = PxeDriver::Iptables;
    c.pxe_filter.command_prefix = ns.prefix();
    c.pxe_filter.sync_period = 600;
    c.iptables.dnsmasq_interface = IFACE.into();
}

fn listing(extra: &[String]) -> Vec<String> {
    POLICIES
        .iter()
        .map(|s| s.to_string())
        .chain(extra.iter().cloned())
        .collect()
}

fn jump(port: u16) -> String {
    format!("-a input -i {IFACE} -p udp -m udp --dport {port} -j ironic-inspector")
}

/// The whole IPv4 listing when DHCP is rejected.
fn rejecting() -> Vec<String> {
    listing(&[
        "-n ironic-inspector".into(),
        jump(67),
        "-a ironic-inspector -j reject --reject-with icmp-port-unreachable".into(),
    ])
}

/// The MACs of the chain's per-MAC rules when the listing is a well-formed
/// filtering chain: hooked once, no temp chain left, every rule `<target>`
/// for one MAC, and `final_target` last.
fn try_filtered_macs(
    rules: &[String],
    port: u16,
    target: &str,
    final_target: &str,
) -> Result<BTreeSet<String>, String> {
    let head_ok = rules.len() >= 6
        && rules[..3] == POLICIES
        && rules[3] == "-n ironic-inspector"
        && rules[4] == jump(port)
        && rules.last() == Some(&format!("-a ironic-inspector -j {final_target}"));
    if !head_ok {
        return Err(format!("not a filtering chain: {rules:#?}"));
    }
    let mut macs = BTreeSet::new();
    for rule in &rules[5..rules.len() - 1] {
        let mac = rule
            .strip_prefix("-a ironic-inspector -m mac --mac-source ")
            .and_then(|r| r.strip_suffix(&format!(" -j {target}")))
            .filter(|mac| Mac::parse(mac).is_some())
            .ok_or_else(|| format!("unexpected rule {rule:?}"))?;
        if !macs.insert(mac.to_string()) {
            return Err(format!("duplicate rule {rule}"));
        }
    }
    Ok(macs)
}

fn filtered_macs(
    rules: &[String],
    port: u16,
    target: &str,
    final_target: &str,
) -> BTreeSet<String> {
    try_filtered_macs(rules, port, target, final_target).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_pxe, bed_ironic)),
    ignore = "needs the test bed (root, dnsmasq, iptables, Ironic): run scripts/test.sh"
)]
async fn chain_follows_introspection() {
    require_tools();
    let ns = Netns::new();
    let ironic = Ironic::new();
    let m = Machine::new();
    let node = m.node(&ironic).await;
    ironic.create_port(&node, &m.pxe).await;
    let (_, idle_mac) = ironic.node_with_port().await;

    let app = TestApp::with_ironic(|c| configure(&ns, c)).await;
    assert_eq!(ns.rules("iptables"), rejecting());

    start(&app, &node).await;
    let dropped = filtered_macs(&ns.rules("iptables"), 67, "drop", "accept");
    assert!(dropped.contains(&idle_mac), "{dropped:?}");
    assert!(!dropped.contains(&m.pxe), "{dropped:?}");

    abort(&app, &node).await;
    eventually("DHCP rejected after abort", Duration::from_secs(10), || {
        ns.rules("iptables") == rejecting()
    })
    .await;

    start(&app, &node).await;
    assert!(!filtered_macs(&ns.rules("iptables"), 67, "drop", "accept").contains(&m.pxe));
    json_with_status(post_continue(&app, &m.data()).await, 200).await;
    app.wait_for_state(&node, "finished", Duration::from_secs(30))
        .await;
    eventually(
        "DHCP rejected after processing",
        Duration::from_secs(10),
        || ns.rules("iptables") == rejecting(),
    )
    .await;

    app.inspector.shutdown(Duration::from_secs(10)).await;
    assert_eq!(ns.rules("iptables"), listing(&[]));
}

/// `deny_unknown_macs` over IPv6: ip6tables, DHCPv6's port, only the
/// introspected node's MAC accepted; and the same allow list is applied
/// again after an idle period (upstream left REJECT in place).
#[tokio::test]
#[cfg_attr(
    not(all(bed_pxe, bed_ironic)),
    ignore = "needs the test bed (root, dnsmasq, iptables, Ironic): run scripts/test.sh"
)]
async fn deny_unknown_macs_over_ipv6() {
    require_tools();
    let ns = Netns::new();
    let ironic = Ironic::new();
    let (node, mac) = ironic.node_with_port().await;
    let app = TestApp::with_ironic(|c| {
        configure(&ns, c);
        c.pxe_filter.deny_unknown_macs = true;
        c.iptables.ip_version = IpVersion::V6;
    })
    .await;
    let rejecting_v6 = listing(&[
        "-n ironic-inspector".into(),
        jump(547),
        "-a ironic-inspector -j reject --reject-with icmp6-port-unreachable".into(),
    ]);
    assert_eq!(ns.rules("ip6tables"), rejecting_v6);
    assert_eq!(ns.rules("iptables"), listing(&[]), "IPv4 is left alone");

    for round in 0..2 {
        start(&app, &node).await;
        let accepted = filtered_macs(&ns.rules("ip6tables"), 547, "accept", "drop");
        assert_eq!(accepted, BTreeSet::from([mac.clone()]), "round {round}");
        abort(&app, &node).await;
        eventually(
            &format!("DHCPv6 rejected after abort, round {round}"),
            Duration::from_secs(10),
            || ns.rules("ip6tables") == rejecting_v6,
        )
        .await;
    }
    app.inspector.shutdown(Duration::from_secs(10)).await;
    assert_eq!(ns.rules("ip6tables"), listing(&[]));
}

fn macs(range: std::ops::Range<u32>) -> BTreeSet<Mac> {
    range
        .map(|i| {
            let b = i.to_be_bytes();
            Mac::parse(&format!(
                "02:00:{:02x}:{:02x}:{:02x}:{:02x}",
                b[0], b[1], b[2], b[3]
            ))
            .unwrap()
        })
        .collect()
}

fn as_strings(set: &BTreeSet<Mac>) -> BTreeSet<String> {
    set.iter().map(|m| m.to_string()).collect()
}

/// The driver alone, on thousands of MACs: leftovers of a previous run are
/// gone after the first sync, the first chain comes from one iptables-restore, MAC
/// changes edit it in place, an edit that finds the chain changed behind
/// its back falls back to a rebuild, and tear-down leaves nothing.
#[tokio::test]
#[cfg_attr(
    not(bed_pxe),
    ignore = "needs the test bed (root, dnsmasq, iptables): run scripts/test.sh"
)]
async fn driver_builds_swaps_and_edits_large_chains() {
    require_tools();
    let ns = Netns::new();
    // A previous run died mid-swap: both chains exist and are hooked in.
    for args in [
        vec!["iptables", "-N", "ironic-inspector"],
        vec!["iptables", "-A", "ironic-inspector", "-j", "ACCEPT"],
        vec!["iptables", "-N", "ironic-inspector_temp"],
        vec!["iptables", "-A", "ironic-inspector_temp", "-j", "DROP"],
    ] {
        ns.exec(&args);
    }
    for chain in ["ironic-inspector", "ironic-inspector_temp"] {
        ns.exec(&[
            "iptables", "-I", "INPUT", "-i", IFACE, "-p", "udp", "--dport", "67", "-j", chain,
        ]);
    }
    let words: Vec<String> = ns.prefix().split(' ').map(String::from).collect();
    let runner = Arc::new(CommandRunner::new(words, Duration::from_secs(60)));
    let conf = Iptables {
        dnsmasq_interface: IFACE.into(),
        ..Iptables::default()
    };
    let mut filter = IptablesFilter::new(&conf, runner).unwrap();
    filter.init().await.unwrap();
    // As upstream: init recreates the main chain; the temp chain goes with
    // the first rebuild, which cleans it before building.
    let rules = ns.rules("iptables");
    assert!(
        rules.contains(&"-n ironic-inspector".to_string()),
        "{rules:#?}"
    );
    assert!(
        !rules.contains(&"-a ironic-inspector -j accept".to_string()),
        "{rules:#?}"
    );

    let first = macs(0..3000);
    assert!(filter.apply(Rules::Drop(first.clone())).await.unwrap());
    let mut expected = vec!["-n ironic-inspector".to_string(), jump(67)];
    expected.extend(
        first
            .iter()
            .map(|m| format!("-a ironic-inspector -m mac --mac-source {m} -j drop")),
    );
    expected.push("-a ironic-inspector -j accept".into());
    assert_eq!(ns.rules("iptables"), listing(&expected), "sorted, as built");
    assert!(
        !filter.apply(Rules::Drop(first.clone())).await.unwrap(),
        "no change, no command"
    );

    // 3 MACs leave the list, 2 join it: an in-place edit.
    let second: BTreeSet<Mac> = macs(3..3002);
    assert!(filter.apply(Rules::Drop(second.clone())).await.unwrap());
    assert_eq!(
        filtered_macs(&ns.rules("iptables"), 67, "drop", "accept"),
        as_strings(&second)
    );

    // Someone flushed the chain: the edit fails and the chain is rebuilt.
    ns.exec(&["iptables", "-F", "ironic-inspector"]);
    let third = macs(5..3003);
    assert!(filter.apply(Rules::Drop(third.clone())).await.unwrap());
    assert_eq!(
        filtered_macs(&ns.rules("iptables"), 67, "drop", "accept"),
        as_strings(&third)
    );

    assert!(filter.apply(Rules::RejectAll).await.unwrap());
    assert_eq!(ns.rules("iptables"), rejecting());
    filter.tear_down().await;
    assert_eq!(ns.rules("iptables"), listing(&[]));
}

/// While Ironic cannot be reached the chain stays; once it is back, the
/// next periodic sync adds the port created meanwhile.
#[tokio::test]
#[cfg_attr(
    not(all(bed_pxe, bed_ironic)),
    ignore = "needs the test bed (root, dnsmasq, iptables, Ironic): run scripts/test.sh"
)]
async fn ironic_outage_keeps_the_chain_and_the_next_sync_catches_up() {
    require_tools();
    let ns = Netns::new();
    let ironic = Ironic::new();
    let proxy = SwitchableProxy::start(&env("INSPECTOR_TEST_IRONIC_URL")).await;
    let (node, mac) = ironic.node_with_port().await;
    let app = TestApp::with_ironic(|c| {
        configure(&ns, c);
        c.ironic.client.endpoint_override = Some(proxy.url.clone());
        c.ironic.max_retries = 0;
        c.pxe_filter.sync_period = 1;
    })
    .await;
    start(&app, &node).await;

    proxy.set_up(false);
    // Waits for a periodic sync that may be running, and cannot reach Ironic.
    assert_eq!(app.inspector.sync_pxe_filter().await, Ok(()));
    let before = ns.rules("iptables");
    assert!(!filtered_macs(&before, 67, "drop", "accept").contains(&mac));
    let (_, new_mac) = ironic.node_with_port().await;
    assert_eq!(app.inspector.sync_pxe_filter().await, Ok(()));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(ns.rules("iptables"), before);

    proxy.set_up(true);
    eventually("the new port is dropped", Duration::from_secs(15), || {
        try_filtered_macs(&ns.rules("iptables"), 67, "drop", "accept")
            .is_ok_and(|macs| macs.contains(&new_mac))
    })
    .await;
    assert!(!filtered_macs(&ns.rules("iptables"), 67, "drop", "accept").contains(&mac));
}

/// Starting while Ironic is down rejects DHCP even with discovery; the
/// first sync that reaches Ironic opens it to unknown machines.
#[tokio::test]
#[cfg_attr(
    not(all(bed_pxe, bed_ironic)),
    ignore = "needs the test bed (root, dnsmasq, iptables, Ironic): run scripts/test.sh"
)]
async fn starting_without_ironic_rejects_until_it_answers() {
    require_tools();
    let ns = Netns::new();
    let ironic = Ironic::new();
    let proxy = SwitchableProxy::start(&env("INSPECTOR_TEST_IRONIC_URL")).await;
    let (_, mac) = ironic.node_with_port().await;
    proxy.set_up(false);
    let _app = TestApp::with_ironic(|c| {
        configure(&ns, c);
        c.ironic.client.endpoint_override = Some(proxy.url.clone());
        c.ironic.max_retries = 0;
        c.pxe_filter.sync_period = 1;
        c.processing.node_not_found_hook = Some("enroll".into());
    })
    .await;
    assert_eq!(ns.rules("iptables"), rejecting());

    proxy.set_up(true);
    eventually("discovery opens DHCP", Duration::from_secs(15), || {
        try_filtered_macs(&ns.rules("iptables"), 67, "drop", "accept")
            .is_ok_and(|macs| macs.contains(&mac))
    })
    .await;
}
