//! The few Python built-in behaviours root device hint matching depends on:
//! `str()`/`repr()` of JSON-decoded values, `str.isspace/strip/lower`,
//! `urllib.parse.quote`, `float()`/`int()` of strings, `str.expandtabs`.

use serde_json::Value;

/// Python `str.isspace()` for one character (Rust's `is_whitespace` plus the
/// ASCII information separators U+001C..U+001F).
pub(super) fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python `str.strip()`.
pub(super) fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python type name of a JSON-decoded value, as used in exception messages.
pub(super) fn type_name(value: &Value) -> &'static str {
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

/// Python truthiness of a JSON-decoded value.
pub(super) fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python `str(value)` of a JSON-decoded value.
pub(super) fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// Python `repr(value)` of a JSON-decoded value (objects in map order).
pub(super) fn py_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => float_repr(f),
            (None, None, None) => n.to_string(),
        },
        Value::String(s) => str_repr(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", str_repr(k), py_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// Python `repr(float)`: shortest round-trip digits, scientific notation
/// outside `1e-4 <= |x| < 1e16`.
pub(super) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // `{:e}` gives the shortest round-trip digits, e.g. "-1.5e-5".
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1; // digits before the decimal point
        let body = if point <= 0 {
            let zeros = usize::try_from(-point).unwrap_or(0);
            format!("0.{}{}", "0".repeat(zeros), digits)
        } else {
            let point = usize::try_from(point).unwrap_or(0);
            if digits.len() <= point {
                format!("{}{}.0", digits, "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{fraction}e{exp_sign}{:02}",
            exponent.unsigned_abs()
        )
    }
}

/// Python `repr(str)`. Non-ASCII characters are kept unless they are controls,
/// whitespace or common invisible format characters (an approximation of
/// `str.isprintable()`, which needs the full Unicode database).
pub(super) fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
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
            ' '..='~' => out.push(c),
            c if is_printable_non_ascii(c) => out.push(c),
            c => {
                let code = u32::from(c);
                if code < 0x100 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code < 0x10000 {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

fn is_printable_non_ascii(c: char) -> bool {
    let code = u32::from(c);
    !(c.is_ascii()
        || c.is_control()
        || c.is_whitespace()
        || code == 0xad
        || (0x600..=0x605).contains(&code)
        || code == 0x61c
        || code == 0x6dd
        || code == 0x70f
        || code == 0x180e
        || (0x200b..=0x200f).contains(&code)
        || (0x202a..=0x202e).contains(&code)
        || (0x2060..=0x206f).contains(&code)
        || code == 0xfeff
        || (0xfff9..=0xfffb).contains(&code)
        || (0xe000..=0xf8ff).contains(&code)
        || code >= 0xf0000
        || (code & 0xfffe) == 0xfffe)
}

/// `urllib.parse.quote(s)` with its default `safe='/'`.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Python `str.expandtabs()` (tab size 8; columns restart after `\n`/`\r`).
pub(super) fn expand_tabs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut column = 0usize;
    for c in s.chars() {
        match c {
            '\t' => {
                let spaces = 8 - column % 8;
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            _ => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

/// First code point of every run of ten Unicode decimal digits (category Nd,
/// Unicode 14 as in Python 3.11); `int()`/`float()` accept all of them.
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66,
    0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90,
    0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
    0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
    0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50,
    0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

fn decimal_value(c: char) -> Option<u8> {
    let code = u32::from(c);
    let index = DECIMAL_ZEROS.partition_point(|&zero| zero <= code);
    let zero = DECIMAL_ZEROS.get(index.checked_sub(1)?)?;
    u8::try_from(code - zero).ok().filter(|d| *d < 10)
}

/// Digits with single underscores between them, converted to ASCII.
fn digit_part(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut previous_underscore = true; // forbids a leading underscore
    for c in s.chars() {
        if c == '_' {
            if previous_underscore {
                return None;
            }
            previous_underscore = true;
        } else {
            out.push(char::from(b'0' + decimal_value(c)?));
            previous_underscore = false;
        }
    }
    (!out.is_empty() && !previous_underscore).then_some(out)
}

fn split_sign(s: &str) -> (&str, &str) {
    match s.chars().next() {
        Some(c @ ('+' | '-')) => s.split_at(c.len_utf8()),
        _ => ("", s),
    }
}

/// Python `float(s)` for a string; `None` where Python raises `ValueError`.
pub(super) fn parse_float(s: &str) -> Option<f64> {
    let (sign, body) = split_sign(strip(s));
    let negative = sign == "-";
    let lower = body.to_ascii_lowercase();
    let special = match lower.as_str() {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    if let Some(value) = special {
        return Some(if negative { -value } else { value });
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (integer, fraction) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let integer = if integer.is_empty() {
        String::new()
    } else {
        digit_part(integer)?
    };
    let fraction = match fraction {
        Some("") | None => String::new(),
        Some(f) => digit_part(f)?,
    };
    if integer.is_empty() && fraction.is_empty() {
        return None;
    }
    let exponent = match exponent {
        Some(e) => {
            let (esign, edigits) = split_sign(e);
            format!("e{esign}{}", digit_part(edigits)?)
        }
        None => String::new(),
    };
    let integer = if integer.is_empty() { "0" } else { &integer };
    let fraction = if fraction.is_empty() { "0" } else { &fraction };
    format!("{sign}{integer}.{fraction}{exponent}").parse().ok()
}

/// Python `int(s)` for a string, reduced to what callers need: `None` where
/// Python raises `ValueError`, otherwise whether the integer is positive.
pub(super) fn parse_int_is_positive(s: &str) -> Option<bool> {
    let (sign, body) = split_sign(strip(s));
    let digits = digit_part(body)?;
    let nonzero = digits.bytes().any(|b| b != b'0');
    Some(nonzero && sign != "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (20.0, "20.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (123456789.125, "123456789.125"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (1e300, "1e+300"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want);
        }
    }

    #[test]
    fn str_and_repr_of_containers() {
        assert_eq!(
            py_str(&json!([1, "a", null, true, 2.0, {"k": "it's"}])),
            "[1, 'a', None, True, 2.0, {'k': \"it's\"}]"
        );
        assert_eq!(str_repr("a\u{b}\u{a0}é\\"), "'a\\x0b\\xa0é\\\\'");
    }

    #[test]
    fn float_and_int_parsing() {
        assert_eq!(parse_float(" 1_000.5 "), Some(1000.5));
        assert_eq!(parse_float("5."), Some(5.0));
        assert_eq!(parse_float(".5e1"), Some(5.0));
        assert_eq!(parse_float("-InFinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("\u{664}\u{662}"), Some(42.0));
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float("1__0"), None);
        assert_eq!(parse_float("1e"), None);
        assert_eq!(parse_float("0x10"), None);
        assert_eq!(parse_int_is_positive("+020"), Some(true));
        assert_eq!(parse_int_is_positive("-0"), Some(false));
        assert_eq!(parse_int_is_positive("2_0"), Some(true));
        assert_eq!(parse_int_is_positive("20.0"), None);
    }

    #[test]
    fn quoting_and_tabs() {
        assert_eq!(quote("big disk/é~"), "big%20disk/%C3%A9~");
        assert_eq!(expand_tabs("<=\t\t="), format!("<={}=", " ".repeat(14)));
    }
}
