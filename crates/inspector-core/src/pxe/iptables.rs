//! The iptables driver's chain (upstream-behaviour §pxe-iptables). DHCP traffic arriving on
//! `dnsmasq_interface` (`-p udp --dport 67`, or 547 for IPv6) jumps to the
//! chain `firewall_chain`, which holds one of:
//!
//! * `-j REJECT` alone: no introspection runs and discovery is off;
//! * a `-m mac --mac-source <mac> -j DROP` rule per MAC of a port not under
//!   introspection, then `-j ACCEPT`;
//! * with `deny_unknown_macs`: a `-j ACCEPT` rule per MAC under
//!   introspection, then `-j DROP`.
//!
//! A new chain is built as `<chain>_temp` and swapped in, as upstream does,
//! but filled by one `iptables-restore --noflush` run instead of one process
//! per rule (50,000 ports would take minutes). When only the MAC list of
//! the chain in place changes, that chain is edited in one atomic
//! `iptables-restore --noflush` transaction instead of being rebuilt.

use std::collections::BTreeSet;

use super::{Mac, MacSets, Policy};
use crate::conf::{IpVersion, Iptables};

/// Longest chain name iptables accepts.
const MAX_CHAIN_NAME: usize = 28;
/// Longest interface name Linux accepts (`IFNAMSIZ` - 1).
const MAX_INTERFACE_NAME: usize = 15;
const TEMP_SUFFIX: &str = "_temp";

/// What the chain holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rules {
    /// Every DHCP packet is rejected.
    RejectAll,
    /// These MACs are dropped, everyone else accepted.
    Drop(BTreeSet<Mac>),
    /// Only these MACs are accepted (`deny_unknown_macs`).
    Accept(BTreeSet<Mac>),
}

impl Rules {
    /// The rules when nobody may boot, which need no MAC list (upstream's
    /// `_disable_dhcp`); `None` when DHCP is open and the MACs decide.
    pub fn when_closed(policy: &Policy, introspection_active: bool) -> Option<Rules> {
        (!policy.dhcp_open(introspection_active)).then_some(Rules::RejectAll)
    }

    /// The rules while DHCP is open.
    pub fn when_open(policy: &Policy, sets: &MacSets) -> Rules {
        if policy.deny_unknown_macs {
            Rules::Accept(sets.active.iter().cloned().collect())
        } else {
            Rules::Drop(sets.inactive.iter().cloned().collect())
        }
    }

    /// The target of the per-MAC rules and of the final rule.
    fn targets(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Rules::RejectAll => None,
            Rules::Drop(_) => Some(("DROP", "ACCEPT")),
            Rules::Accept(_) => Some(("ACCEPT", "DROP")),
        }
    }

    fn macs(&self) -> Option<&BTreeSet<Mac>> {
        match self {
            Rules::RejectAll => None,
            Rules::Drop(macs) | Rules::Accept(macs) => Some(macs),
        }
    }
}

/// How to get from the chain in place to the wanted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The chain already holds the rules.
    Nothing,
    /// Build a new chain and swap it in.
    Rebuild,
    /// Same kind of chain: delete and insert per-MAC rules in place.
    Edit { remove: Vec<Mac>, add: Vec<Mac> },
}

/// The change from `applied` (what the chain holds, `None` when unknown) to
/// `wanted`.
pub fn change(applied: Option<&Rules>, wanted: &Rules) -> Change {
    let Some(applied) = applied else {
        return Change::Rebuild;
    };
    if applied == wanted {
        return Change::Nothing;
    }
    match (applied, wanted) {
        (Rules::Drop(old), Rules::Drop(new)) | (Rules::Accept(old), Rules::Accept(new)) => {
            Change::Edit {
                remove: old.difference(new).cloned().collect(),
                add: new.difference(old).cloned().collect(),
            }
        }
        _ => Change::Rebuild,
    }
}

/// One step of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `iptables <args>`; a failure is only logged when `ignore_failure`.
    Run {
        args: Vec<String>,
        ignore_failure: bool,
    },
    /// `iptables-restore --noflush` reading `input`.
    Restore { input: String },
}

fn run(args: &[&str], ignore_failure: bool) -> Op {
    Op::Run {
        args: args.iter().map(|a| a.to_string()).collect(),
        ignore_failure,
    }
}

/// Names and commands of the chain, from the `[iptables]` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    ip_version: IpVersion,
    chain: String,
    temp_chain: String,
    interface: String,
}

/// Characters allowed in chain and interface names: enough for any sane
/// name, and nothing that `iptables-restore` would read as syntax.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '@' | '+' | '-')
}

fn check_name(option: &str, value: &str, max: usize) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("[iptables] {option} must not be empty"));
    }
    if value.len() > max {
        return Err(format!(
            "[iptables] {option} = {value:?} is longer than {max} characters"
        ));
    }
    if value.starts_with('-') || !value.chars().all(is_name_char) {
        return Err(format!(
            "[iptables] {option} = {value:?} may only hold letters, digits and _ . : @ + - (not first)"
        ));
    }
    Ok(())
}

impl Layout {
    /// Checks the names: the chain leaves room for `_temp` within iptables'
    /// 28 characters, and neither name can be mistaken for an option.
    pub fn new(conf: &Iptables) -> Result<Layout, String> {
        check_name(
            "firewall_chain",
            &conf.firewall_chain,
            MAX_CHAIN_NAME - TEMP_SUFFIX.len(),
        )?;
        check_name(
            "dnsmasq_interface",
            &conf.dnsmasq_interface,
            MAX_INTERFACE_NAME,
        )?;
        Ok(Layout {
            ip_version: conf.ip_version,
            chain: conf.firewall_chain.clone(),
            temp_chain: format!("{}{TEMP_SUFFIX}", conf.firewall_chain),
            interface: conf.dnsmasq_interface.clone(),
        })
    }

    /// `iptables` or `ip6tables`.
    pub fn program(&self) -> &'static str {
        match self.ip_version {
            IpVersion::V4 => "iptables",
            IpVersion::V6 => "ip6tables",
        }
    }

    /// `iptables-restore` or `ip6tables-restore`.
    pub fn restore_program(&self) -> &'static str {
        match self.ip_version {
            IpVersion::V4 => "iptables-restore",
            IpVersion::V6 => "ip6tables-restore",
        }
    }

    pub fn chain(&self) -> &str {
        &self.chain
    }

    pub fn temp_chain(&self) -> &str {
        &self.temp_chain
    }

    fn dhcp_port(&self) -> &'static str {
        match self.ip_version {
            IpVersion::V4 => "67",
            IpVersion::V6 => "547",
        }
    }

    /// `<op> INPUT -i <iface> -p udp --dport <port> -j <chain>`.
    fn jump(&self, op: &str, chain: &str, ignore_failure: bool) -> Op {
        run(
            &[
                op,
                "INPUT",
                "-i",
                &self.interface,
                "-p",
                "udp",
                "--dport",
                self.dhcp_port(),
                "-j",
                chain,
            ],
            ignore_failure,
        )
    }

    /// Unhooks, flushes and deletes a chain; each may fail (nothing there).
    fn clean_up(&self, chain: &str) -> Vec<Op> {
        vec![
            self.jump("-D", chain, true),
            run(&["-F", chain], true),
            run(&["-X", chain], true),
        ]
    }

    /// At start: whatever a previous run left is removed, then the chain is
    /// created, which fails without the privileges iptables needs.
    pub fn init_ops(&self) -> Vec<Op> {
        let mut ops = self.clean_up(&self.chain);
        ops.push(run(&["-N", &self.chain], false));
        ops
    }

    /// At exit: both chains go.
    pub fn tear_down_ops(&self) -> Vec<Op> {
        let mut ops = self.clean_up(&self.chain);
        ops.extend(self.clean_up(&self.temp_chain));
        ops
    }

    /// Builds the rules in the temp chain, hooks it in before the old chain
    /// is unhooked (no instant without the filter), then renames it.
    pub fn rebuild_ops(&self, rules: &Rules) -> Vec<Op> {
        let temp = self.temp_chain.as_str();
        let mut ops = self.clean_up(temp);
        let mut input = format!("*filter\n:{temp} - [0:0]\n");
        match (rules.targets(), rules.macs()) {
            (Some((per_mac, last)), Some(macs)) => {
                for mac in macs {
                    push_mac_rule(&mut input, "-A", temp, mac, per_mac);
                }
                input.push_str(&format!("-A {temp} -j {last}\n"));
            }
            _ => input.push_str(&format!("-A {temp} -j REJECT\n")),
        }
        input.push_str("COMMIT\n");
        ops.push(Op::Restore { input });
        ops.push(self.jump("-I", temp, false));
        ops.push(self.jump("-D", &self.chain, true));
        ops.push(run(&["-F", &self.chain], true));
        ops.push(run(&["-X", &self.chain], true));
        ops.push(run(&["-E", temp, &self.chain], false));
        ops
    }

    /// Edits the chain in place in one transaction: rules of `remove` are
    /// deleted, rules of `add` inserted first (the final rule stays last).
    /// `None` when `applied` has no per-MAC rules.
    pub fn edit_op(&self, applied: &Rules, remove: &[Mac], add: &[Mac]) -> Option<Op> {
        let (per_mac, _) = applied.targets()?;
        let chain = self.chain.as_str();
        let mut input = String::from("*filter\n");
        for mac in remove {
            push_mac_rule(&mut input, "-D", chain, mac, per_mac);
        }
        for mac in add {
            push_mac_rule(&mut input, "-I", &format!("{chain} 1"), mac, per_mac);
        }
        input.push_str("COMMIT\n");
        Some(Op::Restore { input })
    }
}

fn push_mac_rule(input: &mut String, op: &str, chain: &str, mac: &Mac, target: &str) {
    input.push_str(op);
    input.push(' ');
    input.push_str(chain);
    input.push_str(" -m mac --mac-source ");
    input.push_str(mac.as_str());
    input.push_str(" -j ");
    input.push_str(target);
    input.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> Mac {
        Mac::parse(s).unwrap()
    }

    fn layout() -> Layout {
        Layout::new(&Iptables {
            dnsmasq_interface: "br-ctlplane".into(),
            ..Iptables::default()
        })
        .unwrap()
    }

    fn args(op: &Op) -> String {
        match op {
            Op::Run {
                args,
                ignore_failure,
            } => format!(
                "{}{}",
                args.join(" "),
                if *ignore_failure { " (may fail)" } else { "" }
            ),
            Op::Restore { input } => format!("restore:\n{input}"),
        }
    }

    #[test]
    fn names_are_checked() {
        let with = |chain: &str, iface: &str| {
            Layout::new(&Iptables {
                firewall_chain: chain.into(),
                dnsmasq_interface: iface.into(),
                ..Iptables::default()
            })
        };
        assert!(with("ironic-inspector", "br-ctlplane").is_ok());
        assert!(with(&"c".repeat(23), "eth0").is_ok());
        assert!(with(&"c".repeat(24), "eth0").is_err());
        assert!(with("", "eth0").is_err());
        assert!(with("a b", "eth0").is_err());
        assert!(with("a\nCOMMIT", "eth0").is_err());
        assert!(with("-X", "eth0").is_err());
        assert!(with("chain", "eth+").is_ok());
        assert!(with("chain", "").is_err());
        assert!(with("chain", "abcdefghijklmnop").is_err());
        assert!(with("chain", "-j").is_err());
    }

    #[test]
    fn rebuild_matches_upstreams_command_sequence() {
        let rules = Rules::Drop([mac("52:54:00:00:00:02"), mac("52:54:00:00:00:01")].into());
        let ops: Vec<String> = layout().rebuild_ops(&rules).iter().map(args).collect();
        assert_eq!(
            ops,
            [
                "-D INPUT -i br-ctlplane -p udp --dport 67 -j ironic-inspector_temp (may fail)",
                "-F ironic-inspector_temp (may fail)",
                "-X ironic-inspector_temp (may fail)",
                "restore:\n*filter\n:ironic-inspector_temp - [0:0]\n\
                 -A ironic-inspector_temp -m mac --mac-source 52:54:00:00:00:01 -j DROP\n\
                 -A ironic-inspector_temp -m mac --mac-source 52:54:00:00:00:02 -j DROP\n\
                 -A ironic-inspector_temp -j ACCEPT\nCOMMIT\n",
                "-I INPUT -i br-ctlplane -p udp --dport 67 -j ironic-inspector_temp",
                "-D INPUT -i br-ctlplane -p udp --dport 67 -j ironic-inspector (may fail)",
                "-F ironic-inspector (may fail)",
                "-X ironic-inspector (may fail)",
                "-E ironic-inspector_temp ironic-inspector",
            ]
        );
    }

    #[test]
    fn reject_and_allow_lists() {
        let l = layout();
        let reject = l.rebuild_ops(&Rules::RejectAll);
        assert_eq!(
            args(&reject[3]),
            "restore:\n*filter\n:ironic-inspector_temp - [0:0]\n-A ironic-inspector_temp -j REJECT\nCOMMIT\n"
        );
        let allow = l.rebuild_ops(&Rules::Accept([mac("52:54:00:00:00:01")].into()));
        assert_eq!(
            args(&allow[3]),
            "restore:\n*filter\n:ironic-inspector_temp - [0:0]\n\
             -A ironic-inspector_temp -m mac --mac-source 52:54:00:00:00:01 -j ACCEPT\n\
             -A ironic-inspector_temp -j DROP\nCOMMIT\n"
        );
    }

    #[test]
    fn ipv6_uses_ip6tables_and_port_547() {
        let l = Layout::new(&Iptables {
            ip_version: IpVersion::V6,
            ..Iptables::default()
        })
        .unwrap();
        assert_eq!(l.program(), "ip6tables");
        assert_eq!(l.restore_program(), "ip6tables-restore");
        assert_eq!(
            args(&l.init_ops()[0]),
            "-D INPUT -i br-ctlplane -p udp --dport 547 -j ironic-inspector (may fail)"
        );
        assert_eq!(args(&l.init_ops()[3]), "-N ironic-inspector");
    }

    #[test]
    fn tear_down_cleans_both_chains() {
        let ops: Vec<String> = layout().tear_down_ops().iter().map(args).collect();
        assert_eq!(ops.len(), 6);
        assert!(ops[0].ends_with("-j ironic-inspector (may fail)"));
        assert_eq!(ops[5], "-X ironic-inspector_temp (may fail)");
    }

    #[test]
    fn changes_between_chains() {
        let a = mac("52:54:00:00:00:01");
        let b = mac("52:54:00:00:00:02");
        let drop_a = Rules::Drop([a.clone()].into());
        let drop_b = Rules::Drop([b.clone()].into());
        assert_eq!(change(None, &drop_a), Change::Rebuild);
        assert_eq!(change(Some(&drop_a), &drop_a), Change::Nothing);
        assert_eq!(
            change(Some(&drop_a), &drop_b),
            Change::Edit {
                remove: vec![a.clone()],
                add: vec![b.clone()]
            }
        );
        assert_eq!(change(Some(&Rules::RejectAll), &drop_a), Change::Rebuild);
        assert_eq!(change(Some(&drop_a), &Rules::RejectAll), Change::Rebuild);
        assert_eq!(
            change(Some(&Rules::Accept([a.clone()].into())), &drop_a),
            Change::Rebuild
        );
        let edit = layout().edit_op(&drop_a, &[a], &[b]).unwrap();
        assert_eq!(
            args(&edit),
            "restore:\n*filter\n\
             -D ironic-inspector -m mac --mac-source 52:54:00:00:00:01 -j DROP\n\
             -I ironic-inspector 1 -m mac --mac-source 52:54:00:00:00:02 -j DROP\nCOMMIT\n"
        );
        assert_eq!(layout().edit_op(&Rules::RejectAll, &[], &[]), None);
    }

    #[test]
    fn closed_and_open_rules() {
        let plain = Policy {
            deny_unknown_macs: false,
            discovery: false,
        };
        assert_eq!(Rules::when_closed(&plain, false), Some(Rules::RejectAll));
        assert_eq!(Rules::when_closed(&plain, true), None);
        let discovery = Policy {
            deny_unknown_macs: false,
            discovery: true,
        };
        assert_eq!(Rules::when_closed(&discovery, false), None);
        let a = mac("52:54:00:00:00:01");
        let b = mac("52:54:00:00:00:02");
        let sets = MacSets {
            ironic: [a.clone(), b.clone()].into(),
            active: [a.clone()].into(),
            inactive: [b.clone()].into(),
            rejected: Vec::new(),
        };
        assert_eq!(Rules::when_open(&plain, &sets), Rules::Drop([b].into()));
        let strict = Policy {
            deny_unknown_macs: true,
            discovery: false,
        };
        assert_eq!(Rules::when_open(&strict, &sets), Rules::Accept([a].into()));
    }
}
