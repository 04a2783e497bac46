//! Evaluating rules (spec §7.3–§7.5): scopes, conditions over jsonpath-rw
//! fields with Python semantics, and what each action asks of Ironic.

use serde_json::{Map, Value, json};

use super::{ActionDef, ActionKind, ConditionDef, ConditionOp, Multiple, split_field};
use crate::hooks::{NodeOp, capabilities};
use crate::jsonpath;
use crate::py::{self, PyError, cmp::CmpOp, format::FormatError};

/// Why a rule could not be evaluated or applied. The text becomes the
/// node's error; upstream produced the same texts but answered 500 for the
/// "unexpected" ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

fn unexpected(e: &PyError) -> EvalError {
    EvalError(format!(
        "Unexpected exception {} during processing: {}",
        e.class, e.message
    ))
}

/// What an action asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionOutcome {
    /// A node patch. `reset_interfaces` is sent with it; when Ironic refuses
    /// that flag the patch is retried without it, unless the rule asked for
    /// the flag explicitly (`explicit_reset`), which is then an error.
    Patch {
        patch: Vec<Value>,
        reset_interfaces: bool,
        explicit_reset: bool,
    },
    Ops(Vec<NodeOp>),
    Fail(String),
    Nothing,
}

/// A rule without a scope applies to every node; a scoped one only to nodes
/// whose `properties.inspection_scope` equals it.
pub fn scope_matches(scope: Option<&str>, node: &Value) -> bool {
    match scope {
        None | Some("") => true,
        Some(scope) => node["properties"]["inspection_scope"].as_str() == Some(scope),
    }
}

/// The node as rules see it through `node://`: upstream gave the
/// openstacksdk attribute names (`id`, `is_maintenance`, ...); both those and
/// the Ironic API names work here.
pub fn node_for_rules(node: &Value) -> Value {
    let Value::Object(fields) = node else {
        return node.clone();
    };
    let mut out = fields.clone();
    for (api, sdk) in [
        ("uuid", "id"),
        ("instance_uuid", "instance_id"),
        ("maintenance", "is_maintenance"),
        ("console_enabled", "is_console_enabled"),
        ("protected", "is_protected"),
        ("retired", "is_retired"),
        ("automated_clean", "is_automated_clean_enabled"),
        ("chassis_uuid", "chassis_id"),
        ("allocation_uuid", "allocation_id"),
        ("secure_boot", "is_secure_boot"),
    ] {
        if let Some(value) = fields.get(api) {
            out.entry(sdk.to_string()).or_insert_with(|| value.clone());
        }
    }
    Value::Object(out)
}

/// Whether every condition holds, evaluated in order; stops at the first that
/// does not (`data` = processed introspection data, `node` = Ironic node).
pub fn conditions_match(
    conditions: &[ConditionDef],
    data: &Value,
    node: &Value,
) -> Result<bool, EvalError> {
    let node_view = node_for_rules(node);
    for cond in conditions {
        let (scheme, path) = split_field(&cond.field);
        let source = if scheme == "node" { &node_view } else { data };
        let parsed = jsonpath::parse(path).map_err(|e| {
            EvalError(format!(
                "Unable to parse field JSON path {}: {e}",
                cond.field
            ))
        })?;
        let found = parsed.try_find(source).map_err(|e| {
            EvalError(format!(
                "Unexpected exception {} during processing: {}",
                e.exception, e.message
            ))
        })?;
        let values: Vec<Value> = if found.is_empty() {
            if !cond.op.allows_missing() {
                return Ok(false);
            }
            vec![Value::Null]
        } else {
            found.into_iter().map(|v| v.into_owned()).collect()
        };
        let mut result = false;
        for value in &values {
            result = check(cond.op, value, &cond.params)?;
            if cond.invert {
                result = !result;
            }
            let stop = match cond.multiple {
                Multiple::First => true,
                Multiple::All => !result,
                Multiple::Any => result,
            };
            if stop {
                break;
            }
        }
        if !result {
            return Ok(false);
        }
    }
    Ok(true)
}

fn check(op: ConditionOp, field: &Value, params: &Map<String, Value>) -> Result<bool, EvalError> {
    let expected = params.get("value").unwrap_or(&Value::Null);
    let comparison = match op {
        ConditionOp::Eq => Some(CmpOp::Eq),
        ConditionOp::Ne => Some(CmpOp::Ne),
        ConditionOp::Lt => Some(CmpOp::Lt),
        ConditionOp::Gt => Some(CmpOp::Gt),
        ConditionOp::Le => Some(CmpOp::Le),
        ConditionOp::Ge => Some(CmpOp::Ge),
        _ => None,
    };
    if let Some(cmp) = comparison {
        return py::cmp::check(cmp, field, expected).map_err(|e| unexpected(&e));
    }
    match op {
        ConditionOp::IsEmpty => Ok(match field {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        }),
        ConditionOp::InNet => {
            let network = py::net::parse_network_value(expected).map_err(|e| unexpected(&e))?;
            let address = py::net::parse_address(field).map_err(|e| unexpected(&e))?;
            Ok(py::net::network_contains(&network, &address))
        }
        ConditionOp::Matches | ConditionOp::Contains => {
            let pattern = expected
                .as_str()
                .ok_or_else(|| EvalError("regular expression is not a string".into()))?;
            let pattern = if op == ConditionOp::Matches {
                py::re::matches_condition_pattern(pattern).map_err(|e| unexpected(&e))?
            } else {
                pattern.to_string()
            };
            let regex = py::re::compile(&pattern)
                .map_err(|e| EvalError(format!("invalid regular expression: {e}")))?;
            let subject = py::value::py_str(field);
            let found = if op == ConditionOp::Matches {
                regex.is_match_at_start(&subject)
            } else {
                regex.search(&subject)
            };
            found.map_err(|e| EvalError(e.to_string()))
        }
        _ => Ok(false),
    }
}

fn formatted(
    params: &Map<String, Value>,
    key: &str,
    data: &Value,
) -> Result<Option<Value>, EvalError> {
    match params.get(key) {
        None => Ok(None),
        Some(value) => py::format::format_value(value, data)
            .map(Some)
            .map_err(|e| match e {
                FormatError::MissingKey(k) => EvalError(format!(
                    "Invalid formatting variable key provided in value {}: {k}",
                    py::value::py_str(value)
                )),
                other => EvalError(format!(
                    "Invalid formatting of value {}: {other}",
                    py::value::py_str(value)
                )),
            }),
    }
}

fn text_param(params: &Map<String, Value>, key: &str) -> String {
    params.get(key).map(py::value::py_str).unwrap_or_default()
}

/// A node patch path always starts with `/`.
fn patch_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// The value at `/top/key` of the node, as upstream's `get_by_path` reads it
/// (one level below a top-level field, the rest of the path is one key).
fn value_at(node: &Value, path: &str) -> Option<Value> {
    let view = node_for_rules(node);
    let trimmed = path.trim_matches('/');
    match trimmed.split_once('/') {
        Some((top, key)) => view.get(top)?.get(key).cloned(),
        None => view.get(trimmed).cloned(),
    }
}

/// What one action asks for, given the current node.
pub fn action_outcome(
    action: &ActionDef,
    data: &Value,
    node: &Value,
) -> Result<ActionOutcome, EvalError> {
    let params = &action.params;
    match action.action {
        ActionKind::Fail => Ok(ActionOutcome::Fail(text_param(params, "message"))),
        ActionKind::Example => Ok(ActionOutcome::Nothing),
        ActionKind::AddTrait => Ok(ActionOutcome::Ops(vec![NodeOp::AddTrait(text_param(
            params, "name",
        ))])),
        ActionKind::RemoveTrait => Ok(ActionOutcome::Ops(vec![NodeOp::RemoveTrait(text_param(
            params, "name",
        ))])),
        ActionKind::SetAttribute => {
            let path = text_param(params, "path");
            let value = formatted(params, "value", data)?.unwrap_or(Value::Null);
            let explicit_reset = params.contains_key("reset_interfaces");
            let requested = params
                .get("reset_interfaces")
                .is_none_or(crate::value::truthy);
            let reset_interfaces = path.trim_matches('/') == "driver" && requested;
            Ok(ActionOutcome::Patch {
                patch: vec![json!({"op": "add", "path": patch_path(&path), "value": value})],
                reset_interfaces,
                explicit_reset,
            })
        }
        ActionKind::SetCapability => {
            let name = text_param(params, "name");
            let value = formatted(params, "value", data)?.filter(|v| !v.is_null());
            let update = vec![(name, value.as_ref().and_then(capabilities::value_to_string))];
            let op = capabilities::update_op(node, &update).map_err(|e| EvalError(e.0))?;
            Ok(op
                .map(|op| ActionOutcome::Ops(vec![op]))
                .unwrap_or(ActionOutcome::Nothing))
        }
        ActionKind::ExtendAttribute => {
            let path = text_param(params, "path");
            let value = formatted(params, "value", data)?.unwrap_or(Value::Null);
            let unique = params.get("unique").is_some_and(crate::value::truthy);
            let (current, op) = match value_at(node, &path) {
                Some(existing) => (existing, "replace"),
                None => (Value::Array(Vec::new()), "add"),
            };
            let Value::Array(mut items) = current else {
                return Err(EvalError(format!(
                    "Unexpected exception AttributeError during processing: '{}' object has no attribute 'append'",
                    py::value::type_name(&current)
                )));
            };
            if unique && items.contains(&value) {
                return Ok(ActionOutcome::Nothing);
            }
            items.push(value);
            Ok(ActionOutcome::Patch {
                patch: vec![json!({"op": op, "path": patch_path(&path), "value": items})],
                reset_interfaces: false,
                explicit_reset: false,
            })
        }
    }
}
