//! Python `re` for user-supplied rule patterns.
//!
//! Patterns are parsed by a reimplementation of CPython 3.11's `re` parser (same
//! accepted syntax, same `re.error` texts and positions), then translated into a
//! fancy-regex pattern whose matching is that of `re`: `re.match` for
//! [`PyRegex::is_match_at_start`], `re.search` for [`PyRegex::search`].
//!
//! Known differences, all outside what the parser can detect:
//! * case-insensitive backreferences compare with fancy-regex's Unicode simple case
//!   folding instead of `re`'s per-character `lower()` (ASCII-only under the `a` flag):
//!   they disagree only when the captured text holds characters such as `ſ`/`s`,
//!   `ς`/`σ`, `µ`/`μ`, `İ`/`i`, Greek symbol variants, or any non-ASCII letter under
//!   `(?ai)`;
//! * a match attempt that exceeds [`BACKTRACK_LIMIT`] backtracking steps is reported as
//!   [`MatchError`] (Python would keep going, exponentially long for patterns such as
//!   `(a|aa)+\1b`): the caller must treat the condition as failed with an error, never
//!   as a silent "no match".

mod charset;
mod emit;
mod parse;

use super::PyError;

/// Backtracking steps allowed per match attempt before giving up with [`MatchError`]
/// (about 0.2 s of matching in a release build).
#[cfg(not(fuzzing))]
pub const BACKTRACK_LIMIT: usize = 10_000_000;
/// The fuzzer finds patterns that reach the limit within seconds, and each costs
/// about a second in its instrumented build: a lower limit keeps it exploring at
/// hundreds of inputs a second through the same code, giving up included.
#[cfg(fuzzing)]
pub const BACKTRACK_LIMIT: usize = 20_000;

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReError {
    /// Python raises `re.error` with this `str()` text (upstream validation answers
    /// `invalid regular expression: <text>`).
    #[error("{0}")]
    Invalid(String),
    /// Python raises another exception: `ValueError` ("ASCII and UNICODE flags are
    /// incompatible") or `OverflowError` ("the repetition number is too large").
    #[error("{0}")]
    Exception(PyError),
    /// Python accepts the pattern but it cannot be reproduced faithfully here
    /// (`\N{...}` names, very deep nesting, or sizes beyond the engine's limits).
    #[error("unsupported regular expression: {0}")]
    Unsupported(String),
}

/// A match attempt gave up after [`BACKTRACK_LIMIT`] backtracking steps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("regular expression {pattern:?} exceeded the backtracking limit")]
pub struct MatchError {
    /// The Python pattern.
    pub pattern: String,
}

/// A compiled Python regular expression, for both `re.match` and `re.search`.
#[derive(Debug, Clone)]
pub struct PyRegex {
    at_start: PyMatcher,
    anywhere: PyMatcher,
}

/// Where [`compile_for`]'s regex may match: `re.match` or `re.search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// `re.match`: at the start of the subject.
    Start,
    /// `re.search`: anywhere in it.
    Anywhere,
}

/// A Python regular expression compiled for one of `re.match` and
/// `re.search`: a rule's condition uses one, and building the other's regex
/// too doubled the cost of compiling it.
#[derive(Debug, Clone)]
pub struct PyMatcher {
    pattern: String,
    regex: fancy_regex::Regex,
}

/// `re.compile(pattern)`, for both `re.match` and `re.search`.
pub fn compile(pattern: &str) -> Result<PyRegex, ReError> {
    let body = translate(pattern)?;
    Ok(PyRegex {
        at_start: matcher(pattern, &anchored(&body))?,
        anywhere: matcher(pattern, &body)?,
    })
}

/// `re.compile(pattern)`, for `anchor`'s use only.
pub fn compile_for(pattern: &str, anchor: Anchor) -> Result<PyMatcher, ReError> {
    let body = translate(pattern)?;
    let text = match anchor {
        Anchor::Start => anchored(&body),
        Anchor::Anywhere => body,
    };
    matcher(pattern, &text)
}

/// The fancy-regex text equivalent to a Python pattern.
fn translate(pattern: &str) -> Result<String, ReError> {
    let parsed = parse::parse(pattern).map_err(|e| match e {
        parse::ParseError::Re(m) => ReError::Invalid(m),
        parse::ParseError::Py(e) => ReError::Exception(e),
        parse::ParseError::Unsupported(m) => ReError::Unsupported(m),
    })?;
    Ok(emit::emit(&parsed.nodes, parsed.flags))
}

fn anchored(body: &str) -> String {
    format!("\\A(?:{body})")
}

fn matcher(pattern: &str, text: &str) -> Result<PyMatcher, ReError> {
    let mut builder = fancy_regex::RegexBuilder::new(text);
    builder.backtrack_limit(BACKTRACK_LIMIT);
    // The fuzzer's counterpart of the lower backtracking limit, for
    // compiling: a counted repetition of a Unicode class (`[^\W\d]{900}`)
    // builds megabytes of automaton, up to half a second of instrumented
    // CPU. Past 256 KiB the build fails as at the regex crate's own
    // limit, which the service keeps.
    #[cfg(fuzzing)]
    builder.delegate_size_limit(1 << 18);
    let regex = builder
        .build()
        .map_err(|e| ReError::Unsupported(format!("{pattern:?}: {e}")))?;
    Ok(PyMatcher {
        pattern: pattern.to_string(),
        regex,
    })
}

/// The pattern the `matches` condition really uses: upstream appends `$` unless the
/// value's last character already is `$` (even an escaped `\$`). An empty value fails
/// there with `IndexError: string index out of range`.
pub fn matches_condition_pattern(value: &str) -> Result<String, PyError> {
    match value.chars().last() {
        None => Err(PyError::new("IndexError", "string index out of range")),
        Some('$') => Ok(value.to_string()),
        Some(_) => Ok(format!("{value}$")),
    }
}

impl PyRegex {
    /// `re.match(pattern, s) is not None`.
    pub fn is_match_at_start(&self, s: &str) -> Result<bool, MatchError> {
        self.at_start.is_match(s)
    }

    /// `re.search(pattern, s) is not None`.
    pub fn search(&self, s: &str) -> Result<bool, MatchError> {
        self.anywhere.is_match(s)
    }

    /// The Python pattern this was compiled from.
    pub fn pattern(&self) -> &str {
        &self.anywhere.pattern
    }
}

impl PyMatcher {
    /// `re.match(pattern, s) is not None` or `re.search(pattern, s) is not
    /// None`, as compiled.
    pub fn is_match(&self, s: &str) -> Result<bool, MatchError> {
        self.regex.is_match(s).map_err(|_| MatchError {
            pattern: self.pattern.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        compile(p).unwrap().is_match_at_start(s).unwrap()
    }

    fn s(p: &str, s: &str) -> bool {
        compile(p).unwrap().search(s).unwrap()
    }

    #[test]
    fn basics() {
        assert!(m("ab", "abc"));
        assert!(!m("b", "abc"));
        assert!(s("b", "abc"));
        assert!(m("abc$", "abc\n"));
        assert!(!m("abc\\Z", "abc\n"));
        assert!(m("(?i)ABC", "abc"));
        assert!(m(r"(a)\1", "aa"));
        assert!(m(r"(?P<x>a)(?P=x)", "aa"));
        assert!(!m(r"\B", ""));
        assert!(m(r"\w+\b", "héllo"));
        assert!(m(r"x*$", ""));
        assert!(s(r"(?m)^b$", "a\nb\nc"));
        assert!(m(r"(a)?(?(1)b|c)", "c"));
        assert!(m(r"[^\x00-\U0010ffff]|a", "a"));
    }

    #[test]
    fn a_compile_for_one_use_answers_as_the_compile_for_both() {
        for (p, subject) in [
            ("ab", "abc"),
            ("b", "abc"),
            ("abc$", "abc\n"),
            (r"(?m)^b$", "a\nb\nc"),
            (r"(a)\1", "aa"),
            (r"\w+\b", "héllo"),
            (r"x*$", ""),
            (r"(?i)ß|b", "ABSS"),
        ] {
            let both = compile(p).unwrap();
            let at_start = compile_for(p, Anchor::Start).unwrap();
            let anywhere = compile_for(p, Anchor::Anywhere).unwrap();
            assert_eq!(
                at_start.is_match(subject),
                both.is_match_at_start(subject),
                "{p}"
            );
            assert_eq!(anywhere.is_match(subject), both.search(subject), "{p}");
        }
        assert_eq!(
            compile_for("(", Anchor::Start).unwrap_err(),
            compile("(").unwrap_err()
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            compile("(").unwrap_err(),
            ReError::Invalid("missing ), unterminated subpattern at position 0".into())
        );
        assert_eq!(
            compile("a)").unwrap_err(),
            ReError::Invalid("unbalanced parenthesis at position 1".into())
        );
        assert_eq!(
            compile("*").unwrap_err(),
            ReError::Invalid("nothing to repeat at position 0".into())
        );
        assert!(matches!(
            compile("a{4294967295}"),
            Err(ReError::Exception(_))
        ));
        assert!(matches!(
            compile(r"\N{DIGIT ONE}"),
            Err(ReError::Unsupported(_))
        ));
    }

    #[test]
    fn deep_nesting_is_refused_without_exhausting_the_stack() {
        for depth in [30, 199, 250, 5000] {
            let p = format!("{}a{}", "(".repeat(depth), ")".repeat(depth));
            let r = compile(&p);
            if depth <= 30 {
                assert!(r.unwrap().is_match_at_start("a").unwrap());
            } else {
                assert!(matches!(r, Err(ReError::Unsupported(_))), "{depth}");
            }
        }
    }
}
