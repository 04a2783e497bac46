//! Python `str.format(data=...)`, the formatting applied to rule action values.
//!
//! The only argument upstream passes is the keyword `data` (the introspection data), so
//! `{data...}` fields resolve and every other field fails exactly as Python fails:
//! unknown names with `KeyError`, positional fields with `IndexError`.

use super::fmtspec::{self, SpecError};
use super::value::{is_int, py_ascii, py_repr, py_str, type_name};
use super::{PyError, uni};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;

/// Why formatting failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Python raised `KeyError`; the text is `str(exc)`, e.g. `'node'` (quotes included).
    #[error("KeyError: {0}")]
    MissingKey(String),
    /// Python raised another exception (ValueError, IndexError, AttributeError, TypeError,
    /// OverflowError).
    #[error("{class}: {message}")]
    Other {
        /// Python exception class name.
        class: String,
        /// `str(exception)`.
        message: String,
    },
    /// Python would produce a result this implementation refuses to build: an attribute
    /// that is a method or another object with a memory address in its repr, a lone
    /// surrogate, or a width/precision beyond [`MAX_RENDERED`](self::MAX_RENDERED).
    #[error("unsupported formatting: {0}")]
    Unsupported(String),
}

/// Widths and float precisions beyond this are refused with [`FormatError::Unsupported`].
pub const MAX_RENDERED: i64 = fmtspec::MAX_RENDERED;

impl From<PyError> for FormatError {
    fn from(e: PyError) -> Self {
        if e.class == "KeyError" {
            FormatError::MissingKey(e.message)
        } else {
            FormatError::Other {
                class: e.class,
                message: e.message,
            }
        }
    }
}

impl From<SpecError> for FormatError {
    fn from(e: SpecError) -> Self {
        match e {
            SpecError::Py(e) => e.into(),
            SpecError::Unsupported(m) => FormatError::Unsupported(m),
        }
    }
}

fn value_error(message: &str) -> FormatError {
    PyError::new("ValueError", message).into()
}

/// Python `template.format(data=data)`.
pub fn format(template: &str, data: &Value) -> Result<String, FormatError> {
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::new();
    build_string(&chars, data, 2, &mut out)?;
    Ok(out)
}

/// Python `format(s, spec)` for a str.
pub fn format_str(s: &str, spec: &str) -> Result<String, FormatError> {
    let spec: Vec<char> = spec.chars().collect();
    Ok(fmtspec::format_str(s, &spec)?)
}

/// Python `format(n, spec)` for an int.
pub fn format_int(n: i128, spec: &str) -> Result<String, FormatError> {
    let spec: Vec<char> = spec.chars().collect();
    Ok(fmtspec::format_int(n, "int", &spec)?)
}

/// Upstream's `_format_value` (API 1.14+): strings are formatted, lists and dicts are
/// formatted recursively (dict keys too), other values are returned unchanged.
pub fn format_value(v: &Value, data: &Value) -> Result<Value, FormatError> {
    format_value_located(v, data).map_err(|e| e.error)
}

/// A [`format_value`] failure together with the string that failed (the value itself,
/// or the member of a list or dict being formatted when Python raised).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct LocatedFormatError {
    /// The string whose formatting raised.
    pub template: String,
    /// What Python raised.
    pub error: FormatError,
}

/// [`format_value`], telling which string failed: upstream reports a `KeyError` with
/// the failing member, not the whole value.
pub fn format_value_located(v: &Value, data: &Value) -> Result<Value, LocatedFormatError> {
    let format_one = |s: &str| {
        format(s, data).map_err(|error| LocatedFormatError {
            template: s.to_string(),
            error,
        })
    };
    Ok(match v {
        Value::String(s) => Value::String(format_one(s)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| format_value_located(item, data))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, item) in map {
                let key = format_one(k)?;
                // Like a dict comprehension: a repeated key keeps its first position.
                out.insert(key, format_value_located(item, data)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// One replacement field, as CPython's `parse_field` splits it.
struct Field<'a> {
    name: &'a [char],
    conversion: Option<char>,
    spec: &'a [char],
    spec_has_fields: bool,
}

/// CPython's `build_string`: literal text and fields, processed left to right so that the
/// first failing field decides the error, as in Python.
fn build_string(s: &[char], data: &Value, depth: i32, out: &mut String) -> Result<(), FormatError> {
    if depth <= 0 {
        return Err(value_error("Max string recursion exceeded"));
    }
    let mut pos = 0;
    while pos < s.len() {
        let start = pos;
        let mut c = '\0';
        while pos < s.len() {
            c = s[pos];
            pos += 1;
            if c == '{' || c == '}' {
                break;
            }
        }
        let at_end = pos >= s.len();
        let mut markup_follows = c == '{' || c == '}';
        let mut len = pos - start;
        if c == '}' && (at_end || s[pos] != '}') {
            return Err(value_error("Single '}' encountered in format string"));
        }
        if at_end && c == '{' {
            return Err(value_error("Single '{' encountered in format string"));
        }
        if !at_end && markup_follows {
            if s[pos] == c {
                // A doubled brace: literal text ending with one brace.
                pos += 1;
                markup_follows = false;
            } else {
                len -= 1;
            }
        }
        out.extend(&s[start..start + len]);
        if markup_follows {
            let field = parse_field(s, &mut pos)?;
            output_field(&field, data, depth, out)?;
        }
    }
    Ok(())
}

fn parse_field<'a>(s: &'a [char], pos: &mut usize) -> Result<Field<'a>, FormatError> {
    let name_start = *pos;
    let mut c = '\0';
    while *pos < s.len() {
        c = s[*pos];
        *pos += 1;
        match c {
            '{' => return Err(value_error("unexpected '{' in field name")),
            '[' => {
                while *pos < s.len() && s[*pos] != ']' {
                    *pos += 1;
                }
            }
            '}' | ':' | '!' => break,
            _ => {}
        }
    }
    let mut field = Field {
        name: &s[name_start..(*pos).saturating_sub(1).max(name_start)],
        conversion: None,
        spec: &[],
        spec_has_fields: false,
    };
    if c == '!' || c == ':' {
        if c == '!' {
            let Some(&conversion) = s.get(*pos) else {
                return Err(value_error(
                    "end of string while looking for conversion specifier",
                ));
            };
            field.conversion = Some(conversion);
            *pos += 1;
            if let Some(&next) = s.get(*pos) {
                *pos += 1;
                if next == '}' {
                    return Ok(field);
                }
                if next != ':' {
                    return Err(value_error("expected ':' after conversion specifier"));
                }
            }
        }
        let spec_start = *pos;
        let mut count = 1;
        while *pos < s.len() {
            let c = s[*pos];
            *pos += 1;
            if c == '{' {
                field.spec_has_fields = true;
                count += 1;
            } else if c == '}' {
                count -= 1;
                if count == 0 {
                    field.spec = &s[spec_start..*pos - 1];
                    return Ok(field);
                }
            }
        }
        return Err(value_error("unmatched '{' in format spec"));
    }
    if c != '}' {
        return Err(value_error("expected '}' before end of string"));
    }
    Ok(field)
}

fn output_field(
    field: &Field,
    data: &Value,
    depth: i32,
    out: &mut String,
) -> Result<(), FormatError> {
    let mut obj = field_object(field.name, data)?;
    if let Some(conversion) = field.conversion {
        let text = match conversion {
            'r' => py_repr(&obj),
            's' => py_str(&obj),
            'a' => py_ascii(&obj),
            c if (c as u32) > 32 && (c as u32) < 127 => {
                return Err(value_error(&format!("Unknown conversion specifier {c}")));
            }
            c => {
                return Err(value_error(&format!(
                    "Unknown conversion specifier \\x{:x}",
                    c as u32
                )));
            }
        };
        obj = Cow::Owned(Value::String(text));
    }
    let expanded;
    let spec: &[char] = if field.spec_has_fields {
        let mut s = String::new();
        build_string(field.spec, data, depth - 1, &mut s)?;
        expanded = s.chars().collect::<Vec<char>>();
        &expanded
    } else {
        field.spec
    };
    out.push_str(&render(&obj, spec)?);
    Ok(())
}

/// CPython's `get_integer`: all characters decimal digits (any script), else `None`.
fn field_integer(s: &[char]) -> Result<Option<i64>, FormatError> {
    if s.is_empty() {
        return Ok(None);
    }
    let mut acc: i64 = 0;
    for &c in s {
        let Some(d) = uni::decimal_value(c) else {
            return Ok(None);
        };
        let d = d as i64;
        if acc > (i64::MAX - d) / 10 {
            return Err(value_error("Too many decimal digits in format string"));
        }
        acc = acc * 10 + d;
    }
    Ok(Some(acc))
}

fn field_object<'a>(name: &[char], data: &'a Value) -> Result<Cow<'a, Value>, FormatError> {
    let first_len = name
        .iter()
        .position(|&c| c == '.' || c == '[')
        .unwrap_or(name.len());
    let first = &name[..first_len];
    let index = if first.is_empty() {
        // Automatic numbering: any earlier positional field would already have failed.
        Some(0)
    } else {
        field_integer(first)?
    };
    if let Some(index) = index {
        return Err(PyError::new(
            "IndexError",
            format!("Replacement index {index} out of range for positional args tuple"),
        )
        .into());
    }
    let first: String = first.iter().collect();
    if first != "data" {
        return Err(FormatError::MissingKey(py_repr(&Value::String(first))));
    }
    let mut obj = Cow::Borrowed(data);
    let mut pos = first_len;
    while pos < name.len() {
        let kind = name[pos];
        pos += 1;
        let part_start = pos;
        let part = match kind {
            '.' => {
                while pos < name.len() && name[pos] != '.' && name[pos] != '[' {
                    pos += 1;
                }
                &name[part_start..pos]
            }
            '[' => {
                while pos < name.len() && name[pos] != ']' {
                    pos += 1;
                }
                if pos >= name.len() {
                    return Err(value_error("Missing ']' in format string"));
                }
                pos += 1;
                &name[part_start..pos - 1]
            }
            _ => {
                return Err(value_error(
                    "Only '.' or '[' may follow ']' in format field specifier",
                ));
            }
        };
        let index = if kind == '[' {
            field_integer(part)?
        } else {
            None
        };
        if part.is_empty() {
            return Err(value_error("Empty attribute in format string"));
        }
        let part: String = part.iter().collect();
        obj = if kind == '.' {
            attribute(obj, &part)?
        } else {
            match index {
                Some(i) => item_by_index(obj, i)?,
                None => item_by_key(obj, &part)?,
            }
        };
    }
    Ok(obj)
}

fn not_subscriptable(v: &Value) -> FormatError {
    PyError::new(
        "TypeError",
        format!("'{}' object is not subscriptable", type_name(v)),
    )
    .into()
}

fn item_by_key<'a>(obj: Cow<'a, Value>, key: &str) -> Result<Cow<'a, Value>, FormatError> {
    match obj {
        Cow::Borrowed(Value::Object(map)) => map
            .get(key)
            .map(Cow::Borrowed)
            .ok_or_else(|| FormatError::MissingKey(py_repr(&Value::String(key.to_string())))),
        Cow::Owned(Value::Object(mut map)) => map
            .remove(key)
            .map(Cow::Owned)
            .ok_or_else(|| FormatError::MissingKey(py_repr(&Value::String(key.to_string())))),
        ref v => Err(match v.as_ref() {
            Value::Array(_) => PyError::new(
                "TypeError",
                "list indices must be integers or slices, not str",
            )
            .into(),
            Value::String(_) => {
                PyError::new("TypeError", "string indices must be integers, not 'str'").into()
            }
            other => not_subscriptable(other),
        }),
    }
}

fn item_by_index<'a>(obj: Cow<'a, Value>, index: i64) -> Result<Cow<'a, Value>, FormatError> {
    let i = usize::try_from(index).unwrap_or(usize::MAX);
    match obj {
        Cow::Borrowed(Value::Array(items)) => items
            .get(i)
            .map(Cow::Borrowed)
            .ok_or_else(|| PyError::new("IndexError", "list index out of range").into()),
        Cow::Owned(Value::Array(mut items)) if i < items.len() => {
            Ok(Cow::Owned(items.swap_remove(i)))
        }
        Cow::Owned(Value::Array(_)) => {
            Err(PyError::new("IndexError", "list index out of range").into())
        }
        ref v => match v.as_ref() {
            Value::String(s) => s
                .chars()
                .nth(i)
                .map(|c| Cow::Owned(Value::String(c.to_string())))
                .ok_or_else(|| PyError::new("IndexError", "string index out of range").into()),
            // Dict keys from JSON are strings: an int key is never there.
            Value::Object(_) => Err(FormatError::MissingKey(index.to_string())),
            other => Err(not_subscriptable(other)),
        },
    }
}

fn attribute<'a>(obj: Cow<'a, Value>, name: &str) -> Result<Cow<'a, Value>, FormatError> {
    let v = obj.as_ref();
    let int = |n: i64| Ok(Cow::Owned(Value::Number(Number::from(n))));
    match (v, name) {
        (Value::Bool(b), "real" | "numerator") => return int(*b as i64),
        (Value::Bool(_), "imag") => return int(0),
        (Value::Bool(_), "denominator") => return int(1),
        (Value::Number(n), "real" | "numerator") if is_int(n) => return Ok(obj),
        (Value::Number(n), "imag") if is_int(n) => return int(0),
        (Value::Number(n), "denominator") if is_int(n) => return int(1),
        (Value::Number(_), "real") => return Ok(obj),
        (Value::Number(n), "imag") if !is_int(n) => {
            return Ok(Cow::Owned(Value::Number(
                Number::from_f64(0.0).unwrap_or_else(|| Number::from(0)),
            )));
        }
        _ => {}
    }
    let ty = type_name(v);
    if uni::has_attribute(ty, name) {
        return Err(FormatError::Unsupported(format!(
            "attribute '{name}' of a '{ty}' value (a method or an object without a stable text form)"
        )));
    }
    Err(PyError::new(
        "AttributeError",
        format!("'{ty}' object has no attribute '{name}'"),
    )
    .into())
}

/// `format(obj, spec)`.
fn render(obj: &Value, spec: &[char]) -> Result<String, FormatError> {
    Ok(match obj {
        Value::String(s) => fmtspec::format_str(s, spec)?,
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                if spec.is_empty() {
                    i.to_string()
                } else {
                    fmtspec::format_int(i as i128, "int", spec)?
                }
            } else if let Some(u) = n.as_u64() {
                if spec.is_empty() {
                    u.to_string()
                } else {
                    fmtspec::format_int(u as i128, "int", spec)?
                }
            } else {
                fmtspec::format_float(n.as_f64().unwrap_or(f64::NAN), spec)?
            }
        }
        Value::Bool(b) if !spec.is_empty() => fmtspec::format_int(*b as i128, "bool", spec)?,
        other if spec.is_empty() => py_str(other),
        other => {
            return Err(PyError::new(
                "TypeError",
                format!(
                    "unsupported format string passed to {}.__format__",
                    type_name(other)
                ),
            )
            .into());
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields() {
        let data = json!({"cpus": 4, "inventory": {"bmc_address": "1.2.3.4", "disks": [{"name": "sda"}]}, "f": 1.5});
        assert_eq!(format("{data[cpus]}", &data).unwrap(), "4");
        assert_eq!(
            format("{{x}} {data[inventory][disks][0][name]:>5}", &data).unwrap(),
            "{x}   sda"
        );
        assert_eq!(format("{data[f]!r:^7}", &data).unwrap(), "  1.5  ");
        assert_eq!(
            format("{node}", &data),
            Err(FormatError::MissingKey("'node'".into()))
        );
        assert_eq!(
            format("{data[nope]}", &data),
            Err(FormatError::MissingKey("'nope'".into()))
        );
        assert!(matches!(
            format("{0}", &data),
            Err(FormatError::Other { class, .. }) if class == "IndexError"
        ));
        assert!(matches!(
            format("{data.keys}", &data),
            Err(FormatError::Unsupported(_))
        ));
    }

    #[test]
    fn recursive_values() {
        let data = json!({"a": "x", "n": 1});
        let v = json!({"{data[a]}": ["{data[n]}", 42, null], "k": "{{}}"});
        assert_eq!(
            format_value(&v, &data).unwrap(),
            json!({"x": ["1", 42, null], "k": "{}"})
        );
    }
}
