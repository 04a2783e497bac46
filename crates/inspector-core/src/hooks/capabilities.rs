//! Node capabilities: Ironic's `properties.capabilities` string
//! `k1:v1,k2:v2` and the merge upstream's `NodeInfo.update_capabilities`
//! performs (used by the `capabilities` and `pci_devices` hooks and by the
//! rules' `set-capability` action).

use serde_json::{Value, json};

use super::{HookError, NodeOp};
use crate::py::value::{py_repr, py_str, truthy};

/// Ordered capability pairs, as a Python dict keeps them.
pub type Capabilities = Vec<(String, String)>;

/// Parses `k1:v1,k2:v2` (split on `,`, then on the first `:`). An empty or
/// absent string is no capability; a repeated key keeps its first position and
/// its last value, as Python's `dict()` does.
///
/// Upstream raises a bare `ValueError` (HTTP 500) on an item without a colon
/// (including the empty item of a trailing comma); we report it instead.
pub fn parse(caps: &str) -> Result<Capabilities, String> {
    let mut pairs = Capabilities::new();
    if caps.is_empty() {
        return Ok(pairs);
    }
    for item in caps.split(',') {
        let Some((key, value)) = item.split_once(':') else {
            return Err(format!(
                "Malformed node capabilities {caps:?}: item {item:?} is not of the form key:value"
            ));
        };
        set(&mut pairs, key, Some(value.to_string()));
    }
    Ok(pairs)
}

/// Formats pairs back as `k1:v1,k2:v2`.
pub fn format(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Python `str()` of a capability value as `"%s:%s" % (key, value)` writes
/// it; `None` for JSON `null`, which removes the capability.
pub fn value_to_string(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        other => Some(py_str(other)),
    }
}

/// Applies `updates` in order: new keys are appended, existing keys keep their
/// position, a `None` value removes the key.
pub fn merge(existing: &[(String, String)], updates: &[(String, Option<String>)]) -> Capabilities {
    let mut pairs = existing.to_vec();
    for (key, value) in updates {
        set(&mut pairs, key, value.clone());
    }
    pairs
}

fn set(pairs: &mut Capabilities, key: &str, value: Option<String>) {
    match (pairs.iter().position(|(k, _)| k == key), value) {
        (Some(index), Some(value)) => pairs[index].1 = value,
        (Some(index), None) => {
            pairs.remove(index);
        }
        (None, Some(value)) => pairs.push((key.to_string(), value)),
        (None, None) => {}
    }
}

/// The node's current capabilities (`properties.capabilities`).
///
/// Upstream crashes on a non-string value (`AttributeError`); we report it.
pub fn of_node(node: &Value) -> Result<Capabilities, String> {
    match node.get("properties").and_then(|p| p.get("capabilities")) {
        None | Some(Value::Null) => Ok(Capabilities::new()),
        Some(Value::String(s)) => parse(s),
        // Python: `if not caps: return {}`.
        Some(other) if !truthy(other) => Ok(Capabilities::new()),
        Some(other) => Err(format!(
            "Node capabilities must be a string of the form k1:v1,k2:v2, got {}",
            py_repr(other)
        )),
    }
}

/// `update_capabilities`: the PATCH writing the merged capabilities to
/// `/properties/capabilities`, or `None` when the merged string equals the
/// node's current one (upstream PATCHes the unchanged value anyway; skipping
/// it saves a pointless Ironic write and is otherwise invisible).
pub fn update_op(
    node: &Value,
    updates: &[(String, Option<String>)],
) -> Result<Option<NodeOp>, HookError> {
    let existing = of_node(node).map_err(HookError)?;
    let merged = format(&merge(&existing, updates));
    let current = match node.get("properties").and_then(|p| p.get("capabilities")) {
        None | Some(Value::Null) => Some(""),
        Some(other) => other.as_str(),
    };
    if current == Some(merged.as_str()) {
        return Ok(None);
    }
    Ok(Some(NodeOp::PatchNode {
        patch: vec![json!({"op": "add", "path": "/properties/capabilities", "value": merged})],
        reset_interfaces: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Capabilities {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parse_and_format_round_trip() {
        let parsed = parse("boot_mode:uefi,a:b:c, sp:x,a:2").unwrap();
        assert_eq!(
            parsed,
            pairs(&[("boot_mode", "uefi"), ("a", "2"), (" sp", "x")])
        );
        assert_eq!(format(&parsed), "boot_mode:uefi,a:2, sp:x");
        assert!(parse("").unwrap().is_empty());
        assert!(parse("a:b,").is_err());
        assert!(parse("novalue").is_err());
    }

    #[test]
    fn merge_appends_replaces_and_removes() {
        let merged = merge(
            &pairs(&[("a", "1"), ("b", "2")]),
            &[
                ("c".into(), Some("3".into())),
                ("a".into(), Some("9".into())),
                ("b".into(), None),
                ("z".into(), None),
            ],
        );
        assert_eq!(merged, pairs(&[("a", "9"), ("c", "3")]));
    }

    #[test]
    fn update_op_skips_unchanged() {
        let node = json!({"properties": {"capabilities": "cpu_vt:true"}});
        assert_eq!(
            update_op(&node, &[("cpu_vt".into(), Some("true".into()))]).unwrap(),
            None
        );
        let op = update_op(&node, &[("x".into(), Some("1".into()))]).unwrap();
        assert_eq!(
            op,
            Some(NodeOp::PatchNode {
                patch: vec![
                    json!({"op": "add", "path": "/properties/capabilities", "value": "cpu_vt:true,x:1"})
                ],
                reset_interfaces: false
            })
        );
        assert!(update_op(&json!({"properties": {"capabilities": {"a": "b"}}}), &[]).is_err());
        assert_eq!(value_to_string(&json!(3)), Some("3".into()));
        assert_eq!(value_to_string(&json!(true)), Some("True".into()));
        assert_eq!(value_to_string(&json!(null)), None);
    }
}
