//! oslo.utils `specs_matcher`: its pyparsing grammar (including where and how
//! it fails, since upstream lets those exceptions surface) and `match()`.

use super::HintError;
use super::python::expand_tabs;
use crate::py::text::is_space;
use crate::py::value::str_repr;
use crate::py::{float_from_str, float_repr};

/// Unary operators, in the grammar's (first match wins) order.
const UNARY_OPS: [&str; 14] = [
    "==", "=", "!=", "<in>", ">=", "<=", ">", "<", "s==", "s!=", "s<=", "s<", "s>=", "s>",
];
const ALL_IN: &str = "<all-in>";
const OR: &str = "<or>";
const RANGE_IN: &str = "<range-in>";

/// pyparsing's text for "an atom may not start with an operator".
const UNWANTED_MSG: &str = "Found unwanted token, {{{{{{{{{{{{{{{{'==' | '='} | '!='} | '<in>'} | '>='} | '<='} | '>'} | '<'} | 's=='} | 's!='} | 's<='} | 's<'} | 's>='} | 's>'} | '<all-in>'} | '<or>'} | '<range-in>'}";
const REGEX_MSG: &str = "Expected Re:('\\S+')";
/// pyparsing's text when every alternative fails at the first character.
const NOTHING_MSG: &str = concat!(
    "Expected {{{'<or>' ~{{'==' | '=' | '!=' | '<in>' | '>=' | '<=' | '>' | '<' | 's==' | 's!=' | 's<=' | 's<' | 's>=' | 's>' | '<all-in>' | '<or>' | '<range-in>'}} Re:('\\S+')}}... | ",
    "{'<all-in>' {{~{{'==' | '=' | '!=' | '<in>' | '>=' | '<=' | '>' | '<' | 's==' | 's!=' | 's<=' | 's<' | 's>=' | 's>' | '<all-in>' | '<or>' | '<range-in>'}} Re:('\\S+')}}...} | ",
    "{'<range-in>' ~{{'==' | '=' | '!=' | '<in>' | '>=' | '<=' | '>' | '<' | 's==' | 's!=' | 's<=' | 's<' | 's>=' | 's>' | '<all-in>' | '<or>' | '<range-in>'}} Re:('\\S+') ",
    "~{{'==' | '=' | '!=' | '<in>' | '>=' | '<=' | '>' | '<' | 's==' | 's!=' | 's<=' | 's<' | 's>=' | 's>' | '<all-in>' | '<or>' | '<range-in>'}} Re:('\\S+') ",
    "~{{'==' | '=' | '!=' | '<in>' | '>=' | '<=' | '>' | '<' | 's==' | 's!=' | 's<=' | 's<' | 's>=' | 's>' | '<all-in>' | '<or>' | '<range-in>'}} Re:('\\S+') ",
    "~{{'==' | '=' | '!=' | '<in>' | '>=' | '<=' | '>' | '<' | 's==' | 's!=' | 's<=' | 's<' | 's>=' | 's>' | '<all-in>' | '<or>' | '<range-in>'}} Re:('\\S+')} | ",
    "{{'==' | '=' | '!=' | '<in>' | '>=' | '<=' | '>' | '<' | 's==' | 's!=' | 's<=' | 's<' | 's>=' | 's>'} ",
    "~{{'==' | '=' | '!=' | '<in>' | '>=' | '<=' | '>' | '<' | 's==' | 's!=' | 's<=' | 's<' | 's>=' | 's>' | '<all-in>' | '<or>' | '<range-in>'}} Re:('\\S+')} | ",
    "{~{{'==' | '=' | '!=' | '<in>' | '>=' | '<=' | '>' | '<' | 's==' | 's!=' | 's<=' | 's<' | 's>=' | 's>' | '<all-in>' | '<or>' | '<range-in>'}} Re:('\\S+')}}"
);

/// Why an alternative failed, and where (a character index).
#[derive(Clone, Copy)]
enum Failure {
    Literal,
    Unwanted,
    Regex,
}

type Step<T> = Result<T, (usize, Failure)>;

/// One alternative of the top-level grammar.
type Alternative = fn(&[char]) -> Step<Vec<String>>;

/// pyparsing's default whitespace (not Python's `str.isspace`).
fn skip_ws(s: &[char], mut at: usize) -> usize {
    while s
        .get(at)
        .is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
    {
        at += 1;
    }
    at
}

fn starts_with(s: &[char], at: usize, literal: &str) -> bool {
    literal
        .chars()
        .enumerate()
        .all(|(offset, expected)| s.get(at + offset) == Some(&expected))
}

/// A literal after whitespace: the position after it.
fn literal(s: &[char], at: usize, lit: &str) -> Step<usize> {
    let start = skip_ws(s, at);
    if starts_with(s, start, lit) {
        Ok(start + lit.chars().count())
    } else {
        Err((start, Failure::Literal))
    }
}

fn any_operator_at(s: &[char], at: usize) -> bool {
    let start = skip_ws(s, at);
    UNARY_OPS
        .iter()
        .chain([ALL_IN, OR, RANGE_IN].iter())
        .any(|op| starts_with(s, start, op))
}

/// `~operator + Regex(r"\S+")`.
fn atom(s: &[char], at: usize) -> Step<(String, usize)> {
    if any_operator_at(s, at) {
        return Err((at, Failure::Unwanted));
    }
    let start = skip_ws(s, at);
    let len = s[start.min(s.len())..]
        .iter()
        .take_while(|c| !is_space(**c))
        .count();
    if len == 0 {
        return Err((start, Failure::Regex));
    }
    Ok((s[start..start + len].iter().collect(), start + len))
}

/// `<or> atom` repeated; only the atoms are kept after the operator.
fn disjunction(s: &[char]) -> Step<Vec<String>> {
    let after = literal(s, 0, OR)?;
    let (first, mut at) = atom(s, after)?;
    let mut tokens = vec![OR.to_owned(), first];
    while let Ok(after) = literal(s, at, OR) {
        match atom(s, after) {
            Ok((next, end)) => {
                tokens.push(next);
                at = end;
            }
            Err(_) => break,
        }
    }
    Ok(tokens)
}

/// `<all-in>` followed by one or more atoms.
fn all_in(s: &[char]) -> Step<Vec<String>> {
    let after = literal(s, 0, ALL_IN)?;
    let (first, mut at) = atom(s, after)?;
    let mut tokens = vec![ALL_IN.to_owned(), first];
    while let Ok((next, end)) = atom(s, at) {
        tokens.push(next);
        at = end;
    }
    Ok(tokens)
}

/// `<range-in>` followed by exactly four atoms.
fn range_in(s: &[char]) -> Step<Vec<String>> {
    let mut at = literal(s, 0, RANGE_IN)?;
    let mut tokens = vec![RANGE_IN.to_owned()];
    for _ in 0..4 {
        let (next, end) = atom(s, at)?;
        tokens.push(next);
        at = end;
    }
    Ok(tokens)
}

/// First unary operator that matches (no backtracking to later ones), then an atom.
fn unary(s: &[char]) -> Step<Vec<String>> {
    let start = skip_ws(s, 0);
    let op = UNARY_OPS
        .iter()
        .find(|op| starts_with(s, start, op))
        .ok_or((start, Failure::Literal))?;
    let (value, _) = atom(s, start + op.len())?;
    Ok(vec![(*op).to_owned(), value])
}

fn lone_atom(s: &[char]) -> Step<Vec<String>> {
    atom(s, 0).map(|(value, _)| vec![value])
}

/// pyparsing `ParseException`, rendered as pyparsing 3.x does.
pub(super) fn parse_exception(message: &str, s: &[char], at: usize) -> HintError {
    let found = match s.get(at) {
        None => "end of text".to_owned(),
        Some(&c) if is_exception_word_char(c) => {
            let word: String = s[at..]
                .iter()
                .take(16)
                .take_while(|c| is_exception_word_char(**c))
                .collect();
            str_repr(&word)
        }
        Some(&c) => str_repr(&c.to_string()),
    };
    let line = s[..at].iter().filter(|c| **c == '\n').count() + 1;
    let column = if at > 0 && at < s.len() && s[at - 1] == '\n' {
        1
    } else {
        at - s[..at]
            .iter()
            .rposition(|c| *c == '\n')
            .map_or(0, |p| p + 1)
            + 1
    };
    HintError::new(
        "ParseException",
        format!("{message}, found {found}  (at char {at}), (line:{line}, col:{column})"),
    )
}

/// Alphanumerics of Latin-1/Latin Extended-A/B, which pyparsing quotes as a word.
fn is_exception_word_char(c: char) -> bool {
    let code = u32::from(c);
    (0x20..=0x24f).contains(&code) && c.is_alphanumeric() && !(0xbc..=0xbe).contains(&code)
}

/// `make_grammar().parseString(expression)`: the token list, or pyparsing's exception.
pub(super) fn parse(expression: &str) -> Result<Vec<String>, HintError> {
    let s: Vec<char> = expand_tabs(expression).chars().collect();
    let alternatives: [Alternative; 5] = [disjunction, all_in, range_in, unary, lone_atom];
    let mut furthest: Option<(usize, Failure)> = None;
    for alternative in alternatives {
        match alternative(&s) {
            Ok(tokens) => return Ok(tokens),
            Err((at, failure)) => {
                if furthest.is_none_or(|(best, _)| at > best) {
                    furthest = Some((at, failure));
                }
            }
        }
    }
    let (at, failure) = furthest.unwrap_or((0, Failure::Literal));
    let message = if at == skip_ws(&s, 0) {
        NOTHING_MSG
    } else {
        match failure {
            Failure::Unwanted => UNWANTED_MSG,
            Failure::Regex => REGEX_MSG,
            Failure::Literal => NOTHING_MSG,
        }
    };
    Err(parse_exception(message, &s, at))
}

/// The device-side value handed to `specs_matcher.match`.
pub(super) enum DeviceValue<'a> {
    /// Normalised string attribute.
    Str(&'a str),
    /// Size in GiB (`bytes / 2**30`).
    Float(f64),
}

fn python_float(value: &DeviceValue<'_>) -> Result<f64, HintError> {
    match value {
        DeviceValue::Float(f) => Ok(*f),
        DeviceValue::Str(s) => float_of_str(s),
    }
}

fn float_of_str(s: &str) -> Result<f64, HintError> {
    float_from_str(s).map_err(|e| HintError::new("ValueError", e.message))
}

/// `ast.literal_eval` applied to a device value by `<all-in>`/`<range-in>`.
/// Device strings are lower-cased and URL-quoted, so they can never be a list
/// literal: numbers give the "must compare with a list" `TypeError`; anything
/// else is reported as `ValueError` (upstream raises `ValueError` or
/// `SyntaxError` depending on Python syntax, with object addresses in the text).
fn literal_eval_not_a_list(value: &DeviceValue<'_>) -> HintError {
    match value {
        DeviceValue::Float(f) => HintError::new(
            "ValueError",
            format!("malformed node or string: {}", float_repr(*f)),
        ),
        DeviceValue::Str(s) if is_python_number_literal(s) || *s == "..." => HintError::new(
            "TypeError",
            "<all-in> must compare with a list literal string, EG \"['aes', 'mmx']\"".to_owned(),
        ),
        DeviceValue::Str(_) => HintError::new(
            "ValueError",
            "malformed node or string on line 1".to_owned(),
        ),
    }
}

/// Python number literal, optionally signed, or `real ± imaginary`
/// (what `ast.literal_eval` turns into an int/float/complex).
fn is_python_number_literal(s: &str) -> bool {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if is_number_token(unsigned) {
        return true;
    }
    // real ± imaginary: split at a sign that is not part of an exponent.
    unsigned.char_indices().any(|(i, c)| {
        (c == '-' || c == '+')
            && i > 0
            && !unsigned[..i].ends_with(['e', 'E'])
            && is_number_token(&unsigned[..i])
            && !unsigned[..i].ends_with(['j', 'J'])
            && unsigned[i + 1..].ends_with(['j', 'J'])
            && is_number_token(&unsigned[i + 1..])
    })
}

/// One Python numeric token: int (any base), float or imaginary.
fn is_number_token(s: &str) -> bool {
    fn digits(s: &str, ok: fn(char) -> bool) -> bool {
        !s.is_empty()
            && !s.starts_with('_')
            && !s.ends_with('_')
            && !s.contains("__")
            && s.chars().all(|c| c == '_' || ok(c))
    }
    let dec = |s: &str| digits(s, |c| c.is_ascii_digit());
    let lower = s.to_ascii_lowercase();
    for (prefix, ok) in [
        ("0x", (|c: char| c.is_ascii_hexdigit()) as fn(char) -> bool),
        ("0o", |c| ('0'..='7').contains(&c)),
        ("0b", |c| c == '0' || c == '1'),
    ] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            return digits(rest.strip_prefix('_').unwrap_or(rest), ok);
        }
    }
    let (body, imaginary) = match lower.strip_suffix('j') {
        Some(b) => (b, true),
        None => (lower.as_str(), false),
    };
    let (mantissa, exponent) = match body.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    if let Some(e) = exponent
        && !dec(e.strip_prefix(['-', '+']).unwrap_or(e))
    {
        return false;
    }
    match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.is_empty() || dec(int))
                && (frac.is_empty() || dec(frac))
                && !(int.is_empty() && frac.is_empty())
        }
        None => {
            // Decimal integers may not have leading zeros (unless all zeros);
            // floats and imaginary literals may.
            dec(mantissa)
                && (exponent.is_some()
                    || imaginary
                    || !mantissa.starts_with('0')
                    || mantissa.chars().all(|c| c == '0' || c == '_'))
        }
    }
}

/// `specs_matcher.match(value, spec)`.
pub(super) fn matches(value: &DeviceValue<'_>, spec: &str) -> Result<bool, HintError> {
    let tree = parse(spec).unwrap_or_else(|_| vec![spec.to_owned()]);
    let Some((op, args)) = tree.split_first().filter(|_| tree.len() > 1) else {
        return Ok(matches!(value, DeviceValue::Str(s) if tree.first().is_some_and(|t| t == s)));
    };
    let first = args.first().map(String::as_str).unwrap_or_default();
    let numeric = |cmp: fn(f64, f64) -> bool| -> Result<bool, HintError> {
        let x = python_float(value)?;
        Ok(cmp(x, float_of_str(first)?))
    };
    let string = |symbol: &str, cmp: fn(&str, &str) -> bool| -> Result<bool, HintError> {
        match value {
            DeviceValue::Str(s) => Ok(cmp(s, first)),
            DeviceValue::Float(_) => Err(HintError::new(
                "TypeError",
                format!("'{symbol}' not supported between instances of 'float' and 'str'"),
            )),
        }
    };
    match op.as_str() {
        // The legacy oddity: numeric "=" means "at least".
        "=" | ">=" => numeric(|x, y| x >= y),
        "==" => numeric(|x, y| x == y),
        "!=" => numeric(|x, y| x != y),
        "<=" => numeric(|x, y| x <= y),
        "<" => numeric(|x, y| x < y),
        ">" => numeric(|x, y| x > y),
        "s==" => Ok(matches!(value, DeviceValue::Str(s) if *s == first)),
        "s!=" => Ok(!matches!(value, DeviceValue::Str(s) if *s == first)),
        "s<" => string("<", |x, y| x < y),
        "s<=" => string("<=", |x, y| x <= y),
        "s>" => string(">", |x, y| x > y),
        "s>=" => string(">=", |x, y| x >= y),
        "<in>" => match value {
            DeviceValue::Str(s) => Ok(s.contains(first)),
            DeviceValue::Float(_) => Err(HintError::new(
                "TypeError",
                "argument of type 'float' is not iterable".to_owned(),
            )),
        },
        "<or>" => Ok(args
            .iter()
            .any(|alternative| matches!(value, DeviceValue::Str(s) if s == alternative))),
        // Both first evaluate the device value as a Python literal, which can
        // never yield the list <all-in> needs or (for the specs parse_hints
        // produces) reach <range-in>'s range check.
        _ => Err(literal_eval_not_a_list(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<String> {
        parse(s).unwrap_or_else(|e| vec![format!("ERR {}", e.message)])
    }

    #[test]
    fn grammar_matches_pyparsing() {
        assert_eq!(tokens("<or>"), ["<", "or>"]);
        assert_eq!(tokens("<or> a <or>"), ["<or>", "a"]);
        assert_eq!(tokens("<or>a<or>b"), ["<or>", "a<or>b"]);
        assert_eq!(tokens("<all-in> a b <or> c"), ["<all-in>", "a", "b"]);
        assert_eq!(
            tokens("<range-in> ( 1 2 ]"),
            ["<range-in>", "(", "1", "2", "]"]
        );
        assert_eq!(tokens("<range-in> a b"), ["<", "range-in>"]);
        assert_eq!(tokens("abc def"), ["abc"]);
        assert_eq!(tokens("<inx"), ["<", "inx"]);
        assert_eq!(
            tokens("s=="),
            ["ERR Expected Re:('\\S+'), found end of text  (at char 3), (line:1, col:4)"]
        );
        assert_eq!(
            tokens("==\r="),
            [format!(
                "ERR {UNWANTED_MSG}, found '\\r'  (at char 2), (line:1, col:3)"
            )]
        );
        assert_eq!(
            tokens("\u{b}x"),
            [format!(
                "ERR {NOTHING_MSG}, found '\\x0b'  (at char 0), (line:1, col:1)"
            )]
        );
    }

    #[test]
    fn number_literals() {
        for yes in [
            "1",
            "0",
            "00",
            "1_0",
            "1.5",
            "1.",
            ".5",
            "1e5",
            "1j",
            "-1",
            "0x1f",
            "1-2j",
            "-1.5+2e3j",
        ] {
            assert!(is_python_number_literal(yes), "{yes}");
        }
        for no in [
            "01", "1__0", "_1", "a", "1-2", "--1", "1e", "1-2j-3j", "0x", "1.2.3", "1-j",
        ] {
            assert!(!is_python_number_literal(no), "{no}");
        }
    }
}
