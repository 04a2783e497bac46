//! Translation of a parsed Python pattern into an equivalent fancy-regex pattern.
//!
//! Nothing is left to the target engine's interpretation of flags or classes: every
//! character class is spelled out as explicit code point ranges computed with CPython's
//! own tables (so `\w`, `\d`, `\s`, `\b` and IGNORECASE behave as in `re`), `.`/`^`/`$`
//! become explicit sets and lookarounds, and no flag is passed on except for
//! case-insensitive backreferences.

use super::charset::{CharSet, changed_by};
use super::parse::{At, Category, MAXREPEAT, Node, RepeatKind, SetItem, flag};
use crate::py::uni;
use std::fmt::Write;
use std::sync::OnceLock;

const SURROGATES: (u32, u32) = (0xD800, 0xDFFF);
/// Matches nothing: Rust strings never contain a surrogate code point.
const NOTHING: &str = r"[^\x{0}-\x{10FFFF}]";

/// The fancy-regex text equivalent to the parsed pattern under the global `flags`.
pub(super) fn emit(nodes: &[Node], flags: u32) -> String {
    let mut out = String::new();
    emit_seq(nodes, flags, true, &mut out);
    out
}

fn lower_changed() -> &'static CharSet {
    static SET: OnceLock<CharSet> = OnceLock::new();
    SET.get_or_init(|| changed_by(uni::lower_table()))
}

fn upper_changed() -> &'static CharSet {
    static SET: OnceLock<CharSet> = OnceLock::new();
    SET.get_or_init(|| changed_by(uni::upper_table()))
}

/// `(lower(x), x)` for every code point `x` in [`lower_changed`], sorted: the
/// inverse of the lowercase mapping, so that a literal's equivalents are
/// looked up instead of found by a pass over every cased code point (which made
/// a long IGNORECASE literal cost milliseconds to compile).
fn lower_inverse() -> &'static [(u32, u32)] {
    static INVERSE: OnceLock<Vec<(u32, u32)>> = OnceLock::new();
    INVERSE.get_or_init(|| {
        let mut pairs: Vec<(u32, u32)> = lower_changed()
            .ranges()
            .iter()
            .flat_map(|&(a, b)| a..=b)
            .map(|x| (uni::lower(x), x))
            .collect();
        pairs.sort_unstable();
        pairs
    })
}

fn ascii_upper_letters() -> CharSet {
    CharSet::from_ranges([(0x41, 0x5A)])
}

fn ascii_lower(c: u32) -> u32 {
    if (0x41..=0x5A).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// The case model of one IGNORECASE mode: `re`'s `tolower`/`iscased`/extra cases.
struct Fold {
    ascii: bool,
}

impl Fold {
    fn lower(&self, c: u32) -> u32 {
        if self.ascii {
            ascii_lower(c)
        } else {
            uni::lower(c)
        }
    }

    fn is_cased(&self, c: u32) -> bool {
        if self.ascii {
            c < 128 && (c as u8).is_ascii_alphabetic()
        } else {
            uni::lower(c) != c || uni::upper(c) != c
        }
    }

    fn any_cased(&self, lo: u32, hi: u32) -> bool {
        let range = CharSet::from_ranges([(lo, hi)]);
        let cased = if self.ascii {
            CharSet::from_ranges([(0x41, 0x5A), (0x61, 0x7A)])
        } else {
            lower_changed().union(upper_changed())
        };
        range.minus(&cased) != range
    }

    fn extras(&self, c: u32) -> &'static [u32] {
        if self.ascii { &[] } else { uni::extra_cases(c) }
    }

    /// `{x : lower(x) ∈ set}`.
    fn preimage(&self, set: &CharSet) -> CharSet {
        if self.ascii {
            set.preimage(&ascii_upper_letters(), ascii_lower)
        } else {
            set.preimage(lower_changed(), uni::lower)
        }
    }

    /// [`Fold::preimage`] of a few code points (a literal and its extra cases).
    fn preimage_of_points(&self, points: &[u32]) -> CharSet {
        if self.ascii {
            return self.preimage(&CharSet::from_ranges(points.iter().map(|&p| (p, p))));
        }
        let changed = lower_changed();
        let inverse = lower_inverse();
        let mut found: Vec<(u32, u32)> = Vec::new();
        for &p in points {
            if !changed.contains(p) {
                found.push((p, p));
            }
            let first = inverse.partition_point(|&(lowered, _)| lowered < p);
            found.extend(
                inverse[first..]
                    .iter()
                    .take_while(|&&(lowered, _)| lowered == p)
                    .map(|&(_, x)| (x, x)),
            );
        }
        CharSet::from_ranges(found)
    }

    /// `{lower(x) : x ∈ [lo, hi]}` plus the extra cases of those, as `_optimize_charset`
    /// fills its charmap.
    fn image(&self, lo: u32, hi: u32) -> CharSet {
        let range = CharSet::from_ranges([(lo, hi)]);
        let changed = if self.ascii {
            ascii_upper_letters()
        } else {
            lower_changed().clone()
        };
        let mut points = Vec::new();
        for &(a, b) in changed.ranges() {
            for x in a.max(lo)..=b.min(hi) {
                points.push((self.lower(x), self.lower(x)));
            }
        }
        let image = range.minus(&changed).union(&CharSet::from_ranges(points));
        self.with_extras(image)
    }

    fn with_extras(&self, set: CharSet) -> CharSet {
        if self.ascii {
            return set;
        }
        let extra: Vec<(u32, u32)> = uni::extra_cases_all()
            .iter()
            .filter(|(k, _)| set.contains(*k))
            .flat_map(|(_, v)| v.iter().map(|&c| (c, c)))
            .collect();
        set.union(&CharSet::from_ranges(extra))
    }
}

fn category_set(cat: Category, ascii: bool) -> CharSet {
    let (base, negate) = match cat {
        Category::Digit => (0, false),
        Category::NotDigit => (0, true),
        Category::Space => (1, false),
        Category::NotSpace => (1, true),
        Category::Word => (2, false),
        Category::NotWord => (2, true),
    };
    let set = match (base, ascii) {
        (0, true) => CharSet::from_ranges([(0x30, 0x39)]),
        (0, false) => CharSet::from_ranges(uni::decimal_ranges()),
        (1, true) => CharSet::from_ranges([(0x09, 0x0D), (0x20, 0x20)]),
        (1, false) => CharSet::from_ranges(uni::space_ranges().iter().copied()),
        (_, true) => word_set(true),
        (_, false) => word_set(false),
    };
    if negate { set.complement() } else { set }
}

fn word_set(ascii: bool) -> CharSet {
    if ascii {
        CharSet::from_ranges([(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)])
    } else {
        CharSet::from_ranges(uni::word_ranges().iter().copied())
    }
}

/// The characters a literal matches (`LITERAL`, `LITERAL_IGNORE`, `LITERAL_UNI_IGNORE`).
fn literal_set(c: u32, flags: u32) -> CharSet {
    if flags & flag::IGNORECASE == 0 {
        return CharSet::single(c);
    }
    let fold = Fold {
        ascii: flags & flag::ASCII != 0,
    };
    if !fold.is_cased(c) {
        return CharSet::single(c);
    }
    let lo = fold.lower(c);
    let targets: Vec<u32> = std::iter::once(lo)
        .chain(fold.extras(lo).iter().copied())
        .collect();
    fold.preimage_of_points(&targets)
}

/// The characters a set matches (`IN`, `IN_IGNORE`, `IN_UNI_IGNORE`), following the
/// charmap built by `_optimize_charset`: under IGNORECASE the subject character is
/// lowercased before the test, non-BMP literals are tested as written, and ranges
/// reaching beyond the BMP use `RANGE_UNI_IGNORE`.
fn class_set(negate: bool, items: &[SetItem], flags: u32) -> CharSet {
    let ascii = flags & flag::ASCII != 0;
    let set = if flags & flag::IGNORECASE == 0 {
        let mut set = CharSet::default();
        for item in items {
            set = set.union(&match *item {
                SetItem::Literal(c) => CharSet::single(c),
                SetItem::Range(a, b) => CharSet::from_ranges([(a, b)]),
                SetItem::Category(cat) => category_set(cat, ascii),
            });
        }
        set
    } else {
        let fold = Fold { ascii };
        let mut charmap = CharSet::default();
        let mut tail = CharSet::default();
        let mut wide_ranges = CharSet::default();
        let mut has_cased = false;
        for item in items {
            match *item {
                SetItem::Literal(c) => {
                    let lo = fold.lower(c);
                    if lo < 0x10000 {
                        charmap = charmap.union(&fold.with_extras(CharSet::single(lo)));
                        has_cased |= fold.is_cased(c);
                    } else {
                        tail = tail.union(&CharSet::single(c));
                        has_cased = true;
                    }
                }
                SetItem::Range(a, b) => {
                    if a <= 0xFFFF {
                        charmap = charmap.union(&fold.image(a, b.min(0xFFFF)));
                    }
                    if b >= 0x10000 {
                        wide_ranges = wide_ranges.union(&CharSet::from_ranges([(a, b)]));
                        has_cased = true;
                    } else if !has_cased {
                        has_cased = fold.any_cased(a, b);
                    }
                }
                SetItem::Category(cat) => tail = tail.union(&category_set(cat, ascii)),
            }
        }
        let tested = charmap.union(&tail);
        if has_cased {
            // RANGE_UNI_IGNORE: the lowered character or its uppercase in the range.
            let wide = wide_ranges.union(&wide_ranges.preimage(upper_changed(), uni::upper));
            fold.preimage(&tested.union(&wide))
        } else {
            tested
        }
    };
    if negate { set.complement() } else { set }
}

fn push_char(c: u32, out: &mut String) {
    match char::from_u32(c) {
        Some(ch) if ch.is_ascii_alphanumeric() => out.push(ch),
        _ => {
            let _ = write!(out, "\\x{{{c:X}}}");
        }
    }
}

fn push_set(set: &CharSet, out: &mut String) {
    let set = set.minus(&CharSet::from_ranges([SURROGATES]));
    match set.ranges() {
        [] => out.push_str(NOTHING),
        [(a, b)] if a == b => push_char(*a, out),
        ranges => {
            out.push('[');
            for &(a, b) in ranges {
                let _ = write!(out, "\\x{{{a:X}}}");
                if b > a {
                    let _ = write!(out, "-\\x{{{b:X}}}");
                }
            }
            out.push(']');
        }
    }
}

fn word_boundary(flags: u32, negate: bool, out: &mut String) {
    let mut w = String::new();
    push_set(&word_set(flags & flag::ASCII != 0), &mut w);
    if negate {
        // `re` never matches \B on an empty subject.
        let _ = write!(out, "(?!\\A\\z)(?:(?<={w})(?={w})|(?<!{w})(?!{w}))");
    } else {
        let _ = write!(out, "(?:(?<={w})(?!{w})|(?<!{w})(?={w}))");
    }
}

/// Child flags of a scoped-flags group (`_combine_flags`).
fn combine(flags: u32, add: u32, del: u32) -> u32 {
    let base = if add & flag::TYPE_FLAGS != 0 {
        flags & !flag::TYPE_FLAGS
    } else {
        flags
    };
    (base | add) & !del
}

/// `tail`: nothing can follow this sequence in the match, so only whether it matches
/// matters; `$` there can consume the final newline, which keeps common patterns
/// (upstream appends `$` to every `matches` pattern) free of lookarounds.
fn emit_seq(nodes: &[Node], flags: u32, tail: bool, out: &mut String) {
    if nodes.is_empty() {
        out.push_str("(?:)");
    }
    for (i, node) in nodes.iter().enumerate() {
        emit_node(node, flags, tail && i + 1 == nodes.len(), out);
    }
}

fn emit_alternatives(branches: &[Vec<Node>], flags: u32, tail: bool, out: &mut String) {
    for (i, b) in branches.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        emit_seq(b, flags, tail, out);
    }
}

/// Whether the items only assert and never consume (fancy-regex refuses to repeat them).
fn is_zero_width(nodes: &[Node]) -> bool {
    nodes.iter().all(|node| match node {
        Node::At(_) | Node::Assert { .. } => true,
        Node::Group { body, .. } | Node::Atomic(body) | Node::Repeat { body, .. } => {
            is_zero_width(body)
        }
        Node::Branch(branches) => branches.iter().all(|b| is_zero_width(b)),
        _ => false,
    })
}

fn has_capture(nodes: &[Node]) -> bool {
    nodes.iter().any(|node| match node {
        Node::Group { index: Some(_), .. } => true,
        Node::Group { body, .. }
        | Node::Atomic(body)
        | Node::Repeat { body, .. }
        | Node::Assert { body, .. } => has_capture(body),
        Node::Branch(branches) => branches.iter().any(|b| has_capture(b)),
        Node::GroupRefExists { yes, no, .. } => {
            has_capture(yes) || no.as_deref().is_some_and(has_capture)
        }
        _ => false,
    })
}

/// Whether the node's text is a single atom a quantifier can follow directly.
fn is_atom(node: &Node) -> bool {
    matches!(
        node,
        Node::Literal(_)
            | Node::NotLiteral(_)
            | Node::In { .. }
            | Node::Any
            | Node::Group { .. }
            | Node::Atomic(_)
            | Node::GroupRef(_)
    )
}

fn emit_node(node: &Node, flags: u32, tail: bool, out: &mut String) {
    match node {
        Node::Literal(c) => push_set(&literal_set(*c, flags), out),
        Node::NotLiteral(c) => push_set(&literal_set(*c, flags).complement(), out),
        Node::In { negate, items } => push_set(&class_set(*negate, items, flags), out),
        Node::Any => {
            let all = CharSet::all();
            if flags & flag::DOTALL != 0 {
                push_set(&all, out)
            } else {
                push_set(&all.minus(&CharSet::single(10)), out)
            }
        }
        Node::At(at) => {
            let multiline = flags & flag::MULTILINE != 0;
            out.push_str(match (at, multiline, tail) {
                (At::Beginning, false, _) | (At::BeginningString, _, _) => r"\A",
                (At::Beginning, true, _) => r"(?:\A|(?<=\n))",
                (At::End, false, true) => r"\n?\z",
                (At::End, false, false) => r"(?=\n?\z)",
                (At::End, true, true) => r"(?:\n|\z)",
                (At::End, true, false) => r"(?=\n|\z)",
                (At::EndString, _, _) => r"\z",
                (At::Boundary, _, _) => return word_boundary(flags, false, out),
                (At::NonBoundary, _, _) => return word_boundary(flags, true, out),
            });
        }
        Node::Repeat {
            min,
            max,
            kind,
            body,
        } if is_zero_width(body) => {
            // Repeating an assertion: once when required; when optional it always
            // succeeds, so only its captures (if any) can matter.
            let mut inner = String::new();
            emit_seq(body, flags, false, &mut inner);
            let _ = match (*min, kind) {
                (0, _) if !has_capture(body) => write!(out, "(?:)"),
                (0, RepeatKind::Lazy) => write!(out, "(?:|{inner})"),
                (0, _) => write!(out, "(?:{inner}|)"),
                _ => write!(out, "(?:{inner})"),
            };
        }
        Node::Repeat {
            min,
            max,
            kind,
            body,
        } => {
            let mut quantified = String::new();
            match body.as_slice() {
                [single] if is_atom(single) => emit_node(single, flags, false, &mut quantified),
                _ => {
                    quantified.push_str("(?:");
                    emit_seq(body, flags, false, &mut quantified);
                    quantified.push(')');
                }
            }
            let _ = match (*min, *max) {
                (0, MAXREPEAT) => write!(quantified, "*"),
                (1, MAXREPEAT) => write!(quantified, "+"),
                (0, 1) => write!(quantified, "?"),
                (m, MAXREPEAT) => write!(quantified, "{{{m},}}"),
                (m, n) if m == n => write!(quantified, "{{{m}}}"),
                (m, n) => write!(quantified, "{{{m},{n}}}"),
            };
            match kind {
                RepeatKind::Greedy => out.push_str(&quantified),
                RepeatKind::Lazy => {
                    out.push_str(&quantified);
                    out.push('?');
                }
                RepeatKind::Possessive => {
                    let _ = write!(out, "(?>{quantified})");
                }
            }
        }
        Node::Group {
            index,
            add,
            del,
            body,
        } => {
            out.push_str(if index.is_some() { "(" } else { "(?:" });
            let inner = combine(flags, *add, *del);
            match body.as_slice() {
                [Node::Branch(branches)] => emit_alternatives(branches, inner, tail, out),
                _ => emit_seq(body, inner, tail, out),
            }
            out.push(')');
        }
        Node::Atomic(body) => {
            out.push_str("(?>");
            emit_seq(body, flags, tail, out);
            out.push(')');
        }
        Node::Assert {
            behind,
            negate,
            body,
        } => {
            out.push_str(match (behind, negate) {
                (false, false) => "(?=",
                (false, true) => "(?!",
                (true, false) => "(?<=",
                (true, true) => "(?<!",
            });
            // A lookahead only asks whether its body matches; a lookbehind's body must
            // keep its exact width.
            emit_seq(body, flags, !behind, out);
            out.push(')');
        }
        Node::Branch(branches) => {
            out.push_str("(?:");
            emit_alternatives(branches, flags, tail, out);
            out.push(')');
        }
        Node::GroupRef(g) => {
            if flags & flag::IGNORECASE != 0 {
                let _ = write!(out, "(?i:\\k<{g}>)");
            } else {
                let _ = write!(out, "\\k<{g}>");
            }
        }
        Node::GroupRefExists { group, yes, no } => {
            let _ = write!(out, "(?({group})");
            emit_seq(yes, flags, tail, out);
            out.push('|');
            emit_seq(no.as_deref().unwrap_or(&[]), flags, tail, out);
            out.push(')');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indexed preimage of a literal equals the pass over every cased code
    /// point it replaced, for every cased code point (both case models).
    #[test]
    fn literal_preimage_lookup_matches_the_full_pass() {
        let cased = lower_changed().union(upper_changed());
        for ascii in [false, true] {
            let fold = Fold { ascii };
            for &(a, b) in cased.ranges() {
                for c in a..=b {
                    let lo = fold.lower(c);
                    let points: Vec<u32> = std::iter::once(lo)
                        .chain(fold.extras(lo).iter().copied())
                        .collect();
                    let full = fold.preimage(&CharSet::from_ranges(points.iter().map(|&p| (p, p))));
                    assert_eq!(fold.preimage_of_points(&points), full, "U+{c:04X}");
                }
            }
        }
    }
}
