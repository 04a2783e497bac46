//! The rules engine against the upstream oracle (tests/oracle/gen_rules.py):
//! every case ran ironic-inspector 12.5.0's own `IntrospectionRule` with a real
//! `NodeInfo` over an openstacksdk node and a recording Ironic client. We must
//! give the same condition results, the same Ironic calls and the same error
//! texts, except for the deliberate deviations pinned at the end.

use std::sync::LazyLock;

use inspector_core::hooks::NodeOp;
use inspector_core::rules::eval::{self, ActionOutcome};
use inspector_core::rules::{RuleDefinition, parse_rule};
use proptest::prelude::*;
use serde_json::{Value, json};

static FIXTURE: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("oracle/rules.json")).expect("fixture parses")
});

const RESET_REFUSED: &str =
    "Cannot pass reset_interfaces to set-attribute, requires API 1.46 and ironicclient >= 2.5.0";

fn section(key: &str) -> &'static [Value] {
    FIXTURE[key].as_array().expect("fixture section")
}

fn data(name: &Value) -> &'static Value {
    &FIXTURE["data"][name.as_str().expect("data name")]
}

fn node(name: &Value) -> &'static Value {
    &FIXTURE["nodes"][name.as_str().expect("node name")]
}

fn rule(conditions: &Value, actions: &Value) -> RuleDefinition {
    parse_rule(&json!({"conditions": conditions, "actions": actions}))
        .unwrap_or_else(|e| panic!("upstream accepted {conditions} / {actions}, we refuse: {e}"))
}

/// The text upstream's exception becomes: an `utils.Error` keeps its message
/// (the intended one for the broken formatting KeyError, see deviations),
/// anything else is wrapped as process.py does.
fn upstream_error(index: &Value) -> String {
    let e = &section("errors")[index.as_u64().expect("error index") as usize];
    let class = e["class"].as_str().expect("class");
    let message = e["message"].as_str().expect("message");
    if class == "Error" {
        match e.get("intended") {
            Some(intended) => {
                // Pinned: upstream never interpolated this message
                // (upstream-behaviour §rules-actions).
                assert!(message.contains("%(val)s"), "{message}");
                intended.as_str().expect("intended").to_string()
            }
            None => message.to_string(),
        }
    } else {
        format!("Unexpected exception {class} during processing: {message}")
    }
}

/// A condition or scope result as the fixture stores it: a bool, or the
/// error text.
fn expected_result(recorded: &Value) -> Value {
    match recorded {
        Value::Bool(_) => recorded.clone(),
        index => Value::String(upstream_error(index)),
    }
}

fn ours(result: Result<bool, eval::EvalError>) -> Value {
    match result {
        Ok(b) => Value::Bool(b),
        Err(e) => Value::String(e.to_string()),
    }
}

/// Fails with every mismatch listed, not only the first.
fn report(what: &str, checked: usize, failures: Vec<String>) {
    assert!(checked > 0, "{what}: no cases");
    assert!(
        failures.is_empty(),
        "{what}: {} of {checked} cases differ from upstream:\n{}",
        failures.len(),
        failures
            .iter()
            .take(400)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ------------------------------------------------------------- deviations

/// Condition cases where we deliberately answer otherwise, with our answer:
/// `node://` also exposes the Ironic API names (and fields the SDK does not
/// know), which upstream's `Node.to_dict()` did not have; it lacks the
/// SDK's client-side `location`.
fn condition_deviations() -> Vec<(&'static str, Value)> {
    vec![
        ("node-node://uuid-is-empty-None", json!(false)),
        (
            "node-node://uuid-eq-1a1b2c3d-0000-4000-8000-00000000abcd",
            json!(true),
        ),
        ("node-node://uuid-contains-a", json!(true)),
        ("node-node://uuid-ne-zzz", json!(true)),
        ("node-node://maintenance-is-empty-None", json!(false)),
        ("node-node://maintenance-contains-a", json!(true)),
        ("node-node://maintenance-ne-zzz", json!(true)),
        ("node-node://instance_uuid-ne-zzz", json!(true)),
        ("node-node://portgroups[*].rel-is-empty-None", json!(false)),
        ("node-node://portgroups[*].rel-ne-zzz", json!(true)),
        ("node-node://foo_unknown-is-empty-None", json!(false)),
        ("node-node://foo_unknown-contains-a", json!(true)),
        ("node-node://foo_unknown-ne-zzz", json!(true)),
        ("node-node://location-ne-zzz", json!(false)),
    ]
}

/// Action cases where we deliberately act otherwise: our calls and error.
fn action_deviation(case: &Value) -> Option<Value> {
    let id = case["id"].as_str().expect("id");
    // A capability named `ironic` collided with update_capabilities'
    // `ironic` argument (upstream then called `"1".patch_node`); it is just
    // a capability here.
    if id == "set-cap-name-ironic" {
        return Some(json!({
            "calls": [["patch", [{"op": "add", "path": "/properties/capabilities",
                "value": "boot_mode:uefi,cpu_vt:true,ironic:1"}], {}]],
            "error": null,
        }));
    }
    // Malformed node capabilities: hooks::capabilities says what is wrong
    // instead of Python's ValueError/AttributeError (documented there).
    let malformed = match case["node"].as_str() {
        Some("bad_caps") => {
            "Malformed node capabilities \"novalue\": item \"novalue\" is not of the form key:value"
        }
        Some("trailing_caps") => {
            "Malformed node capabilities \"a:1,\": item \"\" is not of the form key:value"
        }
        Some("dict_caps") => {
            "Node capabilities must be a string of the form k1:v1,k2:v2, got {'a': '1'}"
        }
        _ => return None,
    };
    (case["actions"][0]["action"] == "set-capability")
        .then(|| json!({"calls": [], "error": malformed}))
}

/// Validation cases where upstream crashed (HTTP 500) and we answer 400.
fn validation_deviation(case: &Value) -> Option<&'static str> {
    (case["conditions"][0]["op"] == "in-net" && case["conditions"][0]["value"].is_number()).then_some(
        "Invalid parameters for operator in-net: invalid value: unexpected type <class 'int'> for addr arg",
    )
}

// ------------------------------------------------------------------ tests

#[test]
fn condition_matrix_matches_upstream() {
    let matrix = &FIXTURE["matrix"];
    let fields = matrix["fields"].as_array().expect("fields");
    let std_data = &FIXTURE["data"]["std"];
    let std_node = &FIXTURE["nodes"]["std"];
    let mut checked = 0;
    let mut failures = Vec::new();
    for (op, table) in matrix["ops"].as_object().expect("ops") {
        let values = table["values"].as_array().expect("values");
        let results = table["results"].as_array().expect("results");
        for (field, row) in fields.iter().zip(results) {
            for (value, recorded) in values.iter().zip(row.as_array().expect("row")) {
                let mut condition = json!({"op": op, "field": field});
                if !value.is_null() {
                    condition["value"] = value.clone();
                }
                let definition = rule(&json!([condition]), &json!([{"action": "example"}]));
                let got = ours(eval::conditions_match(
                    &definition.conditions,
                    std_data,
                    std_node,
                ));
                let want = expected_result(recorded);
                checked += 1;
                if got != want {
                    failures.push(format!("{op} {field} {value}: got {got}, upstream {want}"));
                }
            }
        }
    }
    report("condition matrix", checked, failures);
}

#[test]
fn conditions_match_upstream() {
    let deviations = condition_deviations();
    let mut failures = Vec::new();
    let mut pinned = 0;
    for case in section("conditions") {
        let id = case["id"].as_str().expect("id");
        let definition = rule(&case["conditions"], &json!([{"action": "example"}]));
        let got = ours(eval::conditions_match(
            &definition.conditions,
            data(&case["data"]),
            node(&case["node"]),
        ));
        let upstream = expected_result(&case["result"]);
        let want = match deviations.iter().find(|(d, _)| *d == id) {
            Some((_, ours)) => {
                pinned += 1;
                if *ours == upstream {
                    failures.push(format!("{id}: deviation no longer differs from upstream"));
                }
                ours.clone()
            }
            None => upstream,
        };
        if got != want {
            failures.push(format!("{id}: got {got}, expected {want}"));
        }
    }
    assert_eq!(pinned, deviations.len(), "a pinned deviation has no case");
    report("conditions", section("conditions").len(), failures);
}

#[test]
fn scopes_match_upstream() {
    let mut failures = Vec::new();
    for case in section("scopes") {
        let got = Value::Bool(eval::scope_matches(
            case["scope"].as_str(),
            node(&case["node"]),
        ));
        let want = expected_result(&case["result"]);
        if got != want {
            failures.push(format!("{case}: got {got}"));
        }
    }
    report("scopes", section("scopes").len(), failures);
}

/// add/replace of object members, as the fixture's fake Ironic applies them.
fn apply_patch(node: &mut Value, patch: &[Value]) {
    for op in patch {
        let path = op["path"].as_str().expect("patch path");
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        let Some((last, parents)) = parts.split_last() else {
            continue;
        };
        let mut target = &mut *node;
        let mut reachable = true;
        for part in parents {
            if !target.get(*part).is_some_and(Value::is_object) {
                reachable = false;
                break;
            }
            target = &mut target[*part];
        }
        if reachable && let Value::Object(map) = target {
            map.insert(last.to_string(), op["value"].clone());
        }
    }
}

fn patch_call(patch: &[Value], reset_interfaces: bool) -> Value {
    let kwargs = if reset_interfaces {
        json!({"reset_interfaces": true})
    } else {
        json!({})
    };
    json!(["patch", patch, kwargs])
}

/// Runs a rule's actions as the service does, turning each outcome into the
/// Ironic calls upstream's client would have seen. With `reject_reset`,
/// Ironic refuses any PATCH that carries `reset_interfaces`.
fn run_actions(
    definition: &RuleDefinition,
    data: &Value,
    start: &Value,
    reject_reset: bool,
) -> (Vec<Value>, Option<String>) {
    let mut node = start.clone();
    let mut calls = Vec::new();
    for action in &definition.actions {
        let outcome = match eval::action_outcome(action, data, &node) {
            Ok(outcome) => outcome,
            Err(e) => return (calls, Some(e.to_string())),
        };
        match outcome {
            ActionOutcome::Fail(message) => return (calls, Some(message)),
            ActionOutcome::Nothing => {}
            ActionOutcome::Ops(ops) => {
                for op in ops {
                    match op {
                        NodeOp::PatchNode {
                            patch,
                            reset_interfaces,
                        } => {
                            calls.push(patch_call(&patch, reset_interfaces));
                            apply_patch(&mut node, &patch);
                        }
                        NodeOp::AddTrait(t) => calls.push(json!(["add_trait", t])),
                        NodeOp::RemoveTrait(t) => calls.push(json!(["remove_trait", t])),
                        other => panic!("rules never ask for {other:?}"),
                    }
                }
            }
            ActionOutcome::Patch {
                patch,
                reset_interfaces,
                explicit_reset,
            } => {
                if reject_reset && reset_interfaces {
                    let mut refused = patch_call(&patch, true);
                    refused
                        .as_array_mut()
                        .expect("call")
                        .push(json!("rejected"));
                    calls.push(refused);
                    if explicit_reset {
                        return (calls, Some(RESET_REFUSED.to_string()));
                    }
                    calls.push(patch_call(&patch, false));
                } else {
                    calls.push(patch_call(&patch, reset_interfaces));
                }
                apply_patch(&mut node, &patch);
            }
        }
    }
    (calls, None)
}

/// Upstream's calls minus the capability PATCHes that would not change the
/// node: `update_capabilities` always PATCHes, we skip an unchanged value
/// (documented in hooks::capabilities::update_op).
fn upstream_calls(recorded: &Value, start: &Value) -> Vec<Value> {
    let mut node = start.clone();
    let mut out = Vec::new();
    for call in recorded.as_array().expect("calls") {
        if call[0] == "patch" && call.get(3).is_none() {
            let patch = call[1].as_array().expect("patch");
            let unchanged_caps = patch.len() == 1
                && patch[0]["path"] == "/properties/capabilities"
                && call[2] == json!({})
                && match &node["properties"]["capabilities"] {
                    Value::Null => patch[0]["value"] == "",
                    current => *current == patch[0]["value"],
                };
            if unchanged_caps {
                continue;
            }
            apply_patch(&mut node, patch);
        }
        out.push(call.clone());
    }
    out
}

#[test]
fn actions_match_upstream() {
    let mut failures = Vec::new();
    let mut pinned = 0;
    for case in section("actions") {
        let id = case["id"].as_str().expect("id");
        let reject = case["reject_reset"] == true;
        let start = node(&case["node"]);
        let definition = rule(&json!([]), &case["actions"]);
        let (calls, error) = run_actions(&definition, data(&case["data"]), start, reject);
        let got = json!({"calls": calls, "error": error});
        let upstream = json!({
            "calls": upstream_calls(&case["calls"], start),
            "error": match &case["error"] {
                Value::Null => None,
                index => Some(upstream_error(index)),
            },
        });
        let want = match action_deviation(case) {
            Some(ours) => {
                pinned += 1;
                if ours == upstream {
                    failures.push(format!("{id}: deviation no longer differs from upstream"));
                }
                ours
            }
            None => upstream,
        };
        if got != want {
            failures.push(format!(
                "{id} (reject={reject}):\n  got      {got}\n  expected {want}"
            ));
        }
    }
    assert_eq!(pinned, 31, "pinned action deviations");
    report("actions", section("actions").len(), failures);
}

#[test]
fn validation_matches_upstream() {
    let mut failures = Vec::new();
    for case in section("validation") {
        let body = json!({"conditions": case["conditions"], "actions": case["actions"]});
        let got = match parse_rule(&body) {
            Ok(_) => Value::Null,
            Err(e) => Value::String(e.0.lines().next().unwrap_or_default().to_string()),
        };
        let want = match validation_deviation(case) {
            Some(ours) => {
                assert!(case["error"].is_object(), "upstream crashed: {case}");
                json!(ours)
            }
            None => case["error"].clone(),
        };
        if got != want {
            failures.push(format!("{body}: got {got}, expected {want}"));
        }
    }
    report("validation", section("validation").len(), failures);
}

proptest! {
    /// Arbitrary rule values never make evaluation panic.
    #[test]
    fn evaluation_never_panics(
        value in any::<String>(),
        number in any::<i64>(),
        path in "[a-z/]{0,12}",
    ) {
        let std_data = &FIXTURE["data"]["std"];
        let std_node = &FIXTURE["nodes"]["std"];
        for op in ["eq", "lt", "matches", "contains", "in-net"] {
            for v in [json!(value.clone()), json!(number)] {
                let body = json!({
                    "conditions": [{"op": op, "field": "edge[*]", "value": v}],
                    "actions": [{"action": "example"}],
                });
                if let Ok(definition) = parse_rule(&body) {
                    let _ = eval::conditions_match(&definition.conditions, std_data, std_node);
                }
            }
        }
        for action in [
            json!({"action": "set-attribute", "path": path.clone(), "value": value.clone()}),
            json!({"action": "extend-attribute", "path": path.clone(), "value": value.clone()}),
            json!({"action": "set-capability", "name": value.clone(), "value": path.clone()}),
        ] {
            let definition = rule(&json!([]), &json!([action]));
            let _ = eval::action_outcome(&definition.actions[0], std_data, std_node);
        }
    }
}
