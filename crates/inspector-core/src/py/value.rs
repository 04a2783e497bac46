//! `str()`, `repr()` and `ascii()` of JSON-decoded Python values.

use super::num::float_repr;
use super::uni;
use serde_json::{Number, Value};

/// Python `str(v)`: strings as they are, everything else as `repr`.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        _ => py_repr(v),
    }
}

/// Python `repr(v)`.
pub fn py_repr(v: &Value) -> String {
    let mut out = String::new();
    repr_into(v, &mut out);
    out
}

/// Python `ascii(v)`: `repr` with every non-ASCII character backslash-escaped.
pub fn py_ascii(v: &Value) -> String {
    escape_non_ascii(&py_repr(v))
}

/// Python truthiness (`bool(v)`).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python `repr(s)` of a str.
pub fn str_repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    repr_str(s, &mut out);
    out
}

/// The key `json.dumps` writes for a dict key of a scalar type; `None` for a list
/// or dict (unhashable in Python).
pub fn json_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(number_repr(n)),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// `json.dumps(v)` with Python's defaults: `", "` and `": "` separators,
/// keys in the document's order, every non-ASCII character escaped
/// (`ensure_ascii`), floats as `repr()` gives them.
pub fn json_dumps(v: &Value) -> String {
    let mut out = String::new();
    dumps_into(v, &mut out);
    out
}

/// `json.dumps` of an object without the entry `skip`, written from the
/// map as it is rather than from a copy without that entry.
pub fn json_dumps_object_without(map: &serde_json::Map<String, Value>, skip: &str) -> String {
    let mut out = String::new();
    out.push('{');
    for (i, (key, item)) in map.iter().filter(|(key, _)| *key != skip).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        json_string_ascii(key, &mut out);
        out.push_str(": ");
        dumps_into(item, &mut out);
    }
    out.push('}');
    out
}

fn dumps_into(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_repr(n)),
        Value::String(s) => json_string_ascii(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dumps_into(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_string_ascii(key, out);
                out.push_str(": ");
                dumps_into(item, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string as Python's `json` module writes it with `ensure_ascii`.
fn json_string_ascii(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// The Python type name of a JSON-decoded value (`int`, `float`, `str`, `bool`,
/// `NoneType`, `list`, `dict`), as exception messages spell it.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if is_int(n) => "int",
        Value::Number(_) => "float",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Whether Python's `json` would have decoded this number as an `int`.
pub(crate) fn is_int(n: &Number) -> bool {
    n.is_i64() || n.is_u64()
}

pub(crate) fn number_repr(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        float_repr(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn repr_into(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&number_repr(n)),
        Value::String(s) => repr_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_into(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_str(k, out);
                out.push_str(": ");
                repr_into(item, out);
            }
            out.push('}');
        }
    }
}

/// Python `repr()` of a str: quote choice and escapes as CPython's `unicode_repr`.
pub(crate) fn repr_str(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_ascii() || uni::is_printable(c) => out.push(c),
            c => push_hex_escape(c, out),
        }
    }
    out.push(quote);
}

fn push_hex_escape(c: char, out: &mut String) {
    let n = c as u32;
    if n < 0x100 {
        out.push_str(&format!("\\x{n:02x}"));
    } else if n < 0x10000 {
        out.push_str(&format!("\\u{n:04x}"));
    } else {
        out.push_str(&format!("\\U{n:08x}"));
    }
}

/// The `backslashreplace` encoding to ASCII that `ascii()` applies to a repr.
pub(crate) fn escape_non_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            push_hex_escape(c, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_dumped_without_an_entry_is_the_dump_of_the_object_without_it() {
        let value: Value =
            serde_json::from_str(r#"{"a": 1, "logs": "x", "b": {"logs": 2}, "c": "é"}"#).unwrap();
        let Value::Object(map) = &value else {
            unreachable!()
        };
        let mut without = map.clone();
        without.shift_remove("logs");
        assert_eq!(
            json_dumps_object_without(map, "logs"),
            json_dumps(&Value::Object(without))
        );
        let only: serde_json::Map<String, Value> = serde_json::from_str(r#"{"logs": 1}"#).unwrap();
        assert_eq!(json_dumps_object_without(&only, "logs"), "{}");
    }

    #[test]
    fn json_dumps_writes_what_python_writes() {
        // Expected: python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))'
        let text = r#"{"b": 1, "a": [1.5, 1e20, 1e-7, -0.0, 100, true, null, "q\"\\/\n\t\u0001\u007fé€\ud83d\ude00"], "b": {"z": {}, "y": []}, "big": 12345678901234567890, "f": 2.50}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            json_dumps(&value),
            r#"{"b": {"z": {}, "y": []}, "a": [1.5, 1e+20, 1e-07, -0.0, 100, true, null, "q\"\\/\n\t\u0001\u007f\u00e9\u20ac\ud83d\ude00"], "big": 12345678901234567890, "f": 2.5}"#
        );
    }

    #[test]
    fn json_dumps_of_its_own_output_is_unchanged() {
        let once = json_dumps(&serde_json::json!({"z": [1, {"é": "\u{1}"}], "a": 0.1}));
        let twice = json_dumps(&serde_json::from_str(&once).unwrap());
        assert_eq!(once, twice);
        assert_eq!(once, r#"{"z": [1, {"\u00e9": "\u0001"}], "a": 0.1}"#);
    }
    use serde_json::json;

    #[test]
    fn scalars_and_containers() {
        assert_eq!(py_str(&json!(null)), "None");
        assert_eq!(py_str(&json!(true)), "True");
        assert_eq!(py_str(&json!(4.0)), "4.0");
        assert_eq!(py_str(&json!("a'b")), "a'b");
        assert_eq!(py_repr(&json!("a'b")), "\"a'b\"");
        assert_eq!(py_repr(&json!("a'b\"")), "'a\\'b\"'");
        assert_eq!(
            py_str(&json!(["a", 1, {"k": null}])),
            "['a', 1, {'k': None}]"
        );
        assert_eq!(
            py_repr(&json!("\u{1}\u{7f}é\u{200b}")),
            "'\\x01\\x7fé\\u200b'"
        );
        assert_eq!(py_ascii(&json!("é😀")), "'\\xe9\\U0001f600'");
    }

    #[test]
    fn truthiness_type_names_and_json_keys() {
        let cases = [
            (json!(null), "NoneType", false),
            (json!(true), "bool", true),
            (json!(0), "int", false),
            (json!(0.0), "float", false),
            (json!(1.5), "float", true),
            (json!(""), "str", false),
            (json!("x"), "str", true),
            (json!([]), "list", false),
            (json!({}), "dict", false),
            (json!({"a": 1}), "dict", true),
        ];
        for (value, name, truth) in cases {
            assert_eq!(type_name(&value), name);
            assert_eq!(truthy(&value), truth, "{value}");
        }
        assert_eq!(json_key(&json!(1.0)).as_deref(), Some("1.0"));
        assert_eq!(json_key(&json!(false)).as_deref(), Some("false"));
        assert_eq!(json_key(&json!(null)).as_deref(), Some("null"));
        assert_eq!(json_key(&json!([1])), None);
    }
}
