//! Precedence-climbing parser equivalent to jsonpath-rw's LALR grammar.
//!
//! jsonpath-rw's precedence table (loosest first) is `,` `..` `.` `|` `&` `where`,
//! all left-associative. A postfix `[...]` after a complete binary expression makes
//! PLY reduce first (`[` has no precedence), so `a.b[0]` is `(a.b)[0]` and
//! `x|a.b[0]` is `((x|a).b)[0]`: postfix brackets bind loosest of all.
//! Errors are reported at the same token PLY stops at, with PLY's message.

use super::lexer::{Kind, Lexer, Token};
use super::{Expr, MAX_DEPTH, ParseError};

pub(super) fn parse(path: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser {
        lexer: Lexer::new(path),
        lookahead: None,
    };
    let (expr, _) = parser.expr(0, 0)?;
    match parser.next()? {
        None => Ok(expr),
        Some(token) => Err(unexpected(Some(&token))),
    }
}

/// An expression with the depth of its tree, to refuse trees deeper than `MAX_DEPTH`.
type Tree = (Expr, usize);

struct Parser {
    lexer: Lexer,
    lookahead: Option<Option<Token>>,
}

/// PLY's `p_error`: at end of input it is handed `None` and fails on `None.lineno`.
fn unexpected(token: Option<&Token>) -> ParseError {
    let message = match token {
        None => "'NoneType' object has no attribute 'lineno'".to_string(),
        Some(t) => format!(
            "Parse error at {}:{} near token {} ({})",
            t.line,
            t.col,
            t.text,
            t.kind_name()
        ),
    };
    ParseError { message }
}

fn too_deep() -> ParseError {
    ParseError {
        message: format!("JSON path is nested too deeply (more than {MAX_DEPTH} levels)"),
    }
}

/// Builds the node of a binary operator (an `Expr` variant constructor).
type BinaryOp = fn(Box<Expr>, Box<Expr>) -> Expr;

/// Precedence (higher binds tighter) and node of a binary operator token.
fn binary(token: &Token) -> Option<(usize, BinaryOp)> {
    Some(match token.kind {
        Kind::DoubleDot => (2, Expr::Descendants),
        Kind::Literal('.') => (3, Expr::Child),
        Kind::Literal('|') => (4, Expr::Union),
        Kind::Literal('&') => (5, Expr::Intersect),
        Kind::Where => (6, Expr::Where),
        _ => return None,
    })
}

fn join(op: BinaryOp, left: Tree, right: Tree) -> Result<Tree, ParseError> {
    let depth = left.1.max(right.1) + 1;
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok((op(Box::new(left.0), Box::new(right.0)), depth))
}

impl Parser {
    fn peek(&mut self) -> Result<Option<&Token>, ParseError> {
        if self.lookahead.is_none() {
            self.lookahead = Some(self.lexer.next_token()?);
        }
        Ok(self.lookahead.as_ref().and_then(Option::as_ref))
    }

    fn next(&mut self) -> Result<Option<Token>, ParseError> {
        match self.lookahead.take() {
            Some(token) => Ok(token),
            None => self.lexer.next_token(),
        }
    }

    fn expect(&mut self, c: char) -> Result<(), ParseError> {
        match self.next()? {
            Some(t) if t.is(c) => Ok(()),
            other => Err(unexpected(other.as_ref())),
        }
    }

    /// Binary operators binding at least as tightly as `min_prec`; postfix brackets
    /// only at level 0 (top level or directly inside parentheses). `nesting` counts
    /// the recursion (parentheses and right operands) to bound the stack.
    fn expr(&mut self, min_prec: usize, nesting: usize) -> Result<Tree, ParseError> {
        if nesting > MAX_DEPTH {
            return Err(too_deep());
        }
        let mut left = self.primary(nesting)?;
        loop {
            let Some(token) = self.peek()? else {
                return Ok(left);
            };
            if let Some((prec, op)) = binary(token).filter(|(prec, _)| *prec >= min_prec) {
                self.next()?;
                let right = self.expr(prec + 1, nesting + 1)?;
                left = join(op, left, right)?;
            } else if token.is('[') && min_prec == 0 {
                self.next()?;
                let selector = (self.brackets()?, 1);
                left = join(Expr::Child, left, selector)?;
            } else {
                return Ok(left);
            }
        }
    }

    fn primary(&mut self, nesting: usize) -> Result<Tree, ParseError> {
        let Some(token) = self.next()? else {
            return Err(unexpected(None));
        };
        let expr = match token.kind {
            Kind::Id => Expr::Fields(self.fields(token.text)?),
            Kind::Literal('*') => Expr::Fields(vec!["*".into()]),
            Kind::Literal('$') => Expr::Root,
            Kind::Literal('[') => self.brackets()?,
            Kind::NamedOperator => self.named_operator(token)?,
            Kind::Literal('(') => {
                let inner = self.expr(0, nesting + 1)?;
                self.expect(')')?;
                return Ok(inner);
            }
            _ => return Err(unexpected(Some(&token))),
        };
        Ok((expr, 1))
    }

    /// `ID (',' ID)*`, the first ID already read.
    fn fields(&mut self, first: String) -> Result<Vec<String>, ParseError> {
        let mut names = vec![first];
        while self.peek()?.is_some_and(|t| t.is(',')) {
            self.next()?;
            match self.next()? {
                Some(t) if t.kind == Kind::Id => names.push(t.text),
                other => return Err(unexpected(other.as_ref())),
            }
        }
        Ok(names)
    }

    /// An unknown operator fails only when PLY reduces it, i.e. after it has read a
    /// following token that may follow any path (LALR lookahead set).
    fn named_operator(&mut self, token: Token) -> Result<Expr, ParseError> {
        match token.text.as_str() {
            "this" => return Ok(Expr::This),
            "parent" => return Ok(Expr::Parent),
            _ => {}
        }
        let follows_a_path = match self.peek()? {
            None => true,
            Some(t) => binary(t).is_some() || t.is('[') || t.is(')'),
        };
        if !follows_a_path {
            let next = self.next()?;
            return Err(unexpected(next.as_ref()));
        }
        Err(ParseError {
            message: format!(
                "Unknown named operator `{}` at {}:{}",
                token.text, token.line, token.pos
            ),
        })
    }

    /// The inside of `[...]`, the `[` already read: `n`, `*`, `start:end` or fields.
    fn brackets(&mut self) -> Result<Expr, ParseError> {
        let Some(token) = self.next()? else {
            return Err(unexpected(None));
        };
        let expr = match token.kind {
            Kind::Literal('*') => Expr::Slice {
                start: None,
                end: None,
            },
            Kind::Literal(':') => return self.slice_end(None),
            Kind::Number => {
                return match self.next()? {
                    Some(t) if t.is(']') => Ok(Expr::Index(token.number)),
                    Some(t) if t.is(':') => self.slice_end(Some(token.number)),
                    other => Err(unexpected(other.as_ref())),
                };
            }
            Kind::Id => Expr::Fields(self.fields(token.text)?),
            _ => return Err(unexpected(Some(&token))),
        };
        self.expect(']')?;
        Ok(expr)
    }

    /// After `start:`, an optional end number and `]`.
    fn slice_end(&mut self, start: Option<i128>) -> Result<Expr, ParseError> {
        match self.next()? {
            Some(t) if t.is(']') => Ok(Expr::Slice { start, end: None }),
            Some(t) if t.kind == Kind::Number => {
                self.expect(']')?;
                Ok(Expr::Slice {
                    start,
                    end: Some(t.number),
                })
            }
            other => Err(unexpected(other.as_ref())),
        }
    }
}
