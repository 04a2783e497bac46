//! Evaluating rules (upstream-behaviour §rules-conditions, §rules-actions):
//! scopes, conditions over jsonpath-rw fields with Python semantics, and what
//! each action asks of Ironic.

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

/// openstacksdk's `Node` attributes in `to_dict()` order, with the Ironic API
/// field each reads (the client-side `location` is left out: it describes
/// the SDK connection, not the node).
const SDK_NODE_FIELDS: [(&str, &str); 64] = [
    ("allocation_id", "allocation_uuid"),
    ("owner", "owner"),
    ("boot_mode", "boot_mode"),
    ("chassis_id", "chassis_uuid"),
    ("clean_step", "clean_step"),
    ("conductor", "conductor"),
    ("conductor_group", "conductor_group"),
    ("created_at", "created_at"),
    ("deploy_step", "deploy_step"),
    ("description", "description"),
    ("driver", "driver"),
    ("driver_info", "driver_info"),
    ("driver_internal_info", "driver_internal_info"),
    ("extra", "extra"),
    ("fault", "fault"),
    ("health", "health"),
    ("id", "uuid"),
    ("instance_info", "instance_info"),
    ("instance_id", "instance_uuid"),
    ("instance_name", "instance_name"),
    ("is_automated_clean_enabled", "automated_clean"),
    ("is_console_enabled", "console_enabled"),
    ("is_maintenance", "maintenance"),
    ("is_protected", "protected"),
    ("is_retired", "retired"),
    ("is_secure_boot", "secure_boot"),
    ("last_error", "last_error"),
    ("lessee", "lessee"),
    ("links", "links"),
    ("maintenance_reason", "maintenance_reason"),
    ("name", "name"),
    ("parent_node", "parent_node"),
    ("ports", "ports"),
    ("port_groups", "portgroups"),
    ("power_state", "power_state"),
    ("properties", "properties"),
    ("protected_reason", "protected_reason"),
    ("provision_state", "provision_state"),
    ("retired_reason", "retired_reason"),
    ("raid_config", "raid_config"),
    ("reservation", "reservation"),
    ("resource_class", "resource_class"),
    ("service_step", "service_step"),
    ("runbook", "runbook"),
    ("shard", "shard"),
    ("states", "states"),
    ("target_provision_state", "target_provision_state"),
    ("target_power_state", "target_power_state"),
    ("target_raid_config", "target_raid_config"),
    ("traits", "traits"),
    ("updated_at", "updated_at"),
    ("bios_interface", "bios_interface"),
    ("boot_interface", "boot_interface"),
    ("console_interface", "console_interface"),
    ("deploy_interface", "deploy_interface"),
    ("firmware_interface", "firmware_interface"),
    ("inspect_interface", "inspect_interface"),
    ("management_interface", "management_interface"),
    ("network_interface", "network_interface"),
    ("power_interface", "power_interface"),
    ("raid_interface", "raid_interface"),
    ("rescue_interface", "rescue_interface"),
    ("storage_interface", "storage_interface"),
    ("vendor_interface", "vendor_interface"),
];

/// The node as upstream's SDK `Node` showed it: every SDK attribute, `null`
/// when Ironic did not send the field.
fn sdk_node(node: &Value) -> Map<String, Value> {
    SDK_NODE_FIELDS
        .iter()
        .map(|(sdk, api)| {
            let value = node.get(api).cloned().unwrap_or(Value::Null);
            (sdk.to_string(), value)
        })
        .collect()
}

/// The node as rules see it through `node://`: upstream's `Node.to_dict()`
/// (SDK attribute names such as `id`, `is_maintenance`, `null` for fields
/// Ironic did not send), followed by the Ironic API fields under their own
/// names, so that rules written with those (`uuid`, `maintenance`, ...)
/// work too.
pub fn node_for_rules(node: &Value) -> Value {
    let mut out = sdk_node(node);
    if let Value::Object(fields) = node {
        for (name, value) in fields {
            out.entry(name.clone()).or_insert_with(|| value.clone());
        }
    }
    Value::Object(out)
}

/// One condition as evaluated: the values found at its field (empty when
/// it matched nothing, or when the run does not keep them) and whether the
/// condition held.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionCheck {
    pub values: Vec<Value>,
    pub result: bool,
}

/// A condition made ready to be checked against many documents: its field's
/// path parsed and its regular expression compiled once. What cannot be
/// parsed or compiled is kept as the error the check reports, so it stops the
/// evaluation exactly where it did when each check parsed for itself.
#[derive(Debug, Clone)]
pub struct CompiledCondition {
    on_node: bool,
    path: Result<jsonpath::JsonPath, EvalError>,
    /// For `matches` and `contains` only.
    regex: Option<Result<py::re::PyMatcher, EvalError>>,
}

impl CompiledCondition {
    pub fn new(cond: &ConditionDef) -> Self {
        let (scheme, path) = split_field(&cond.field);
        let path = jsonpath::parse(path).map_err(|e| {
            EvalError(format!(
                "Unable to parse field JSON path {}: {e}",
                cond.field
            ))
        });
        let regex = matches!(cond.op, ConditionOp::Matches | ConditionOp::Contains)
            .then(|| condition_regex(cond.op, &cond.params));
        Self {
            on_node: scheme == "node",
            path,
            regex,
        }
    }
}

/// The regular expression of a `matches` or `contains` condition.
fn condition_regex(
    op: ConditionOp,
    params: &Map<String, Value>,
) -> Result<py::re::PyMatcher, EvalError> {
    let pattern = params
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| EvalError("regular expression is not a string".into()))?;
    let (pattern, anchor) = if op == ConditionOp::Matches {
        let pattern = py::re::matches_condition_pattern(pattern).map_err(|e| unexpected(&e))?;
        (pattern, py::re::Anchor::Start)
    } else {
        (pattern.to_string(), py::re::Anchor::Anywhere)
    };
    py::re::compile_for(&pattern, anchor)
        .map_err(|e| EvalError(format!("invalid regular expression: {e}")))
}

/// The node as `node://` fields see it ([`node_for_rules`]), built on first
/// use and then shared by every condition of the run.
pub(crate) struct NodeForRules<'a> {
    node: &'a Value,
    view: std::cell::OnceCell<Value>,
}

impl<'a> NodeForRules<'a> {
    pub(crate) fn new(node: &'a Value) -> Self {
        Self {
            node,
            view: std::cell::OnceCell::new(),
        }
    }

    fn get(&self) -> &Value {
        self.view.get_or_init(|| node_for_rules(self.node))
    }
}

/// Evaluates the conditions in order against `data` (processed
/// introspection data) and `node` (the Ironic node), stopping at the first
/// that does not hold, as the real run does. Returns the checks made so far
/// and whether all held, or the error that stopped the evaluation.
pub fn trace_conditions(
    conditions: &[ConditionDef],
    data: &Value,
    node: &Value,
) -> (Vec<ConditionCheck>, Result<bool, EvalError>) {
    let compiled: Vec<CompiledCondition> = conditions.iter().map(CompiledCondition::new).collect();
    trace_compiled(conditions, &compiled, data, &NodeForRules::new(node), true)
}

/// [`trace_conditions`] with the conditions compiled beforehand; the values
/// found are kept in the checks only when `keep_values` is set.
pub(crate) fn trace_compiled(
    conditions: &[ConditionDef],
    compiled: &[CompiledCondition],
    data: &Value,
    node: &NodeForRules<'_>,
    keep_values: bool,
) -> (Vec<ConditionCheck>, Result<bool, EvalError>) {
    let mut checks = Vec::new();
    for (cond, ready) in conditions.iter().zip(compiled) {
        match check_condition(cond, ready, data, node, keep_values) {
            Err(e) => return (checks, Err(e)),
            Ok(check) => {
                let holds = check.result;
                checks.push(check);
                if !holds {
                    return (checks, Ok(false));
                }
            }
        }
    }
    (checks, Ok(true))
}

/// Whether every condition holds (see [`trace_conditions`]).
pub fn conditions_match(
    conditions: &[ConditionDef],
    data: &Value,
    node: &Value,
) -> Result<bool, EvalError> {
    trace_conditions(conditions, data, node).1
}

fn check_condition(
    cond: &ConditionDef,
    compiled: &CompiledCondition,
    data: &Value,
    node: &NodeForRules<'_>,
    keep_values: bool,
) -> Result<ConditionCheck, EvalError> {
    let source = if compiled.on_node { node.get() } else { data };
    let parsed = compiled.path.as_ref().map_err(Clone::clone)?;
    let found = parsed.try_find(source).map_err(|e| {
        EvalError(format!(
            "Unexpected exception {} during processing: {}",
            e.exception, e.message
        ))
    })?;
    let owned = |found: Vec<std::borrow::Cow<'_, Value>>| -> Vec<Value> {
        if keep_values {
            found.into_iter().map(|v| v.into_owned()).collect()
        } else {
            Vec::new()
        }
    };
    if found.is_empty() && !cond.op.allows_missing() {
        return Ok(ConditionCheck {
            values: Vec::new(),
            result: false,
        });
    }
    // A missing field is checked as `None` by the operators that allow it.
    let missing = [std::borrow::Cow::Owned(Value::Null)];
    let checked = if found.is_empty() {
        &missing[..]
    } else {
        &found[..]
    };
    let mut result = false;
    for value in checked {
        result = check(cond.op, value, &cond.params, compiled.regex.as_ref())?;
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
    Ok(ConditionCheck {
        values: owned(found),
        result,
    })
}

fn check(
    op: ConditionOp,
    field: &Value,
    params: &Map<String, Value>,
    regex: Option<&Result<py::re::PyMatcher, EvalError>>,
) -> Result<bool, EvalError> {
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
            let compiled_now;
            let regex = match regex {
                Some(compiled) => compiled.as_ref().map_err(Clone::clone)?,
                None => {
                    compiled_now = condition_regex(op, params)?;
                    &compiled_now
                }
            };
            let subject = py::value::py_str(field);
            regex
                .is_match(&subject)
                .map_err(|e| EvalError(e.to_string()))
        }
        _ => Ok(false),
    }
}

/// An action's formatted parameter (upstream-behaviour §rules-actions). A
/// missing key gets the message upstream meant to give (it passed the
/// interpolation dict as the HTTP code, so its message stayed
/// `... value %(val)s: %(e)s` and the answer was a broken 500); other Python
/// exceptions are unexpected ones, as upstream reported them.
fn formatted(
    params: &Map<String, Value>,
    key: &str,
    data: &Value,
) -> Result<Option<Value>, EvalError> {
    let Some(value) = params.get(key) else {
        return Ok(None);
    };
    py::format::format_value_located(value, data)
        .map(Some)
        .map_err(|e| match e.error {
            FormatError::MissingKey(k) => EvalError(format!(
                "Invalid formatting variable key provided in value {}: {k}",
                e.template
            )),
            FormatError::Other { class, message } => unexpected(&PyError { class, message }),
            FormatError::Unsupported(reason) => EvalError(format!(
                "Invalid formatting of value {}: unsupported formatting: {reason}",
                e.template
            )),
        })
}

fn text_param(params: &Map<String, Value>, key: &str) -> String {
    params.get(key).map(py::value::py_str).unwrap_or_default()
}

/// A `path` parameter, which upstream strips as a str.
fn path_param(params: &Map<String, Value>) -> Result<String, EvalError> {
    match params.get("path") {
        Some(Value::String(path)) => Ok(path.clone()),
        other => Err(unexpected(&PyError {
            class: "AttributeError".into(),
            message: format!(
                "'{}' object has no attribute 'strip'",
                py::value::type_name(other.unwrap_or(&Value::Null))
            ),
        })),
    }
}

/// `NodeInfo.patch` adds a leading `/` to a non-empty path.
fn patch_path(path: &str) -> String {
    if path.is_empty() || path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// Upstream's `get_by_path`: `getattr(sdk_node, top)[key]` for `/top/key`,
/// `getattr(sdk_node, top)` for `/top`; `None` when there is no such SDK
/// attribute or key (upstream's `KeyError`, which makes extend-attribute
/// start from `[]`), an error when `top` cannot be indexed by a str.
fn value_at(node: &Value, path: &str) -> Result<Option<Value>, EvalError> {
    let sdk = sdk_node(node);
    let trimmed = path.trim_matches('/');
    let Some((top, key)) = trimmed.split_once('/') else {
        return Ok(sdk.get(trimmed).cloned());
    };
    let Some(container) = sdk.get(top) else {
        return Ok(None);
    };
    let message = match container {
        Value::Object(map) => return Ok(map.get(key).cloned()),
        Value::String(_) => "string indices must be integers, not 'str'".to_string(),
        Value::Array(_) => "list indices must be integers or slices, not str".to_string(),
        other => format!(
            "'{}' object is not subscriptable",
            py::value::type_name(other)
        ),
    };
    Err(unexpected(&PyError {
        class: "TypeError".into(),
        message,
    }))
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
            let path = path_param(params)?;
            let value = formatted(params, "value", data)?.unwrap_or(Value::Null);
            let explicit_reset = params.contains_key("reset_interfaces");
            let requested = params.get("reset_interfaces").is_none_or(py::value::truthy);
            let reset_interfaces = path.trim_matches('/') == "driver" && requested;
            Ok(ActionOutcome::Patch {
                patch: vec![json!({"op": "add", "path": patch_path(&path), "value": value})],
                reset_interfaces,
                explicit_reset,
            })
        }
        ActionKind::SetCapability => {
            // Upstream passes the capability as a keyword argument.
            let Some(Value::String(name)) = params.get("name") else {
                return Err(unexpected(&PyError {
                    class: "TypeError".into(),
                    message: "keywords must be strings".into(),
                }));
            };
            let value = formatted(params, "value", data)?.filter(|v| !v.is_null());
            let update = vec![(
                name.clone(),
                value.as_ref().and_then(capabilities::value_to_string),
            )];
            let op = capabilities::update_op(node, &update).map_err(|e| EvalError(e.0))?;
            Ok(op
                .map(|op| ActionOutcome::Ops(vec![op]))
                .unwrap_or(ActionOutcome::Nothing))
        }
        ActionKind::ExtendAttribute => {
            let path = path_param(params)?;
            let value = formatted(params, "value", data)?.unwrap_or(Value::Null);
            let unique = params.get("unique").is_some_and(py::value::truthy);
            let (current, op) = match value_at(node, &path)? {
                Some(existing) => (existing, "replace"),
                None => (Value::Array(Vec::new()), "add"),
            };
            // `if not unique or value not in values: values.append(value)`.
            if unique && py::cmp::contains(&current, &value).map_err(|e| unexpected(&e))? {
                return Ok(ActionOutcome::Nothing);
            }
            let Value::Array(mut items) = current else {
                return Err(unexpected(&PyError {
                    class: "AttributeError".into(),
                    message: format!(
                        "'{}' object has no attribute 'append'",
                        py::value::type_name(&current)
                    ),
                }));
            };
            items.push(value);
            Ok(ActionOutcome::Patch {
                patch: vec![json!({"op": op, "path": patch_path(&path), "value": items})],
                reset_interfaces: false,
                explicit_reset: false,
            })
        }
    }
}
