//! The format-spec mini-language (`format(value, spec)`) for str, int, bool and float,
//! following CPython 3.11's `formatter_unicode.c`.

use super::PyError;
use super::num::{FloatFlags, double_to_string};
use super::uni;

/// Widths and float precisions beyond this are refused: Python would build strings of
/// that size (or fail with MemoryError), which no rule legitimately needs.
pub(crate) const MAX_RENDERED: i64 = 1_000_000;

/// Why a value could not be rendered with a spec.
#[derive(Debug)]
pub(crate) enum SpecError {
    /// Python raises this exception.
    Py(PyError),
    /// Python would succeed, but the result cannot or will not be produced here.
    Unsupported(String),
}

impl From<PyError> for SpecError {
    fn from(e: PyError) -> Self {
        SpecError::Py(e)
    }
}

fn value_error(message: impl Into<String>) -> SpecError {
    SpecError::Py(PyError::new("ValueError", message))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Separators {
    None,
    Comma,
    Underscore,
    UnderscoreFour,
}

#[derive(Debug)]
struct Spec {
    fill: char,
    align: char,
    sign: Option<char>,
    no_neg_0: bool,
    alternate: bool,
    width: i64,
    separators: Separators,
    precision: i64,
    ty: char,
}

fn code_text(c: char) -> String {
    if (c as u32) > 32 && (c as u32) < 128 {
        c.to_string()
    } else {
        format!("\\x{:x}", c as u32)
    }
}

/// Reads decimal digits (any Unicode decimal) at `pos`; returns how many were read.
fn read_integer(spec: &[char], pos: &mut usize, value: &mut i64) -> Result<usize, SpecError> {
    let mut acc: i64 = 0;
    let mut count = 0;
    while let Some(d) = spec.get(*pos).and_then(|&c| uni::decimal_value(c)) {
        let d = d as i64;
        if acc > (i64::MAX - d) / 10 {
            return Err(value_error("Too many decimal digits in format string"));
        }
        acc = acc * 10 + d;
        *pos += 1;
        count += 1;
    }
    *value = acc;
    Ok(count)
}

fn parse_spec(
    spec: &[char],
    default_type: char,
    default_align: char,
    type_name: &str,
) -> Result<Spec, SpecError> {
    let is_align = |c: Option<&char>| matches!(c, Some('<' | '>' | '=' | '^'));
    let mut s = Spec {
        fill: ' ',
        align: default_align,
        sign: None,
        no_neg_0: false,
        alternate: false,
        width: -1,
        separators: Separators::None,
        precision: -1,
        ty: default_type,
    };
    let mut pos = 0;
    let mut fill_given = false;
    let mut align_given = false;
    if spec.len() >= 2 && is_align(spec.get(1)) {
        s.align = spec[1];
        s.fill = spec[0];
        fill_given = true;
        align_given = true;
        pos = 2;
    } else if is_align(spec.first()) {
        s.align = spec[0];
        align_given = true;
        pos = 1;
    }
    if let Some(&c @ ('+' | '-' | ' ')) = spec.get(pos) {
        s.sign = Some(c);
        pos += 1;
    }
    if spec.get(pos) == Some(&'z') {
        s.no_neg_0 = true;
        pos += 1;
    }
    if spec.get(pos) == Some(&'#') {
        s.alternate = true;
        pos += 1;
    }
    if !fill_given && spec.get(pos) == Some(&'0') {
        s.fill = '0';
        if !align_given && default_align == '>' {
            s.align = '=';
        }
        pos += 1;
    }
    let mut width = 0;
    if read_integer(spec, &mut pos, &mut width)? > 0 {
        s.width = width;
    }
    if spec.get(pos) == Some(&',') {
        s.separators = Separators::Comma;
        pos += 1;
    }
    if spec.get(pos) == Some(&'_') {
        if s.separators != Separators::None {
            return Err(value_error("Cannot specify both ',' and '_'."));
        }
        s.separators = Separators::Underscore;
        pos += 1;
    }
    if spec.get(pos) == Some(&',') && s.separators == Separators::Underscore {
        return Err(value_error("Cannot specify both ',' and '_'."));
    }
    if spec.get(pos) == Some(&'.') {
        pos += 1;
        let mut precision = 0;
        if read_integer(spec, &mut pos, &mut precision)? == 0 {
            return Err(value_error("Format specifier missing precision"));
        }
        s.precision = precision;
    }
    match spec.len() - pos {
        0 => {}
        1 => s.ty = spec[pos],
        _ => {
            let text: String = spec.iter().collect();
            return Err(value_error(format!(
                "Invalid format specifier '{text}' for object of type '{type_name}'"
            )));
        }
    }
    if s.separators != Separators::None {
        match s.ty {
            'd' | 'e' | 'f' | 'g' | 'E' | 'G' | '%' | 'F' | '\0' => {}
            'b' | 'o' | 'x' | 'X' if s.separators == Separators::Underscore => {
                s.separators = Separators::UnderscoreFour;
            }
            ty => {
                let sep = if s.separators == Separators::Comma {
                    ','
                } else {
                    '_'
                };
                return Err(value_error(format!(
                    "Cannot specify '{sep}' with '{}'.",
                    code_text(ty)
                )));
            }
        }
    }
    Ok(s)
}

fn unknown_code(ty: char, type_name: &str) -> SpecError {
    value_error(format!(
        "Unknown format code '{}' for object of type '{type_name}'",
        code_text(ty)
    ))
}

fn check_width(spec: &Spec) -> Result<(), SpecError> {
    if spec.width > MAX_RENDERED {
        return Err(SpecError::Unsupported(format!(
            "format width {} is larger than the supported {MAX_RENDERED}",
            spec.width
        )));
    }
    Ok(())
}

fn pad(out: &mut String, fill: char, n: i64) {
    out.extend(std::iter::repeat_n(fill, n.max(0) as usize));
}

/// `format(s, spec)` for a str.
pub(crate) fn format_str(s: &str, spec: &[char]) -> Result<String, SpecError> {
    if spec.is_empty() {
        return Ok(s.to_string());
    }
    let spec = parse_spec(spec, 's', '<', "str")?;
    if spec.ty != 's' {
        return Err(unknown_code(spec.ty, "str"));
    }
    match spec.sign {
        Some(' ') => return Err(value_error("Space not allowed in string format specifier")),
        Some(_) => return Err(value_error("Sign not allowed in string format specifier")),
        None => {}
    }
    if spec.no_neg_0 {
        return Err(value_error(
            "Negative zero coercion (z) not allowed in string format specifier",
        ));
    }
    if spec.alternate {
        return Err(value_error(
            "Alternate form (#) not allowed in string format specifier",
        ));
    }
    if spec.align == '=' {
        return Err(value_error(
            "'=' alignment not allowed in string format specifier",
        ));
    }
    let mut len = s.chars().count() as i64;
    if spec.precision >= 0 && len >= spec.precision {
        len = spec.precision;
    }
    check_width(&spec)?;
    let total = spec.width.max(len);
    let lpad = match spec.align {
        '>' => total - len,
        '^' => (total - len) / 2,
        _ => 0,
    };
    let mut out = String::new();
    pad(&mut out, spec.fill, lpad);
    out.extend(s.chars().take(len as usize));
    pad(&mut out, spec.fill, total - len - lpad);
    Ok(out)
}

/// `format(n, spec)` for an int (`type_name` "int") or a bool ("bool", value 0 or 1).
pub(crate) fn format_int(n: i128, type_name: &str, spec: &[char]) -> Result<String, SpecError> {
    let spec = parse_spec(spec, 'd', '>', type_name)?;
    match spec.ty {
        'b' | 'c' | 'd' | 'o' | 'x' | 'X' | 'n' => format_long(n, &spec),
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' => format_float_spec(n as f64, &spec),
        ty => Err(unknown_code(ty, type_name)),
    }
}

fn format_long(n: i128, spec: &Spec) -> Result<String, SpecError> {
    if spec.precision != -1 {
        return Err(value_error(
            "Precision not allowed in integer format specifier",
        ));
    }
    if spec.no_neg_0 {
        return Err(value_error(
            "Negative zero coercion (z) not allowed in integer format specifier",
        ));
    }
    check_width(spec)?;
    if spec.ty == 'c' {
        if spec.sign.is_some() {
            return Err(value_error(
                "Sign not allowed with integer format specifier 'c'",
            ));
        }
        if spec.alternate {
            return Err(value_error(
                "Alternate form (#) not allowed with integer format specifier 'c'",
            ));
        }
        if i64::try_from(n).is_err() {
            return Err(SpecError::Py(PyError::new(
                "OverflowError",
                "Python int too large to convert to C long",
            )));
        }
        if !(0..=0x10ffff).contains(&n) {
            return Err(SpecError::Py(PyError::new(
                "OverflowError",
                "%c arg not in range(0x110000)",
            )));
        }
        let c = char::from_u32(n as u32)
            .ok_or_else(|| SpecError::Unsupported(format!("'c' of the lone surrogate {n:#x}")))?;
        // CPython treats the character as non-digit "remainder" text.
        return Ok(render_number(
            false,
            "",
            "",
            false,
            &c.to_string(),
            spec,
            None,
            false,
        ));
    }
    let magnitude = n.unsigned_abs();
    let (digits, prefix) = match spec.ty {
        'b' => (format!("{magnitude:b}"), "0b"),
        'o' => (format!("{magnitude:o}"), "0o"),
        'x' | 'X' => (format!("{magnitude:x}"), "0x"),
        _ => (magnitude.to_string(), ""),
    };
    let prefix = if spec.alternate { prefix } else { "" };
    let grouping = match (spec.ty, spec.separators) {
        ('n', _) | (_, Separators::None) => None,
        (_, Separators::Comma) => Some((3, ",")),
        (_, Separators::Underscore) => Some((3, "_")),
        (_, Separators::UnderscoreFour) => Some((4, "_")),
    };
    Ok(render_number(
        n < 0,
        prefix,
        &digits,
        false,
        "",
        spec,
        grouping,
        spec.ty == 'X',
    ))
}

/// `format(x, spec)` for a float.
pub(crate) fn format_float(x: f64, spec: &[char]) -> Result<String, SpecError> {
    if spec.is_empty() {
        return Ok(super::num::float_repr(x));
    }
    let spec = parse_spec(spec, '\0', '>', "float")?;
    match spec.ty {
        '\0' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%' => format_float_spec(x, &spec),
        ty => Err(unknown_code(ty, "float")),
    }
}

fn format_float_spec(x: f64, spec: &Spec) -> Result<String, SpecError> {
    if spec.precision > i32::MAX as i64 {
        return Err(value_error("precision too big"));
    }
    // Only fixed and exponent notations (and '#' general notation) print every digit.
    let prints_all_digits = matches!(spec.ty, 'e' | 'E' | 'f' | 'F' | '%') || spec.alternate;
    if spec.precision > MAX_RENDERED && prints_all_digits {
        return Err(SpecError::Unsupported(format!(
            "float precision {} is larger than the supported {MAX_RENDERED}",
            spec.precision
        )));
    }
    check_width(spec)?;
    let mut flags = FloatFlags {
        alt: spec.alternate,
        no_neg_0: spec.no_neg_0,
        ..FloatFlags::default()
    };
    let mut ty = spec.ty;
    let mut default_precision = 6;
    if ty == '\0' {
        flags.add_dot_0 = true;
        ty = 'r';
        default_precision = 0;
    }
    if ty == 'n' {
        ty = 'g';
    }
    let mut value = x;
    let mut percent = false;
    if ty == '%' {
        ty = 'f';
        value *= 100.0;
        percent = true;
    }
    let precision = if spec.precision < 0 {
        default_precision
    } else {
        if ty == 'r' {
            ty = 'g';
        }
        spec.precision as usize
    };
    let mut text = double_to_string(value, ty, precision, flags);
    if percent {
        text.push('%');
    }
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let int_len = body.bytes().take_while(u8::is_ascii_digit).count();
    let (digits, rest) = body.split_at(int_len);
    let (has_decimal, remainder) = match rest.strip_prefix('.') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let grouping = match (spec.ty, spec.separators) {
        ('n', _) | (_, Separators::None) => None,
        (_, Separators::Comma) => Some((3, ",")),
        _ => Some((3, "_")),
    };
    Ok(render_number(
        negative,
        "",
        digits,
        has_decimal,
        remainder,
        spec,
        grouping,
        false,
    ))
}

/// CPython's `calc_number_widths` + `fill_number`:
/// `[lpad][sign][prefix][spad][grouped digits][.][remainder][rpad]`.
#[allow(clippy::too_many_arguments)]
fn render_number(
    negative: bool,
    prefix: &str,
    digits: &str,
    has_decimal: bool,
    remainder: &str,
    spec: &Spec,
    grouping: Option<(i64, &str)>,
    upper: bool,
) -> String {
    let sign = match (spec.sign, negative) {
        (_, true) => Some('-'),
        (Some('+'), false) => Some('+'),
        (Some(' '), false) => Some(' '),
        _ => None,
    };
    let non_digit = sign.is_some() as i64
        + prefix.len() as i64
        + has_decimal as i64
        + remainder.chars().count() as i64;
    let min_width = if spec.fill == '0' && spec.align == '=' {
        spec.width - non_digit
    } else {
        0
    };
    let grouped = if digits.is_empty() {
        String::new()
    } else {
        insert_grouping(digits, min_width, grouping)
    };
    let padding = spec.width - (non_digit + grouped.chars().count() as i64);
    let (mut lpad, mut spad, mut rpad) = (0, 0, 0);
    if padding > 0 {
        match spec.align {
            '<' => rpad = padding,
            '^' => {
                lpad = padding / 2;
                rpad = padding - lpad;
            }
            '=' => spad = padding,
            _ => lpad = padding,
        }
    }
    let mut out = String::new();
    pad(&mut out, spec.fill, lpad);
    out.extend(sign);
    let case = |s: &str| {
        if upper {
            s.to_ascii_uppercase()
        } else {
            s.to_string()
        }
    };
    out.push_str(&case(prefix));
    pad(&mut out, spec.fill, spad);
    out.push_str(&case(&grouped));
    if has_decimal {
        out.push('.');
    }
    out.push_str(remainder);
    pad(&mut out, spec.fill, rpad);
    out
}

/// CPython's `_PyUnicode_InsertThousandsGrouping`, including its zero padding up to
/// `min_width` (for `0`-filled `=` alignment).
fn insert_grouping(digits: &str, min_width: i64, grouping: Option<(i64, &str)>) -> String {
    let digits = digits.as_bytes();
    let mut min_width = min_width.max(0);
    let mut remaining = digits.len() as i64;
    let mut groups: Vec<String> = Vec::new();
    let take = |remaining: i64, len: i64| {
        let zeros = (len - remaining).max(0) as usize;
        let chars = remaining.min(len).max(0) as usize;
        let end = remaining as usize;
        let mut g = "0".repeat(zeros);
        g.push_str(std::str::from_utf8(&digits[end - chars..end]).unwrap_or(""));
        (g, chars as i64)
    };
    let mut finished = false;
    if let Some((size, sep)) = grouping {
        loop {
            let len = size.min(remaining.max(min_width).max(1));
            let (g, used) = take(remaining, len);
            groups.push(g);
            remaining -= used;
            min_width -= len;
            if remaining <= 0 && min_width <= 0 {
                finished = true;
                break;
            }
            min_width -= sep.len() as i64;
        }
    }
    if !finished {
        let len = remaining.max(min_width).max(1);
        groups.push(take(remaining, len).0);
    }
    groups.reverse();
    groups.join(grouping.map_or("", |(_, sep)| sep))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(
            format_int(1234, "int", &spec("010,")).unwrap(),
            "00,001,234"
        );
        assert_eq!(
            format_int(-255, "int", &spec("#010x")).unwrap(),
            "-0x00000ff"
        );
        assert_eq!(format_int(255, "int", &spec("#_X")).unwrap(), "0XFF");
        assert_eq!(format_float(1234.5, &spec("010,")).unwrap(), "0,001,234.5");
        assert_eq!(format_float(100.0, &spec(".3")).unwrap(), "1e+02");
        assert_eq!(format_float(-0.0001, &spec("z.2f")).unwrap(), "0.00");
        assert_eq!(format_int(1, "bool", &spec(">5")).unwrap(), "    1");
    }

    #[test]
    fn strings() {
        assert_eq!(format_str("ab", &spec("05")).unwrap(), "ab000");
        assert_eq!(format_str("abc", &spec("^6")).unwrap(), " abc  ");
        assert_eq!(format_str("abc", &spec("10.1")).unwrap(), "a         ");
        assert!(matches!(
            format_str("a", &spec("=5")),
            Err(SpecError::Py(_))
        ));
    }
}
