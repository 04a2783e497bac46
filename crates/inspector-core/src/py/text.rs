//! Python `str` character classes: whitespace and decimal digits.

use super::uni;

/// Python `str.isspace()` for one character.
pub fn is_space(c: char) -> bool {
    uni::is_space(c)
}

/// The value of a Unicode decimal digit (category Nd): what Python's `int()` reads
/// and what `\d` matches in a str pattern.
pub fn decimal_value(c: char) -> Option<u32> {
    uni::decimal_value(c)
}

/// Python `str.strip()` without arguments.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python `str.lstrip()` without arguments.
pub fn lstrip(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

/// Python `str.rstrip()` without arguments.
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_whitespace() {
        assert_eq!(strip("\u{1c}\u{85} a b\u{3000}\t"), "a b");
        assert_eq!(lstrip(" \u{1f}x "), "x ");
        assert_eq!(rstrip(" x\u{a0}"), " x");
        assert!(!is_space('\u{200b}'));
        assert_eq!(decimal_value('\u{663}'), Some(3));
        assert_eq!(decimal_value('\u{1FBF9}'), Some(9));
        assert_eq!(decimal_value('\u{2070}'), None); // superscript zero is No, not Nd
    }
}
