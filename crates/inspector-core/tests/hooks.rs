//! Processing hooks against the upstream oracle (tests/oracle/gen_hooks.py):
//! every case runs the real ironic-inspector 12.5.0 hooks; we must produce
//! the same pre-processing failures, lookup attributes, Ironic operations,
//! errors and data, except where a deviation below documents otherwise.

use std::sync::LazyLock;

use inspector_core::conf::{AddPorts, Config, KeepPorts};
use inspector_core::hooks::addresses::posted_addresses;
use inspector_core::hooks::{
    Data, NodeOp, NodeView, Pipeline, PreFailure, capabilities, lookup_attributes,
    ramdisk_logs_filename,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

static FIXTURE: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("oracle/hooks.json")).expect("fixture parses")
});

fn cases() -> &'static [Value] {
    FIXTURE["cases"].as_array().expect("cases")
}

fn case(name: &str) -> &'static Value {
    cases()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// Whether serde_json keeps object keys in insertion order in this build
/// (the `preserve_order` feature); without it iteration is sorted by key.
fn preserves_order() -> bool {
    let map: Map<String, Value> = [("b".to_string(), json!(1)), ("a".to_string(), json!(2))]
        .into_iter()
        .collect();
    map.keys().next().map(String::as_str) == Some("b")
}

// ------------------------------------------------------------------ inputs

fn set_pointer(doc: &mut Value, pointer: &str, value: Option<&Value>) {
    let parts: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let (last, parents) = parts.split_last().expect("non-empty pointer");
    let mut target = doc;
    for part in parents {
        target = match target {
            Value::Array(items) => &mut items[part.parse::<usize>().expect("index")],
            other => &mut other[part.as_str()],
        };
    }
    match (target, value) {
        (Value::Array(items), None) => {
            items.remove(last.parse().expect("index"));
        }
        (Value::Array(items), Some(v)) if last == "-" => items.push(v.clone()),
        (Value::Array(items), Some(v)) => items[last.parse::<usize>().expect("index")] = v.clone(),
        (Value::Object(map), None) => {
            map.remove(last.as_str());
        }
        (Value::Object(map), Some(v)) => {
            map.insert(last.clone(), v.clone());
        }
        (other, _) => panic!("cannot edit {other}"),
    }
}

fn apply_edits(mut doc: Value, edits: Option<&Value>) -> Value {
    for edit in edits.and_then(Value::as_array).into_iter().flatten() {
        let edit = edit.as_array().expect("edit");
        set_pointer(&mut doc, edit[0].as_str().expect("pointer"), edit.get(1));
    }
    doc
}

fn input_data(case: &Value) -> Data {
    let base = case
        .get("base")
        .and_then(Value::as_str)
        .unwrap_or("functional");
    match apply_edits(FIXTURE["bases"][base].clone(), case.get("edits")) {
        Value::Object(map) => map,
        other => panic!("data must be an object: {other}"),
    }
}

fn input_node(case: &Value) -> Value {
    let node = case
        .get("node")
        .cloned()
        .unwrap_or_else(|| FIXTURE["base_node"].clone());
    apply_edits(node, case.get("node_edits"))
}

fn input_ports(case: &Value) -> Vec<Value> {
    case.get("ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

fn config(case: &Value) -> (Config, Option<String>) {
    let mut config = Config::default();
    let hooks = case.get("hooks").and_then(Value::as_str).unwrap_or(
        "ramdisk_error,root_disk_selection,scheduler,validate_interfaces,capabilities,pci_devices",
    );
    config.processing.processing_hooks = hooks
        .split(',')
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .collect();
    let conf = case.get("conf").cloned().unwrap_or_else(|| json!({}));
    let p = &mut config.processing;
    if let Some(v) = conf["add_ports"].as_str() {
        p.add_ports = match v {
            "all" => AddPorts::All,
            "active" => AddPorts::Active,
            "pxe" => AddPorts::Pxe,
            _ => AddPorts::Disabled,
        };
    }
    if let Some(v) = conf["keep_ports"].as_str() {
        p.keep_ports = match v {
            "all" => KeepPorts::All,
            "present" => KeepPorts::Present,
            _ => KeepPorts::Added,
        };
    }
    for (key, slot) in [
        ("overwrite_existing", &mut p.overwrite_existing),
        ("update_pxe_enabled", &mut p.update_pxe_enabled),
        (
            "disk_partitioning_spacing",
            &mut p.disk_partitioning_spacing,
        ),
        ("boot_mode", &mut config.capabilities.boot_mode),
        ("strict", &mut config.extra_hardware.strict),
    ] {
        if let Some(v) = conf[key].as_bool() {
            *slot = v;
        }
    }
    if let Some(flags) = conf["cpu_flags"].as_array() {
        config.capabilities.cpu_flags = flags
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap().to_string(),
                    pair[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
    }
    config.pci_devices.alias = strings(&conf["alias"]);
    config.port_physnet.cidr_map = strings(&conf["cidr_map"]);
    let yaml = conf["accelerators_yaml"].as_str().map(str::to_string);
    (config, yaml)
}

// ------------------------------------------------------------------ running

#[derive(Debug, Default)]
struct Step {
    hook: String,
    ops: Vec<Value>,
    error: Option<String>,
}

#[derive(Debug, Default)]
struct Outcome {
    load_error: Option<String>,
    pre_failures: Vec<String>,
    lookup: Value,
    steps: Vec<Step>,
    data: Data,
}

fn op_json(op: &NodeOp) -> Value {
    match op {
        NodeOp::PatchNode {
            patch,
            reset_interfaces,
        } => {
            json!({"op": "patch_node", "patch": patch, "reset_interfaces": reset_interfaces})
        }
        NodeOp::CreatePort {
            address,
            extra,
            pxe_enabled,
        } => {
            json!({"op": "create_port", "address": address, "extra": extra, "pxe_enabled": pxe_enabled})
        }
        NodeOp::PatchPort {
            uuid,
            patch,
            tolerate_rejection,
        } => {
            json!({"op": "patch_port", "uuid": uuid, "patch": patch, "tolerate_rejection": tolerate_rejection})
        }
        NodeOp::DeletePort { uuid, address } => {
            json!({"op": "delete_port", "uuid": uuid, "address": address})
        }
        NodeOp::AddTrait(trait_) => json!({"op": "add_trait", "trait": trait_}),
        NodeOp::RemoveTrait(trait_) => json!({"op": "remove_trait", "trait": trait_}),
    }
}

/// The line answered to the ramdisk repeats none of the addresses it
/// posted (its own error text aside); the full line stays for the log.
fn assert_public_lines_hide_addresses(posted: &Data, failures: &[PreFailure]) {
    let addresses = posted_addresses(posted);
    for failure in failures {
        if failure
            .message
            .starts_with("Preprocessing hook ramdisk_error:")
        {
            continue;
        }
        let public = failure.public.to_ascii_lowercase();
        for address in &addresses {
            assert!(
                !public.contains(&address.to_ascii_lowercase()),
                "{address} in {:?} (full line {:?})",
                failure.public,
                failure.message
            );
        }
    }
}

/// Runs our pipeline on `input`'s data and configuration, giving each hook
/// the node view upstream's hook got in `views` (the oracle's simulation of
/// Ironic applying the previous hooks' operations).
fn run(input: &Value, views: &Value) -> Outcome {
    let mut outcome = Outcome::default();
    let (config, yaml) = config(input);
    let pipeline = match Pipeline::load(&config, yaml.as_deref()) {
        Ok((pipeline, _warnings)) => pipeline,
        Err(e) => {
            outcome.load_error = Some(e);
            return outcome;
        }
    };
    let mut data = input_data(input);
    let failures = pipeline.before_processing(&mut data);
    assert_public_lines_hide_addresses(&input_data(input), &failures);
    outcome.pre_failures = failures.into_iter().map(|f| f.message).collect();
    let lookup = lookup_attributes(&data);
    outcome.lookup = json!({"bmc_addresses": lookup.bmc_addresses, "macs": lookup.macs});
    if !outcome.pre_failures.is_empty() {
        outcome.data = data;
        return outcome;
    }
    let mut node = input_node(input);
    let mut ports = input_ports(input);
    let expected_steps = views["expected"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for index in 0..pipeline.len() {
        if let Some(view) = expected_steps.get(index).and_then(|s| s.get("view")) {
            node = view["node"].clone();
            ports = view["ports"].as_array().cloned().unwrap_or_default();
        }
        let mut step = Step {
            hook: pipeline.name(index).to_string(),
            ..Step::default()
        };
        match pipeline.before_update(
            index,
            &mut data,
            NodeView {
                node: &node,
                ports: &ports,
            },
        ) {
            Ok(update) => step.ops = update.ops.iter().map(op_json).collect(),
            Err(e) => step.error = Some(e.0),
        }
        let failed = step.error.is_some();
        outcome.steps.push(step);
        if failed {
            break;
        }
    }
    outcome.data = data;
    outcome
}

fn data_diff(before: &Data, after: &Data) -> Value {
    let changed: Map<String, Value> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut removed: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    removed.sort();
    json!({"changed": changed, "removed": removed})
}

/// Documented differences in the operations, applied to both sides:
/// * upstream-behaviour §q13: no port PATCH with an empty patch list;
/// * a capabilities PATCH that writes the node's current value is skipped;
/// * local_link_connection sends one `add` per item with the value of the
///   last TLV (upstream: one per TLV, in TLV order; same end result);
/// * without serde_json's `preserve_order`, `data.interfaces` iterates sorted
///   by name, so ports are created in that order.
fn normalise_ops(hook: &str, ops: &[Value], node: &Value) -> Vec<Value> {
    let current_caps = node["properties"]["capabilities"].as_str().unwrap_or("");
    let mut out: Vec<Value> = ops
        .iter()
        .filter(|op| {
            !(op["op"] == "patch_port" && op["patch"].as_array().is_some_and(Vec::is_empty))
        })
        .filter(|op| {
            let patch = op["patch"].as_array();
            !(op["op"] == "patch_node"
                && patch.is_some_and(|p| {
                    p.len() == 1
                        && p[0]["path"] == "/properties/capabilities"
                        && p[0]["value"] == current_caps
                }))
        })
        .cloned()
        .collect();
    if hook == "local_link_connection" {
        for op in &mut out {
            let patch = op["patch"].as_array().cloned().unwrap_or_default();
            let mut collapsed = Vec::new();
            for item in ["switch_id", "port_id"] {
                let path = format!("/local_link_connection/{item}");
                if let Some(last) = patch.iter().rev().find(|p| p["path"] == path.as_str()) {
                    collapsed.push(last.clone());
                }
            }
            op["patch"] = Value::Array(collapsed);
        }
    }
    if !preserves_order() {
        out.sort_by_key(|op| {
            if op["op"] == "create_port" {
                (0, op["address"].to_string())
            } else {
                (1, String::new())
            }
        });
    }
    out
}

/// Lookup MACs come from `all_interfaces`, whose key order serde_json may not
/// keep; the order plays no part in the lookup.
fn sorted_lookup(lookup: &Value) -> Value {
    let mut lookup = lookup.clone();
    if !preserves_order()
        && let Some(macs) = lookup.get_mut("macs").and_then(Value::as_array_mut)
    {
        macs.sort_by_key(Value::to_string);
    }
    lookup
}

/// Compares our outcome for `input` with the oracle's record of `expected`.
fn check(input: &Value, expected_case: &Value) {
    let name = input["name"].as_str().unwrap();
    let expected = &expected_case["expected"];
    let outcome = run(input, expected_case);

    if let Some(load_error) = expected.get("load_error") {
        let ours = outcome
            .load_error
            .unwrap_or_else(|| panic!("{name}: loaded, upstream failed: {load_error}"));
        assert_eq!(
            ours.lines().next(),
            load_error["message"].as_str(),
            "{name}"
        );
        return;
    }
    assert_eq!(outcome.load_error, None, "{name}");
    assert_eq!(
        outcome.pre_failures,
        strings(&expected["pre_failures"]),
        "{name}: pre-processing failures"
    );
    assert_eq!(
        sorted_lookup(&outcome.lookup),
        sorted_lookup(&expected["lookup"]),
        "{name}: lookup attributes"
    );
    let input_data = input_data(input);
    assert_eq!(
        data_diff(&input_data, &outcome.data),
        expected["data"],
        "{name}: data"
    );
    let expected_steps = expected["steps"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        outcome.steps.len(),
        expected_steps.len(),
        "{name}: steps {:?}",
        outcome.steps
    );
    let mut node = input_node(input);
    for (ours, theirs) in outcome.steps.iter().zip(&expected_steps) {
        if let Some(view) = theirs.get("view") {
            node = view["node"].clone();
        }
        let hook = theirs["hook"].as_str().unwrap();
        assert_eq!(ours.hook, hook, "{name}");
        match theirs.get("error") {
            Some(error) => {
                assert_eq!(
                    error["kind"], "error",
                    "{name}: upstream crashed in {hook} and no deviation is documented"
                );
                assert_eq!(
                    ours.error.as_deref(),
                    error["message"].as_str(),
                    "{name}: {hook} error"
                );
            }
            None => {
                assert_eq!(ours.error, None, "{name}: {hook}");
                let theirs_ops = normalise_ops(hook, theirs["ops"].as_array().unwrap(), &node);
                assert_eq!(
                    normalise_ops(hook, &ours.ops, &node),
                    theirs_ops,
                    "{name}: {hook} operations"
                );
            }
        }
    }
}

// -------------------------------------------------------------- deviations

/// Cases where upstream crashes (or has a documented bug) and we do
/// something else on purpose.
enum Deviation {
    /// We behave as upstream does for this similar, well-formed case.
    SameAs(&'static str),
    /// Pre-processing fails with these lines instead.
    PreFailures(&'static [&'static str]),
    /// The hook fails with this message instead of an unexpected exception.
    HookError(&'static str, &'static str),
    /// Anything else, checked by hand.
    Custom(fn(Outcome)),
}

fn deviation(name: &str) -> Option<Deviation> {
    use Deviation::*;
    Some(match name {
        // Upstream: TypeError/AttributeError while reading the inventory.
        "vi_list_inventory" => PreFailures(&[
            "Preprocessing hook validate_interfaces: Hardware inventory must be a JSON object, got [1]",
        ]),
        "vi_string_interfaces" => PreFailures(&[
            "Preprocessing hook validate_interfaces: Network interfaces in the inventory must be a list, got 'eth0'",
        ]),
        // Upstream: AttributeError on a non-dict interface record; skipped
        // like a record without a name.
        "vi_non_dict_interface" => SameAs("functional_plain"),
        // Upstream: TypeError inside netaddr.
        "vi_float_ip" => PreFailures(&[
            "Preprocessing hook validate_interfaces: Invalid IP address 1.5 of interface eth3",
        ]),
        // Upstream: TypeError/KeyError on a root disk without a numeric
        // size; treated as the undetectable size it warns about.
        "rds_string_size" | "rds_missing_size" | "crash_root_disk_not_dict" => {
            SameAs("rds_small_root_disk")
        }
        // Upstream: the ValueError escapes (HTTP 500).
        "rds_skip_invalid" => HookError(
            "root_disk_selection",
            "Invalid skip_block_devices hints {'foo': 1}: The hints \"foo\" are invalid. Valid hints are: \"size, model, \
             wwn, serial, vendor, wwn_with_extension, wwn_vendor_extension, name, rotational, hctl, by_path\"",
        ),
        // Upstream: AttributeError on `boot: null`, TypeError on numeric
        // flags, KeyError without `cpu`: no boot mode / no flags instead.
        "caps_boot_mode_null_boot" => SameAs("caps_boot_mode_absent_aes"),
        "caps_flags_number" | "caps_no_cpu" => SameAs("caps_no_flags"),
        // Upstream: ValueError from dict() on an item without a colon.
        "caps_malformed_existing" => HookError(
            "capabilities",
            "Malformed node capabilities \"a:b,\": item \"\" is not of the form key:value",
        ),
        // Upstream: KeyError/TypeError on devices without IDs or a non-list.
        "pci_bad_device" => SameAs("pci_two_devices"),
        "pci_not_list" => SameAs("pci_no_devices"),
        "crash_pci_device_without_ids" => SameAs("pci_no_aliases"),
        // Upstream: KeyError on a matching device without `bus`.
        "accel_missing_bus" => SameAs("accel_none_found"),
        // Upstream: KeyError (upstream-behaviour §q15) or AttributeError; the interface or
        // the malformed lldp_raw is ignored instead.
        "lldp_no_all_interfaces_entry"
        | "lldp_raw_not_dict"
        | "lldp_nameless_interface"
        | "crash_lldp_iface_not_in_all" => SameAs("lldp_functional"),
        // Upstream: TypeError on a malformed extra/block_devices.
        "raid_bad_extra" => HookError(
            "raid_device",
            "Node extra/block_devices must be an object with a list of serials, got 'oops'",
        ),
        // upstream-behaviour §q13: upstream compares the inventory MAC case-sensitively with
        // Ironic's lower-case address and misses the port.
        "llc_uppercase_inventory_mac" => Custom(|outcome| {
            assert_eq!(
                outcome.steps[1].ops,
                vec![
                    json!({"op": "patch_port", "uuid": "p-eth1", "tolerate_rejection": true, "patch": [
                    {"op": "add", "path": "/local_link_connection/switch_id", "value": "11:22:33:aa:bb:cc"},
                    {"op": "add", "path": "/local_link_connection/port_id", "value": "734"}]})
                ]
            );
        }),
        // The same MAC fix in physnet_cidr_map (upstream: no patch).
        "phys_uppercase_inventory_mac" => Custom(|outcome| {
            assert_eq!(
                outcome.steps[1].ops,
                vec![
                    json!({"op": "patch_port", "uuid": "p-eth1", "tolerate_rejection": true, "patch": [
                    {"op": "add", "path": "/physical_network", "value": "net-a"}]})
                ]
            );
        }),
        // Upstream lists the missing hooks in Python set order (random).
        "load_unknown" => Custom(|outcome| {
            assert_eq!(
                outcome.load_error.as_deref(),
                Some("The following hook(s) are missing or failed to load: foo, bar")
            );
        }),
        _ => return None,
    })
}

#[test]
fn oracle_cases() {
    let mut checked = 0;
    for input in cases() {
        let name = input["name"].as_str().unwrap();
        match deviation(name) {
            None => check(input, input),
            Some(Deviation::SameAs(other)) => check(input, case(other)),
            Some(Deviation::PreFailures(lines)) => {
                let outcome = run(input, input);
                assert_eq!(outcome.pre_failures, lines.to_vec(), "{name}");
            }
            Some(Deviation::HookError(hook, message)) => {
                let outcome = run(input, input);
                let last = outcome
                    .steps
                    .last()
                    .unwrap_or_else(|| panic!("{name}: no step"));
                assert_eq!(
                    (last.hook.as_str(), last.error.as_deref()),
                    (hook, Some(message)),
                    "{name}"
                );
                // Upstream crashed there too, so the earlier steps match.
                let expected = input["expected"]["steps"].as_array().unwrap();
                assert_eq!(expected.last().unwrap()["hook"], hook, "{name}");
            }
            Some(Deviation::Custom(assertions)) => assertions(run(input, input)),
        }
        checked += 1;
    }
    assert!(checked > 150, "only {checked} cases");
}

#[test]
fn every_upstream_crash_is_a_documented_deviation() {
    for input in cases() {
        let name = input["name"].as_str().unwrap();
        let expected = &input["expected"];
        let crashed = expected["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["error"]["kind"] == "unexpected")
            || strings(&expected["pre_failures"]).iter().any(|f| {
                f.starts_with("Unexpected exception")
                    && !f.contains("AddrFormatError")
                    && !f.contains("ValueError")
            });
        assert!(
            !crashed || deviation(name).is_some(),
            "{name}: upstream crashed, behaviour not documented"
        );
    }
}

/// The deviations hidden by `normalise_ops`, asserted on their own.
#[test]
fn pinned_deviations() {
    let ops_of = |name: &str, hook: &str| -> (Vec<Value>, Vec<Value>) {
        let c = case(name);
        let outcome = run(c, c);
        let ours = outcome
            .steps
            .iter()
            .find(|s| s.hook == hook)
            .expect("our step")
            .ops
            .clone();
        let theirs = c["expected"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["hook"] == hook)
            .expect("step")["ops"]
            .as_array()
            .unwrap()
            .clone();
        (ours, theirs)
    };
    // upstream-behaviour §q13: upstream PATCHes the port with an empty patch list.
    let (ours, theirs) = ops_of("llc_empty_tlvs", "local_link_connection");
    assert!(
        theirs.iter().any(|op| op["patch"] == json!([])),
        "{theirs:?}"
    );
    assert!(ours.iter().all(|op| op["patch"] != json!([])), "{ours:?}");
    assert_eq!(ours.len(), theirs.len() - 1);
    // Upstream writes unchanged capabilities back.
    let (ours, theirs) = ops_of("caps_unchanged", "capabilities");
    assert_eq!((ours.len(), theirs.len()), (0, 1));
    // upstream-behaviour §q14, kept: no physnet patch with overwrite_existing = false, even
    // for a port without a physical network.
    let (ours, theirs) = ops_of("phys_keep_existing", "physnet_cidr_map");
    assert!(ours.is_empty() && theirs.is_empty());
    assert_eq!(
        case("phys_keep_existing")["ports"][0]["physical_network"],
        Value::Null
    );
}

/// The upstream-processed handmade payload, as stored by upstream (without
/// the `logs` key, which is never stored).
#[test]
fn handmade_payload_reproduces_stored_data() {
    let reference = case("handmade_reference");
    let outcome = run(reference, reference);
    assert!(
        outcome.steps.iter().all(|s| s.error.is_none()),
        "{:?}",
        outcome.steps
    );
    let mut data = outcome.data;
    data.remove("logs");
    assert_eq!(Value::Object(data), FIXTURE["handmade_stored"]);
}

#[test]
fn functional_reference_patches() {
    let outcome = run(case("functional_default"), case("functional_default"));
    let ops: Vec<&Value> = outcome.steps.iter().flat_map(|s| &s.ops).collect();
    assert_eq!(
        ops,
        vec![
            &json!({"op": "patch_node", "reset_interfaces": false, "patch": [
                {"op": "add", "path": "/properties/local_gb", "value": "999"}]}),
            &json!({"op": "patch_node", "reset_interfaces": false, "patch": [
                {"op": "add", "path": "/properties/cpus", "value": "4"},
                {"op": "add", "path": "/properties/cpu_arch", "value": "x86_64"},
                {"op": "add", "path": "/properties/memory_mb", "value": "12288"}]}),
            &json!({"op": "create_port", "address": "11:22:33:44:55:66", "extra": {}, "pxe_enabled": true}),
        ]
    );
}

#[test]
fn load_errors_carry_reasons() {
    let (mut config, _) = config(case("load_conflict"));
    let error = Pipeline::load(&config, None).unwrap_err();
    assert_eq!(
        error,
        "The following hook(s) are missing or failed to load: validate_interfaces\nCould not load \
         'validate_interfaces': Configuration error: add_ports set to disabled and keep_ports set to added. Please \
         change keep_ports to all."
    );
    config.processing.processing_hooks = vec!["physnet_cidr_map".into()];
    config.port_physnet.cidr_map = vec!["10.0.0.1/8:net".into()];
    let error = Pipeline::load(&config, None).unwrap_err();
    assert!(
        error.ends_with(
            "Invalid [port_physnet]cidr_map item \"10.0.0.1/8:net\": 10.0.0.1/8 has host bits set"
        ),
        "{error}"
    );
    config.port_physnet.cidr_map = vec!["nocolon".into()];
    assert!(Pipeline::load(&config, None).is_err());
    let (config, yaml) = config_with_accelerators("pci_devices:\n  - vendor_id: '1'\n");
    let error = Pipeline::load(&config, Some(&yaml)).unwrap_err();
    assert!(
        error.ends_with(
            "Could not load 'accelerators': one of devices is missing vendor_id or device_id"
        ),
        "{error}"
    );
}

fn config_with_accelerators(yaml: &str) -> (Config, String) {
    let mut config = Config::default();
    config.processing.processing_hooks = vec!["accelerators".into()];
    (config, yaml.to_string())
}

#[test]
fn pci_alias_warnings() {
    let (config, _) = config(case("pci_counts"));
    let (pipeline, warnings) = Pipeline::load(&config, None).unwrap();
    assert_eq!(pipeline.len(), 1);
    assert_eq!(pipeline.name(0), "pci_devices");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(
        warnings[1],
        "Error parsing 'alias' option: \"The 'alias' entry should contain exactly 'vendor_id', 'product_id' and 'name' \
         keys\""
    );
}

#[test]
fn capability_merges() {
    for c in FIXTURE["capabilities"].as_array().unwrap() {
        let node = match c["existing"].as_str() {
            Some(caps) => json!({"properties": {"capabilities": caps}}),
            None => json!({"properties": {}}),
        };
        let updates: Vec<(String, Option<String>)> = c["updates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u[0].as_str().unwrap().to_string(),
                    capabilities::value_to_string(&u[1]),
                )
            })
            .collect();
        let expected = c["expected"]["ok"].as_str().unwrap();
        let merged = capabilities::merge(&capabilities::of_node(&node).unwrap(), &updates);
        assert_eq!(capabilities::format(&merged), expected, "{c}");
        let op = capabilities::update_op(&node, &updates).unwrap();
        if c["existing"].as_str() == Some(expected) {
            assert_eq!(op, None, "{c}");
        } else {
            assert_eq!(
                op,
                Some(NodeOp::PatchNode {
                    patch: vec![
                        json!({"op": "add", "path": "/properties/capabilities", "value": expected})
                    ],
                    reset_interfaces: false
                })
            );
        }
    }
}

fn filename_dt() -> time::PrimitiveDateTime {
    let p: Vec<i64> = FIXTURE["filename_dt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let date = time::Date::from_calendar_date(
        p[0] as i32,
        time::Month::try_from(p[1] as u8).unwrap(),
        p[2] as u8,
    )
    .unwrap();
    let time = time::Time::from_hms_micro(p[3] as u8, p[4] as u8, p[5] as u8, p[6] as u32).unwrap();
    time::PrimitiveDateTime::new(date, time)
}

#[test]
fn ramdisk_logs_filenames() {
    for c in FIXTURE["filenames"].as_array().unwrap() {
        let args = c["args"].as_array().unwrap();
        let result = ramdisk_logs_filename(
            args[0].as_str().unwrap(),
            args[1].as_str(),
            args[2].as_str(),
            args[3].as_str(),
            filename_dt(),
        );
        let expected = &c["expected"];
        let from_ramdisk = args[2].as_str().is_some_and(|v| v.contains('/'))
            || args[3].as_str().is_some_and(|v| v.contains('/'));
        match (expected["ok"].as_str(), &result) {
            // Deliberate: ramdisk-provided `/` is replaced; a name that would
            // still leave the logs directory is refused.
            (Some(name), _) if from_ramdisk => assert_eq!(
                result.as_deref(),
                Ok(name.replace('/', "_").as_str()),
                "{c}"
            ),
            (Some(name), _) if name.contains('/') || name == ".." => {
                assert!(result.is_err(), "{c}: {result:?}")
            }
            (Some(name), _) => assert_eq!(result.as_deref(), Ok(name), "{c}"),
            (None, Err(_)) => {}
            (None, Ok(name)) => panic!("{c}: upstream failed, we gave {name}"),
        }
    }
}

// --------------------------------------------------------------- robustness

/// JSON built from the keys and values the hooks look at, so that random
/// documents reach deep into every hook.
fn arb_json() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "inventory",
        "interfaces",
        "name",
        "mac_address",
        "ipv4_address",
        "ipv6_address",
        "client_id",
        "lldp",
        "disks",
        "size",
        "serial",
        "cpu",
        "count",
        "architecture",
        "flags",
        "memory",
        "physical_mb",
        "boot",
        "current_boot_mode",
        "bmc_address",
        "bmc_v6address",
        "boot_interface",
        "root_disk",
        "error",
        "all_interfaces",
        "mac",
        "ip",
        "pxe",
        "macs",
        "lldp_raw",
        "lldp_processed",
        "pci_devices",
        "vendor_id",
        "product_id",
        "bus",
        "data",
        "block_devices",
        "serials",
        "local_gb",
        "properties",
        "root_device",
        "skip_block_devices",
        "capabilities",
        "extra",
        "provision_state",
        "address",
        "uuid",
        "pxe_enabled",
        "local_link_connection",
        "physical_network",
        "eth0",
        "lo",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "",
            "aa:bb:cc:dd:ee:ff",
            "AA:BB:CC:DD:EE:FF",
            "01-aa-bb-cc-dd-ee-ff",
            "127.0.0.1",
            "::1",
            "fe80::1%eth0",
            "1.2.3.4",
            "0.0.0.0",
            "::/0",
            "active",
            "x86_64",
            "04112233aabbcc",
            "07373334",
            "zz",
            "a:b,c",
            "vmx",
            "s== a",
            ">= 1",
            "<in> x",
            "10de",
            "1eb8",
            "eth0",
        ])
        .prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|entries| Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect()
            )),
        ]
    })
}

fn all_hooks_pipeline(flags: u8) -> Pipeline {
    let mut config = Config::default();
    config.processing.processing_hooks = "ramdisk_error,root_disk_selection,scheduler,validate_interfaces,\
        capabilities,pci_devices,accelerators,extra_hardware,lldp_basic,local_link_connection,physnet_cidr_map,\
        raid_device,example"
        .split(',')
        .map(str::to_string)
        .collect();
    config.processing.add_ports = [
        AddPorts::All,
        AddPorts::Active,
        AddPorts::Pxe,
        AddPorts::Disabled,
    ][usize::from(flags & 3)];
    config.processing.keep_ports = match (flags >> 2) % 3 {
        0 => KeepPorts::All,
        2 if config.processing.add_ports != AddPorts::Disabled => KeepPorts::Added,
        _ => KeepPorts::Present,
    };
    config.processing.overwrite_existing = flags & 8 != 0;
    config.capabilities.boot_mode = flags & 16 != 0;
    config.extra_hardware.strict = flags & 32 != 0;
    config.pci_devices.alias =
        vec![r#"{"vendor_id": "10de", "product_id": "1eb8", "name": "gpu"}"#.into()];
    config.port_physnet.cidr_map = vec!["1.2.0.0/16:a".into(), "::/0:b".into()];
    Pipeline::load(&config, None).expect("pipeline loads").0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn hooks_never_panic(data in arb_json(), node in arb_json(), ports in prop::collection::vec(arb_json(), 0..4), flags in any::<u8>()) {
        let pipeline = all_hooks_pipeline(flags);
        let mut data = match data {
            Value::Object(map) => map,
            other => [("inventory".to_string(), other)].into_iter().collect(),
        };
        let _ = pipeline.before_processing(&mut data);
        let _ = lookup_attributes(&data);
        for index in 0..pipeline.len() + 1 {
            let _ = pipeline.before_update(index, &mut data, NodeView { node: &node, ports: &ports });
        }
    }

    #[test]
    fn hooks_never_panic_on_mutated_fixture(path in prop::collection::vec(0usize..8, 1..5), value in arb_json(), flags in any::<u8>()) {
        let pipeline = all_hooks_pipeline(flags);
        let mut doc = Value::Object(input_data(case("handmade_all_hooks")));
        // Walk immutably to a JSON pointer, then replace what it points to.
        let mut pointer = String::new();
        let mut target = &doc;
        for step in path {
            let next = match target {
                Value::Object(map) if !map.is_empty() => map.iter().nth(step % map.len()).map(|(k, v)| (k.clone(), v)),
                Value::Array(items) if !items.is_empty() => Some(((step % items.len()).to_string(), &items[step % items.len()])),
                _ => None,
            };
            let Some((key, next)) = next else { break };
            pointer.push('/');
            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            target = next;
        }
        if let Some(slot) = doc.pointer_mut(&pointer) {
            *slot = value;
        }
        let Value::Object(mut data) = doc else { return Ok(()) };
        let node = input_node(case("handmade_all_hooks"));
        let ports = input_ports(case("handmade_all_hooks"));
        let _ = pipeline.before_processing(&mut data);
        for index in 0..pipeline.len() {
            let _ = pipeline.before_update(index, &mut data, NodeView { node: &node, ports: &ports });
        }
    }

    #[test]
    fn logs_filename_is_always_plain(format in "[{}a-z:%!.\\[\\]/0-9<>^]{0,16}", mac in "\\PC{0,6}", bmc in "\\PC{0,6}") {
        if let Ok(name) = ramdisk_logs_filename(&format, None, Some(&mac), Some(&bmc), filename_dt()) {
            prop_assert!(!name.contains('/') && !name.contains('\0') && name != "." && name != ".." && !name.is_empty());
        }
    }
}
