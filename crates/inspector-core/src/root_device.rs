//! Root device hints as ironic-inspector 12.5.0 parses and matches them
//! (`ironic_inspector.common.device_hints`, an in-tree copy of ironic-lib's
//! code on top of oslo.utils `specs_matcher`), used by the
//! `root_disk_selection` hook for `properties.root_device` and
//! `properties.skip_block_devices`.
//!
//! Upstream's failures are part of its behaviour (they become the node's
//! introspection error), so errors carry the Python exception class and text.

mod python;
mod specs;

use std::fmt;

use serde_json::{Map, Value};

use crate::py::text::strip;
use crate::py::value::{py_str, truthy, type_name};
use crate::py::{PyInt, int_from_str};
use python::quote;
use specs::DeviceValue;

/// An exception upstream raises while parsing or matching hints.
///
/// `root_disk_selection` reports `TypeError`/`ValueError` as
/// `No disks could be found using the root device hints <hints> because they failed to validate. Error: <message>`;
/// any other class escapes the hook (`Unexpected exception <class> during processing: <message>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintError {
    /// Python exception class name, e.g. `ValueError`, `TypeError`, `ParseException`.
    pub exception: &'static str,
    /// `str()` of the exception.
    pub message: String,
}

impl HintError {
    fn new(exception: &'static str, message: String) -> Self {
        HintError { exception, message }
    }

    fn value_error(message: String) -> Self {
        HintError::new("ValueError", message)
    }

    /// Whether `root_disk_selection` turns this into a "failed to validate" error.
    pub fn is_validation_error(&self) -> bool {
        matches!(self.exception, "TypeError" | "ValueError")
    }
}

impl fmt::Display for HintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HintError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HintType {
    Str,
    Int,
    Bool,
}

/// Valid hint names with their types, in upstream's order (used in its error text).
const VALID_HINTS: [(&str, HintType); 11] = [
    ("size", HintType::Int),
    ("model", HintType::Str),
    ("wwn", HintType::Str),
    ("serial", HintType::Str),
    ("vendor", HintType::Str),
    ("wwn_with_extension", HintType::Str),
    ("wwn_vendor_extension", HintType::Str),
    ("name", HintType::Str),
    ("rotational", HintType::Bool),
    ("hctl", HintType::Str),
    ("by_path", HintType::Str),
];

fn hint_type(name: &str) -> Option<HintType> {
    VALID_HINTS
        .iter()
        .find(|(valid, _)| *valid == name)
        .map(|&(_, t)| t)
}

#[derive(Debug, Clone, PartialEq)]
enum HintValue {
    /// A specs_matcher expression, always with an operator (`s== foo`, `>= 20`).
    Spec(String),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
struct Hint {
    name: String,
    kind: HintType,
    value: HintValue,
}

/// Parsed root device hints.
#[derive(Debug, Clone, PartialEq)]
pub struct RootDeviceHints {
    /// `None` when the hints were falsy (upstream's parser returns `None`).
    hints: Option<Vec<Hint>>,
}

impl RootDeviceHints {
    /// The hints after upstream's normalisation (what it logs and matches
    /// against), e.g. `{"size": "== 20", "model": "s== big%20disk"}`;
    /// `None` for falsy input.
    pub fn parsed(&self) -> Option<Map<String, Value>> {
        self.hints.as_ref().map(|hints| {
            hints
                .iter()
                .map(|hint| {
                    let value = match &hint.value {
                        HintValue::Spec(spec) => Value::String(spec.clone()),
                        HintValue::Bool(b) => Value::Bool(*b),
                    };
                    (hint.name.clone(), value)
                })
                .collect()
        })
    }
}

/// Operator and values of a hint expression: `str(x).strip().lower()`,
/// split on the operator the grammar finds first.
fn extract_operator_and_values(
    expression: &str,
    hint_name: &str,
) -> Result<(String, Vec<String>), HintError> {
    let expression = strip(expression).to_lowercase();
    if expression.is_empty() {
        return Err(HintError::value_error(format!(
            "Root device hint \"{hint_name}\" expression is empty"
        )));
    }
    let tokens = specs::parse(&expression)?;
    let [op, _, ..] = tokens.as_slice() else {
        return Ok((String::new(), vec![expression]));
    };
    // Upstream keeps a part when it is non-empty *before* stripping it.
    let values = expression
        .split(op.as_str())
        .filter(|part| !part.is_empty())
        .map(|part| strip(part).to_owned())
        .collect();
    Ok((op.clone(), values))
}

/// `<op> quoted <op> quoted ...`, or just the quoted value without operator.
fn normalize_expression(expression: &str, hint_name: &str) -> Result<String, HintError> {
    let (op, values) = extract_operator_and_values(expression, hint_name)?;
    let joined: Vec<String> = values.iter().map(|v| format!(" {} ", quote(v))).collect();
    Ok(strip(&format!("{op}{}", joined.join(&op))).to_owned())
}

const TRUE_STRINGS: [&str; 6] = ["1", "t", "true", "on", "y", "yes"];
const FALSE_STRINGS: [&str; 6] = ["0", "f", "false", "off", "n", "no"];

/// oslo.utils `strutils.bool_from_string(value, strict=True)`; `None` = ValueError.
fn bool_from_value(value: &Value) -> Option<bool> {
    if let Value::Bool(b) = value {
        return Some(*b);
    }
    let text = py_str(value);
    let lowered = strip(&text).to_lowercase();
    if TRUE_STRINGS.contains(&lowered.as_str()) {
        Some(true)
    } else if FALSE_STRINGS.contains(&lowered.as_str()) {
        Some(false)
    } else {
        None
    }
}

fn invalid_hints_error(names: &[String]) -> HintError {
    let valid: Vec<&str> = VALID_HINTS.iter().map(|(name, _)| *name).collect();
    HintError::value_error(format!(
        "The hints \"{}\" are invalid. Valid hints are: \"{}\"",
        names.join(", "),
        valid.join(", ")
    ))
}

/// Upstream starts with `set(hints) - set(VALID_HINTS)`, which for non-dict
/// hints iterates whatever it was given.
fn non_dict_hints_error(hints: &Value) -> HintError {
    match hints {
        Value::String(s) => {
            // The characters of the string; none is a valid hint name.
            let mut chars: Vec<String> = s.chars().map(String::from).collect();
            chars.sort();
            chars.dedup();
            invalid_hints_error(&chars)
        }
        Value::Array(items) => {
            if let Some(unhashable) = items.iter().find(|v| v.is_array() || v.is_object()) {
                return HintError::new(
                    "TypeError",
                    format!("unhashable type: '{}'", type_name(unhashable)),
                );
            }
            let mut invalid: Vec<&Value> = Vec::new();
            for item in items {
                let valid = item.as_str().is_some_and(|s| hint_type(s).is_some());
                if !valid && !invalid.iter().any(|seen| python_equal(seen, item)) {
                    invalid.push(item);
                }
            }
            if let Some(position) = invalid.iter().position(|v| !v.is_string()) {
                return HintError::new(
                    "TypeError",
                    format!(
                        "sequence item {position}: expected str instance, {} found",
                        type_name(invalid[position])
                    ),
                );
            }
            if invalid.is_empty() {
                return HintError::new(
                    "AttributeError",
                    "'list' object has no attribute 'items'".to_owned(),
                );
            }
            let mut names: Vec<String> = invalid.iter().map(|v| py_str(v)).collect();
            names.sort();
            invalid_hints_error(&names)
        }
        other => HintError::new(
            "TypeError",
            format!("'{}' object is not iterable", type_name(other)),
        ),
    }
}

/// Python `==` between hashable JSON scalars (`1 == 1.0 == True`).
fn python_equal(a: &Value, b: &Value) -> bool {
    let number = |v: &Value| match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Validates and normalises root device hints (`parse_root_device_hints`).
///
/// Errors carry upstream's text, e.g.
/// `The hints "foo" are invalid. Valid hints are: "size, model, ..."`.
/// With several invalid names upstream lists them in Python set order
/// (random per process); they are sorted here. Hints are visited in the map's
/// iteration order, as upstream visits dict insertion order.
pub fn parse_hints(hints: &Value) -> Result<RootDeviceHints, HintError> {
    if !truthy(hints) {
        return Ok(RootDeviceHints { hints: None });
    }
    let Value::Object(map) = hints else {
        return Err(non_dict_hints_error(hints));
    };
    let mut invalid: Vec<String> = map
        .keys()
        .filter(|name| hint_type(name).is_none())
        .cloned()
        .collect();
    if !invalid.is_empty() {
        invalid.sort();
        return Err(invalid_hints_error(&invalid));
    }

    let mut parsed = Vec::with_capacity(map.len());
    for (name, expression) in map {
        let kind = hint_type(name).unwrap_or(HintType::Str);
        let value = match kind {
            HintType::Str => {
                let Value::String(text) = expression else {
                    return Err(HintError::value_error(format!(
                        "Root device hint \"{name}\" is not a string value. Hint expression: {}",
                        py_str(expression)
                    )));
                };
                HintValue::Spec(normalize_expression(text, name)?)
            }
            HintType::Int => {
                let text = py_str(expression);
                for value in extract_operator_and_values(&text, name)?.1 {
                    let message = match int_from_str(&value) {
                        Ok(n) if n > PyInt::from_i128(0) => continue,
                        Ok(_) => "should be a positive integer",
                        Err(_) => "is not an integer value",
                    };
                    return Err(HintError::value_error(format!(
                        "Root device hint \"{name}\" {message}. Current value: {text}"
                    )));
                }
                // The original text is kept (not lower-cased); an operator is
                // added below if it has none.
                HintValue::Spec(text)
            }
            HintType::Bool => HintValue::Bool(bool_from_value(expression).ok_or_else(|| {
                HintError::value_error(format!(
                    "Root device hint \"{name}\" is not a Boolean value. Current value: {}",
                    py_str(expression)
                ))
            })?),
        };
        parsed.push(Hint {
            name: name.clone(),
            kind,
            value,
        });
    }

    // Hints without an operator get the equality operator of their type.
    for hint in &mut parsed {
        if let HintValue::Spec(spec) = &mut hint.value
            && specs::parse(spec)?.len() <= 1
        {
            let op = if hint.kind == HintType::Str {
                "s=="
            } else {
                "=="
            };
            *spec = format!("{op} {spec}");
        }
    }
    Ok(RootDeviceHints {
        hints: Some(parsed),
    })
}

/// The processing error `root_disk_selection` reports when matching `hints`
/// (the node's raw `properties.root_device`) raised a validation error
/// ([`HintError::is_validation_error`]); other errors escape the hook and are
/// reported by the generic `Unexpected exception <class> during processing: <message>`.
pub fn failed_to_validate_message(hints: &Value, error: &HintError) -> String {
    format!(
        "No disks could be found using the root device hints {} because they failed to validate. Error: {}",
        py_str(hints),
        error.message
    )
}

/// Upstream formats every disk name into a debug message before matching:
/// a disk that is not an object, or whose name is not a string, fails there.
fn check_disk_names(disks: &[Value]) -> Result<(), HintError> {
    if let Some(disk) = disks.iter().find(|d| !d.is_object()) {
        return Err(HintError::new(
            "AttributeError",
            format!("'{}' object has no attribute 'get'", type_name(disk)),
        ));
    }
    for (index, disk) in disks.iter().enumerate() {
        let name = disk.get("name").unwrap_or(&Value::Null);
        if !name.is_string() {
            return Err(HintError::new(
                "TypeError",
                format!(
                    "sequence item {index}: expected str instance, {} found",
                    type_name(name)
                ),
            ));
        }
    }
    Ok(())
}

/// Bytes to GiB with Python's true division (a float).
fn size_in_gib(size: &Value) -> Result<f64, HintError> {
    const GIB: f64 = 1_073_741_824.0;
    let bytes = match size {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    bytes.map(|b| b / GIB).ok_or_else(|| {
        HintError::new(
            "TypeError",
            format!(
                "unsupported operand type(s) for /: '{}' and 'int'",
                type_name(size)
            ),
        )
    })
}

/// Whether one disk satisfies all hints. A disk whose attribute is empty or
/// not a valid boolean is skipped (upstream logs a warning).
fn disk_matches(disk: &Value, hints: &[Hint]) -> Result<bool, HintError> {
    for hint in hints {
        let attribute = disk.get(&hint.name).unwrap_or(&Value::Null);
        let satisfied = match (&hint.value, hint.kind) {
            (HintValue::Bool(wanted), _) => bool_from_value(attribute) == Some(*wanted),
            (HintValue::Spec(spec), HintType::Int) => {
                specs::matches(&DeviceValue::Float(size_in_gib(attribute)?), spec)?
            }
            (HintValue::Spec(spec), _) => {
                // A missing attribute is str(None) = "none", which is not empty.
                let normalized = match normalize_expression(&py_str(attribute), &hint.name) {
                    Ok(normalized) => normalized,
                    Err(e) if e.exception == "ValueError" => return Ok(false),
                    Err(e) => return Err(e),
                };
                specs::matches(&DeviceValue::Str(&normalized), spec)?
            }
        };
        if !satisfied {
            return Ok(false);
        }
    }
    Ok(true)
}

fn find_matching(
    disks: &[Value],
    hints: &RootDeviceHints,
    first_only: bool,
) -> Result<Vec<usize>, HintError> {
    check_disk_names(disks)?;
    let Some(parsed) = &hints.hints else {
        if disks.is_empty() {
            return Ok(Vec::new());
        }
        return Err(HintError::new(
            "TypeError",
            "'NoneType' object is not iterable".to_owned(),
        ));
    };
    let mut found = Vec::new();
    for (index, disk) in disks.iter().enumerate() {
        if disk_matches(disk, parsed)? {
            found.push(index);
            if first_only {
                break;
            }
        }
    }
    Ok(found)
}

/// Index of the first disk (inventory order) satisfying all hints
/// (`match_root_device_hints`). Errors from disks after the match are not
/// reached, as upstream stops there too.
///
/// Upstream checks disk names before validating the hints; callers that
/// parse first report a hint error where upstream would report the name error.
pub fn find_first_matching(
    disks: &[Value],
    hints: &RootDeviceHints,
) -> Result<Option<usize>, HintError> {
    Ok(find_matching(disks, hints, true)?.first().copied())
}

/// Indices of all disks satisfying all hints (`find_devices_by_hints`, used
/// for `skip_block_devices`).
pub fn find_all_matching(
    disks: &[Value],
    hints: &RootDeviceHints,
) -> Result<Vec<usize>, HintError> {
    find_matching(disks, hints, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn disks() -> Vec<Value> {
        vec![
            json!({"name": "/dev/sda", "size": 1000u64 << 30, "model": "Big Data Disk", "rotational": true}),
            json!({"name": "/dev/sdb", "size": 20u64 << 30, "model": "Small OS Disk", "rotational": "0"}),
            json!({"name": "/dev/sdc", "size": (20u64 << 30) + (1 << 29), "model": "Small OS Disk"}),
        ]
    }

    #[test]
    fn functional_test_size_hint_picks_sdb() {
        let hints = parse_hints(&json!({"size": 20})).expect("valid");
        assert_eq!(
            hints.parsed(),
            Some(
                json!({"size": "== 20"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            )
        );
        assert_eq!(find_first_matching(&disks(), &hints), Ok(Some(1)));
    }

    #[test]
    fn string_hints_are_lowercased_and_quoted() {
        let hints =
            parse_hints(&json!({"model": "small OS disk", "rotational": false})).expect("valid");
        assert_eq!(
            hints.parsed().map(Value::Object),
            Some(json!({"model": "s== small%20os%20disk", "rotational": false}))
        );
        assert_eq!(find_all_matching(&disks(), &hints), Ok(vec![1]));
    }

    #[test]
    fn numeric_equals_means_at_least() {
        let hints = parse_hints(&json!({"size": "= 20"})).expect("valid");
        assert_eq!(find_all_matching(&disks(), &hints), Ok(vec![0, 1, 2]));
    }

    #[test]
    fn invalid_names_are_listed() {
        let err = parse_hints(&json!({"foo": 1, "bar": 2})).expect_err("invalid");
        assert_eq!(
            err.message,
            "The hints \"bar, foo\" are invalid. Valid hints are: \"size, model, wwn, serial, vendor, wwn_with_extension, wwn_vendor_extension, name, rotational, hctl, by_path\""
        );
        assert!(err.is_validation_error());
    }

    #[test]
    fn validation_message_shows_hints_as_python_does() {
        let hints =
            json!({"model": "it's", "rotational": null, "size": "abc", "x": [1, 2.5, true]});
        let error = HintError::value_error("E".to_owned());
        assert_eq!(
            failed_to_validate_message(&hints, &error),
            "No disks could be found using the root device hints {'model': \"it's\", 'rotational': None, 'size': 'abc', 'x': [1, 2.5, True]} because they failed to validate. Error: E"
        );
    }

    #[test]
    fn missing_size_is_a_type_error() {
        let hints = parse_hints(&json!({"size": 20})).expect("valid");
        let err = find_first_matching(&[json!({"name": "/dev/sda"})], &hints).expect_err("error");
        assert_eq!(err.exception, "TypeError");
        assert_eq!(
            err.message,
            "unsupported operand type(s) for /: 'NoneType' and 'int'"
        );
    }
}
