//! A subset of JSON Patch (RFC 6902) applied to a local copy of a document:
//! `add`, `replace` and `remove`. The service uses it to keep its copy of an
//! Ironic node current while it gathers the hooks' patches into one request;
//! Ironic stays the judge of what it accepts, so anything outside the subset
//! is an error here and the caller sends the patch for Ironic to decide.

use serde_json::Value;

/// Why a patch cannot be applied locally; for logs, never shown to clients
/// (Ironic's own answer is what they see).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

fn error(text: impl Into<String>) -> PatchError {
    PatchError(text.into())
}

/// Applies `patch` (a list of operations) to a copy of `doc`; all or nothing.
pub fn apply(doc: &Value, patch: &[Value]) -> Result<Value, PatchError> {
    let mut out = doc.clone();
    apply_in_place(&mut out, patch)?;
    Ok(out)
}

/// Applies `patch` to `doc` itself, without the copy [`apply`] makes. An
/// operation that fails changes nothing, but the ones before it stay
/// applied: on an error the caller must replace `doc` (the service sends
/// the patch to Ironic, whose answer becomes the document).
pub fn apply_in_place(doc: &mut Value, patch: &[Value]) -> Result<(), PatchError> {
    for op in patch {
        apply_one(doc, op)?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

fn apply_one(doc: &mut Value, op: &Value) -> Result<(), PatchError> {
    let kind = match op.get("op").and_then(Value::as_str) {
        Some("add") => Op::Add,
        Some("replace") => Op::Replace,
        Some("remove") => Op::Remove,
        Some(other) => return Err(error(format!("unsupported operation {other:?}"))),
        None => return Err(error(format!("operation without \"op\": {op}"))),
    };
    let path = op
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| error(format!("operation without \"path\": {op}")))?;
    let value = match kind {
        Op::Remove => None,
        _ => Some(
            op.get("value")
                .cloned()
                .ok_or_else(|| error(format!("operation without \"value\": {op}")))?,
        ),
    };
    let mut tokens = parse_pointer(path)?;
    // The whole document as target: outside the subset (Ironic refuses it).
    let last = tokens
        .pop()
        .ok_or_else(|| error("the root cannot be a target"))?;
    let mut parent = doc;
    for token in &tokens {
        parent = child(parent, token).ok_or_else(|| error(format!("{path}: no such parent")))?;
    }
    match parent {
        Value::Object(map) => match (kind, value) {
            (Op::Add, Some(value)) => {
                map.insert(last, value);
            }
            (Op::Replace, Some(value)) => match map.get_mut(&last) {
                Some(slot) => *slot = value,
                None => return Err(error(format!("{path}: cannot replace a missing member"))),
            },
            _ => {
                // shift_remove keeps the other members in order, as Python's `del` does.
                if map.shift_remove(&last).is_none() {
                    return Err(error(format!("{path}: cannot remove a missing member")));
                }
            }
        },
        Value::Array(items) => {
            let len = items.len();
            match (kind, value) {
                (Op::Add, Some(value)) => {
                    let at = if last == "-" {
                        len
                    } else {
                        index(&last).filter(|i| *i <= len).ok_or_else(|| {
                            error(format!("{path}: index out of range for insertion"))
                        })?
                    };
                    items.insert(at, value);
                }
                (Op::Replace, Some(value)) => {
                    let at = index(&last)
                        .filter(|i| *i < len)
                        .ok_or_else(|| error(format!("{path}: no such element")))?;
                    items[at] = value;
                }
                _ => {
                    let at = index(&last)
                        .filter(|i| *i < len)
                        .ok_or_else(|| error(format!("{path}: no such element")))?;
                    items.remove(at);
                }
            }
        }
        _ => return Err(error(format!("{path}: the parent is not a container"))),
    }
    Ok(())
}

/// The reference tokens of a JSON Pointer (RFC 6901), unescaped.
fn parse_pointer(path: &str) -> Result<Vec<String>, PatchError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| error(format!("{path:?} does not start with /")))?;
    rest.split('/').map(|token| unescape(token, path)).collect()
}

fn unescape(token: &str, path: &str) -> Result<String, PatchError> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('~'),
            Some('1') => out.push('/'),
            _ => return Err(error(format!("{path}: invalid escape after ~"))),
        }
    }
    Ok(out)
}

/// An array index as RFC 6901 spells it: digits, no leading zero.
fn index(token: &str) -> Option<usize> {
    let well_formed = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    well_formed.then(|| token.parse().ok()).flatten()
}

fn child<'a>(value: &'a mut Value, token: &str) -> Option<&'a mut Value> {
    match value {
        Value::Object(map) => map.get_mut(token),
        Value::Array(items) => index(token).and_then(|i| items.get_mut(i)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node() -> Value {
        json!({
            "uuid": "u",
            "properties": {"cpu_arch": "i386", "local_gb": 40},
            "extra": {"block_devices": {"serials": ["a"]}},
            "traits": ["CUSTOM_A"],
        })
    }

    fn applied(patch: Value) -> Result<Value, PatchError> {
        apply(&node(), patch.as_array().unwrap())
    }

    #[test]
    fn add_sets_new_and_existing_members() {
        let out = applied(json!([
            {"op": "add", "path": "/properties/cpus", "value": "4"},
            {"op": "add", "path": "/properties/cpu_arch", "value": "x86_64"},
        ]))
        .unwrap();
        assert_eq!(
            out["properties"],
            json!({"cpu_arch": "x86_64", "local_gb": 40, "cpus": "4"})
        );
        // An existing member keeps its place; a new one goes last.
        let keys: Vec<&String> = out["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["cpu_arch", "local_gb", "cpus"]);
    }

    #[test]
    fn operations_see_the_earlier_ones() {
        let out = applied(json!([
            {"op": "add", "path": "/extra/new", "value": {}},
            {"op": "add", "path": "/extra/new/x", "value": 1},
            {"op": "replace", "path": "/extra/new/x", "value": 2},
        ]))
        .unwrap();
        assert_eq!(out["extra"]["new"], json!({"x": 2}));
    }

    #[test]
    fn replace_needs_an_existing_member() {
        let out =
            applied(json!([{"op": "replace", "path": "/properties/local_gb", "value": "999"}]))
                .unwrap();
        assert_eq!(out["properties"]["local_gb"], "999");
        assert!(
            applied(json!([{"op": "replace", "path": "/properties/cpus", "value": "4"}])).is_err()
        );
    }

    #[test]
    fn remove_needs_an_existing_member_and_keeps_the_order() {
        let doc = json!({"extra": {"a": 1, "b": 2, "c": 3}});
        let out = apply(&doc, &[json!({"op": "remove", "path": "/extra/a"})]).unwrap();
        let keys: Vec<&String> = out["extra"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "c"]);
        assert!(applied(json!([{"op": "remove", "path": "/extra/missing"}])).is_err());
        assert!(applied(json!([{"op": "remove", "path": "/missing/x"}])).is_err());
    }

    #[test]
    fn a_failure_changes_nothing() {
        let result = applied(json!([
            {"op": "add", "path": "/properties/cpus", "value": "4"},
            {"op": "remove", "path": "/extra/missing"},
        ]));
        assert!(result.is_err());
        // The input is untouched; the caller keeps its copy.
        assert!(node()["properties"].get("cpus").is_none());
    }

    #[test]
    fn in_place_a_failing_operation_changes_nothing_and_the_earlier_ones_stay() {
        let mut doc = node();
        let patch = json!([
            {"op": "add", "path": "/properties/cpus", "value": "4"},
            {"op": "replace", "path": "/extra/missing", "value": 1},
        ]);
        let patch = patch.as_array().unwrap();
        assert!(apply_in_place(&mut doc, patch).is_err());
        let mut expected = node();
        expected["properties"]["cpus"] = json!("4");
        assert_eq!(doc, expected);
        assert_eq!(apply(&node(), &patch[..1]).unwrap(), expected);
    }

    #[test]
    fn escaped_tokens() {
        let doc = json!({"extra": {"a/b": 1, "c~d": 2}});
        let out = apply(
            &doc,
            &[
                json!({"op": "replace", "path": "/extra/a~1b", "value": 10}),
                json!({"op": "remove", "path": "/extra/c~0d"}),
                json!({"op": "add", "path": "/extra/~01", "value": 3}),
            ],
        )
        .unwrap();
        assert_eq!(out["extra"], json!({"a/b": 10, "~1": 3}));
        assert!(apply(&doc, &[json!({"op": "remove", "path": "/extra/a~2b"})]).is_err());
        assert!(apply(&doc, &[json!({"op": "remove", "path": "/extra/a~"})]).is_err());
    }

    #[test]
    fn arrays_by_index_and_dash() {
        let out = applied(json!([
            {"op": "add", "path": "/traits/-", "value": "CUSTOM_C"},
            {"op": "add", "path": "/traits/1", "value": "CUSTOM_B"},
            {"op": "add", "path": "/extra/block_devices/serials/0", "value": "z"},
            {"op": "replace", "path": "/traits/0", "value": "CUSTOM_Z"},
        ]))
        .unwrap();
        assert_eq!(out["traits"], json!(["CUSTOM_Z", "CUSTOM_B", "CUSTOM_C"]));
        assert_eq!(out["extra"]["block_devices"]["serials"], json!(["z", "a"]));
        let out = applied(json!([{"op": "remove", "path": "/traits/0"}])).unwrap();
        assert_eq!(out["traits"], json!([]));
        for bad in ["/traits/2", "/traits/01", "/traits/-1", "/traits/x"] {
            assert!(
                applied(json!([{"op": "add", "path": bad, "value": 1}])).is_err(),
                "{bad}"
            );
        }
        for bad in ["/traits/1", "/traits/-", "/traits/00"] {
            assert!(
                applied(json!([{"op": "remove", "path": bad}])).is_err(),
                "{bad}"
            );
            assert!(
                applied(json!([{"op": "replace", "path": bad, "value": 1}])).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn missing_parents_and_scalar_parents_fail() {
        for path in ["/nothing/x", "/properties/local_gb/x", "/uuid/x"] {
            assert!(
                applied(json!([{"op": "add", "path": path, "value": 1}])).is_err(),
                "{path}"
            );
        }
    }

    #[test]
    fn outside_the_subset_fails() {
        for op in [
            json!({"op": "move", "from": "/extra", "path": "/x"}),
            json!({"op": "copy", "from": "/extra", "path": "/x"}),
            json!({"op": "test", "path": "/uuid", "value": "u"}),
            json!({"path": "/uuid", "value": "u"}),
            json!({"op": "add", "value": 1}),
            json!({"op": "add", "path": "/extra/x"}),
            json!({"op": "replace", "path": "/uuid"}),
            json!({"op": "add", "path": "", "value": {}}),
            json!({"op": "add", "path": "extra/x", "value": 1}),
            json!("add"),
        ] {
            assert!(apply(&node(), std::slice::from_ref(&op)).is_err(), "{op}");
        }
    }
}
