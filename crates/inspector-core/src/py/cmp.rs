//! The value logic of the `eq`/`ne`/`lt`/`gt`/`le`/`ge` rule conditions: upstream's
//! `coerce(field, value)` followed by Python's comparison operator.

use super::PyError;
use super::num::{PyInt, float_from_str, int_from_str};
use super::value::{is_int, type_name};
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;

/// A comparison operator of the condition plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==` (`eq`)
    Eq,
    /// `!=` (`ne`)
    Ne,
    /// `<` (`lt`)
    Lt,
    /// `>` (`gt`)
    Gt,
    /// `<=` (`le`)
    Le,
    /// `>=` (`ge`)
    Ge,
}

impl CmpOp {
    /// The operator of a rule condition `op` name (`eq`, `ne`, `lt`, `gt`, `le`, `ge`).
    pub fn from_condition(op: &str) -> Option<CmpOp> {
        Some(match op {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "lt" => CmpOp::Lt,
            "gt" => CmpOp::Gt,
            "le" => CmpOp::Le,
            "ge" => CmpOp::Ge,
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Gt => ">",
            CmpOp::Le => "<=",
            CmpOp::Ge => ">=",
        }
    }

    /// The result for an ordering; `None` (a NaN was involved) makes all but `!=` false.
    fn holds(self, ord: Option<Ordering>) -> bool {
        match (self, ord) {
            (CmpOp::Ne, None) => true,
            (_, None) => false,
            (CmpOp::Eq, Some(o)) => o == Ordering::Equal,
            (CmpOp::Ne, Some(o)) => o != Ordering::Equal,
            (CmpOp::Lt, Some(o)) => o == Ordering::Less,
            (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
            (CmpOp::Le, Some(o)) => o != Ordering::Greater,
            (CmpOp::Ge, Some(o)) => o != Ordering::Less,
        }
    }
}

/// The result of `coerce(field, value)`: a Python int (of any size) or float, or the
/// field itself when no conversion applies.
#[derive(Debug, Clone, PartialEq)]
pub enum Coerced<'a> {
    /// `int(field)` (the expected value is an int or a bool).
    Int(PyInt),
    /// `float(field)` (the expected value is a float); may be inf or nan.
    Float(f64),
    /// The field unchanged (the expected value is a str, None, list or dict).
    Unchanged(&'a Value),
}

/// Upstream's `coerce(field, expected)`: `float(field)` when `expected` is a float,
/// `int(field)` when it is an int or a bool, else the field as it is.
pub fn coerce<'a>(field: &'a Value, expected: &Value) -> Result<Coerced<'a>, PyError> {
    match expected {
        Value::Number(n) if !is_int(n) => to_float(field).map(Coerced::Float),
        Value::Number(_) | Value::Bool(_) => to_int(field).map(Coerced::Int),
        _ => Ok(Coerced::Unchanged(field)),
    }
}

/// Python `float(v)`.
pub fn to_float(v: &Value) -> Result<f64, PyError> {
    match v {
        Value::Bool(b) => Ok(*b as u8 as f64),
        Value::Number(n) => Ok(number_to_f64(n)),
        Value::String(s) => float_from_str(s),
        other => Err(PyError::new(
            "TypeError",
            format!(
                "float() argument must be a string or a real number, not '{}'",
                type_name(other)
            ),
        )),
    }
}

/// Python `int(v)` as a JSON number: `None` where Python raises, and also for an
/// integer beyond 64 bits (which JSON documents here cannot hold).
pub fn to_int_json(v: &Value) -> Option<Value> {
    to_int(v).ok()?.to_json()
}

/// Python `int(v)`.
pub fn to_int(v: &Value) -> Result<PyInt, PyError> {
    match v {
        Value::Bool(b) => Ok(PyInt::from_i128(*b as i128)),
        Value::Number(n) => Ok(number_to_int(n)),
        Value::String(s) => int_from_str(s),
        other => Err(PyError::new(
            "TypeError",
            format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                type_name(other)
            ),
        )),
    }
}

fn number_to_f64(n: &Number) -> f64 {
    if let Some(i) = n.as_i64() {
        i as f64
    } else if let Some(u) = n.as_u64() {
        u as f64
    } else {
        n.as_f64().unwrap_or(f64::NAN)
    }
}

fn number_to_int(n: &Number) -> PyInt {
    if let Some(i) = n.as_i64() {
        PyInt::from_i128(i as i128)
    } else if let Some(u) = n.as_u64() {
        PyInt::from_i128(u as i128)
    } else {
        // JSON floats are finite, so truncation always gives an int.
        PyInt::from_f64_trunc(n.as_f64().unwrap_or(0.0)).unwrap_or(PyInt::from_i128(0))
    }
}

/// A Python object as the comparison operators see it.
enum Obj<'a> {
    None,
    Bool(bool),
    Int(PyInt),
    Float(f64),
    Str(&'a str),
    List(&'a [Value]),
    Dict(&'a Map<String, Value>),
}

impl<'a> Obj<'a> {
    fn of(v: &'a Value) -> Obj<'a> {
        match v {
            Value::Null => Obj::None,
            Value::Bool(b) => Obj::Bool(*b),
            Value::Number(n) if is_int(n) => Obj::Int(number_to_int(n)),
            Value::Number(n) => Obj::Float(number_to_f64(n)),
            Value::String(s) => Obj::Str(s),
            Value::Array(items) => Obj::List(items),
            Value::Object(map) => Obj::Dict(map),
        }
    }

    fn of_coerced(c: &Coerced<'a>) -> Obj<'a> {
        match c {
            Coerced::Int(i) => Obj::Int(i.clone()),
            Coerced::Float(f) => Obj::Float(*f),
            Coerced::Unchanged(v) => Obj::of(v),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Obj::None => "NoneType",
            Obj::Bool(_) => "bool",
            Obj::Int(_) => "int",
            Obj::Float(_) => "float",
            Obj::Str(_) => "str",
            Obj::List(_) => "list",
            Obj::Dict(_) => "dict",
        }
    }

    /// The numeric value of bool, int and float.
    fn number(&self) -> Option<Num> {
        match self {
            Obj::Bool(b) => Some(Num::Int(PyInt::from_i128(*b as i128))),
            Obj::Int(i) => Some(Num::Int(i.clone())),
            Obj::Float(f) => Some(Num::Float(*f)),
            _ => None,
        }
    }
}

enum Num {
    Int(PyInt),
    Float(f64),
}

fn cmp_numbers(a: &Num, b: &Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(y)),
        (Num::Int(x), Num::Float(y)) => x.cmp_f64(*y),
        (Num::Float(x), Num::Int(y)) => y.cmp_f64(*x).map(Ordering::reverse),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(y),
    }
}

/// Python `a <op> b` for JSON-decoded values.
pub fn compare(op: CmpOp, a: &Value, b: &Value) -> Result<bool, PyError> {
    rich_compare(op, &Obj::of(a), &Obj::of(b))
}

/// Python `a == b` (`1 == 1.0 == True`, containers element-wise).
pub fn eq(a: &Value, b: &Value) -> bool {
    // Equality never raises between JSON-decoded values.
    compare(CmpOp::Eq, a, b).unwrap_or(false)
}

/// Python `coerced <op> expected`.
pub fn compare_coerced(op: CmpOp, a: &Coerced, b: &Value) -> Result<bool, PyError> {
    rich_compare(op, &Obj::of_coerced(a), &Obj::of(b))
}

/// A comparison condition's check: `op(coerce(field, expected), expected)`.
pub fn check(op: CmpOp, field: &Value, expected: &Value) -> Result<bool, PyError> {
    compare_coerced(op, &coerce(field, expected)?, expected)
}

/// Python `item in container`.
pub fn contains(container: &Value, item: &Value) -> Result<bool, PyError> {
    match container {
        Value::Array(items) => {
            for candidate in items {
                if compare(CmpOp::Eq, candidate, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::String(s) => match item {
            Value::String(needle) => Ok(s.contains(needle.as_str())),
            other => Err(PyError::new(
                "TypeError",
                format!(
                    "'in <string>' requires string as left operand, not {}",
                    type_name(other)
                ),
            )),
        },
        // Keys are strings, which no other hashable JSON value equals.
        Value::Object(map) => match item {
            Value::String(key) => Ok(map.contains_key(key)),
            Value::Array(_) | Value::Object(_) => Err(PyError::new(
                "TypeError",
                format!("unhashable type: '{}'", type_name(item)),
            )),
            _ => Ok(false),
        },
        other => Err(PyError::new(
            "TypeError",
            format!("argument of type '{}' is not iterable", type_name(other)),
        )),
    }
}

fn unorderable(op: CmpOp, a: &Obj, b: &Obj) -> PyError {
    PyError::new(
        "TypeError",
        format!(
            "'{}' not supported between instances of '{}' and '{}'",
            op.symbol(),
            a.type_name(),
            b.type_name()
        ),
    )
}

fn rich_compare(op: CmpOp, a: &Obj, b: &Obj) -> Result<bool, PyError> {
    if let (Some(x), Some(y)) = (a.number(), b.number()) {
        return Ok(op.holds(cmp_numbers(&x, &y)));
    }
    let equality = matches!(op, CmpOp::Eq | CmpOp::Ne);
    match (a, b) {
        (Obj::Str(x), Obj::Str(y)) => Ok(op.holds(Some(x.cmp(y)))),
        (Obj::List(x), Obj::List(y)) => {
            if x.len() != y.len() && equality {
                return Ok(op == CmpOp::Ne);
            }
            for (u, v) in x.iter().zip(y.iter()) {
                let (u, v) = (Obj::of(u), Obj::of(v));
                if !rich_compare(CmpOp::Eq, &u, &v)? {
                    return match op {
                        CmpOp::Eq => Ok(false),
                        CmpOp::Ne => Ok(true),
                        _ => rich_compare(op, &u, &v),
                    };
                }
            }
            Ok(op.holds(Some(x.len().cmp(&y.len()))))
        }
        (Obj::Dict(x), Obj::Dict(y)) if equality => {
            let mut equal = x.len() == y.len();
            if equal {
                for (k, u) in x.iter() {
                    let same = match y.get(k) {
                        Some(v) => rich_compare(CmpOp::Eq, &Obj::of(u), &Obj::of(v))?,
                        None => false,
                    };
                    if !same {
                        equal = false;
                        break;
                    }
                }
            }
            Ok(equal == (op == CmpOp::Eq))
        }
        (Obj::None, Obj::None) if equality => Ok(op == CmpOp::Eq),
        _ if equality => Ok(op == CmpOp::Ne),
        _ => Err(unorderable(op, a, b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coercion_and_comparison() {
        assert!(check(CmpOp::Eq, &json!("42"), &json!(42)).unwrap());
        assert!(check(CmpOp::Eq, &json!(4.7), &json!(4)).unwrap());
        assert!(check(CmpOp::Eq, &json!("1"), &json!(true)).unwrap());
        assert!(!check(CmpOp::Eq, &json!(42), &json!("42")).unwrap());
        assert!(check(CmpOp::Ge, &json!(" 1e3 "), &json!(999.5)).unwrap());
        assert!(
            check(
                CmpOp::Gt,
                &json!("123456789012345678901234567890"),
                &json!(5)
            )
            .unwrap()
        );
        let e = check(CmpOp::Eq, &json!("x86_64"), &json!(1)).unwrap_err();
        assert_eq!(e.class, "ValueError");
        assert_eq!(
            e.message,
            "invalid literal for int() with base 10: 'x86_64'"
        );
        let e = check(CmpOp::Lt, &json!("a"), &json!(null)).unwrap_err();
        assert_eq!(
            e.message,
            "'<' not supported between instances of 'str' and 'NoneType'"
        );
        assert!(compare(CmpOp::Eq, &json!({"a": 1}), &json!({"a": 1.0})).unwrap());
        assert!(compare(CmpOp::Lt, &json!([1, "a"]), &json!([1, "b"])).unwrap());
        assert!(compare(CmpOp::Lt, &json!([1, "a"]), &json!([2, null])).unwrap());
        assert!(compare(CmpOp::Lt, &json!([1]), &json!(["a"])).is_err());
        assert!(check(CmpOp::Ne, &json!("nan"), &json!(1.0)).unwrap());
    }

    #[test]
    fn membership() {
        assert!(contains(&json!([1, "a"]), &json!(1.0)).unwrap());
        assert!(contains(&json!([1]), &json!(true)).unwrap());
        assert!(!contains(&json!([[1]]), &json!([1.5])).unwrap());
        assert!(contains(&json!("abc"), &json!("b")).unwrap());
        assert!(contains(&json!({"k": 1}), &json!("k")).unwrap());
        assert!(!contains(&json!({"1": 1}), &json!(1)).unwrap());
        let e = |c, i| contains(&c, &i).unwrap_err().message;
        assert_eq!(
            e(json!("abc"), json!(null)),
            "'in <string>' requires string as left operand, not NoneType"
        );
        assert_eq!(e(json!({}), json!([1])), "unhashable type: 'list'");
        assert_eq!(
            e(json!(4.5), json!("a")),
            "argument of type 'float' is not iterable"
        );
    }
}
