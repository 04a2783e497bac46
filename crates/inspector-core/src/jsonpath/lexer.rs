//! Tokenizer reproducing jsonpath-rw's PLY lexer, including its error texts.
//!
//! Positions are counted in characters (Python string indices), lines from 1,
//! and the column is measured from the latest newline, exactly as PLY reports them.

use super::ParseError;

/// Kind of a token, named like the PLY token type shown in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Id,
    Number,
    NamedOperator,
    DoubleDot,
    Where,
    /// One of `* . [ ] ( ) $ , : | &`; PLY names a literal token by the character itself.
    Literal(char),
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub kind: Kind,
    /// What Python prints for the token value (a NUMBER is printed as the parsed int).
    pub text: String,
    /// NUMBER value, saturated to i128: far beyond any length or Python's index range,
    /// so `[n]` and slices behave the same (only a KeyError text could differ).
    pub number: i128,
    pub line: usize,
    pub col: usize,
    /// Absolute character offset, used by the "Unknown named operator" message.
    pub pos: usize,
}

impl Token {
    pub fn is(&self, c: char) -> bool {
        self.kind == Kind::Literal(c)
    }

    pub fn kind_name(&self) -> String {
        match self.kind {
            Kind::Id => "ID".into(),
            Kind::Number => "NUMBER".into(),
            Kind::NamedOperator => "NAMED_OPERATOR".into(),
            Kind::DoubleDot => "DOUBLEDOT".into(),
            Kind::Where => "WHERE".into(),
            Kind::Literal(c) => c.into(),
        }
    }
}

/// Value of `c` if Python's `\d` matches it (and `int()` then reads it).
fn py_digit(c: char) -> Option<u32> {
    crate::py::text::decimal_value(c)
}

fn is_id_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@'
}

fn is_id_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == '-'
}

pub(super) struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    latest_newline: usize,
}

impl Lexer {
    pub fn new(input: &str) -> Self {
        Lexer {
            chars: input.chars().collect(),
            pos: 0,
            line: 1,
            latest_newline: 0,
        }
    }

    fn error(message: String) -> ParseError {
        ParseError { message }
    }

    fn token(&self, kind: Kind, text: String, number: i128, pos: usize) -> Token {
        Token {
            kind,
            text,
            number,
            line: self.line,
            col: pos - self.latest_newline,
            pos,
        }
    }

    /// Next token, `None` at the end of input.
    pub fn next_token(&mut self) -> Result<Option<Token>, ParseError> {
        loop {
            let Some(&c) = self.chars.get(self.pos) else {
                return Ok(None);
            };
            let start = self.pos;
            let next = self.chars.get(start + 1).copied();
            match c {
                ' ' | '\t' => self.pos += 1,
                '\n' => {
                    self.line += 1;
                    self.latest_newline = start;
                    self.pos += 1;
                }
                c if is_id_start(c) => {
                    let end = (start + 1..self.chars.len())
                        .find(|&i| !is_id_continue(self.chars[i]))
                        .unwrap_or(self.chars.len());
                    let text: String = self.chars[start..end].iter().collect();
                    self.pos = end;
                    let kind = if text == "where" {
                        Kind::Where
                    } else {
                        Kind::Id
                    };
                    return Ok(Some(self.token(kind, text, 0, start)));
                }
                c if py_digit(c).is_some() || (c == '-' && next.and_then(py_digit).is_some()) => {
                    return self.number(start).map(Some);
                }
                '\'' | '"' | '`' => return self.quoted(c).map(Some),
                '.' if next == Some('.') => {
                    self.pos += 2;
                    return Ok(Some(self.token(Kind::DoubleDot, "..".into(), 0, start)));
                }
                '*' | '.' | '[' | ']' | '(' | ')' | '$' | ',' | ':' | '|' | '&' => {
                    self.pos += 1;
                    return Ok(Some(self.token(Kind::Literal(c), c.into(), 0, start)));
                }
                _ => {
                    return Err(Self::error(format!(
                        "Error on line {}, col {}: Unexpected character: {c} ",
                        self.line,
                        start - self.latest_newline
                    )));
                }
            }
        }
    }

    fn number(&mut self, start: usize) -> Result<Token, ParseError> {
        let negative = self.chars[start] == '-';
        self.pos = start + usize::from(negative);
        let mut magnitude = String::new();
        let mut value: i128 = 0;
        while let Some(d) = self.chars.get(self.pos).copied().and_then(py_digit) {
            self.pos += 1;
            if d != 0 || !magnitude.is_empty() {
                magnitude.push(char::from(b'0' + d as u8));
            }
            let d = i128::from(d);
            value = value.saturating_mul(10);
            value = if negative {
                value.saturating_sub(d)
            } else {
                value.saturating_add(d)
            };
        }
        // jsonpath-rw calls int() on the digits: only its digit limit can fail.
        let literal: String = self.chars[start..self.pos].iter().collect();
        crate::py::int_from_str(&literal).map_err(|e| Self::error(e.message))?;
        let text = match (magnitude.is_empty(), negative) {
            (true, _) => "0".to_string(),
            (false, true) => format!("-{magnitude}"),
            (false, false) => magnitude,
        };
        Ok(self.token(Kind::Number, text, value, start))
    }

    /// A quoted field ('...' or "...") or a back-quoted named operator; a backslash
    /// takes the next character literally. The token sits at the closing quote.
    fn quoted(&mut self, quote: char) -> Result<Token, ParseError> {
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(&c) = self.chars.get(self.pos) else {
                return Err(Self::error(
                    "Unexpected EOF in string literal or identifier".into(),
                ));
            };
            if c == quote {
                let kind = if quote == '`' {
                    Kind::NamedOperator
                } else {
                    Kind::Id
                };
                let token = self.token(kind, value, 0, self.pos);
                self.pos += 1;
                return Ok(token);
            }
            if c == '\\' {
                // PLY's `\\.` does not match a newline or the end of input.
                match self.chars.get(self.pos + 1) {
                    Some(&escaped) if escaped != '\n' => {
                        value.push(escaped);
                        self.pos += 2;
                    }
                    _ => {
                        let what = match quote {
                            '\'' => "singlequoted field",
                            '"' => "doublequoted field",
                            _ => "backquoted operator",
                        };
                        return Err(Self::error(format!(
                            "Error on line {}, col {} while lexing {what}: Unexpected character: \\ ",
                            self.line,
                            self.pos - self.latest_newline
                        )));
                    }
                }
            } else {
                value.push(c);
                self.pos += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_digits_include_other_scripts() {
        assert_eq!(py_digit('7'), Some(7));
        assert_eq!(py_digit('\u{663}'), Some(3));
        assert_eq!(py_digit('\u{1FBF9}'), Some(9));
        assert_eq!(py_digit('\u{2070}'), None); // superscript zero is No, not Nd
        assert_eq!(py_digit('a'), None);
        assert_eq!(py_digit('/'), None);
    }
}
