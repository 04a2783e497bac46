//! Lookups into the generated CPython character tables.

use super::tables;
use std::cmp::Ordering;

fn in_ranges(table: &[(u32, u32)], c: u32) -> bool {
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                Ordering::Less
            } else if lo > c {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .is_ok()
}

/// `str.isprintable()` for one character.
pub(crate) fn is_printable(c: char) -> bool {
    !in_ranges(tables::NON_PRINTABLE, c as u32)
}

/// `str.isalpha()` for one character.
pub(crate) fn is_alpha(c: char) -> bool {
    in_ranges(tables::ALPHA, c as u32)
}

/// `str.isspace()` for one character.
pub(crate) fn is_space(c: char) -> bool {
    in_ranges(tables::WHITESPACE, c as u32)
}

/// Whitespace as C's `isspace` in the "C" locale sees it (what CPython's number parsers strip).
pub(crate) fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// The value of a Unicode decimal digit (`Py_UNICODE_TODECIMAL`).
pub(crate) fn decimal_value(c: char) -> Option<u32> {
    let c = c as u32;
    let i = tables::DECIMAL.partition_point(|&(lo, _, _)| lo <= c);
    let &(lo, hi, first) = tables::DECIMAL.get(i.checked_sub(1)?)?;
    (c <= hi).then(|| first + (c - lo))
}

fn map_delta(table: &[(u32, u32, u32, i32)], c: u32) -> u32 {
    let i = table.partition_point(|&(lo, _, _, _)| lo <= c);
    match i.checked_sub(1).and_then(|i| table.get(i)) {
        Some(&(lo, hi, step, delta)) if c <= hi && (c - lo).is_multiple_of(step) => {
            c.wrapping_add_signed(delta)
        }
        _ => c,
    }
}

/// CPython's simple lowercase mapping (`_PyUnicode_ToLowercase`), on code points.
pub(crate) fn lower(c: u32) -> u32 {
    map_delta(tables::LOWER, c)
}

/// CPython's simple uppercase mapping (`_PyUnicode_ToUppercase`), on code points.
pub(crate) fn upper(c: u32) -> u32 {
    map_delta(tables::UPPER, c)
}

/// The code points that changed under [`lower`] (their ranges of first..=last).
pub(crate) fn lower_table() -> &'static [(u32, u32, u32, i32)] {
    tables::LOWER
}

/// The code points that changed under [`upper`].
pub(crate) fn upper_table() -> &'static [(u32, u32, u32, i32)] {
    tables::UPPER
}

/// All of `re`'s extra case equivalences: (lowercase code point, its equivalents).
pub(crate) fn extra_cases_all() -> &'static [(u32, &'static [u32])] {
    tables::EXTRA_CASES
}

/// `re`'s extra case equivalences for a lowercase code point.
pub(crate) fn extra_cases(c: u32) -> &'static [u32] {
    match tables::EXTRA_CASES.binary_search_by_key(&c, |&(k, _)| k) {
        Ok(i) => tables::EXTRA_CASES[i].1,
        Err(_) => &[],
    }
}

/// `str.isidentifier()`.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || in_ranges(tables::XID_START, c as u32) => {}
        _ => return false,
    }
    chars.all(|c| in_ranges(tables::XID_CONTINUE, c as u32))
}

/// Ranges of the characters `re`'s unicode `\w` matches.
pub(crate) fn word_ranges() -> &'static [(u32, u32)] {
    tables::WORD
}

/// Ranges of the characters `re`'s unicode `\s` matches.
pub(crate) fn space_ranges() -> &'static [(u32, u32)] {
    tables::WHITESPACE
}

/// Ranges of the characters `re`'s unicode `\d` matches.
pub(crate) fn decimal_ranges() -> impl Iterator<Item = (u32, u32)> {
    tables::DECIMAL.iter().map(|&(lo, hi, _)| (lo, hi))
}

/// Whether `name` is an attribute of Python values of the given type (`dir(type)`).
pub(crate) fn has_attribute(type_name: &str, name: &str) -> bool {
    let table = match type_name {
        "dict" => tables::ATTRS_DICT,
        "list" => tables::ATTRS_LIST,
        "str" => tables::ATTRS_STR,
        "int" => tables::ATTRS_INT,
        "float" => tables::ATTRS_FLOAT,
        "bool" => tables::ATTRS_BOOL,
        "NoneType" => tables::ATTRS_NONETYPE,
        _ => return false,
    };
    table.binary_search(&name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(decimal_value('7'), Some(7));
        assert_eq!(decimal_value('\u{664}'), Some(4));
        assert_eq!(decimal_value('x'), None);
        assert_eq!(lower('A' as u32), 'a' as u32);
        assert_eq!(lower(0x130), 'i' as u32);
        assert_eq!(upper('a' as u32), 'A' as u32);
        assert_eq!(lower('a' as u32), 'a' as u32);
        assert!(is_space('\u{1c}'));
        assert!(!is_printable('\u{200b}'));
        assert!(is_identifier("_a1"));
        assert!(!is_identifier("1a"));
        assert!(has_attribute("dict", "keys"));
        assert!(!has_attribute("dict", "x"));
        assert_eq!(extra_cases('s' as u32), &[0x17F]);
    }
}
