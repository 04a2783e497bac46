//! The check tree of a policy rule and how it is evaluated against a target
//! and credentials, with oslo.policy's semantics (including Python's
//! `%`-interpolation of the match, `ast.literal_eval` of the kind and
//! `str()` comparisons).

use std::fmt;

use serde_json::{Map, Value};

use crate::py::float_repr as repr_float;
use crate::py::value::{py_repr, py_str};

/// A parsed check string.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// `@`: always allows (also an empty check string).
    Allow,
    /// `!`: always denies (also every check string that does not parse).
    Deny,
    /// `rule:<name>`: the named rule (or the default rule when undefined).
    Rule(String),
    /// `role:<name>`: the credentials carry that role (case-insensitive).
    Role(String),
    /// `<kind>:<match>`: a credential (dotted path) or a Python literal
    /// compared with the match.
    Generic {
        kind: String,
        matcher: String,
    },
    Not(Box<Check>),
    And(Vec<Check>),
    Or(Vec<Check>),
}

/// oslo.policy's `str()` of a check tree, used in messages and tests.
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Allow => f.write_str("@"),
            Check::Deny => f.write_str("!"),
            Check::Rule(name) => write!(f, "rule:{name}"),
            Check::Role(name) => write!(f, "role:{name}"),
            Check::Generic { kind, matcher } => write!(f, "{kind}:{matcher}"),
            Check::Not(inner) => write!(f, "not {inner}"),
            Check::And(items) => join(f, items, " and "),
            Check::Or(items) => join(f, items, " or "),
        }
    }
}

fn join(f: &mut fmt::Formatter<'_>, items: &[Check], sep: &str) -> fmt::Result {
    f.write_str("(")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{item}")?;
    }
    f.write_str(")")
}

/// Why a check could not be evaluated: where upstream raises (and answers
/// HTTP 500), the caller denies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// Resolves `rule:<name>` references during evaluation.
pub(crate) trait RuleLookup {
    /// The rule, or the default rule when it is undefined; `None` when
    /// neither exists.
    fn lookup(&self, name: &str) -> Option<&Check>;
}

/// Rule references nested deeper than this are treated as a cycle (upstream
/// runs out of Python stack).
const MAX_DEPTH: usize = 64;

impl Check {
    pub(crate) fn evaluate(
        &self,
        target: &Map<String, Value>,
        creds: &Map<String, Value>,
        rules: &dyn RuleLookup,
        depth: usize,
    ) -> Result<bool, EvalError> {
        match self {
            Check::Allow => Ok(true),
            Check::Deny => Ok(false),
            Check::Rule(name) => {
                if depth >= MAX_DEPTH {
                    return Err(EvalError(format!(
                        "rule references nest deeper than {MAX_DEPTH} levels at rule:{name} \
                         (a cycle?)"
                    )));
                }
                match rules.lookup(name) {
                    Some(check) => check.evaluate(target, creds, rules, depth + 1),
                    None => Ok(false),
                }
            }
            Check::Role(matcher) => {
                let Some(role) = interpolate(matcher, target)? else {
                    return Ok(false);
                };
                let Some(roles) = creds.get("roles") else {
                    return Ok(false);
                };
                let Value::Array(roles) = roles else {
                    return Err(EvalError("credential 'roles' is not a list".into()));
                };
                let wanted = role.to_lowercase();
                for r in roles {
                    let Value::String(r) = r else {
                        return Err(EvalError("a role is not a string".into()));
                    };
                    if r.to_lowercase() == wanted {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Check::Generic { kind, matcher } => {
                let Some(matched) = interpolate(matcher, target)? else {
                    return Ok(false);
                };
                if let Some(literal) = python_literal(kind) {
                    return Ok(matched == literal);
                }
                // `ast.literal_eval` raises SyntaxError (not the ValueError
                // oslo.policy catches), so upstream fails the whole check.
                if kind_is_not_python(kind) {
                    return Err(EvalError(format!(
                        "check {kind:?}: the kind is not a Python expression"
                    )));
                }
                let segments: Vec<&str> = kind.split('.').collect();
                find_in_map(creds, &segments, &matched)
            }
            Check::Not(inner) => Ok(!inner.evaluate(target, creds, rules, depth)?),
            Check::And(items) => {
                for item in items {
                    if !item.evaluate(target, creds, rules, depth)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Check::Or(items) => {
                for item in items {
                    if item.evaluate(target, creds, rules, depth)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    /// Every `rule:<name>` this check refers to, in order.
    pub(crate) fn rule_references<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Check::Rule(name) => out.push(name),
            Check::Not(inner) => inner.rule_references(out),
            Check::And(items) | Check::Or(items) => {
                for item in items {
                    item.rule_references(out);
                }
            }
            _ => {}
        }
    }
}

/// Walks a dotted credential path; a list on the way matches when any of its
/// elements does. The end value is compared as Python's `str()`.
fn find_in(value: &Value, segments: &[&str], matched: &str) -> Result<bool, EvalError> {
    let Some(key) = segments.first() else {
        return Ok(matched == py_str(value));
    };
    let Value::Object(map) = value else {
        return Err(EvalError(format!(
            "cannot look up {key:?} in a {} credential value",
            crate::py::value::type_name(value)
        )));
    };
    find_in_map(map, segments, matched)
}

fn find_in_map(
    map: &Map<String, Value>,
    segments: &[&str],
    matched: &str,
) -> Result<bool, EvalError> {
    let Some((key, rest)) = segments.split_first() else {
        return Ok(matched == py_str(&Value::Object(map.clone())));
    };
    match map.get(*key) {
        None => Ok(false),
        Some(Value::Array(items)) => {
            for item in items {
                if find_in(item, rest, matched)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Some(next) => find_in(next, rest, matched),
    }
}

/// Python's `matcher % target` for a mapping: `%(key)s` and `%(key)r`
/// fields and `%%`. `Ok(None)` when a key is missing (the check is then
/// false, as upstream); other format errors, which upstream raises, are
/// errors.
pub(crate) fn interpolate(
    matcher: &str,
    target: &Map<String, Value>,
) -> Result<Option<String>, EvalError> {
    if !matcher.contains('%') {
        return Ok(Some(matcher.to_string()));
    }
    let bad = || EvalError(format!("unsupported format in check match {matcher:?}"));
    let mut out = String::new();
    let mut chars = matcher.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('(') => {
                // Python allows nested parentheses inside the key.
                let mut key = String::new();
                let mut level = 1;
                loop {
                    match chars.next() {
                        Some('(') => {
                            level += 1;
                            key.push('(');
                        }
                        Some(')') => {
                            level -= 1;
                            if level == 0 {
                                break;
                            }
                            key.push(')');
                        }
                        Some(other) => key.push(other),
                        None => return Err(bad()),
                    }
                }
                let conversion = chars.next().ok_or_else(bad)?;
                let Some(value) = target.get(&key) else {
                    return Ok(None);
                };
                match conversion {
                    's' => out.push_str(&py_str(value)),
                    'r' => out.push_str(&py_repr(value)),
                    _ => return Err(bad()),
                }
            }
            _ => return Err(bad()),
        }
    }
    Ok(Some(out))
}

/// `str(ast.literal_eval(kind))` for the literals a check kind can
/// reasonably be (booleans, `None`, numbers, quoted strings without
/// escapes); `None` when the kind is a credential path instead.
pub(crate) fn python_literal(kind: &str) -> Option<String> {
    match kind {
        "True" | "False" | "None" => return Some(kind.to_string()),
        _ => {}
    }
    for quote in ['\'', '"'] {
        if let Some(inner) = kind.strip_prefix(quote).and_then(|k| k.strip_suffix(quote))
            && kind.len() >= 2
        {
            if inner.contains(quote) || inner.contains('\\') {
                return None;
            }
            return Some(inner.to_string());
        }
    }
    let (negative, unsigned) = match kind.as_bytes().first() {
        Some(b'-') => (true, &kind[1..]),
        Some(b'+') => (false, &kind[1..]),
        _ => (false, kind),
    };
    if let Some(int) = python_int(unsigned) {
        let digits = int.trim_start_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        return Some(if negative && digits != "0" {
            format!("-{digits}")
        } else {
            digits.to_string()
        });
    }
    if is_python_float(unsigned) {
        let cleaned: String = unsigned.chars().filter(|c| *c != '_').collect();
        let value: f64 = cleaned.parse().ok()?;
        return Some(repr_float(if negative { -value } else { value }));
    }
    None
}

/// Python's keywords: none can be a name, nor follow a `.`.
const PYTHON_KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Whether `ast.literal_eval(kind)` raises SyntaxError. Decided for kinds
/// made of letters, digits, `_` and `.` (names, numbers, dotted paths:
/// Python's tokenizer and the `name(.name)*` grammar), and for a few
/// sure signs elsewhere: a leading `@`, `$` `?` `` ` `` or a lone `!`
/// outside quotes, an unterminated quote, a quoted string followed by a
/// name. Other kinds are taken as parseable (credential paths).
fn kind_is_not_python(kind: &str) -> bool {
    let kind = kind.trim_start_matches([' ', '\t']);
    if kind.is_empty() || kind.starts_with('@') {
        return true;
    }
    let ident =
        |c: char| c == '_' || c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphanumeric());
    if kind.contains('\\') {
        return false;
    }
    let mut chars = kind.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                let Some(len) = kind[at + 1..].find(c) else {
                    return true;
                };
                let after = &kind[at + 1 + len + 1..];
                let word_len = after.find(|c: char| !ident(c)).unwrap_or(after.len());
                let word = &after[..word_len];
                if !word.is_empty() && !PYTHON_KEYWORDS.contains(&word) {
                    return true;
                }
                while chars.peek().is_some_and(|&(i, _)| i <= at + 1 + len) {
                    chars.next();
                }
            }
            '$' | '?' | '`' => return true,
            '!' if chars.peek().map(|&(_, n)| n) != Some('=') => return true,
            _ => {}
        }
    }
    if kind.contains("...") || !kind.chars().all(|c| c == '.' || ident(c)) {
        return false;
    }
    #[derive(PartialEq)]
    enum Token {
        Name(bool),
        Number,
        Dot,
    }
    let mut tokens = Vec::new();
    let mut rest = kind;
    while let Some(c) = rest.chars().next() {
        let starts_number =
            c.is_ascii_digit() || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit()));
        if starts_number {
            let Some(len) = python_number_len(rest) else {
                return true;
            };
            rest = &rest[len..];
            // `1a`, `1_`, `0x`, `1.real`: an invalid literal.
            if rest.starts_with(ident) {
                return true;
            }
            tokens.push(Token::Number);
        } else if c == '.' {
            rest = &rest[1..];
            tokens.push(Token::Dot);
        } else {
            let len = rest.find(|c: char| !ident(c)).unwrap_or(rest.len());
            tokens.push(Token::Name(PYTHON_KEYWORDS.contains(&&rest[..len])));
            rest = &rest[len..];
        }
    }
    let first_ok = match tokens.first() {
        Some(Token::Name(keyword)) => {
            !keyword || matches!(kind.split('.').next(), Some("True" | "False" | "None"))
        }
        Some(Token::Number) => true,
        _ => false,
    };
    let attributes_ok = tokens[1..]
        .chunks(2)
        .all(|pair| matches!(pair, [Token::Dot, Token::Name(false)]));
    !(first_ok && attributes_ok)
}

/// The length of the Python number literal at the start of `s` (ASCII),
/// or None when a decimal integer has a leading zero (`01`).
fn python_number_len(s: &str) -> Option<usize> {
    static NUMBER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        let digits = "[0-9](?:_?[0-9])*";
        let exponent = format!("[eE][-+]?{digits}");
        regex::Regex::new(&format!(
            "^(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+\
             |(?:{digits}\\.(?:{digits})?|\\.{digits})(?:{exponent})?[jJ]?\
             |{digits}(?:{exponent})?[jJ]?)"
        ))
        .expect("the number pattern compiles")
    });
    let found = NUMBER.find(s)?.as_str();
    let decimal_int = found.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if decimal_int && found.starts_with('0') && found.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        return None;
    }
    Some(found.len())
}

/// Decimal digits of a Python integer literal (underscores between digits,
/// no leading zeros except for zero itself).
fn python_int(s: &str) -> Option<String> {
    if !digits_with_underscores(s) {
        return None;
    }
    let digits: String = s.chars().filter(|c| *c != '_').collect();
    if digits.len() > 1 && digits.starts_with('0') && digits.chars().any(|c| c != '0') {
        return None;
    }
    Some(digits)
}

fn digits_with_underscores(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('_')
        && !s.ends_with('_')
        && !s.contains("__")
        && s.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// `1.5`, `.5`, `1.`, `1e3`, `1.5e-3` (no sign: the caller strips it).
fn is_python_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.is_empty() || digits_with_underscores(int))
                && (frac.is_empty() || digits_with_underscores(frac))
                && !(int.is_empty() && frac.is_empty())
        }
        None => exponent.is_some() && digits_with_underscores(mantissa),
    };
    let exponent_ok = match exponent {
        Some(e) => digits_with_underscores(e.strip_prefix(['+', '-']).unwrap_or(e)),
        None => true,
    };
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_python_cannot_parse() {
        // As `ast.literal_eval` answers: SyntaxError for these...
        for kind in [
            "",
            "1a",
            "a.",
            "a..b",
            "1.real",
            "if",
            "a.if",
            "a.True",
            "0x",
            "01",
            "1_",
            "1e5x",
            "x.1",
            "nonlocal",
            "nocolonand1.5",
        ] {
            assert!(kind_is_not_python(kind), "{kind:?}");
        }
        // ...ValueError or a value for these.
        for kind in [
            "a", "1..real", "True.x", "é", "match", "_", "a.b.c", "00", "user_id", "a-b", "a%b",
            "...", "0x1f",
        ] {
            assert!(!kind_is_not_python(kind), "{kind:?}");
        }
    }

    #[test]
    fn literals_as_python_prints_them() {
        assert_eq!(python_literal("True").as_deref(), Some("True"));
        assert_eq!(python_literal("'member'").as_deref(), Some("member"));
        assert_eq!(python_literal("\"x\"").as_deref(), Some("x"));
        assert_eq!(python_literal("1_000").as_deref(), Some("1000"));
        assert_eq!(python_literal("-0").as_deref(), Some("0"));
        assert_eq!(python_literal("-12").as_deref(), Some("-12"));
        assert_eq!(python_literal("1.50").as_deref(), Some("1.5"));
        assert_eq!(python_literal("1e3").as_deref(), Some("1000.0"));
        assert_eq!(python_literal(".5").as_deref(), Some("0.5"));
        assert_eq!(python_literal("007"), None);
        assert_eq!(python_literal("project_id"), None);
        assert_eq!(python_literal("a.b"), None);
        assert_eq!(python_literal("'"), None);
    }

    #[test]
    fn interpolation_of_mapping_fields() {
        let target = json!({"a": "x", "n": 1, "b": true})
            .as_object()
            .cloned()
            .unwrap();
        let t = |m: &str| interpolate(m, &target);
        assert_eq!(t("plain").unwrap().as_deref(), Some("plain"));
        assert_eq!(t("%(a)s-%(n)s-%(b)s").unwrap().as_deref(), Some("x-1-True"));
        assert_eq!(t("%(a)r").unwrap().as_deref(), Some("'x'"));
        assert_eq!(t("100%%").unwrap().as_deref(), Some("100%"));
        assert_eq!(t("%(missing)s").unwrap(), None);
        assert!(t("%s").is_err());
        assert!(t("50%").is_err());
        assert!(t("%(a").is_err());
    }
}
