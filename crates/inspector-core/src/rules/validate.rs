//! Validation of a rule posted to `POST /v1/rules`, in upstream's order and
//! with upstream's messages (upstream-behaviour §rules-validation). Schema
//! errors carry only the first line of the Python jsonschema text, which is
//! all clients rely on.

use serde_json::{Map, Value};

use super::{
    ActionDef, ActionKind, ConditionDef, ConditionOp, Multiple, RuleDefinition, split_field,
};
use crate::ids::canonical_uuid;
use crate::py::value::{py_repr, truthy, type_name as python_type_name};

/// Why a rule cannot be created; every variant is a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

const MAX_SCOPE_CHARS: usize = 255;

fn names_repr(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    format!("[{}]", quoted.join(", "))
}

fn optional_text(body: &Map<String, Value>, key: &str) -> Result<Option<String>, RuleError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(RuleError(format!(
            "Invalid {key}: expected a string, got {}",
            python_type_name(other)
        ))),
    }
}

/// Width of the `rules.uuid` column (VARCHAR(36), upstream's schema).
const MAX_UUID_CHARS: usize = 36;

/// The string a given rule UUID is stored as: as given, as upstream does,
/// so that a client gets back the ID it chose (openstacksdk users often
/// choose `uuid4().hex`). A UUID-like form too long for the column
/// (`urn:uuid:` prefix, braces around the hyphenated form) is stored in the
/// hyphenated form. `None` when the value is not UUID-like.
fn stored_uuid(given: &str) -> Option<String> {
    let canonical = canonical_uuid(given)?;
    Some(if given.len() <= MAX_UUID_CHARS {
        given.to_string()
    } else {
        canonical
    })
}

/// Validates a rule body and returns its definition; nothing is stored here.
pub fn parse_rule(body: &Value) -> Result<RuleDefinition, RuleError> {
    let Value::Object(body) = body else {
        return Err(RuleError(format!(
            "Invalid data: expected a JSON object, got {}",
            python_type_name(body)
        )));
    };

    let uuid = match body.get("uuid") {
        Some(value) if truthy(value) => match value.as_str().and_then(stored_uuid) {
            Some(uuid) => Some(uuid),
            None => return Err(RuleError("Invalid UUID value".into())),
        },
        _ => None,
    };
    let scope = optional_text(body, "scope")?;
    if scope
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SCOPE_CHARS)
    {
        return Err(RuleError(
            "Invalid scope: the length of the scope should be within 255 characters".into(),
        ));
    }
    let description = optional_text(body, "description")?;

    let empty = Value::Array(Vec::new());
    let conditions_json = body.get("conditions").unwrap_or(&empty);
    let actions_json = body.get("actions").unwrap_or(&empty);
    // Upstream validates the conditions completely (schema, then each one)
    // before it looks at the actions.
    check_conditions_schema(conditions_json)
        .map_err(|e| RuleError(format!("Validation failed for conditions: {e}")))?;
    let mut conditions = Vec::new();
    for cond in conditions_json.as_array().into_iter().flatten() {
        let Some(cond) = cond.as_object() else {
            continue;
        };
        conditions.push(parse_condition(cond)?);
    }
    check_actions_schema(actions_json)
        .map_err(|e| RuleError(format!("Validation failed for actions: {e}")))?;
    let mut actions = Vec::new();
    for action in actions_json.as_array().into_iter().flatten() {
        let Some(action) = action.as_object() else {
            continue;
        };
        actions.push(parse_action(action)?);
    }
    Ok(RuleDefinition {
        uuid,
        description,
        scope,
        conditions,
        actions,
    })
}

fn check_conditions_schema(conditions: &Value) -> Result<(), String> {
    let Value::Array(items) = conditions else {
        return Err(format!("{} is not of type 'array'", py_repr(conditions)));
    };
    let ops: Vec<&str> = ConditionOp::ALL.iter().map(|op| op.name()).collect();
    for item in items {
        let Value::Object(cond) = item else {
            return Err(format!("{} is not of type 'object'", py_repr(item)));
        };
        for required in ["op", "field"] {
            if !cond.contains_key(required) {
                return Err(format!("'{required}' is a required property"));
            }
        }
        let op = &cond["op"];
        if op.as_str().and_then(ConditionOp::from_name).is_none() {
            return Err(format!(
                "{} is not one of {}",
                py_repr(op),
                names_repr(&ops)
            ));
        }
        if !cond["field"].is_string() {
            return Err(format!(
                "{} is not of type 'string'",
                py_repr(&cond["field"])
            ));
        }
        if let Some(multiple) = cond.get("multiple")
            && multiple.as_str().and_then(Multiple::from_name).is_none()
        {
            return Err(format!(
                "{} is not one of ['all', 'any', 'first']",
                py_repr(multiple)
            ));
        }
        if let Some(invert) = cond.get("invert")
            && !invert.is_boolean()
        {
            return Err(format!("{} is not of type 'boolean'", py_repr(invert)));
        }
    }
    Ok(())
}

fn check_actions_schema(actions: &Value) -> Result<(), String> {
    let Value::Array(items) = actions else {
        return Err(format!("{} is not of type 'array'", py_repr(actions)));
    };
    if items.is_empty() {
        return Err("[] should be non-empty".into());
    }
    let names: Vec<&str> = ActionKind::ALL.iter().map(|a| a.name()).collect();
    for item in items {
        let Value::Object(action) = item else {
            return Err(format!("{} is not of type 'object'", py_repr(item)));
        };
        let Some(name) = action.get("action") else {
            return Err("'action' is a required property".into());
        };
        if name.as_str().and_then(ActionKind::from_name).is_none() {
            return Err(format!(
                "{} is not one of {}",
                py_repr(name),
                names_repr(&names)
            ));
        }
    }
    Ok(())
}

const RESERVED_CONDITION_KEYS: [&str; 4] = ["op", "field", "multiple", "invert"];

fn parse_condition(cond: &Map<String, Value>) -> Result<ConditionDef, RuleError> {
    let field = cond["field"].as_str().unwrap_or_default().to_string();
    let op = cond["op"]
        .as_str()
        .and_then(ConditionOp::from_name)
        .unwrap_or(ConditionOp::Eq);
    let (scheme, path) = split_field(&field);
    if scheme != "data" && scheme != "node" {
        return Err(RuleError(format!(
            "Unsupported scheme for field: {scheme}, valid values are node:// or data://"
        )));
    }
    if let Err(err) = crate::jsonpath::parse(path) {
        return Err(RuleError(format!(
            "Unable to parse field JSON path {field}: {err}"
        )));
    }
    let params: Map<String, Value> = cond
        .iter()
        .filter(|(k, _)| !RESERVED_CONDITION_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    validate_condition_params(op, &params).map_err(|e| {
        RuleError(format!(
            "Invalid parameters for operator {}: {e}",
            op.name()
        ))
    })?;
    Ok(ConditionDef {
        op,
        field,
        multiple: cond
            .get("multiple")
            .and_then(Value::as_str)
            .and_then(Multiple::from_name)
            .unwrap_or(Multiple::Any),
        invert: cond.get("invert").and_then(Value::as_bool).unwrap_or(false),
        params,
    })
}

fn parse_action(action: &Map<String, Value>) -> Result<ActionDef, RuleError> {
    let kind = action["action"]
        .as_str()
        .and_then(ActionKind::from_name)
        .unwrap_or(ActionKind::Example);
    let params: Map<String, Value> = action
        .iter()
        .filter(|(k, _)| k.as_str() != "action")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    validate_action_params(kind, &params).map_err(|e| {
        RuleError(format!(
            "Invalid parameters for action {}: {e}",
            kind.name()
        ))
    })?;
    Ok(ActionDef {
        action: kind,
        params,
    })
}

/// Upstream's generic check: parameters set to null count as absent.
fn check_param_names(
    params: &Map<String, Value>,
    required: &[&str],
    optional: &[&str],
) -> Result<(), String> {
    let passed: Vec<&str> = params
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.as_str())
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !passed.contains(r))
        .collect();
    let unexpected: Vec<&str> = passed
        .iter()
        .copied()
        .filter(|p| !required.contains(p) && !optional.contains(p))
        .collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "missing required parameter(s): {}",
            missing.join(", ")
        ));
    }
    if !unexpected.is_empty() {
        problems.push(format!(
            "unexpected parameter(s): {}",
            unexpected.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn validate_condition_params(op: ConditionOp, params: &Map<String, Value>) -> Result<(), String> {
    if op == ConditionOp::IsEmpty {
        return check_param_names(params, &[], &[]);
    }
    check_param_names(params, &["value"], &[])?;
    let value = &params["value"];
    match op {
        ConditionOp::InNet => {
            crate::py::net::parse_network_value(value)
                .map_err(|e| format!("invalid value: {}", e.message))?;
        }
        ConditionOp::Matches | ConditionOp::Contains => {
            // Upstream crashed (500) on a non-string pattern; a 400 says why.
            let pattern = value.as_str().ok_or_else(|| {
                "invalid regular expression: first argument must be string or compiled pattern"
                    .to_string()
            })?;
            // The pattern as written, as upstream checked it; one regex is
            // enough to know it compiles.
            crate::py::re::compile_for(pattern, crate::py::re::Anchor::Anywhere)
                .map_err(|e| format!("invalid regular expression: {e}"))?;
        }
        _ => {}
    }
    Ok(())
}

fn validate_action_params(kind: ActionKind, params: &Map<String, Value>) -> Result<(), String> {
    match kind {
        ActionKind::Fail => check_param_names(params, &["message"], &[]),
        ActionKind::SetAttribute => {
            // "value" may be null, but the key itself is required.
            if !params.contains_key("value") {
                return Err("missing required parameter(s): value".into());
            }
            check_param_names(params, &["path"], &["value", "reset_interfaces"])
        }
        ActionKind::SetCapability => check_param_names(params, &["name"], &["value"]),
        ActionKind::ExtendAttribute => check_param_names(params, &["path", "value"], &["unique"]),
        ActionKind::AddTrait | ActionKind::RemoveTrait => check_param_names(params, &["name"], &[]),
        ActionKind::Example => check_param_names(params, &[], &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(body: Value) -> String {
        parse_rule(&body).unwrap_err().0
    }

    #[test]
    fn given_uuids_are_kept_when_the_column_holds_them() {
        let uuid_of = |given: &str| {
            parse_rule(&json!({"uuid": given, "actions": [{"action": "fail", "message": "x"}]}))
                .map(|rule| rule.uuid.unwrap())
                .map_err(|e| e.0)
        };
        for kept in [
            "0a5f3c1e9b7d4e2f8c6a1b3d5e7f9a0b",
            "0a5f3c1e-9b7d-4e2f-8c6a-1b3d5e7f9a0b",
            "0A5F3C1E-9B7D-4E2F-8C6A-1B3D5E7F9A0B",
            "{0a5f3c1e9b7d4e2f8c6a1b3d5e7f9a0b}",
        ] {
            assert_eq!(uuid_of(kept).as_deref(), Ok(kept));
        }
        for long in [
            "urn:uuid:0a5f3c1e-9b7d-4e2f-8c6a-1b3d5e7f9a0b",
            "{0a5f3c1e-9b7d-4e2f-8c6a-1b3d5e7f9a0b}",
        ] {
            assert_eq!(
                uuid_of(long).as_deref(),
                Ok("0a5f3c1e-9b7d-4e2f-8c6a-1b3d5e7f9a0b")
            );
        }
        assert_eq!(uuid_of("0a5f3c1e9b7d").unwrap_err(), "Invalid UUID value");
    }

    #[test]
    fn conditions_are_validated_before_the_actions_schema() {
        assert_eq!(
            error(json!({"conditions": [{"op": "eq", "field": "x", "value": 1, "y": 2}]})),
            "Invalid parameters for operator eq: unexpected parameter(s): y"
        );
        assert_eq!(
            error(
                json!({"conditions": [{"op": "eq", "field": "f://x", "value": 1}], "actions": 5})
            ),
            "Unsupported scheme for field: f, valid values are node:// or data://"
        );
        assert_eq!(
            error(json!({"conditions": [], "actions": [{"action": "fail"}], "scope": 5})),
            "Invalid scope: expected a string, got int"
        );
    }

    #[test]
    fn null_parameters_count_as_absent() {
        let ok = |body: Value| parse_rule(&body).map(|_| ()).map_err(|e| e.0);
        assert_eq!(
            ok(
                json!({"actions": [{"action": "set-attribute", "path": "/a", "value": null,
                "reset_interfaces": null}]})
            ),
            Ok(())
        );
        assert_eq!(
            ok(json!({"actions": [{"action": "example", "x": null}]})),
            Ok(())
        );
        assert_eq!(
            error(
                json!({"conditions": [{"op": "is-empty", "field": "x", "value": 1, "extra": 2}],
                "actions": [{"action": "example"}]})
            ),
            "Invalid parameters for operator is-empty: unexpected parameter(s): value, extra"
        );
    }
}
