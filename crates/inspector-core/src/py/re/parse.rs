//! Python 3.11's `re` pattern parser (`re/_parser.py` plus the checks of
//! `re/_compiler.py`), reimplemented to accept exactly what Python accepts and to fail
//! with Python's messages and positions.

use crate::py::num::int_from_str;
use crate::py::value::repr_str;
use crate::py::{PyError, uni};
use std::collections::HashMap;

pub(super) const MAXREPEAT: u64 = 4_294_967_295;
const MAXGROUPS: u64 = 1_073_741_823;
const MAXCODE: u128 = (1 << 32) - 1;
const MAXWIDTH: u128 = 1 << 64;
/// Deeper nesting is refused, counted as `sre_parse` counts it (two per group level, so
/// about 100 groups; Python itself fails with RecursionError near 490 groups, fancy-regex
/// accepts fewer than 64).
const MAX_NESTING: usize = 200;

/// `re` flag bits, with CPython's values.
pub(super) mod flag {
    pub const TEMPLATE: u32 = 1;
    pub const IGNORECASE: u32 = 2;
    pub const LOCALE: u32 = 4;
    pub const MULTILINE: u32 = 8;
    pub const DOTALL: u32 = 16;
    pub const UNICODE: u32 = 32;
    pub const VERBOSE: u32 = 64;
    pub const ASCII: u32 = 256;
    pub const TYPE_FLAGS: u32 = ASCII | LOCALE | UNICODE;
    pub const GLOBAL_FLAGS: u32 = TEMPLATE;

    pub fn from_char(c: char) -> Option<u32> {
        Some(match c {
            'i' => IGNORECASE,
            'L' => LOCALE,
            'm' => MULTILINE,
            's' => DOTALL,
            'x' => VERBOSE,
            'a' => ASCII,
            't' => TEMPLATE,
            'u' => UNICODE,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Category {
    Digit,
    NotDigit,
    Space,
    NotSpace,
    Word,
    NotWord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SetItem {
    Literal(u32),
    Range(u32, u32),
    Category(Category),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum At {
    Beginning,
    BeginningString,
    Boundary,
    NonBoundary,
    End,
    EndString,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RepeatKind {
    Greedy,
    Lazy,
    Possessive,
}

/// A parsed pattern item, as `sre_parse` represents it.
#[derive(Debug, Clone)]
pub(super) enum Node {
    Literal(u32),
    NotLiteral(u32),
    In {
        negate: bool,
        items: Vec<SetItem>,
    },
    Any,
    At(At),
    Repeat {
        min: u64,
        max: u64,
        kind: RepeatKind,
        body: Vec<Node>,
    },
    Group {
        index: Option<usize>,
        add: u32,
        del: u32,
        body: Vec<Node>,
    },
    Atomic(Vec<Node>),
    Assert {
        behind: bool,
        negate: bool,
        body: Vec<Node>,
    },
    Branch(Vec<Vec<Node>>),
    GroupRef(usize),
    GroupRefExists {
        group: usize,
        yes: Vec<Node>,
        no: Option<Vec<Node>>,
    },
}

impl Node {
    /// Python compares branch prefixes with `==`; items holding subpatterns never compare
    /// equal (they are distinct objects).
    fn same_flat_item(&self, other: &Node) -> bool {
        match (self, other) {
            (Node::Literal(a), Node::Literal(b)) | (Node::NotLiteral(a), Node::NotLiteral(b)) => {
                a == b
            }
            (
                Node::In {
                    negate: n1,
                    items: i1,
                },
                Node::In {
                    negate: n2,
                    items: i2,
                },
            ) => n1 == n2 && i1 == i2,
            (Node::Any, Node::Any) => true,
            (Node::At(a), Node::At(b)) => a == b,
            (Node::GroupRef(a), Node::GroupRef(b)) => a == b,
            _ => false,
        }
    }
}

/// Why a pattern is refused.
#[derive(Debug)]
pub(super) enum ParseError {
    /// `re.error`, with its full `str()` text.
    Re(String),
    /// Another Python exception escaping `re.compile`.
    Py(PyError),
    /// Valid for Python, but not reproducible here.
    Unsupported(String),
}

type Result<T> = std::result::Result<T, ParseError>;

/// The parse result: the items and the global flags (UNICODE added as `fix_flags` does).
pub(super) struct Parsed {
    pub(super) nodes: Vec<Node>,
    pub(super) flags: u32,
}

/// One tokenizer token: a character, or a backslash escape (`esc` = the escaped char).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tok {
    c: char,
    esc: Option<char>,
}

impl Tok {
    fn is(&self, c: char) -> bool {
        self.esc.is_none() && self.c == c
    }

    fn len(&self) -> usize {
        if self.esc.is_some() { 2 } else { 1 }
    }

    fn text(&self) -> String {
        match self.esc {
            Some(e) => format!("\\{e}"),
            None => self.c.to_string(),
        }
    }

    /// The character when this is one unescaped character.
    fn plain(&self) -> Option<char> {
        self.esc.is_none().then_some(self.c)
    }

    /// `str.isalpha()` of the token text.
    fn is_alpha(&self) -> bool {
        self.esc.is_none() && uni::is_alpha(self.c)
    }
}

fn py_repr(s: &str) -> String {
    let mut out = String::new();
    repr_str(s, &mut out);
    out
}

struct Parser<'p> {
    s: &'p [char],
    index: usize,
    next: Option<Tok>,
    flags: u32,
    groupdict: HashMap<String, usize>,
    /// Widths of the groups (index 0 unused); `None` while a group is open.
    groupwidths: Vec<Option<(u128, u128)>>,
    lookbehindgroups: Option<usize>,
    /// Conditional group references to check at the end, in first-seen order.
    grouprefpos: Vec<(u64, usize)>,
}

/// Parses and checks `pattern` as `re.compile(pattern)` does.
pub(super) fn parse(pattern: &str) -> Result<Parsed> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut p = Parser {
        s: &chars,
        index: 0,
        next: None,
        flags: 0,
        groupdict: HashMap::new(),
        groupwidths: vec![None],
        lookbehindgroups: None,
        grouprefpos: Vec::new(),
    };
    p.advance()?;
    let nodes = p.parse_sub(false, 0)?;
    if p.flags & flag::ASCII == 0 {
        p.flags |= flag::UNICODE;
    } else if p.flags & flag::UNICODE != 0 {
        return Err(ParseError::Py(PyError::new(
            "ValueError",
            "ASCII and UNICODE flags are incompatible",
        )));
    }
    if p.next.is_some() {
        return Err(p.error("unbalanced parenthesis", 0));
    }
    for &(group, pos) in &p.grouprefpos {
        if group >= p.groups() as u64 {
            return Err(p.error_at(&format!("invalid group reference {group}"), pos));
        }
    }
    p.compile_checks(&nodes)?;
    Ok(Parsed {
        nodes,
        flags: p.flags,
    })
}

impl Parser<'_> {
    fn advance(&mut self) -> Result<()> {
        let Some(&c) = self.s.get(self.index) else {
            self.next = None;
            return Ok(());
        };
        if c == '\\' {
            let Some(&e) = self.s.get(self.index + 1) else {
                return Err(self.error_at("bad escape (end of pattern)", self.s.len() - 1));
            };
            self.next = Some(Tok { c, esc: Some(e) });
            self.index += 2;
        } else {
            self.next = Some(Tok { c, esc: None });
            self.index += 1;
        }
        Ok(())
    }

    fn tell(&self) -> usize {
        self.index - self.next.map_or(0, |t| t.len())
    }

    fn seek(&mut self, index: usize) -> Result<()> {
        self.index = index;
        self.advance()
    }

    fn get(&mut self) -> Result<Option<Tok>> {
        let this = self.next;
        self.advance()?;
        Ok(this)
    }

    fn matches(&mut self, c: char) -> Result<bool> {
        if self.next.is_some_and(|t| t.is(c)) {
            self.advance()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn next_is(&self, pred: impl Fn(char) -> bool) -> bool {
        self.next.and_then(|t| t.plain()).is_some_and(pred)
    }

    fn getwhile(&mut self, n: usize, pred: impl Fn(char) -> bool) -> Result<String> {
        let mut out = String::new();
        for _ in 0..n {
            match self.next.and_then(|t| t.plain()) {
                Some(c) if pred(c) => {
                    out.push(c);
                    self.advance()?;
                }
                _ => break,
            }
        }
        Ok(out)
    }

    fn getuntil(&mut self, terminator: char, name: &str) -> Result<String> {
        let mut result = String::new();
        loop {
            let c = self.next;
            self.advance()?;
            let Some(c) = c else {
                if result.is_empty() {
                    return Err(self.error(&format!("missing {name}"), 0));
                }
                let len = result.chars().count();
                return Err(self.error(&format!("missing {terminator}, unterminated name"), len));
            };
            if c.is(terminator) {
                if result.is_empty() {
                    return Err(self.error(&format!("missing {name}"), 1));
                }
                return Ok(result);
            }
            result.push_str(&c.text());
        }
    }

    fn error(&self, msg: &str, offset: usize) -> ParseError {
        self.error_at(msg, self.tell().saturating_sub(offset))
    }

    /// `re.error(msg, pattern, pos)`: "<msg> at position <pos>", plus line and column
    /// when the pattern has several lines.
    fn error_at(&self, msg: &str, pos: usize) -> ParseError {
        let mut text = format!("{msg} at position {pos}");
        if self.s.contains(&'\n') {
            let before = &self.s[..pos.min(self.s.len())];
            let line = before.iter().filter(|&&c| c == '\n').count() + 1;
            let col = match before.iter().rposition(|&c| c == '\n') {
                Some(i) => pos - i,
                None => pos + 1,
            };
            text.push_str(&format!(" (line {line}, column {col})"));
        }
        ParseError::Re(text)
    }

    fn groups(&self) -> usize {
        self.groupwidths.len()
    }

    fn checkgroup(&self, gid: u64) -> bool {
        (gid as usize) < self.groups()
            && gid < MAXGROUPS
            && self.groupwidths[gid as usize].is_some()
    }

    fn checklookbehindgroup(&self, gid: u64) -> Result<()> {
        if let Some(lb) = self.lookbehindgroups {
            if !self.checkgroup(gid) {
                return Err(self.error("cannot refer to an open group", 0));
            }
            if gid >= lb as u64 {
                return Err(self.error(
                    "cannot refer to group defined in the same lookbehind subpattern",
                    0,
                ));
            }
        }
        Ok(())
    }

    fn checkgroupname(&self, name: &str, offset: usize) -> Result<()> {
        if !uni::is_identifier(name) {
            return Err(self.error(
                &format!("bad character in group name {}", py_repr(name)),
                name.chars().count() + offset,
            ));
        }
        Ok(())
    }

    fn parse_sub(&mut self, verbose: bool, nested: usize) -> Result<Vec<Node>> {
        if nested > MAX_NESTING {
            return Err(ParseError::Unsupported(format!(
                "groups nested deeper than {MAX_NESTING} levels"
            )));
        }
        let mut verbose = verbose;
        let mut items: Vec<Vec<Node>> = Vec::new();
        loop {
            let first = nested == 0 && items.is_empty();
            items.push(self.parse_seq(verbose, nested + 1, first)?);
            if !self.matches('|')? {
                break;
            }
            if nested == 0 {
                verbose = self.flags & flag::VERBOSE != 0;
            }
        }
        if items.len() == 1 {
            return Ok(items.pop().unwrap_or_default());
        }
        let mut out = Vec::new();
        // A common first item of all alternatives moves out of the branch.
        while let Some(prefix) = items[0].first().cloned() {
            if !items
                .iter()
                .all(|item| item.first().is_some_and(|n| n.same_flat_item(&prefix)))
            {
                break;
            }
            for item in items.iter_mut() {
                item.remove(0);
            }
            out.push(prefix);
        }
        // Alternatives of single characters or sets become one set.
        let mut set = Vec::new();
        let all_single = items.iter().all(|item| match item.as_slice() {
            [Node::Literal(c)] => {
                set.push(SetItem::Literal(*c));
                true
            }
            [
                Node::In {
                    negate: false,
                    items,
                },
            ] => {
                set.extend(items.iter().copied());
                true
            }
            _ => false,
        });
        if all_single {
            out.push(Node::In {
                negate: false,
                items: uniq(set),
            });
        } else {
            out.push(Node::Branch(items));
        }
        Ok(out)
    }

    fn parse_seq(&mut self, verbose: bool, nested: usize, first: bool) -> Result<Vec<Node>> {
        let mut verbose = verbose;
        let mut sp: Vec<Node> = Vec::new();
        while let Some(this) = self.next {
            if this.is('|') || this.is(')') {
                break;
            }
            self.advance()?;
            if verbose {
                if matches!(
                    this.plain(),
                    Some(' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
                ) {
                    continue;
                }
                if this.is('#') {
                    while let Some(t) = self.get()? {
                        if t.is('\n') {
                            break;
                        }
                    }
                    continue;
                }
            }
            if let Some(e) = this.esc {
                let node = self.escape(e)?;
                sp.push(node);
                continue;
            }
            match this.c {
                '[' => {
                    let node = self.parse_class()?;
                    sp.push(node);
                }
                '*' | '+' | '?' | '{' => self.parse_repeat(this.c, &mut sp)?,
                '.' => sp.push(Node::Any),
                '(' => {
                    if let Some(node) =
                        self.parse_group(&mut verbose, nested, first, sp.is_empty())?
                    {
                        sp.push(node);
                    }
                }
                '^' => sp.push(Node::At(At::Beginning)),
                '$' => sp.push(Node::At(At::End)),
                c => sp.push(Node::Literal(c as u32)),
            }
        }
        // Plain non-capturing groups dissolve into the sequence.
        let mut out = Vec::with_capacity(sp.len());
        for node in sp {
            match node {
                Node::Group {
                    index: None,
                    add: 0,
                    del: 0,
                    body,
                } => out.extend(body),
                node => out.push(node),
            }
        }
        Ok(out)
    }

    fn parse_class(&mut self) -> Result<Node> {
        enum Code {
            Lit(u32),
            Cat(Category),
        }
        let here = self.tell() - 1;
        let negate = self.matches('^')?;
        let mut set: Vec<SetItem> = Vec::new();
        let as_item = |code: Code| match code {
            Code::Lit(c) => SetItem::Literal(c),
            Code::Cat(cat) => SetItem::Category(cat),
        };
        loop {
            let Some(this) = self.get()? else {
                return Err(self.error("unterminated character set", self.tell() - here));
            };
            if this.is(']') && !set.is_empty() {
                break;
            }
            let code1 = match this.esc {
                Some(e) => match self.class_escape(e)? {
                    SetItem::Category(cat) => Code::Cat(cat),
                    SetItem::Literal(c) | SetItem::Range(c, _) => Code::Lit(c),
                },
                None => Code::Lit(this.c as u32),
            };
            if self.matches('-')? {
                let Some(that) = self.get()? else {
                    return Err(self.error("unterminated character set", self.tell() - here));
                };
                if that.is(']') {
                    set.push(as_item(code1));
                    set.push(SetItem::Literal('-' as u32));
                    break;
                }
                let code2 = match that.esc {
                    Some(e) => self.class_escape(e)?,
                    None => SetItem::Literal(that.c as u32),
                };
                let bad = || format!("bad character range {}-{}", this.text(), that.text());
                let offset = this.len() + 1 + that.len();
                let (Code::Lit(lo), SetItem::Literal(hi)) = (code1, code2) else {
                    return Err(self.error(&bad(), offset));
                };
                if hi < lo {
                    return Err(self.error(&bad(), offset));
                }
                set.push(SetItem::Range(lo, hi));
            } else {
                set.push(as_item(code1));
            }
        }
        let set = uniq(set);
        Ok(match set.as_slice() {
            [SetItem::Literal(c)] if negate => Node::NotLiteral(*c),
            [SetItem::Literal(c)] => Node::Literal(*c),
            _ => Node::In { negate, items: set },
        })
    }

    fn parse_repeat(&mut self, this: char, sp: &mut Vec<Node>) -> Result<()> {
        let here = self.tell();
        let (min, max) = match this {
            '?' => (0, 1),
            '*' => (0, MAXREPEAT),
            '+' => (1, MAXREPEAT),
            _ => {
                if self.next.is_some_and(|t| t.is('}')) {
                    sp.push(Node::Literal('{' as u32));
                    return Ok(());
                }
                let is_digit = |c: char| c.is_ascii_digit();
                let mut lo = String::new();
                while self.next_is(is_digit) {
                    lo.push(self.next.map_or('0', |t| t.c));
                    self.advance()?;
                }
                let hi = if self.matches(',')? {
                    let mut hi = String::new();
                    while self.next_is(is_digit) {
                        hi.push(self.next.map_or('0', |t| t.c));
                        self.advance()?;
                    }
                    hi
                } else {
                    lo.clone()
                };
                if !self.matches('}')? {
                    sp.push(Node::Literal('{' as u32));
                    self.seek(here)?;
                    return Ok(());
                }
                let count = |digits: &str| -> Result<u64> {
                    let n = digits
                        .bytes()
                        .try_fold(0u64, |acc, d| {
                            acc.checked_mul(10)?.checked_add((d - b'0') as u64)
                        })
                        .filter(|&n| n < MAXREPEAT);
                    n.ok_or_else(|| {
                        ParseError::Py(PyError::new(
                            "OverflowError",
                            "the repetition number is too large",
                        ))
                    })
                };
                let min = if lo.is_empty() { 0 } else { count(&lo)? };
                let mut max = MAXREPEAT;
                if !hi.is_empty() {
                    max = count(&hi)?;
                    if max < min {
                        return Err(
                            self.error("min repeat greater than max repeat", self.tell() - here)
                        );
                    }
                }
                (min, max)
            }
        };
        match sp.last() {
            None | Some(Node::At(_)) => {
                return Err(self.error("nothing to repeat", self.tell() - here + 1));
            }
            Some(Node::Repeat { .. }) => {
                return Err(self.error("multiple repeat", self.tell() - here + 1));
            }
            _ => {}
        }
        let body = match sp.pop() {
            Some(Node::Group {
                index: None,
                add: 0,
                del: 0,
                body,
            }) => body,
            Some(node) => vec![node],
            None => Vec::new(),
        };
        let kind = if self.matches('?')? {
            RepeatKind::Lazy
        } else if self.matches('+')? {
            RepeatKind::Possessive
        } else {
            RepeatKind::Greedy
        };
        sp.push(Node::Repeat {
            min,
            max,
            kind,
            body,
        });
        Ok(())
    }

    /// After `(`; `None` when nothing is added (comments, global flags).
    fn parse_group(
        &mut self,
        verbose: &mut bool,
        nested: usize,
        first: bool,
        at_start: bool,
    ) -> Result<Option<Node>> {
        let start = self.tell() - 1;
        let mut capture = true;
        let mut atomic = false;
        let mut name: Option<String> = None;
        let (mut add, mut del) = (0, 0);
        if self.matches('?')? {
            let Some(ch) = self.get()? else {
                return Err(self.error("unexpected end of pattern", 0));
            };
            match ch.plain() {
                Some('P') => {
                    if self.matches('<')? {
                        let n = self.getuntil('>', "group name")?;
                        self.checkgroupname(&n, 1)?;
                        name = Some(n);
                    } else if self.matches('=')? {
                        let n = self.getuntil(')', "group name")?;
                        self.checkgroupname(&n, 1)?;
                        let offset = n.chars().count() + 1;
                        let Some(&gid) = self.groupdict.get(&n) else {
                            return Err(
                                self.error(&format!("unknown group name {}", py_repr(&n)), offset)
                            );
                        };
                        if !self.checkgroup(gid as u64) {
                            return Err(self.error("cannot refer to an open group", offset));
                        }
                        self.checklookbehindgroup(gid as u64)?;
                        return Ok(Some(Node::GroupRef(gid)));
                    } else {
                        let Some(c) = self.get()? else {
                            return Err(self.error("unexpected end of pattern", 0));
                        };
                        return Err(
                            self.error(&format!("unknown extension ?P{}", c.text()), c.len() + 2)
                        );
                    }
                }
                Some(':') => capture = false,
                Some('#') => {
                    loop {
                        if self.next.is_none() {
                            return Err(
                                self.error("missing ), unterminated comment", self.tell() - start)
                            );
                        }
                        if self.get()?.is_some_and(|t| t.is(')')) {
                            break;
                        }
                    }
                    return Ok(None);
                }
                Some(c @ ('=' | '!' | '<')) => {
                    let mut kind = c;
                    let mut behind = false;
                    let saved = self.lookbehindgroups;
                    if c == '<' {
                        let Some(k) = self.get()? else {
                            return Err(self.error("unexpected end of pattern", 0));
                        };
                        match k.plain() {
                            Some(k @ ('=' | '!')) => kind = k,
                            _ => {
                                return Err(self.error(
                                    &format!("unknown extension ?<{}", k.text()),
                                    k.len() + 2,
                                ));
                            }
                        }
                        behind = true;
                        if saved.is_none() {
                            self.lookbehindgroups = Some(self.groups());
                        }
                    }
                    let body = self.parse_sub(*verbose, nested + 1)?;
                    if behind && saved.is_none() {
                        self.lookbehindgroups = None;
                    }
                    if !self.matches(')')? {
                        return Err(
                            self.error("missing ), unterminated subpattern", self.tell() - start)
                        );
                    }
                    return Ok(Some(Node::Assert {
                        behind,
                        negate: kind == '!',
                        body,
                    }));
                }
                Some('(') => return self.parse_conditional(*verbose, nested, start).map(Some),
                Some('>') => {
                    capture = false;
                    atomic = true;
                }
                Some(c) if c == '-' || flag::from_char(c).is_some() => {
                    match self.parse_flags(ch)? {
                        None => {
                            if !first || !at_start {
                                return Err(self.error(
                                    "global flags not at the start of the expression",
                                    self.tell() - start,
                                ));
                            }
                            *verbose = self.flags & flag::VERBOSE != 0;
                            return Ok(None);
                        }
                        Some((a, d)) => {
                            add = a;
                            del = d;
                            capture = false;
                        }
                    }
                }
                _ => {
                    return Err(
                        self.error(&format!("unknown extension ?{}", ch.text()), ch.len() + 1)
                    );
                }
            }
        }
        let index = if capture {
            let gid = self.groups();
            if let Some(n) = &name {
                if let Some(&old) = self.groupdict.get(n) {
                    let msg = format!(
                        "redefinition of group name {} as group {gid}; was group {old}",
                        py_repr(n)
                    );
                    return Err(self.error(&msg, n.chars().count() + 1));
                }
                self.groupdict.insert(n.clone(), gid);
            }
            self.groupwidths.push(None);
            Some(gid)
        } else {
            None
        };
        let sub_verbose = (*verbose || add & flag::VERBOSE != 0) && del & flag::VERBOSE == 0;
        let body = self.parse_sub(sub_verbose, nested + 1)?;
        if !self.matches(')')? {
            return Err(self.error("missing ), unterminated subpattern", self.tell() - start));
        }
        if let Some(gid) = index {
            self.groupwidths[gid] = Some(self.width(&body));
        }
        Ok(Some(if atomic {
            Node::Atomic(body)
        } else {
            Node::Group {
                index,
                add,
                del,
                body,
            }
        }))
    }

    fn parse_conditional(&mut self, verbose: bool, nested: usize, start: usize) -> Result<Node> {
        let condname = self.getuntil(')', "group name")?;
        let offset = condname.chars().count() + 1;
        let group: u64 = if uni::is_identifier(&condname) {
            match self.groupdict.get(&condname) {
                Some(&g) => g as u64,
                None => {
                    return Err(self.error(
                        &format!("unknown group name {}", py_repr(&condname)),
                        offset,
                    ));
                }
            }
        } else {
            let bad = || format!("bad character in group name {}", py_repr(&condname));
            let n = int_from_str(&condname).map_err(|_| self.error(&bad(), offset))?;
            if n < crate::py::PyInt::from_i128(0) {
                return Err(self.error(&bad(), offset));
            }
            let g = n.to_u64().filter(|&g| g < MAXGROUPS);
            if g == Some(0) {
                return Err(self.error("bad group number", offset));
            }
            let Some(g) = g else {
                return Err(self.error(&format!("invalid group reference {n}"), offset));
            };
            if !self.grouprefpos.iter().any(|&(x, _)| x == g) {
                self.grouprefpos.push((g, self.tell() - offset));
            }
            g
        };
        self.checklookbehindgroup(group)?;
        let yes = self.parse_seq(verbose, nested + 1, false)?;
        let no = if self.matches('|')? {
            let no = self.parse_seq(verbose, nested + 1, false)?;
            if self.next.is_some_and(|t| t.is('|')) {
                return Err(self.error("conditional backref with more than two branches", 0));
            }
            Some(no)
        } else {
            None
        };
        if !self.matches(')')? {
            return Err(self.error("missing ), unterminated subpattern", self.tell() - start));
        }
        Ok(Node::GroupRefExists {
            group: group as usize,
            yes,
            no,
        })
    }

    /// `_parse_flags`: `None` for global flags `(?x)`, else the scoped (add, del) pair.
    fn parse_flags(&mut self, first: Tok) -> Result<Option<(u32, u32)>> {
        let mut add = 0;
        let mut del = 0;
        let mut ch = first;
        let flag_of = |t: &Tok| t.plain().and_then(flag::from_char);
        if !ch.is('-') {
            loop {
                let f = flag_of(&ch).unwrap_or(0);
                if ch.is('L') {
                    return Err(self.error(
                        "bad inline flags: cannot use 'L' flag with a str pattern",
                        0,
                    ));
                }
                add |= f;
                if f & flag::TYPE_FLAGS != 0 && add & flag::TYPE_FLAGS != f {
                    return Err(self.error(
                        "bad inline flags: flags 'a', 'u' and 'L' are incompatible",
                        0,
                    ));
                }
                let Some(next) = self.get()? else {
                    return Err(self.error("missing -, : or )", 0));
                };
                ch = next;
                if ch.is(')') || ch.is('-') || ch.is(':') {
                    break;
                }
                if flag_of(&ch).is_none() {
                    let msg = if ch.is_alpha() {
                        "unknown flag"
                    } else {
                        "missing -, : or )"
                    };
                    return Err(self.error(msg, ch.len()));
                }
            }
        }
        if ch.is(')') {
            self.flags |= add;
            return Ok(None);
        }
        if add & flag::GLOBAL_FLAGS != 0 {
            return Err(self.error("bad inline flags: cannot turn on global flag", 1));
        }
        if ch.is('-') {
            let Some(next) = self.get()? else {
                return Err(self.error("missing flag", 0));
            };
            ch = next;
            if flag_of(&ch).is_none() {
                let msg = if ch.is_alpha() {
                    "unknown flag"
                } else {
                    "missing flag"
                };
                return Err(self.error(msg, ch.len()));
            }
            loop {
                let f = flag_of(&ch).unwrap_or(0);
                if f & flag::TYPE_FLAGS != 0 {
                    return Err(self.error(
                        "bad inline flags: cannot turn off flags 'a', 'u' and 'L'",
                        0,
                    ));
                }
                del |= f;
                let Some(next) = self.get()? else {
                    return Err(self.error("missing :", 0));
                };
                ch = next;
                if ch.is(':') {
                    break;
                }
                if flag_of(&ch).is_none() {
                    let msg = if ch.is_alpha() {
                        "unknown flag"
                    } else {
                        "missing :"
                    };
                    return Err(self.error(msg, ch.len()));
                }
            }
        }
        if del & flag::GLOBAL_FLAGS != 0 {
            return Err(self.error("bad inline flags: cannot turn off global flag", 1));
        }
        if add & del != 0 {
            return Err(self.error("bad inline flags: flag turned on and off", 1));
        }
        Ok(Some((add, del)))
    }

    /// The hexadecimal escapes `\xhh`, `\uhhhh`, `\Uhhhhhhhh` (shared by both contexts).
    fn hex_escape(&mut self, e: char, digits: usize) -> Result<u32> {
        let mut escape = format!("\\{e}");
        escape.push_str(&self.getwhile(digits, |c| c.is_ascii_hexdigit())?);
        let len = escape.chars().count();
        if len != digits + 2 {
            return Err(self.error(&format!("incomplete escape {escape}"), len));
        }
        let value = u32::from_str_radix(&escape[2..], 16).unwrap_or(u32::MAX);
        if value > 0x10FFFF {
            return Err(self.error(&format!("bad escape {escape}"), len));
        }
        Ok(value)
    }

    /// `\N{NAME}`: the syntax is checked as Python does, but names cannot be resolved here.
    fn named_escape(&mut self) -> Result<u32> {
        if !self.matches('{')? {
            return Err(self.error("missing {", 0));
        }
        let name = self.getuntil('}', "character name")?;
        Err(ParseError::Unsupported(format!(
            "named character escape \\N{{{name}}}"
        )))
    }

    fn escape(&mut self, e: char) -> Result<Node> {
        let in_cat = |cat| Node::In {
            negate: false,
            items: vec![SetItem::Category(cat)],
        };
        Ok(match e {
            'A' => Node::At(At::BeginningString),
            'b' => Node::At(At::Boundary),
            'B' => Node::At(At::NonBoundary),
            'Z' => Node::At(At::EndString),
            'd' => in_cat(Category::Digit),
            'D' => in_cat(Category::NotDigit),
            's' => in_cat(Category::Space),
            'S' => in_cat(Category::NotSpace),
            'w' => in_cat(Category::Word),
            'W' => in_cat(Category::NotWord),
            'a' => Node::Literal(7),
            'f' => Node::Literal(12),
            'n' => Node::Literal(10),
            'r' => Node::Literal(13),
            't' => Node::Literal(9),
            'v' => Node::Literal(11),
            'x' => Node::Literal(self.hex_escape(e, 2)?),
            'u' => Node::Literal(self.hex_escape(e, 4)?),
            'U' => Node::Literal(self.hex_escape(e, 8)?),
            'N' => Node::Literal(self.named_escape()?),
            '0' => {
                let digits = self.getwhile(2, |c| ('0'..='7').contains(&c))?;
                Node::Literal(u32::from_str_radix(&format!("0{digits}"), 8).unwrap_or(0))
            }
            '1'..='9' => {
                let mut escape = format!("\\{e}");
                if self.next_is(|c| c.is_ascii_digit()) {
                    let d = self.next.map_or('0', |t| t.c);
                    self.advance()?;
                    escape.push(d);
                    let is_oct = |c: char| ('0'..='7').contains(&c);
                    if is_oct(e) && is_oct(d) && self.next_is(is_oct) {
                        let d3 = self.next.map_or('0', |t| t.c);
                        self.advance()?;
                        escape.push(d3);
                        let value = u32::from_str_radix(&escape[1..], 8).unwrap_or(u32::MAX);
                        if value > 0o377 {
                            return Err(self.error(
                                &format!("octal escape value {escape} outside of range 0-0o377"),
                                escape.len(),
                            ));
                        }
                        return Ok(Node::Literal(value));
                    }
                }
                let group: usize = escape[1..].parse().unwrap_or(usize::MAX);
                if group < self.groups() {
                    if !self.checkgroup(group as u64) {
                        return Err(self.error("cannot refer to an open group", escape.len()));
                    }
                    self.checklookbehindgroup(group as u64)?;
                    return Ok(Node::GroupRef(group));
                }
                return Err(self.error(
                    &format!("invalid group reference {group}"),
                    escape.len() - 1,
                ));
            }
            c if c.is_ascii_alphabetic() => {
                return Err(self.error(&format!("bad escape \\{c}"), 2));
            }
            c => Node::Literal(c as u32),
        })
    }

    fn class_escape(&mut self, e: char) -> Result<SetItem> {
        Ok(match e {
            'a' => SetItem::Literal(7),
            'b' => SetItem::Literal(8),
            'f' => SetItem::Literal(12),
            'n' => SetItem::Literal(10),
            'r' => SetItem::Literal(13),
            't' => SetItem::Literal(9),
            'v' => SetItem::Literal(11),
            'd' => SetItem::Category(Category::Digit),
            'D' => SetItem::Category(Category::NotDigit),
            's' => SetItem::Category(Category::Space),
            'S' => SetItem::Category(Category::NotSpace),
            'w' => SetItem::Category(Category::Word),
            'W' => SetItem::Category(Category::NotWord),
            'x' => SetItem::Literal(self.hex_escape(e, 2)?),
            'u' => SetItem::Literal(self.hex_escape(e, 4)?),
            'U' => SetItem::Literal(self.hex_escape(e, 8)?),
            'N' => SetItem::Literal(self.named_escape()?),
            '0'..='7' => {
                let mut escape = format!("\\{e}");
                escape.push_str(&self.getwhile(2, |c| ('0'..='7').contains(&c))?);
                let value = u32::from_str_radix(&escape[1..], 8).unwrap_or(u32::MAX);
                if value > 0o377 {
                    return Err(self.error(
                        &format!("octal escape value {escape} outside of range 0-0o377"),
                        escape.len(),
                    ));
                }
                SetItem::Literal(value)
            }
            c if c.is_ascii_alphanumeric() => {
                return Err(self.error(&format!("bad escape \\{c}"), 2));
            }
            c => SetItem::Literal(c as u32),
        })
    }

    /// (min, max) number of characters `nodes` can match, capped as `getwidth` caps it.
    fn width(&self, nodes: &[Node]) -> (u128, u128) {
        let (mut lo, mut hi) = (0u128, 0u128);
        for node in nodes {
            let (i, j) = match node {
                Node::Branch(branches) => {
                    let widths: Vec<_> = branches.iter().map(|b| self.width(b)).collect();
                    (
                        widths.iter().map(|w| w.0).min().unwrap_or(MAXWIDTH),
                        widths.iter().map(|w| w.1).max().unwrap_or(0),
                    )
                }
                Node::Atomic(body) | Node::Group { body, .. } => self.width(body),
                Node::Repeat { min, max, body, .. } => {
                    let (i, j) = self.width(body);
                    let hi = if *max == MAXREPEAT && j != 0 {
                        MAXWIDTH
                    } else {
                        j * *max as u128
                    };
                    (i * *min as u128, hi)
                }
                Node::Literal(_) | Node::NotLiteral(_) | Node::In { .. } | Node::Any => (1, 1),
                Node::GroupRef(g) => self
                    .groupwidths
                    .get(*g)
                    .copied()
                    .flatten()
                    .unwrap_or((0, 0)),
                Node::GroupRefExists { yes, no, .. } => {
                    let (i, j) = self.width(yes);
                    match no {
                        Some(no) => {
                            let (l, h) = self.width(no);
                            (i.min(l), j.max(h))
                        }
                        None => (0, j),
                    }
                }
                Node::At(_) | Node::Assert { .. } => (0, 0),
            };
            lo = lo.saturating_add(i);
            hi = if hi >= MAXWIDTH {
                hi
            } else {
                hi.saturating_add(j)
            };
        }
        (lo.min(MAXWIDTH), hi.min(MAXWIDTH))
    }

    /// The errors `re._compiler` raises, in its traversal order.
    fn compile_checks(&self, nodes: &[Node]) -> Result<()> {
        for node in nodes {
            match node {
                Node::Repeat { kind, body, .. } => {
                    if self.flags & flag::TEMPLATE != 0 {
                        let op = match kind {
                            RepeatKind::Greedy => "MAX_REPEAT",
                            RepeatKind::Lazy => "MIN_REPEAT",
                            RepeatKind::Possessive => "POSSESSIVE_REPEAT",
                        };
                        return Err(ParseError::Re(format!(
                            "internal: unsupported template operator {op}"
                        )));
                    }
                    self.compile_checks(body)?;
                }
                Node::Group { body, .. } | Node::Atomic(body) => self.compile_checks(body)?,
                Node::Assert { behind, body, .. } => {
                    if *behind {
                        let (lo, hi) = self.width(body);
                        if lo > MAXCODE {
                            return Err(ParseError::Re("looks too much behind".into()));
                        }
                        if lo != hi {
                            return Err(ParseError::Re(
                                "look-behind requires fixed-width pattern".into(),
                            ));
                        }
                    }
                    self.compile_checks(body)?;
                }
                Node::Branch(branches) => {
                    for b in branches {
                        self.compile_checks(b)?;
                    }
                }
                Node::GroupRefExists { yes, no, .. } => {
                    self.compile_checks(yes)?;
                    if let Some(no) = no {
                        self.compile_checks(no)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// `_uniq`: drop repeated set items, keeping the first occurrence.
fn uniq(items: Vec<SetItem>) -> Vec<SetItem> {
    let mut out: Vec<SetItem> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
