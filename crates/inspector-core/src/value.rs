//! Small facts about JSON values as Python sees them after `json.loads`.

use serde_json::Value;

/// Python's type name of a decoded JSON value, as upstream messages show it.
pub fn python_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python truthiness.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_names_and_truthiness_follow_python() {
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
            assert_eq!(python_type_name(&value), name);
            assert_eq!(truthy(&value), truth, "{value}");
        }
    }
}
