//! oslo.config value types (`oslo_config/types.py`): how the text of an
//! option becomes a typed value, and the reasons given when it cannot.

use crate::py::{self, PyInt};

/// A typed option value, as oslo.config hands it to the program.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Python's `None`: an unset option without default, or an empty
    /// integer/float.
    None,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A list option or every value of a multi-valued option.
    List(Vec<Value>),
    /// A dict option, in the order the pairs were written.
    Dict(Vec<(String, Value)>),
}

impl Value {
    /// Python's `str()` of the value, which is what `$name` interpolation
    /// inserts; `None` becomes an empty string there.
    pub fn interpolated(&self) -> String {
        match self {
            Value::None => String::new(),
            Value::Str(s) => s.clone(),
            other => other.python_repr(),
        }
    }

    /// Python's `repr()` of the value. The container walk stays here rather than
    /// in `crate::py::value::py_repr` because option values are not JSON (a float
    /// option may be inf or nan, which `serde_json::Value` cannot hold); the
    /// scalars use `crate::py`.
    pub fn python_repr(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Str(s) => py::value::str_repr(s),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => py::float_repr(*f),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(Value::python_repr).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Dict(pairs) => {
                let pairs: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| format!("{}: {}", py::value::str_repr(k), v.python_repr()))
                    .collect();
                format!("{{{}}}", pairs.join(", "))
            }
        }
    }
}

/// One allowed value of a string option, with an optional description.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// `None` is a legal choice in a few library options; a value read from
    /// a file can never be `None`, so it only shows in messages.
    pub value: Option<&'static str>,
    pub help: Option<&'static str>,
}

/// `types.String`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StrType {
    pub choices: Option<Vec<Choice>>,
    pub ignore_case: bool,
    /// Strip one pair of surrounding quotes (used for dict values and list
    /// items that may contain commas).
    pub quotes: bool,
}

/// Inclusive bounds of a number (`types.Integer` / `types.Float`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bounds {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// Item type of a list option.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemType {
    Str(StrType),
    Int(Bounds),
}

/// The type of an option.
#[derive(Debug, Clone, PartialEq)]
pub enum OptType {
    Str(StrType),
    Int(Bounds),
    /// `types.Port`: an integer within 0..=65535 unless narrowed.
    Port(Bounds),
    Float(Bounds),
    Bool,
    List(ItemType),
    Dict(StrType),
    /// `MultiStrOpt`: every occurrence, in every file, is kept.
    MultiStr,
    /// inspector's own `Octal` type for file modes: `int(value, 8)`.
    Octal,
}

impl OptType {
    /// Whether values accumulate across occurrences and files.
    pub fn is_multi(&self) -> bool {
        matches!(self, OptType::MultiStr)
    }

    /// The name oslo-config-generator prints for the type.
    pub fn type_name(&self) -> &'static str {
        match self {
            OptType::Str(_) => "string value",
            OptType::Int(_) => "integer value",
            OptType::Port(_) => "port value",
            OptType::Float(_) => "floating point value",
            OptType::Bool => "boolean value",
            OptType::List(_) => "list value",
            OptType::Dict(_) => "dict value",
            OptType::MultiStr => "multi valued",
            OptType::Octal => "octal integer value",
        }
    }

    /// Converts the (already interpolated) text of one occurrence.
    pub fn convert(&self, text: &str) -> Result<Value, String> {
        match self {
            OptType::Str(t) => convert_str(t, text),
            OptType::Int(t) | OptType::Port(t) => convert_int(t, text),
            OptType::Float(t) => convert_float(t, text),
            OptType::Bool => convert_bool(text),
            OptType::List(item) => convert_list(item, text),
            OptType::Dict(t) => convert_dict(t, text),
            OptType::MultiStr => Ok(Value::Str(text.to_string())),
            OptType::Octal => convert_octal(text),
        }
    }
}

fn convert_str(t: &StrType, text: &str) -> Result<Value, String> {
    let mut s = text;
    if t.quotes && (s.starts_with('"') || s.starts_with('\'')) {
        let quote = &s[..1];
        if s.len() == 1 || !s.ends_with(quote) {
            return Err(format!("Non-closed quote: {s}"));
        }
        s = &s[1..s.len() - 1];
    }
    let Some(choices) = &t.choices else {
        return Ok(Value::Str(s.to_string()));
    };
    let accepted = choices.iter().filter_map(|c| c.value).any(|c| {
        if t.ignore_case {
            c.to_lowercase() == s.to_lowercase()
        } else {
            c == s
        }
    });
    if accepted {
        return Ok(Value::Str(s.to_string()));
    }
    let listed: Vec<&str> = choices.iter().map(|c| c.value.unwrap_or("None")).collect();
    Err(format!(
        "Valid values are [{}], but found {}",
        listed.join(", "),
        py::value::str_repr(s)
    ))
}

/// Python `format(n, 'g')`, as `types.Number` shows its bounds.
fn format_g(n: i64) -> String {
    // "g" is a valid spec for every int, so this never falls back.
    py::format::format_int(i128::from(n), "g").unwrap_or_else(|_| n.to_string())
}

/// Checks integer bounds the way `types.Number` words it.
fn check_bounds(t: &Bounds, value: &PyInt) -> Result<(), String> {
    if let Some(min) = t.min
        && *value < PyInt::from_i128(i128::from(min))
    {
        return Err(format!(
            "Should be greater than or equal to {}",
            format_g(min)
        ));
    }
    if let Some(max) = t.max
        && *value > PyInt::from_i128(i128::from(max))
    {
        return Err(format!("Should be less than or equal to {}", format_g(max)));
    }
    Ok(())
}

fn convert_int(t: &Bounds, text: &str) -> Result<Value, String> {
    // An empty (or blank) integer is None, not an error.
    if py::text::strip(text).is_empty() {
        return Ok(Value::None);
    }
    let value = py::int_from_str(text).map_err(|e| e.message)?;
    check_bounds(t, &value)?;
    // Python integers are unbounded; ours stop at 64 bits.
    value
        .to_i64()
        .map(Value::Int)
        .ok_or_else(|| format!("Value {value} is out of range"))
}

fn convert_float(t: &Bounds, text: &str) -> Result<Value, String> {
    if py::text::strip(text).is_empty() {
        return Ok(Value::None);
    }
    let value = py::float_from_str(text).map_err(|e| e.message)?;
    if let Some(min) = t.min
        && value < min as f64
    {
        return Err(format!(
            "Should be greater than or equal to {}",
            format_g(min)
        ));
    }
    if let Some(max) = t.max
        && value > max as f64
    {
        return Err(format!("Should be less than or equal to {}", format_g(max)));
    }
    Ok(Value::Float(value))
}

fn convert_bool(text: &str) -> Result<Value, String> {
    match text.to_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(Value::Bool(true)),
        "false" | "0" | "off" | "no" => Ok(Value::Bool(false)),
        _ => Err(format!(
            "Unexpected boolean value {}",
            py::value::str_repr(text)
        )),
    }
}

fn convert_octal(text: &str) -> Result<Value, String> {
    let value = parse_octal(text).ok_or_else(|| {
        format!(
            "invalid literal for int() with base 8: {}",
            py::value::str_repr(text)
        )
    })?;
    i64::try_from(value)
        .map(Value::Int)
        .map_err(|_| format!("Value {value} is out of range"))
}

fn convert_item(item: &ItemType, text: &str) -> Result<Value, String> {
    match item {
        ItemType::Str(t) => convert_str(t, text),
        ItemType::Int(t) => convert_int(t, text),
    }
}

/// `types.List`: comma separated; when an item fails to convert, the next
/// comma-separated part is glued to it and conversion retried (so quoted
/// items may contain commas).
fn convert_list(item: &ItemType, text: &str) -> Result<Value, String> {
    let s = py::text::strip(text).trim_end_matches(',');
    if s.is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    let mut parts = s.split(',');
    let mut result = Vec::new();
    while let Some(first) = parts.next() {
        let mut candidate = first.to_string();
        loop {
            match convert_item(item, py::text::strip(&candidate)) {
                Ok(v) => {
                    result.push(v);
                    break;
                }
                Err(e) => match parts.next() {
                    Some(next) => {
                        candidate.push(',');
                        candidate.push_str(next);
                    }
                    None => return Err(e),
                },
            }
        }
    }
    Ok(Value::List(result))
}

/// `types.Dict`: `key:value` pairs separated by commas, with the same
/// gluing rule as lists for values that fail to convert.
fn convert_dict(value_type: &StrType, text: &str) -> Result<Value, String> {
    let s = py::text::strip(text);
    if s.is_empty() {
        return Ok(Value::Dict(Vec::new()));
    }
    let mut parts = s.split(',');
    let mut result: Vec<(String, Value)> = Vec::new();
    while let Some(first) = parts.next() {
        let mut candidate = first.to_string();
        let (key, value) = loop {
            let attempt = match candidate.split_once(':') {
                None => Err("Value should be NAME:VALUE pairs separated by \",\"".to_string()),
                Some((k, v)) => convert_str(value_type, py::text::strip(v))
                    .map(|v| (py::text::strip(k).to_string(), v)),
            };
            match attempt {
                Ok(pair) => break pair,
                Err(e) => match parts.next() {
                    Some(next) => {
                        candidate.push(',');
                        candidate.push_str(next);
                    }
                    None => return Err(e),
                },
            }
        };
        if key.is_empty() {
            return Err("Key name should not be empty".into());
        }
        if result.iter().any(|(k, _)| *k == key) {
            return Err(format!("Duplicate key {key}"));
        }
        result.push((key, value));
    }
    Ok(Value::Dict(result))
}

/// Python's `int(s, 8)` (the only base other than 10 a configuration uses);
/// `None` where Python raises. Saturates at i128, far beyond what an option
/// can hold.
fn parse_octal(s: &str) -> Option<i128> {
    let body = py::text::strip(s);
    let (negative, body) = match body.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, body.strip_prefix('+').unwrap_or(body)),
    };
    let body = match body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        // A single underscore may follow the prefix: `0o_17`.
        Some(rest) => rest.strip_prefix('_').unwrap_or(rest),
        None => body,
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let mut value: i128 = 0;
    for c in body.chars().filter(|c| *c != '_') {
        value = value
            .saturating_mul(8)
            .saturating_add(i128::from(c.to_digit(8)?));
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    fn plain() -> StrType {
        StrType::default()
    }

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", "1", "on", "Yes"] {
            assert_eq!(OptType::Bool.convert(t), Ok(Value::Bool(true)), "{t}");
        }
        for f in ["false", "0", "OFF", "no"] {
            assert_eq!(OptType::Bool.convert(f), Ok(Value::Bool(false)), "{f}");
        }
        assert_eq!(
            OptType::Bool.convert("t"),
            Err("Unexpected boolean value 't'".into())
        );
        assert_eq!(
            OptType::Bool.convert(""),
            Err("Unexpected boolean value ''".into())
        );
    }

    #[test]
    fn integers_and_bounds() {
        let t = OptType::Int(Bounds {
            min: Some(1),
            max: Some(315_576_000),
        });
        assert_eq!(t.convert(" 5 "), Ok(Value::Int(5)));
        assert_eq!(t.convert(""), Ok(Value::None));
        assert_eq!(
            t.convert("0"),
            Err("Should be greater than or equal to 1".into())
        );
        assert_eq!(
            t.convert("999999999999"),
            Err("Should be less than or equal to 3.15576e+08".into())
        );
        assert_eq!(
            t.convert("1.5"),
            Err("invalid literal for int() with base 10: '1.5'".into())
        );
        let port = OptType::Port(Bounds {
            min: Some(0),
            max: Some(65535),
        });
        assert_eq!(
            port.convert("65536"),
            Err("Should be less than or equal to 65535".into())
        );
    }

    #[test]
    fn choices() {
        let t = OptType::Str(StrType {
            choices: Some(vec![
                Choice {
                    value: Some("a"),
                    help: None,
                },
                Choice {
                    value: None,
                    help: None,
                },
            ]),
            ..plain()
        });
        assert_eq!(t.convert("a"), Ok(s("a")));
        assert_eq!(
            t.convert("A"),
            Err("Valid values are [a, None], but found 'A'".into())
        );
        assert_eq!(
            t.convert("None"),
            Err("Valid values are [a, None], but found 'None'".into())
        );
    }

    #[test]
    fn lists() {
        let t = OptType::List(ItemType::Str(plain()));
        assert_eq!(
            t.convert(" a , b,c,"),
            Ok(Value::List(vec![s("a"), s("b"), s("c")]))
        );
        assert_eq!(t.convert(""), Ok(Value::List(vec![])));
        assert_eq!(
            t.convert("a,,b"),
            Ok(Value::List(vec![s("a"), s(""), s("b")]))
        );
        assert_eq!(
            t.convert("'a', 'b'"),
            Ok(Value::List(vec![s("'a'"), s("'b'")]))
        );
        let quoted = OptType::List(ItemType::Str(StrType {
            quotes: true,
            ..plain()
        }));
        assert_eq!(
            quoted.convert("'a,b', c"),
            Ok(Value::List(vec![s("a,b"), s("c")]))
        );
        assert_eq!(quoted.convert("'a,b"), Err("Non-closed quote: 'a,b".into()));
        let ints = OptType::List(ItemType::Int(Bounds::default()));
        assert_eq!(
            ints.convert("1,,2"),
            Ok(Value::List(vec![Value::Int(1), Value::None, Value::Int(2)]))
        );
    }

    #[test]
    fn dicts() {
        let t = OptType::Dict(plain());
        assert_eq!(
            t.convert("a:1, b : x:y"),
            Ok(Value::Dict(vec![
                ("a".into(), s("1")),
                ("b".into(), s("x:y"))
            ]))
        );
        assert_eq!(
            t.convert("a:1,b,c:2"),
            Ok(Value::Dict(vec![
                ("a".into(), s("1")),
                ("b,c".into(), s("2"))
            ]))
        );
        assert_eq!(
            t.convert("a"),
            Err("Value should be NAME:VALUE pairs separated by \",\"".into())
        );
        assert_eq!(t.convert("a:1,a:2"), Err("Duplicate key a".into()));
        assert_eq!(t.convert(":1"), Err("Key name should not be empty".into()));
    }

    #[test]
    fn octal() {
        assert_eq!(OptType::Octal.convert("0755"), Ok(Value::Int(0o755)));
        assert_eq!(
            OptType::Octal.convert("9"),
            Err("invalid literal for int() with base 8: '9'".into())
        );
        assert_eq!(
            OptType::Octal.convert(""),
            Err("invalid literal for int() with base 8: ''".into())
        );
    }

    #[test]
    fn interpolated_forms() {
        assert_eq!(Value::None.interpolated(), "");
        assert_eq!(Value::Bool(true).interpolated(), "True");
        assert_eq!(Value::Float(60.0).interpolated(), "60.0");
        assert_eq!(
            Value::List(vec![s("a"), Value::Int(1)]).interpolated(),
            "['a', 1]"
        );
        assert_eq!(
            Value::Dict(vec![("k".into(), s("v"))]).interpolated(),
            "{'k': 'v'}"
        );
    }

    #[test]
    fn bounds_render_as_python_g_and_octal_parses_as_python() {
        for (n, want) in [
            (0, "0"),
            (-1, "-1"),
            (999_999, "999999"),
            (1_000_000, "1e+06"),
            (315_576_000, "3.15576e+08"),
            (1_234_565, "1.23456e+06"),
            (1_234_575, "1.23458e+06"),
            (9_999_999, "1e+07"),
        ] {
            assert_eq!(format_g(n), want);
        }
        assert_eq!(parse_octal("755"), Some(0o755));
        assert_eq!(parse_octal(" -0o755 "), Some(-0o755));
        assert_eq!(parse_octal("0o_7"), Some(7));
        assert_eq!(parse_octal("8"), None);
        assert_eq!(parse_octal("7__7"), None);
        assert_eq!(parse_octal(""), None);
    }
}
