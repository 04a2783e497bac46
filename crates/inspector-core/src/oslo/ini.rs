//! The INI dialect of oslo.config (`oslo_config/iniparser.py` plus the
//! section bookkeeping of `cfg.ConfigParser`):
//!
//! * lines end at `\n`, `\r\n` or `\r`; trailing whitespace is ignored;
//! * whole-line comments start with `#` or `;` (no inline comments);
//! * `key = value` or `key: value`, whichever separator comes first;
//!   key and value are stripped and one pair of matching quotes around the
//!   value is removed;
//! * a line starting with a space or a tab continues the previous value
//!   (joined with `\n`); a blank line ends it;
//! * the same key may appear several times (multi-valued options).

use std::fmt;

use crate::py;

/// One `key = value` assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub key: String,
    pub value: String,
    /// 1-based line of the key.
    pub line: usize,
}

/// A `[section]` and the assignments under it, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name exactly as written between the brackets.
    pub name: String,
    /// 1-based line of the header.
    pub line: usize,
    pub assignments: Vec<Assignment>,
}

/// A parsed file: its sections in file order (a header that appears twice
/// gives two entries with the same name).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    pub sections: Vec<Section>,
}

/// A syntax error; oslo.config refuses to load the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line number.
    pub line: usize,
    /// oslo.config's description of the problem.
    pub message: &'static str,
    /// The offending line (trailing whitespace removed).
    pub text: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, {}: {}",
            self.line,
            self.message,
            py::value::str_repr(&self.text)
        )
    }
}

pub const NO_SEPARATOR: &str = "No ':' or '=' found in assignment";
pub const EMPTY_KEY: &str = "Key cannot be empty";
pub const UNEXPECTED_CONTINUATION: &str = "Unexpected continuation line";
pub const NO_END_BRACKET: &str = "Invalid section (must end with ])";
pub const EMPTY_SECTION: &str = "Empty section name";
pub const NO_SECTION: &str = "Section must be started before assignment";

/// Splits text into lines the way Python's universal-newline reading does.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find(['\n', '\r']) {
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
                Some(line)
            }
            None => {
                let line = rest;
                rest = "";
                Some(line)
            }
        }
    })
}

/// An assignment being collected (it may continue on the next lines).
struct Pending {
    key: String,
    parts: Vec<String>,
    line: usize,
    text: String,
}

/// Parses one file. Unlike oslo.config, which stops at the first problem,
/// every syntax error of the file is reported.
pub fn parse(text: &str) -> Result<Document, Vec<SyntaxError>> {
    // A UTF-8 byte order mark would otherwise make the first line garbage.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut doc = Document::default();
    let mut errors = Vec::new();
    let mut pending: Option<Pending> = None;

    let flush =
        |pending: &mut Option<Pending>, doc: &mut Document, errors: &mut Vec<SyntaxError>| {
            if let Some(p) = pending.take() {
                match doc.sections.last_mut() {
                    Some(section) => section.assignments.push(Assignment {
                        key: p.key,
                        value: p.parts.join("\n"),
                        line: p.line,
                    }),
                    None => errors.push(SyntaxError {
                        line: p.line,
                        message: NO_SECTION,
                        text: p.text,
                    }),
                }
            }
        };

    for (index, raw) in lines(text).enumerate() {
        let lineno = index + 1;
        let line = py::text::rstrip(raw);
        if line.is_empty() {
            flush(&mut pending, &mut doc, &mut errors);
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match pending.as_mut() {
                Some(p) => p.parts.push(py::text::lstrip(line).to_string()),
                None => errors.push(SyntaxError {
                    line: lineno,
                    message: UNEXPECTED_CONTINUATION,
                    text: line.to_string(),
                }),
            }
            continue;
        }
        flush(&mut pending, &mut doc, &mut errors);

        if line.starts_with('[') {
            if !line.ends_with(']') {
                errors.push(SyntaxError {
                    line: lineno,
                    message: NO_END_BRACKET,
                    text: line.to_string(),
                });
            } else if line.chars().count() <= 2 {
                errors.push(SyntaxError {
                    line: lineno,
                    message: EMPTY_SECTION,
                    text: line.to_string(),
                });
            } else {
                doc.sections.push(Section {
                    name: line[1..line.len() - 1].to_string(),
                    line: lineno,
                    assignments: Vec::new(),
                });
            }
        } else if line.starts_with(['#', ';']) {
            // Comment.
        } else {
            match split_key_value(line) {
                Ok(("", _)) => {
                    errors.push(SyntaxError {
                        line: lineno,
                        message: EMPTY_KEY,
                        text: line.to_string(),
                    });
                }
                Ok((key, value)) => {
                    pending = Some(Pending {
                        key: key.to_string(),
                        parts: vec![value.to_string()],
                        line: lineno,
                        text: line.to_string(),
                    });
                }
                Err(message) => errors.push(SyntaxError {
                    line: lineno,
                    message,
                    text: line.to_string(),
                }),
            }
        }
    }
    flush(&mut pending, &mut doc, &mut errors);

    if errors.is_empty() {
        Ok(doc)
    } else {
        Err(errors)
    }
}

/// Splits `key = value` / `key: value` at whichever separator comes first.
fn split_key_value(line: &str) -> Result<(&str, &str), &'static str> {
    let sep = line.find([':', '=']).ok_or(NO_SEPARATOR)?;
    let key = py::text::strip(&line[..sep]);
    let mut value = py::text::strip(&line[sep + 1..]);
    // One pair of matching quotes is removed; a lone quote becomes empty.
    if let (Some(first), Some(last)) = (value.chars().next(), value.chars().last())
        && (first == '"' || first == '\'')
        && first == last
    {
        value = if value.len() == 1 {
            ""
        } else {
            &value[1..value.len() - 1]
        };
    }
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(doc: &Document) -> Vec<(String, String, String)> {
        doc.sections
            .iter()
            .flat_map(|s| {
                s.assignments
                    .iter()
                    .map(|a| (s.name.clone(), a.key.clone(), a.value.clone()))
            })
            .collect()
    }

    fn triple(s: &str, k: &str, v: &str) -> (String, String, String) {
        (s.into(), k.into(), v.into())
    }

    #[test]
    fn basic_assignments_and_separators() {
        let doc = parse("[DEFAULT]\na = 1\nb: 2\nc=x:y\nd:x=y\n  \ne=\n").unwrap();
        assert_eq!(
            kv(&doc),
            vec![
                triple("DEFAULT", "a", "1"),
                triple("DEFAULT", "b", "2"),
                triple("DEFAULT", "c", "x:y"),
                triple("DEFAULT", "d", "x=y"),
                triple("DEFAULT", "e", ""),
            ]
        );
        assert_eq!(doc.sections[0].assignments[1].line, 3);
    }

    #[test]
    fn quotes_are_removed_once_and_only_when_matching() {
        let doc =
            parse("[s]\na = \"x\"\nb = 'y'\nc = \"z'\nd = \"\"q\"\"\ne = \"\nf = 'a' , 'b'\n")
                .unwrap();
        assert_eq!(
            kv(&doc),
            vec![
                triple("s", "a", "x"),
                triple("s", "b", "y"),
                triple("s", "c", "\"z'"),
                triple("s", "d", "\"q\""),
                triple("s", "e", ""),
                triple("s", "f", "a' , 'b"),
            ]
        );
    }

    #[test]
    fn comments_are_whole_lines_only() {
        let doc = parse("# c\n; c\n[s]\na = 1 # not a comment\n#b = 2\n").unwrap();
        assert_eq!(kv(&doc), vec![triple("s", "a", "1 # not a comment")]);
    }

    #[test]
    fn continuation_lines_join_with_newline() {
        let doc = parse("[s]\na = one\n  two\n\tthree  \n\n  b = 1\n").unwrap_err();
        // The indented line after a blank one has nothing to continue.
        assert_eq!(
            doc,
            vec![SyntaxError {
                line: 6,
                message: UNEXPECTED_CONTINUATION,
                text: "  b = 1".into()
            }]
        );
        let doc = parse("[s]\na = one\n  two\n\tthree  \nb = 2\n").unwrap();
        assert_eq!(
            kv(&doc),
            vec![triple("s", "a", "one\ntwo\nthree"), triple("s", "b", "2")]
        );
    }

    #[test]
    fn duplicate_keys_and_sections_are_kept() {
        let doc = parse("[s]\na = 1\na = 2\n[t]\n[s]\na = 3\n").unwrap();
        assert_eq!(doc.sections.len(), 3);
        assert_eq!(
            kv(&doc),
            vec![
                triple("s", "a", "1"),
                triple("s", "a", "2"),
                triple("s", "a", "3")
            ]
        );
    }

    #[test]
    fn line_endings() {
        let doc = parse("[s]\r\na = 1\rb = 2\r\n").unwrap();
        assert_eq!(kv(&doc), vec![triple("s", "a", "1"), triple("s", "b", "2")]);
        assert_eq!(doc.sections[0].assignments[1].line, 3);
    }

    #[test]
    fn section_names_are_verbatim() {
        let doc = parse("[ Processing ]\n[[x]]\n[a]b]\n").unwrap();
        let names: Vec<_> = doc.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec![" Processing ", "[x]", "a]b"]);
    }

    #[test]
    fn every_error_is_reported_with_its_line() {
        let errors = parse("a = 1\n[s\n[]\nnovalue\n= 3\n  x\n[ok] # c\n").unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.line, e.message)).collect();
        assert_eq!(
            got,
            vec![
                (1, NO_SECTION),
                (2, NO_END_BRACKET),
                (3, EMPTY_SECTION),
                (4, NO_SEPARATOR),
                (5, EMPTY_KEY),
                (6, UNEXPECTED_CONTINUATION),
                (7, NO_END_BRACKET),
            ]
        );
        assert_eq!(
            errors[3].to_string(),
            "line 4, No ':' or '=' found in assignment: 'novalue'"
        );
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let doc = parse("\u{feff}[s]\na=1\n").unwrap();
        assert_eq!(kv(&doc), vec![triple("s", "a", "1")]);
    }
}
