//! Python numbers: arbitrary-size `int`, `int()`/`float()` of strings, and float
//! rendering as `PyOS_double_to_string` does it.

use super::PyError;
use super::uni;
use super::value::repr_str;
use std::cmp::Ordering;

/// CPython 3.11's default `sys.get_int_max_str_digits()`.
const INT_MAX_STR_DIGITS: usize = 4300;

/// A Python `int` of any size (what `int("123…")` or `int(1e300)` produce).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyInt {
    negative: bool,
    /// Little-endian base-2^32 limbs without high zero limbs; zero is empty.
    magnitude: Vec<u32>,
}

impl PyInt {
    /// The integer `v`.
    pub fn from_i128(v: i128) -> Self {
        let mut magnitude = Vec::new();
        let mut m = v.unsigned_abs();
        while m != 0 {
            magnitude.push(m as u32);
            m >>= 32;
        }
        PyInt {
            negative: v < 0,
            magnitude,
        }
    }

    /// `int(x)` of a finite float: truncation toward zero. `None` for inf/nan.
    pub fn from_f64_trunc(x: f64) -> Option<Self> {
        if !x.is_finite() {
            return None;
        }
        let t = x.trunc();
        if t.abs() < 1e38 {
            return Some(PyInt::from_i128(t as i128));
        }
        // Large floats are integers already: mantissa * 2^exponent, exactly.
        let bits = t.abs().to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i64 - 1075;
        let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
        let mut n = PyInt::from_i128(mantissa as i128);
        n.shift_left(exponent as usize);
        n.negative = x < 0.0;
        Some(n)
    }

    fn shift_left(&mut self, bits: usize) {
        let (limbs, rest) = (bits / 32, bits % 32);
        let mut out = vec![0u32; limbs];
        let mut carry = 0u32;
        for &l in &self.magnitude {
            if rest == 0 {
                out.push(l);
            } else {
                out.push((l << rest) | carry);
                carry = l >> (32 - rest);
            }
        }
        if carry != 0 {
            out.push(carry);
        }
        self.magnitude = out;
        self.trim();
    }

    fn trim(&mut self) {
        while self.magnitude.last() == Some(&0) {
            self.magnitude.pop();
        }
        if self.magnitude.is_empty() {
            self.negative = false;
        }
    }

    fn from_decimal_digits(negative: bool, digits: impl Iterator<Item = u8>) -> Self {
        let mut magnitude: Vec<u32> = Vec::new();
        for d in digits {
            let mut carry = d as u64;
            for limb in magnitude.iter_mut() {
                let v = *limb as u64 * 10 + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                magnitude.push(carry as u32);
            }
        }
        let mut n = PyInt {
            negative,
            magnitude,
        };
        n.trim();
        n
    }

    /// The value as an `i64` when it fits.
    pub fn to_i64(&self) -> Option<i64> {
        let m = self.small_magnitude()?;
        if self.negative {
            0i64.checked_sub_unsigned(m)
        } else {
            i64::try_from(m).ok()
        }
    }

    /// The value as a JSON number when it fits in 64 bits.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        self.to_i64()
            .map(serde_json::Value::from)
            .or_else(|| self.to_u64().map(serde_json::Value::from))
    }

    /// The value as a `u64` when it fits.
    pub fn to_u64(&self) -> Option<u64> {
        if self.negative {
            return None;
        }
        self.small_magnitude()
    }

    fn small_magnitude(&self) -> Option<u64> {
        match self.magnitude.as_slice() {
            [] => Some(0),
            [a] => Some(*a as u64),
            [a, b] => Some(*a as u64 | (*b as u64) << 32),
            _ => None,
        }
    }

    fn cmp_magnitude(&self, other: &PyInt) -> Ordering {
        self.magnitude
            .len()
            .cmp(&other.magnitude.len())
            .then_with(|| {
                self.magnitude
                    .iter()
                    .rev()
                    .cmp(other.magnitude.iter().rev())
            })
    }

    /// Exact comparison with a float; `None` when `x` is NaN (every comparison is false).
    pub fn cmp_f64(&self, x: f64) -> Option<Ordering> {
        if x.is_nan() {
            return None;
        }
        if x.is_infinite() {
            return Some(if x > 0.0 {
                Ordering::Less
            } else {
                Ordering::Greater
            });
        }
        let t = PyInt::from_f64_trunc(x)?;
        Some(self.cmp(&t).then_with(|| {
            // Equal to the integer part: the fraction decides.
            let frac = x - x.trunc();
            if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }))
    }
}

impl std::fmt::Display for PyInt {
    /// Decimal, as Python's `str(int)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut limbs = self.magnitude.clone();
        let mut chunks = Vec::new();
        while !limbs.is_empty() {
            let mut rem = 0u64;
            for limb in limbs.iter_mut().rev() {
                let v = (rem << 32) | *limb as u64;
                *limb = (v / 1_000_000_000) as u32;
                rem = v % 1_000_000_000;
            }
            chunks.push(rem);
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
        }
        if self.negative {
            f.write_str("-")?;
        }
        match chunks.split_last() {
            None => f.write_str("0"),
            Some((first, rest)) => {
                write!(f, "{first}")?;
                rest.iter().rev().try_for_each(|c| write!(f, "{c:09}"))
            }
        }
    }
}

impl Ord for PyInt {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for PyInt {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What CPython's number parsers see of a str: ASCII kept, other whitespace as a space,
/// other decimal digits as their ASCII digit, anything else invalid (`None`).
fn to_ascii_number_text(s: &str) -> Vec<Option<u8>> {
    s.chars()
        .map(|c| {
            if c.is_ascii() {
                // NUL ends the C string the parser reads: never part of a number.
                (c != '\0').then_some(c as u8)
            } else if uni::is_space(c) {
                Some(b' ')
            } else {
                uni::decimal_value(c).map(|d| b'0' + d as u8)
            }
        })
        .collect()
}

/// Python `int(s)` for a str (base 10).
pub fn int_from_str(s: &str) -> Result<PyInt, PyError> {
    let invalid = || {
        let mut r = String::new();
        repr_str(s, &mut r);
        // CPython formats the repr with "%.200R": at most 200 characters.
        let r: String = r.chars().take(200).collect();
        PyError::new(
            "ValueError",
            format!("invalid literal for int() with base 10: {r}"),
        )
    };
    let text = to_ascii_number_text(s);
    let mut i = 0;
    while matches!(text.get(i), Some(Some(b)) if uni::is_ascii_space(*b)) {
        i += 1;
    }
    let mut negative = false;
    match text.get(i) {
        Some(Some(b'+')) => i += 1,
        Some(Some(b'-')) => {
            negative = true;
            i += 1
        }
        _ => {}
    }
    if text.get(i) == Some(&Some(b'_')) {
        return Err(invalid());
    }
    let start = i;
    let mut digits = 0usize;
    let mut prev = 0u8;
    while let Some(Some(b)) = text.get(i) {
        if *b == b'_' {
            if prev == b'_' {
                return Err(invalid());
            }
        } else if b.is_ascii_digit() {
            digits += 1;
        } else {
            break;
        }
        prev = *b;
        i += 1;
    }
    if prev == b'_' {
        return Err(invalid());
    }
    if digits > INT_MAX_STR_DIGITS {
        return Err(PyError::new(
            "ValueError",
            format!(
                "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: \
                 value has {digits} digits; use sys.set_int_max_str_digits() to increase the limit"
            ),
        ));
    }
    let end = i;
    while matches!(text.get(i), Some(Some(b)) if uni::is_ascii_space(*b)) {
        i += 1;
    }
    if digits == 0 || i != text.len() {
        return Err(invalid());
    }
    let digit_values = text[start..end]
        .iter()
        .filter_map(|b| *b)
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0');
    Ok(PyInt::from_decimal_digits(negative, digit_values))
}

/// Python `float(s)` for a str.
pub fn float_from_str(s: &str) -> Result<f64, PyError> {
    let invalid = || {
        let mut r = String::new();
        repr_str(s, &mut r);
        PyError::new(
            "ValueError",
            format!("could not convert string to float: {r}"),
        )
    };
    let text = to_ascii_number_text(s);
    let mut bytes = Vec::with_capacity(text.len());
    let mut prev = 0u8;
    for b in &text {
        let b = b.ok_or_else(invalid)?;
        // Underscores only between digits, as in numeric literals.
        if b == b'_' {
            if !prev.is_ascii_digit() {
                return Err(invalid());
            }
        } else {
            if prev == b'_' && !b.is_ascii_digit() {
                return Err(invalid());
            }
            bytes.push(b);
        }
        prev = b;
    }
    if prev == b'_' {
        return Err(invalid());
    }
    let mut body: &[u8] = &bytes;
    while let [first, rest @ ..] = body {
        if !uni::is_ascii_space(*first) {
            break;
        }
        body = rest;
    }
    while let [rest @ .., last] = body {
        if !uni::is_ascii_space(*last) {
            break;
        }
        body = rest;
    }
    if !is_float_literal(body) {
        return Err(invalid());
    }
    let text = std::str::from_utf8(body).map_err(|_| invalid())?;
    text.parse::<f64>().map_err(|_| invalid())
}

/// `[+-]?(inf|infinity|nan|(digits[.digits]|.digits)([eE][+-]?digits)?)`, ASCII only.
fn is_float_literal(b: &[u8]) -> bool {
    let b = match b {
        [b'+' | b'-', rest @ ..] => rest,
        _ => b,
    };
    let lower: Vec<u8> = b.iter().map(u8::to_ascii_lowercase).collect();
    if matches!(lower.as_slice(), b"inf" | b"infinity" | b"nan") {
        return true;
    }
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let int_len = digits(b);
    let mut i = int_len;
    let mut frac_len = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_len = digits(&b[i..]);
        i += frac_len;
    }
    if int_len == 0 && frac_len == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_len = digits(&b[i..]);
        if exp_len == 0 {
            return false;
        }
        i += exp_len;
    }
    i == b.len()
}

/// Decimal digits of a float: `0.d1d2d3… × 10^decpt`, without trailing zeros ("0" for zero).
struct Digits {
    digits: Vec<u8>,
    decpt: i64,
}

impl Digits {
    fn zero() -> Self {
        Digits {
            digits: vec![b'0'],
            decpt: 1,
        }
    }

    /// From Rust's `{:e}` rendering of a non-negative float ("1.25e-7").
    fn from_exp_form(s: &str) -> Self {
        let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
        let exp: i64 = exp.parse().unwrap_or(0);
        let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        Digits::normalized(digits, exp + 1)
    }

    /// From Rust's `{:.N}` rendering of a non-negative float ("123.4500").
    fn from_fixed_form(s: &str) -> Self {
        let int_len = s.find('.').unwrap_or(s.len()) as i64;
        let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_digit).collect();
        Digits::normalized(digits, int_len)
    }

    fn normalized(mut digits: Vec<u8>, mut decpt: i64) -> Self {
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        if leading == digits.len() {
            return Digits::zero();
        }
        digits.drain(..leading);
        decpt -= leading as i64;
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        Digits { digits, decpt }
    }

    fn is_zero(&self) -> bool {
        self.digits == b"0"
    }
}

/// Options of `PyOS_double_to_string`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FloatFlags {
    /// `Py_DTSF_ADD_DOT_0`: integers get ".0" (repr, and format with no type).
    pub add_dot_0: bool,
    /// `Py_DTSF_ALT`: the `#` alternate form.
    pub alt: bool,
    /// `Py_DTSF_NO_NEG_0`: the `z` option.
    pub no_neg_0: bool,
}

/// `PyOS_double_to_string(x, code, precision, flags)` for `code` in `e f g r` and their
/// uppercase forms (`r` = repr: shortest round-trip digits).
pub(crate) fn double_to_string(x: f64, code: char, precision: usize, flags: FloatFlags) -> String {
    let upper = code.is_ascii_uppercase();
    let code = code.to_ascii_lowercase();
    let negative = x.is_sign_negative();
    if !x.is_finite() {
        let text = if x.is_nan() {
            "nan"
        } else if negative {
            "-inf"
        } else {
            "inf"
        };
        return if upper {
            text.to_ascii_uppercase()
        } else {
            text.to_string()
        };
    }
    let a = x.abs();
    let mut precision = precision as i64;
    let d = match code {
        'e' => {
            precision += 1;
            significant_digits(a, precision as usize)
        }
        'f' => {
            Digits::from_fixed_form(&format!("{:.*}", (precision as usize).min(EXACT_DIGITS), a))
        }
        'g' => {
            if precision == 0 {
                precision = 1;
            }
            significant_digits(a, precision as usize)
        }
        _ => {
            if a == 0.0 {
                Digits::zero()
            } else {
                Digits::from_exp_form(&format!("{a:e}"))
            }
        }
    };
    let negative = negative && !(flags.no_neg_0 && d.is_zero());
    layout(&d, code, precision, negative, upper, flags)
}

/// Every finite double is exact within this many significant or fractional digits, so
/// asking for more only adds zeros (which the layout adds back); Rust's formatter also
/// refuses precisions beyond `u16::MAX`.
const EXACT_DIGITS: usize = 1100;

fn significant_digits(a: f64, n: usize) -> Digits {
    if a == 0.0 {
        Digits::zero()
    } else {
        Digits::from_exp_form(&format!("{:.*e}", n.saturating_sub(1).min(EXACT_DIGITS), a))
    }
}

/// The digit placement of CPython's `format_float_short`.
fn layout(
    d: &Digits,
    code: char,
    precision: i64,
    negative: bool,
    upper: bool,
    flags: FloatFlags,
) -> String {
    let digits_len = d.digits.len() as i64;
    let mut decpt = d.decpt;
    let mut use_exp = false;
    let mut vdigits_end = digits_len;
    match code {
        'e' => {
            use_exp = true;
            vdigits_end = precision;
        }
        'f' => vdigits_end = decpt + precision,
        'g' => {
            let limit = if flags.add_dot_0 {
                precision - 1
            } else {
                precision
            };
            if decpt <= -4 || decpt > limit {
                use_exp = true;
            }
            if flags.alt {
                vdigits_end = precision;
            }
        }
        _ => {
            if decpt <= -4 || decpt > 16 {
                use_exp = true;
            }
        }
    }
    let mut exp = 0;
    if use_exp {
        exp = decpt - 1;
        decpt = 1;
    }
    let vdigits_start = if decpt <= 0 { decpt - 1 } else { 0 };
    vdigits_end = if !use_exp && flags.add_dot_0 {
        vdigits_end.max(decpt + 1)
    } else {
        vdigits_end.max(decpt)
    };
    let zeros = |out: &mut String, n: i64| out.extend(std::iter::repeat_n('0', n.max(0) as usize));
    let digits = std::str::from_utf8(&d.digits).unwrap_or("0");
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if decpt <= 0 {
        zeros(&mut out, decpt - vdigits_start);
        out.push('.');
        zeros(&mut out, -decpt);
    } else {
        zeros(&mut out, -vdigits_start);
    }
    if 0 < decpt && decpt <= digits_len {
        out.push_str(&digits[..decpt as usize]);
        out.push('.');
        out.push_str(&digits[decpt as usize..]);
    } else {
        out.push_str(digits);
    }
    if digits_len < decpt {
        zeros(&mut out, decpt - digits_len);
        out.push('.');
        zeros(&mut out, vdigits_end - decpt);
    } else {
        zeros(&mut out, vdigits_end - digits_len);
    }
    if out.ends_with('.') && !flags.alt {
        out.pop();
    }
    if use_exp {
        out.push(if upper { 'E' } else { 'e' });
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
    out
}

/// Python `repr(x)` of a float.
pub fn float_repr(x: f64) -> String {
    double_to_string(
        x,
        'r',
        0,
        FloatFlags {
            add_dot_0: true,
            ..FloatFlags::default()
        },
    )
}

/// Python's `a // b` for two floats (`float_floordiv`).
pub fn float_floor_div(a: f64, b: f64) -> f64 {
    let modulo = a % b;
    let mut div = (a - modulo) / b;
    if modulo != 0.0 && ((b < 0.0) != (modulo < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let floor = div.floor();
        if div - floor > 0.5 {
            floor + 1.0
        } else {
            floor
        }
    } else {
        0.0_f64.copysign(a / b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_of_floats() {
        for (x, want) in [
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (-0.0, "-0.0"),
            (1e100, "1e+100"),
            (0.1, "0.1"),
            (123456789.125, "123456789.125"),
        ] {
            assert_eq!(float_repr(x), want, "{x}");
        }
    }

    #[test]
    fn ints() {
        assert_eq!(int_from_str(" -4_2 ").unwrap().to_i64(), Some(-42));
        assert_eq!(int_from_str("\u{664}\u{662}").unwrap().to_i64(), Some(42));
        assert!(int_from_str("4.2").is_err());
        assert!(int_from_str("4__2").is_err());
        let big = int_from_str("123456789012345678901234567890").unwrap();
        assert!(big > PyInt::from_i128(i64::MAX as i128));
        assert_eq!(big.cmp_f64(1.2345678901234568e29), Some(Ordering::Greater));
        assert_eq!(
            PyInt::from_f64_trunc(1e300).unwrap().cmp_f64(1e300),
            Some(Ordering::Equal)
        );
        assert_eq!(PyInt::from_f64_trunc(-4.7).unwrap().to_i64(), Some(-4));
        assert_eq!(big.to_string(), "123456789012345678901234567890");
        assert_eq!(PyInt::from_i128(-5).to_string(), "-5");
        assert_eq!(PyInt::from_i128(0).to_string(), "0");
        assert_eq!(
            PyInt::from_f64_trunc(1e22).unwrap().to_string(),
            "10000000000000000000000"
        );
    }

    #[test]
    fn floats() {
        assert_eq!(float_from_str(" 1_0.5 ").unwrap(), 10.5);
        assert_eq!(float_from_str("1.e5").unwrap(), 1e5);
        assert!(float_from_str("-nan").unwrap().is_nan());
        assert!(float_from_str("1e").is_err());
        assert!(float_from_str("1_e5").is_err());
    }

    #[test]
    fn floor_division() {
        assert_eq!(float_floor_div(-0.5, 1073741824.0), -1.0);
        assert_eq!(float_floor_div(480103981056.0, 1073741824.0), 447.0);
        assert_eq!(float_floor_div(7.0, -2.0), -4.0);
        assert!(float_floor_div(-0.0, 3.0).is_sign_negative());
    }
}
