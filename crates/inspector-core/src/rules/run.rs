//! A run of the rules against one node, in two phases: every rule's scope and
//! conditions are evaluated against the same node snapshot
//! ([`match_rules`]), then the actions of the matching rules are turned into
//! Ironic calls one by one against the node as the previous ones left it.
//! The service's real run executes those calls; [`dry_run`] only plans them,
//! following the node's changes on a local copy, and reports everything.

use serde_json::{Value, json};

use super::eval::{self, ActionOutcome, CompiledCondition, ConditionCheck, EvalError};
use super::{ActionKind, RuleDefinition};
use crate::hooks::NodeOp;
use crate::json_patch;

/// How one rule fared.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTrace {
    /// Position of the rule in the list evaluated.
    pub index: usize,
    pub scope_applies: bool,
    /// The conditions evaluated, in order; evaluation stops at the first that
    /// does not hold, so later ones are absent.
    pub conditions: Vec<ConditionCheck>,
    pub matched: bool,
    /// What each action asked for, in order (dry run only).
    pub actions: Vec<(ActionKind, ActionOutcome)>,
}

/// The outcome of a run: the rules evaluated, and the error that stopped it
/// (with the index of the rule it came from), which fails the node in a real
/// run. Rules after that one are not evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub rules: Vec<RuleTrace>,
    pub error: Option<(usize, EvalError)>,
}

impl Evaluation {
    /// The matching rules, in the order their actions run.
    pub fn matched(&self) -> impl Iterator<Item = usize> + '_ {
        self.rules.iter().filter(|r| r.matched).map(|r| r.index)
    }
}

/// A rule made ready to run: its conditions' paths parsed and regular
/// expressions compiled once, however many nodes it is checked against.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub definition: RuleDefinition,
    conditions: Vec<CompiledCondition>,
}

impl CompiledRule {
    pub fn new(definition: RuleDefinition) -> Self {
        let conditions = definition
            .conditions
            .iter()
            .map(CompiledCondition::new)
            .collect();
        Self {
            definition,
            conditions,
        }
    }
}

impl From<RuleDefinition> for CompiledRule {
    fn from(definition: RuleDefinition) -> Self {
        Self::new(definition)
    }
}

/// The first phase, shared by the real run and the dry run: scopes and
/// conditions of every rule against one node snapshot, with the values each
/// condition found.
pub fn match_rules(rules: &[CompiledRule], data: &Value, node: &Value) -> Evaluation {
    evaluate(rules, data, node, true)
}

/// [`match_rules`] without copying the values the conditions found (their
/// checks come back with no values): the real run only needs which rules
/// matched, or the error.
pub fn select_rules(rules: &[CompiledRule], data: &Value, node: &Value) -> Evaluation {
    evaluate(rules, data, node, false)
}

fn evaluate(rules: &[CompiledRule], data: &Value, node: &Value, keep_values: bool) -> Evaluation {
    let node_view = eval::NodeForRules::new(node);
    let mut traces = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let definition = &rule.definition;
        let scope_applies = eval::scope_matches(definition.scope.as_deref(), node);
        let mut trace = RuleTrace {
            index,
            scope_applies,
            conditions: Vec::new(),
            matched: false,
            actions: Vec::new(),
        };
        if scope_applies {
            let (checks, result) = eval::trace_compiled(
                &definition.conditions,
                &rule.conditions,
                data,
                &node_view,
                keep_values,
            );
            trace.conditions = checks;
            match result {
                Ok(matched) => trace.matched = matched,
                Err(e) => {
                    traces.push(trace);
                    return Evaluation {
                        rules: traces,
                        error: Some((index, e)),
                    };
                }
            }
        }
        traces.push(trace);
    }
    Evaluation {
        rules: traces,
        error: None,
    }
}

/// Evaluates the rules and plans the calls their actions would make, without
/// making any. The node copy follows the node patches as Ironic would apply
/// them (a patch Ironic would have to judge leaves it as it was); trait calls
/// leave it unchanged, as they do the real run's copy.
pub fn dry_run(rules: &[CompiledRule], data: &Value, node: &Value) -> Evaluation {
    let mut evaluation = match_rules(rules, data, node);
    if evaluation.error.is_some() {
        return evaluation;
    }
    let mut current = node.clone();
    let matched: Vec<usize> = evaluation.matched().collect();
    for index in matched {
        for action in &rules[index].definition.actions {
            let outcome = match eval::action_outcome(action, data, &current) {
                Ok(outcome) => outcome,
                Err(e) => {
                    evaluation.error = Some((index, e));
                    return evaluation;
                }
            };
            follow(&mut current, &outcome);
            let failed = match &outcome {
                ActionOutcome::Fail(message) => Some(EvalError(message.clone())),
                _ => None,
            };
            evaluation.rules[index]
                .actions
                .push((action.action, outcome));
            if let Some(error) = failed {
                evaluation.error = Some((index, error));
                return evaluation;
            }
        }
    }
    evaluation
}

/// Applies an outcome's node patches to the local copy of the node.
fn follow(node: &mut Value, outcome: &ActionOutcome) {
    let patches: Vec<&[Value]> = match outcome {
        ActionOutcome::Patch { patch, .. } => vec![patch],
        ActionOutcome::Ops(ops) => ops
            .iter()
            .filter_map(|op| match op {
                NodeOp::PatchNode { patch, .. } => Some(patch.as_slice()),
                _ => None,
            })
            .collect(),
        ActionOutcome::Fail(_) | ActionOutcome::Nothing => Vec::new(),
    };
    for patch in patches {
        if let Ok(patched) = json_patch::apply(node, patch) {
            *node = patched;
        }
    }
}

/// The Ironic calls an outcome makes, for the report; `node` names the node
/// in the paths.
pub fn effects(outcome: &ActionOutcome, node: &str) -> Vec<Value> {
    let patch_call = |patch: &[Value], reset_interfaces: bool| {
        json!({
            "call": format!("PATCH /v1/nodes/{node}"),
            "patch": patch,
            "reset_interfaces": reset_interfaces,
        })
    };
    match outcome {
        ActionOutcome::Patch {
            patch,
            reset_interfaces,
            ..
        } => vec![patch_call(patch, *reset_interfaces)],
        ActionOutcome::Ops(ops) => ops
            .iter()
            .filter_map(|op| match op {
                NodeOp::PatchNode {
                    patch,
                    reset_interfaces,
                } => Some(patch_call(patch, *reset_interfaces)),
                NodeOp::AddTrait(name) => {
                    Some(json!({"call": format!("PUT /v1/nodes/{node}/traits/{name}")}))
                }
                NodeOp::RemoveTrait(name) => {
                    Some(json!({"call": format!("DELETE /v1/nodes/{node}/traits/{name}")}))
                }
                // Rules ask for node patches and traits only.
                NodeOp::CreatePort { .. }
                | NodeOp::PatchPort { .. }
                | NodeOp::DeletePort { .. } => None,
            })
            .collect(),
        ActionOutcome::Fail(message) => vec![json!({"fail": message})],
        ActionOutcome::Nothing => Vec::new(),
    }
}

/// The dry run's report: per rule, its scope, each condition's field, the
/// values found there and its result, and each action's calls; `error` is
/// the error the node would get (`null` when the run would succeed).
pub fn report(rules: &[CompiledRule], evaluation: &Evaluation, node: &str) -> Value {
    let traces: Vec<Value> = evaluation
        .rules
        .iter()
        .map(|trace| {
            let rule = &rules[trace.index].definition;
            let conditions: Vec<Value> = rule
                .conditions
                .iter()
                .zip(&trace.conditions)
                .map(|(cond, check)| {
                    json!({
                        "op": cond.op.name(),
                        "field": cond.field,
                        "multiple": cond.multiple.name(),
                        "invert": cond.invert,
                        "values": check.values,
                        "result": check.result,
                    })
                })
                .collect();
            let actions: Vec<Value> = trace
                .actions
                .iter()
                .map(|(kind, outcome)| {
                    json!({"action": kind.name(), "effects": effects(outcome, node)})
                })
                .collect();
            let error = evaluation
                .error
                .as_ref()
                .filter(|(index, _)| *index == trace.index)
                .map(|(_, e)| e.0.clone());
            json!({
                "uuid": rule.uuid,
                "description": rule.description,
                "scope": rule.scope,
                "scope_applies": trace.scope_applies,
                "matched": trace.matched,
                "conditions": conditions,
                "actions": actions,
                "error": error,
            })
        })
        .collect();
    json!({
        "rules": traces,
        "error": evaluation.error.as_ref().map(|(_, e)| e.0.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule;

    fn rule(body: Value) -> CompiledRule {
        CompiledRule::new(parse_rule(&body).expect("a valid rule"))
    }

    fn node() -> Value {
        json!({
            "uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
            "driver": "ipmi",
            "extra": {"tags": ["a"]},
            "properties": {"capabilities": "boot_mode:bios", "inspection_scope": "rack1"},
        })
    }

    fn data() -> Value {
        json!({"memory_mb": 4096, "cpus": 4, "interfaces": {"eth0": {"ip": "10.0.0.5"}}})
    }

    #[test]
    fn conditions_are_traced_with_their_values_until_one_fails() {
        let rules = [rule(json!({
            "conditions": [
                {"op": "ge", "field": "memory_mb", "value": 1024},
                {"op": "eq", "field": "cpus", "value": 8},
                {"op": "eq", "field": "memory_mb", "value": 4096},
            ],
            "actions": [{"action": "add-trait", "name": "CUSTOM_X"}],
        }))];
        let evaluation = dry_run(&rules, &data(), &node());
        assert_eq!(evaluation.error, None);
        let trace = &evaluation.rules[0];
        assert!(!trace.matched);
        assert_eq!(
            trace.conditions,
            [
                ConditionCheck {
                    values: vec![json!(4096)],
                    result: true
                },
                ConditionCheck {
                    values: vec![json!(4)],
                    result: false
                },
            ]
        );
        assert!(trace.actions.is_empty());
    }

    #[test]
    fn the_actions_of_matching_rules_are_planned_against_the_changed_node() {
        let rules = [
            rule(json!({
                "conditions": [{"op": "eq", "field": "cpus", "value": 4}],
                "actions": [
                    {"action": "set-attribute", "path": "/extra/tags", "value": ["b"]},
                    {"action": "add-trait", "name": "CUSTOM_FOUR"},
                ],
            })),
            rule(json!({
                "conditions": [],
                "actions": [
                    // Sees the list the first rule set, not the node's.
                    {"action": "extend-attribute", "path": "/extra/tags", "value": "{data[cpus]}"},
                    {"action": "set-capability", "name": "cpus", "value": "{data[cpus]}"},
                    {"action": "remove-trait", "name": "CUSTOM_OLD"},
                ],
            })),
        ];
        let evaluation = dry_run(&rules, &data(), &node());
        assert_eq!(evaluation.error, None);
        let report = report(&rules, &evaluation, "N");
        assert_eq!(
            report["rules"][0]["actions"],
            json!([
                {"action": "set-attribute", "effects": [{
                    "call": "PATCH /v1/nodes/N",
                    "patch": [{"op": "add", "path": "/extra/tags", "value": ["b"]}],
                    "reset_interfaces": false,
                }]},
                {"action": "add-trait", "effects": [{"call": "PUT /v1/nodes/N/traits/CUSTOM_FOUR"}]},
            ])
        );
        assert_eq!(
            report["rules"][1]["actions"],
            json!([
                {"action": "extend-attribute", "effects": [{
                    "call": "PATCH /v1/nodes/N",
                    "patch": [{"op": "replace", "path": "/extra/tags", "value": ["b", "4"]}],
                    "reset_interfaces": false,
                }]},
                {"action": "set-capability", "effects": [{
                    "call": "PATCH /v1/nodes/N",
                    "patch": [{"op": "add", "path": "/properties/capabilities", "value": "boot_mode:bios,cpus:4"}],
                    "reset_interfaces": false,
                }]},
                {"action": "remove-trait", "effects": [{"call": "DELETE /v1/nodes/N/traits/CUSTOM_OLD"}]},
            ])
        );
        assert_eq!(report["error"], Value::Null);
    }

    #[test]
    fn a_fail_action_stops_the_run_with_its_message() {
        let rules = [
            rule(json!({
                "conditions": [],
                "actions": [
                    {"action": "fail", "message": "too small"},
                    {"action": "add-trait", "name": "CUSTOM_NEVER"},
                ],
            })),
            rule(
                json!({"conditions": [], "actions": [{"action": "add-trait", "name": "CUSTOM_NEVER"}]}),
            ),
        ];
        let evaluation = dry_run(&rules, &data(), &node());
        assert_eq!(evaluation.error, Some((0, EvalError("too small".into()))));
        let report = report(&rules, &evaluation, "N");
        assert_eq!(
            report["rules"][0]["actions"],
            json!([{"action": "fail", "effects": [{"fail": "too small"}]}])
        );
        assert_eq!(report["rules"][0]["error"], "too small");
        assert!(report["rules"][1]["actions"].as_array().unwrap().is_empty());
        assert_eq!(report["error"], "too small");
    }

    #[test]
    fn a_condition_error_stops_before_later_rules_and_any_action() {
        let rules = [
            rule(
                json!({"conditions": [{"op": "eq", "field": "cpus", "value": 4}],
                        "actions": [{"action": "add-trait", "name": "CUSTOM_X"}]}),
            ),
            rule(
                json!({"conditions": [{"op": "in-net", "field": "interfaces", "value": "10.0.0.0/8"}],
                        "actions": [{"action": "add-trait", "name": "CUSTOM_Y"}]}),
            ),
            rule(
                json!({"conditions": [], "actions": [{"action": "add-trait", "name": "CUSTOM_Z"}]}),
            ),
        ];
        let evaluation = dry_run(&rules, &data(), &node());
        let (index, error) = evaluation.error.clone().expect("an error");
        assert_eq!(index, 1);
        assert!(error.0.starts_with("Unexpected exception"), "{error}");
        assert_eq!(evaluation.rules.len(), 2, "the third rule is not reached");
        assert!(evaluation.rules.iter().all(|r| r.actions.is_empty()));
    }

    #[test]
    fn scopes_are_matched_against_the_node_and_nothing_without_one() {
        let rules = [
            rule(json!({"scope": "rack1", "conditions": [], "actions": [{"action": "example"}]})),
            rule(json!({"scope": "rack2", "conditions": [], "actions": [{"action": "example"}]})),
            rule(json!({"conditions": [], "actions": [{"action": "example"}]})),
        ];
        let applies = |node: &Value| -> Vec<bool> {
            match_rules(&rules, &data(), node)
                .rules
                .iter()
                .map(|r| r.scope_applies)
                .collect()
        };
        assert_eq!(applies(&node()), [true, false, true]);
        assert_eq!(applies(&Value::Null), [false, false, true]);
        let evaluation = match_rules(&rules, &data(), &node());
        assert_eq!(evaluation.matched().collect::<Vec<_>>(), [0, 2]);
    }

    #[test]
    fn a_missing_field_is_reported_with_no_values() {
        let rules = [rule(json!({
            "conditions": [
                {"op": "is-empty", "field": "nothing.here"},
                {"op": "eq", "field": "node://extra.tags[0]", "value": "a"},
                {"op": "eq", "field": "nothing.there", "value": 1},
            ],
            "actions": [{"action": "example"}],
        }))];
        let trace = &match_rules(&rules, &data(), &node()).rules[0];
        assert_eq!(
            trace.conditions,
            [
                ConditionCheck {
                    values: vec![],
                    result: true
                },
                ConditionCheck {
                    values: vec![json!("a")],
                    result: true
                },
                ConditionCheck {
                    values: vec![],
                    result: false
                },
            ]
        );
    }
}
