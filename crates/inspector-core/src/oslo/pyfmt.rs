//! The few Python string, number and formatting rules that oslo.config's
//! behaviour (and its error messages) depends on.

/// Python's `str.isspace()`: Unicode whitespace plus the ASCII separators
/// 0x1C-0x1F, which Rust does not count as whitespace.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` without arguments.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.rstrip()` without arguments.
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// Python's `str.lstrip()` without arguments.
pub fn lstrip(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

/// Python's `repr()` of a `str`.
pub fn repr_str(s: &str) -> String {
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
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code <= 0xffff {
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

/// An approximation of Python's `str.isprintable()` good enough for
/// configuration text: control, separator (other than space) and format
/// characters are not printable.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || is_space(c) {
        return false;
    }
    !matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e000}'..='\u{f8ff}'
    )
}

/// Python's `repr()` of a `float` (the shortest round-tripping form).
pub fn repr_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // `{:e}` gives the shortest round-tripping digits, e.g. "-1.25e-7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), digits)
        } else {
            let point = point as usize;
            if digits.len() <= point {
                format!("{}{}.0", digits, "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{frac}e{exp_sign}{:02}", exp.abs())
    }
}

/// Python's `format(n, 'g')` for an integer: six significant digits,
/// scientific notation from 1e6 on, trailing zeros removed.
pub fn format_g(n: i64) -> String {
    let negative = n < 0;
    let magnitude = n.unsigned_abs();
    let digits = magnitude.to_string();
    let exp = digits.len() - 1;
    let sign = if negative { "-" } else { "" };
    if exp < 6 {
        return format!("{sign}{digits}");
    }
    // Round to six significant digits, half to even, as Python does on the
    // exact decimal value.
    let head: u64 = digits[..6].parse().unwrap_or(0);
    let tail = &digits[6..];
    let first_dropped = tail.as_bytes()[0] - b'0';
    let rest_nonzero = tail[1..].bytes().any(|b| b != b'0');
    let round_up = first_dropped > 5 || (first_dropped == 5 && (rest_nonzero || head % 2 == 1));
    let (mut head, mut exp) = (head + u64::from(round_up), exp);
    if head == 1_000_000 {
        head = 100_000;
        exp += 1;
    }
    let head = head.to_string();
    let (first, rest) = head.split_at(1);
    let rest = rest.trim_end_matches('0');
    let frac = if rest.is_empty() {
        String::new()
    } else {
        format!(".{rest}")
    };
    format!("{sign}{first}{frac}e+{exp:02}")
}

/// Result of parsing a Python integer literal: the value saturated to i128,
/// which is exact for anything a configuration can reasonably hold.
fn parse_digits(body: &str, radix: u32) -> Option<i128> {
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let mut value: i128 = 0;
    for c in body.chars() {
        if c == '_' {
            continue;
        }
        let digit = c.to_digit(radix)?;
        value = value
            .saturating_mul(i128::from(radix))
            .saturating_add(i128::from(digit));
    }
    Some(value)
}

/// Python's `int(s)` (base 10) for a string; `None` when Python raises.
pub fn parse_int(s: &str) -> Option<i128> {
    let body = strip(s);
    let (negative, body) = split_sign(body);
    parse_digits(body, 10).map(|v| if negative { -v } else { v })
}

/// Python's `int(s, 8)` for a string; `None` when Python raises.
pub fn parse_octal(s: &str) -> Option<i128> {
    let body = strip(s);
    let (negative, body) = split_sign(body);
    let body = match body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        // A single underscore may follow the prefix: `0o_17`.
        Some(rest) => rest.strip_prefix('_').unwrap_or(rest),
        None => body,
    };
    parse_digits(body, 8).map(|v| if negative { -v } else { v })
}

fn split_sign(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else {
        (false, s.strip_prefix('+').unwrap_or(s))
    }
}

/// Python's `float(s)` for a string; `None` when Python raises.
pub fn parse_float(s: &str) -> Option<f64> {
    let body = strip(s);
    if body.is_empty() {
        return None;
    }
    // Underscores are only allowed between two digits.
    let bytes = body.as_bytes();
    let mut cleaned = String::with_capacity(body.len());
    for (i, c) in body.char_indices() {
        if c == '_' {
            let before = i > 0 && bytes[i - 1].is_ascii_digit();
            let after = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !(before && after) {
                return None;
            }
            continue;
        }
        cleaned.push(c);
    }
    let unsigned = cleaned.strip_prefix(['+', '-']).unwrap_or(&cleaned);
    let lower = unsigned.to_ascii_lowercase();
    let named = matches!(lower.as_str(), "inf" | "infinity" | "nan");
    // Rust accepts a few spellings Python does not ("infinity" is shared,
    // but e.g. "1e" is rejected by both); only digits, '.', 'e' and signs
    // may appear in a numeric literal.
    if !named
        && !unsigned
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    cleaned.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        assert_eq!(repr_str("abc"), "'abc'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(repr_str("a\tb\nc\\"), "'a\\tb\\nc\\\\'");
        assert_eq!(repr_str("\u{1}\u{a0}é"), "'\\x01\\xa0é'");
    }

    #[test]
    fn float_repr_matches_python() {
        assert_eq!(repr_float(60.0), "60.0");
        assert_eq!(repr_float(0.5), "0.5");
        assert_eq!(repr_float(1e16), "1e+16");
        assert_eq!(repr_float(123456789012345.0), "123456789012345.0");
        assert_eq!(repr_float(0.0001), "0.0001");
        assert_eq!(repr_float(0.00001), "1e-05");
        assert_eq!(repr_float(-2.5e-7), "-2.5e-07");
        assert_eq!(repr_float(1.5e300), "1.5e+300");
    }

    #[test]
    fn format_g_matches_python() {
        assert_eq!(format_g(0), "0");
        assert_eq!(format_g(1), "1");
        assert_eq!(format_g(-1), "-1");
        assert_eq!(format_g(65535), "65535");
        assert_eq!(format_g(999_999), "999999");
        assert_eq!(format_g(1_000_000), "1e+06");
        assert_eq!(format_g(315_576_000), "3.15576e+08");
        assert_eq!(format_g(1_234_565), "1.23456e+06");
        assert_eq!(format_g(1_234_575), "1.23458e+06");
        assert_eq!(format_g(9_999_999), "1e+07");
    }

    #[test]
    fn int_parsing_matches_python() {
        assert_eq!(parse_int(" 42 "), Some(42));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("-0"), Some(0));
        assert_eq!(parse_int("007"), Some(7));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("1__0"), None);
        assert_eq!(parse_int("_1"), None);
        assert_eq!(parse_int("1.0"), None);
        assert_eq!(parse_int("0x10"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("- 1"), None);
        assert_eq!(parse_octal("755"), Some(0o755));
        assert_eq!(parse_octal("0o755"), Some(0o755));
        assert_eq!(parse_octal("0o_7"), Some(7));
        assert_eq!(parse_octal("8"), None);
    }

    #[test]
    fn float_parsing_matches_python() {
        assert_eq!(parse_float(" 1.5 "), Some(1.5));
        assert_eq!(parse_float("1_0.5"), Some(10.5));
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float("5."), Some(5.0));
        assert_eq!(parse_float("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_float("nan").is_some_and(f64::is_nan));
        assert_eq!(parse_float("1_"), None);
        assert_eq!(parse_float("abc"), None);
        assert_eq!(parse_float(""), None);
        assert_eq!(parse_float("0x1p3"), None);
    }
}
