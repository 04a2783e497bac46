//! PXE filter decisions against the upstream oracle (tests/oracle/gen_pxe.py):
//! the real ironic-inspector 12.5.0 dnsmasq and iptables drivers, EoIB
//! mapping and `shlex`. Deliberate deviations, each asserted below:
//!
//! * file names that are not canonical MACs are never written (upstream
//!   rewrites any 18- or 25-byte file and writes files named after invalid
//!   port addresses);
//! * the iptables chain in place is edited in one transaction when only its
//!   MAC list changes (upstream rebuilds it); the rules are the same, in
//!   another order (upstream's is Python's set order);
//! * with `deny_unknown_macs`, the same allow list after an idle period is
//!   applied again (upstream keeps its stale cache and leaves REJECT).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use inspector_core::conf::{IpVersion, Iptables};
use inspector_core::pxe::command::{self, SplitError};
use inspector_core::pxe::dnsmasq::{self, HostsView, UNKNOWN_HOSTS_FILE};
use inspector_core::pxe::iptables::{self, Change, Layout, Op, Rules};
use inspector_core::pxe::{Mac, MacSets, Policy, PortAddress, eoib, mac_sets};
use serde_json::Value;

static FIXTURE: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("oracle/pxe.json")).expect("fixture parses")
});

fn strs(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

fn policy(settings: &Value) -> Policy {
    Policy {
        deny_unknown_macs: settings["deny_unknown_macs"].as_bool().unwrap_or(false),
        discovery: settings["hook"].is_string(),
    }
}

/// The MAC sets of a case's state, as the service computes them.
fn sets_of(settings: &Value, state: &Value) -> MacSets {
    let ports: Vec<PortAddress<'_>> = state["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| PortAddress {
            address: p["address"].as_str().unwrap(),
            client_id: p["extra"]["client-id"].as_str(),
        })
        .collect();
    let active: HashSet<String> = strs(&state["active_macs"]).into_iter().collect();
    let tables: Vec<&str> = settings["ethoib"]
        .as_array()
        .map(|ifaces| {
            ifaces
                .iter()
                .filter_map(|i| state["neighs"][i.as_str().unwrap()].as_str())
                .collect()
        })
        .unwrap_or_default();
    mac_sets(&ports, &active, &tables)
}

fn ours_to_write(name: &str) -> bool {
    name == UNKNOWN_HOSTS_FILE || Mac::parse(name).is_some()
}

#[test]
fn dnsmasq_writes_what_upstream_writes() {
    let cases = FIXTURE["dnsmasq"].as_array().unwrap();
    assert!(cases.len() >= 60);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let files: BTreeMap<String, String> = case["files"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let view = HostsView::from_listing(files.iter().map(|(n, c)| (n.as_str(), c.len() as u64)));
        let sets = sets_of(&case["settings"], &case["state"]);
        let active = case["state"]["introspection_active"].as_bool().unwrap();
        let writes = dnsmasq::plan(&view, &sets, &policy(&case["settings"]), active);

        let ours: Vec<&str> = writes.iter().map(|w| w.file.name()).collect();
        let unique: HashSet<&str> = ours.iter().copied().collect();
        assert_eq!(unique.len(), ours.len(), "{name}: a file written twice");
        let upstream: HashSet<String> = strs(&case["written"])
            .into_iter()
            .filter(|n| ours_to_write(n))
            .collect();
        let ours: HashSet<String> = ours.iter().map(|s| s.to_string()).collect();
        assert_eq!(ours, upstream, "{name}: written files");

        let mut result = files.clone();
        for w in &writes {
            result.insert(w.file.name().to_string(), w.content());
        }
        for (file, content) in case["final"].as_object().unwrap() {
            if ours_to_write(file) {
                assert_eq!(
                    result.get(file).map(String::as_str),
                    content.as_str(),
                    "{name}: {file}"
                );
            } else {
                // Deviation: never written; an existing file stays as it was.
                assert_eq!(result.get(file), files.get(file), "{name}: {file}");
            }
        }
        assert_eq!(
            result.len(),
            case["final"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|f| ours_to_write(f) || files.contains_key(*f))
                .count(),
            "{name}: files in the directory"
        );
        // A second sync over the result has nothing to do.
        let mut view = view;
        for w in &writes {
            view.record(w);
        }
        assert_eq!(
            dnsmasq::plan(&view, &sets, &policy(&case["settings"]), active),
            [],
            "{name}: second sync"
        );
    }
}

#[test]
fn invalid_port_addresses_are_rejected_not_written() {
    let case = FIXTURE["dnsmasq"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "settings 0, invalid addresses, dir empty")
        .unwrap();
    assert!(
        case["written"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "not a mac")
    );
    let sets = sets_of(&case["settings"], &case["state"]);
    assert_eq!(sets.rejected, ["52:54:00:00:00:0G", "not a mac"]);
}

/// iptables as far as the drivers use it: chains of rule strings.
#[derive(Debug, Default)]
struct Model {
    chains: BTreeMap<String, Vec<String>>,
}

impl Model {
    fn new() -> Self {
        let mut model = Model::default();
        model.chains.insert("INPUT".into(), Vec::new());
        model
    }

    fn command(&mut self, args: &[String]) -> Result<(), String> {
        let (op, rest) = args.split_first().ok_or("empty")?;
        let chain = rest.first().ok_or("no chain")?.clone();
        let rule = rest[1..].join(" ");
        match op.as_str() {
            "-N" if self.chains.contains_key(&chain) => Err("exists".into()),
            "-N" => {
                self.chains.insert(chain, Vec::new());
                Ok(())
            }
            "-A" => {
                self.chains.get_mut(&chain).ok_or("no chain")?.push(rule);
                Ok(())
            }
            "-I" => {
                let rules = self.chains.get_mut(&chain).ok_or("no chain")?;
                match rest.get(1).and_then(|n| n.parse::<usize>().ok()) {
                    Some(n) => rules.insert(n - 1, rest[2..].join(" ")),
                    None => rules.insert(0, rule),
                }
                Ok(())
            }
            "-D" => {
                let rules = self.chains.get_mut(&chain).ok_or("no chain")?;
                let at = rules.iter().position(|r| *r == rule).ok_or("no rule")?;
                rules.remove(at);
                Ok(())
            }
            "-F" => {
                self.chains.get_mut(&chain).ok_or("no chain")?.clear();
                Ok(())
            }
            "-X" => {
                let jump = format!("-j {chain}");
                if !self.chains.get(&chain).ok_or("no chain")?.is_empty()
                    || self.chains["INPUT"].iter().any(|r| r.ends_with(&jump))
                {
                    return Err("busy".into());
                }
                self.chains.remove(&chain);
                Ok(())
            }
            "-E" => {
                let new = rest.get(1).ok_or("no name")?.clone();
                let rules = self.chains.remove(&chain).ok_or("no chain")?;
                self.chains.insert(new.clone(), rules);
                let old_jump = format!("-j {chain}");
                for r in self.chains.get_mut("INPUT").unwrap() {
                    if let Some(head) = r.strip_suffix(&old_jump) {
                        *r = format!("{head}-j {new}");
                    }
                }
                Ok(())
            }
            other => Err(format!("unknown {other}")),
        }
    }

    /// `iptables-restore --noflush`: all or nothing.
    fn restore(&mut self, input: &str) -> Result<(), String> {
        let mut next = Model {
            chains: self.chains.clone(),
        };
        let mut lines = input.lines();
        assert_eq!(lines.next(), Some("*filter"));
        let mut committed = false;
        for line in lines {
            assert!(!committed, "text after COMMIT");
            if line == "COMMIT" {
                committed = true;
            } else if let Some(decl) = line.strip_prefix(':') {
                let name = decl.strip_suffix(" - [0:0]").expect("declaration");
                next.chains.insert(name.to_string(), Vec::new());
            } else {
                let args: Vec<String> = line.split(' ').map(String::from).collect();
                next.command(&args)?;
            }
        }
        assert!(committed, "no COMMIT");
        *self = next;
        Ok(())
    }

    fn run(&mut self, ops: &[Op]) {
        for op in ops {
            match op {
                Op::Run {
                    args,
                    ignore_failure,
                } => {
                    if let Err(e) = self.command(args)
                        && !ignore_failure
                    {
                        panic!("{args:?} failed: {e}");
                    }
                }
                Op::Restore { input } => self.restore(input).expect("restore"),
            }
        }
    }
}

fn run_args(ops: &[Op]) -> Vec<(Vec<String>, bool)> {
    ops.iter()
        .filter_map(|op| match op {
            Op::Run {
                args,
                ignore_failure,
            } => Some((args.clone(), *ignore_failure)),
            Op::Restore { .. } => None,
        })
        .collect()
}

fn commands(value: &Value) -> Vec<Vec<String>> {
    value.as_array().unwrap().iter().map(strs).collect()
}

/// Same rules, the final one last, MAC rules in any order.
fn assert_same_chain(ours: &[String], upstream: &[String], what: &str) {
    assert_eq!(ours.last(), upstream.last(), "{what}: final rule");
    let mut a = ours.to_vec();
    let mut b = upstream.to_vec();
    a.sort();
    b.sort();
    assert_eq!(a, b, "{what}: rules");
}

#[test]
fn iptables_builds_upstreams_chain() {
    let cases = FIXTURE["iptables"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let settings = &case["settings"];
        let conf = Iptables {
            ip_version: if settings["ip_version"] == "6" {
                IpVersion::V6
            } else {
                IpVersion::V4
            },
            ..Iptables::default()
        };
        let layout = Layout::new(&conf).unwrap();
        let policy = policy(settings);

        // Upstream probes `-w -h` first; the service does that itself.
        let init = commands(&case["init"]);
        assert_eq!(init[0], ["-h"]);
        let ours_init = run_args(&layout.init_ops());
        assert_eq!(
            ours_init.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>(),
            init[1..],
            "{name}: init"
        );
        assert_eq!(
            ours_init.iter().map(|(_, i)| *i).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        let mut model = Model::new();
        model.run(&layout.init_ops());

        let mut applied: Option<Rules> = None;
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let what = format!("{name}, step {i}");
            let state = &step["state"];
            let active = state["introspection_active"].as_bool().unwrap();
            let wanted = Rules::when_closed(&policy, active)
                .unwrap_or_else(|| Rules::when_open(&policy, &sets_of(settings, state)));
            let change = iptables::change(applied.as_ref(), &wanted);
            let upstream_cmds = commands(&step["commands"]);
            let upstream_changed = !upstream_cmds.is_empty();
            let known_bug = name.contains("upstream bug") && i == 2;
            if known_bug {
                assert!(!upstream_changed && change != Change::Nothing, "{what}");
            } else {
                assert_eq!(
                    change != Change::Nothing,
                    upstream_changed,
                    "{what}: changed"
                );
            }
            match &change {
                Change::Nothing => {}
                Change::Rebuild => {
                    let ops = layout.rebuild_ops(&wanted);
                    // Upstream's commands but `-N <temp>` and the `-A <temp>`
                    // rules, which our single restore replaces.
                    let temp = layout.temp_chain();
                    let expected: Vec<Vec<String>> = upstream_cmds
                        .iter()
                        .filter(|c| {
                            !(c.len() >= 2 && (c[0] == "-N" || c[0] == "-A") && c[1] == temp)
                        })
                        .cloned()
                        .collect();
                    let ours: Vec<Vec<String>> =
                        run_args(&ops).into_iter().map(|(a, _)| a).collect();
                    if !known_bug {
                        assert_eq!(ours, expected, "{what}: commands");
                    }
                    model.run(&ops);
                }
                Change::Edit { remove, add } => {
                    let op = layout
                        .edit_op(applied.as_ref().unwrap(), remove, add)
                        .unwrap();
                    model.run(&[op]);
                }
            }
            applied = Some(wanted);
            if known_bug {
                assert_eq!(
                    model.chains[layout.chain()],
                    ["-m mac --mac-source 52:54:00:00:00:02 -j ACCEPT", "-j DROP"],
                    "{what}"
                );
                continue;
            }
            assert_same_chain(&model.chains[layout.chain()], &strs(&step["chain"]), &what);
            assert_eq!(model.chains["INPUT"], strs(&step["input"]), "{what}: INPUT");
            let chains: Vec<String> = model.chains.keys().cloned().collect();
            assert_eq!(chains, strs(&step["chains"]), "{what}: chains");
        }

        let tear_down = layout.tear_down_ops();
        assert_eq!(
            run_args(&tear_down)
                .into_iter()
                .map(|(a, _)| a)
                .collect::<Vec<_>>(),
            commands(&case["tear_down"]),
            "{name}: tear down"
        );
        model.run(&tear_down);
        assert_eq!(
            model.chains.keys().cloned().collect::<Vec<_>>(),
            strs(&case["left_after_tear_down"])
        );
        assert!(model.chains["INPUT"].is_empty());
    }
}

#[test]
fn eoib_mapping_matches_upstream() {
    let eoib_fixture = &FIXTURE["eoib"];
    let tables: HashMap<String, String> = eoib_fixture["tables"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    for case in eoib_fixture["cases"].as_array().unwrap() {
        let present: Vec<&str> = strs(&case["interfaces"])
            .iter()
            .filter_map(|i| tables.get(i).map(String::as_str))
            .collect();
        let client_ids = case["client_ids"].as_array().unwrap();
        let addresses = strs(&case["addresses"]);
        for (i, (client_id, expected)) in client_ids.iter().zip(&addresses).enumerate() {
            let original = format!("7c:fe:90:29:26:{i:02x}");
            let ours = client_id
                .as_str()
                .and_then(|c| eoib::emac_for_client_id(c, &present))
                .map(|m| m.to_string())
                .unwrap_or(original);
            assert_eq!(&ours, expected, "{case} #{i}");
        }
    }
}

#[test]
fn command_lines_split_like_shlex() {
    for case in FIXTURE["shlex"]["split"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let ours = command::split(text);
        match case["error"].as_str() {
            None => assert_eq!(ours.as_ref().ok(), Some(&strs(&case["words"])), "{text:?}"),
            Some("No closing quotation") => {
                assert_eq!(ours, Err(SplitError::UnclosedQuote), "{text:?}")
            }
            Some("No escaped character") => {
                assert_eq!(ours, Err(SplitError::DanglingEscape), "{text:?}")
            }
            Some(other) => panic!("unexpected oracle error {other}"),
        }
    }
    for case in FIXTURE["shlex"]["join"].as_array().unwrap() {
        assert_eq!(
            command::join(&strs(&case["words"])),
            case["text"].as_str().unwrap()
        );
    }
}
