//! The policy language, parsed as oslo.policy parses it: whitespace-separated
//! tokens, parentheses peeled off token edges, and a greedy shift-reduce
//! parser (so `a or b and c` is `a or (b and c)`, and `not` binds tightest).
//! Anything that does not parse becomes a deny (`!`), with a problem report:
//! policies fail closed.

use super::check::Check;

/// A parsed rule: the check tree and what was wrong with the text, if
/// anything (the parts that could not be understood deny).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub check: Check,
    pub problems: Vec<String>,
}

enum Token {
    Check(Check),
    AndExpr(Vec<Check>),
    OrExpr(Vec<Check>),
    And,
    Or,
    Not,
    Open,
    Close,
    /// A quoted token: never reduces, so the rule fails to parse.
    Quoted,
}

/// Parses a rule in the policy language; an empty rule allows.
pub fn parse_rule(text: &str) -> Parsed {
    let mut problems = Vec::new();
    if text.is_empty() {
        return Parsed {
            check: Check::Allow,
            problems,
        };
    }
    let mut stack: Vec<Token> = Vec::new();
    for token in tokenize(text, &mut problems) {
        stack.push(token);
        reduce(&mut stack);
    }
    let check = match (stack.pop(), stack.is_empty()) {
        (Some(Token::Check(c)), true) => c,
        (Some(Token::AndExpr(items)), true) => Check::And(items),
        (Some(Token::OrExpr(items)), true) => Check::Or(items),
        _ => {
            problems.push(format!("cannot parse rule {text:?}"));
            Check::Deny
        }
    };
    Parsed { check, problems }
}

/// The old list syntax: the outer list is or-ed, inner lists are and-ed,
/// each element a single check (no operators). An empty list allows.
pub fn parse_list_rule(alternatives: &[Vec<String>]) -> Parsed {
    let mut problems = Vec::new();
    if alternatives.is_empty() {
        return Parsed {
            check: Check::Allow,
            problems,
        };
    }
    let mut any_of = Vec::new();
    for all_of in alternatives.iter().filter(|a| !a.is_empty()) {
        let mut checks: Vec<Check> = all_of
            .iter()
            .map(|c| parse_check(c, &mut problems))
            .collect();
        any_of.push(if checks.len() == 1 {
            checks.remove(0)
        } else {
            Check::And(checks)
        });
    }
    let check = match any_of.len() {
        0 => Check::Deny,
        1 => any_of.remove(0),
        _ => Check::Or(any_of),
    };
    Parsed { check, problems }
}

fn tokenize(text: &str, problems: &mut Vec<String>) -> Vec<Token> {
    let mut tokens = Vec::new();
    for raw in text
        .split(crate::py::text::is_space)
        .filter(|t| !t.is_empty())
    {
        let clean = raw.trim_start_matches('(');
        for _ in 0..raw.len() - clean.len() {
            tokens.push(Token::Open);
        }
        if clean.is_empty() {
            continue;
        }
        // `clean` keeps its trailing parentheses: upstream tests quotes on it.
        let word = clean.trim_end_matches(')');
        let closing = clean.len() - word.len();
        if word.eq_ignore_ascii_case("and") {
            tokens.push(Token::And);
        } else if word.eq_ignore_ascii_case("or") {
            tokens.push(Token::Or);
        } else if word.eq_ignore_ascii_case("not") {
            tokens.push(Token::Not);
        } else if !word.is_empty() {
            let quoted = clean.len() >= 2
                && ((clean.starts_with('"') && clean.ends_with('"'))
                    || (clean.starts_with('\'') && clean.ends_with('\'')));
            if quoted {
                tokens.push(Token::Quoted);
            } else {
                tokens.push(Token::Check(parse_check(word, problems)));
            }
        }
        for _ in 0..closing {
            tokens.push(Token::Close);
        }
    }
    tokens
}

/// One check (`kind:match`, `@` or `!`).
fn parse_check(text: &str, problems: &mut Vec<String>) -> Check {
    match text {
        "!" => return Check::Deny,
        "@" => return Check::Allow,
        _ => {}
    }
    let Some((kind, matcher)) = text.split_once(':') else {
        problems.push(format!("check {text:?} is not of the form kind:match"));
        return Check::Deny;
    };
    match kind {
        "rule" => Check::Rule(matcher.to_string()),
        "role" => Check::Role(matcher.to_string()),
        "http" | "https" => {
            problems.push(format!(
                "remote policy checks ({text}) are not supported; the check denies"
            ));
            Check::Deny
        }
        _ => Check::Generic {
            kind: kind.to_string(),
            matcher: matcher.to_string(),
        },
    }
}

/// Applies reductions to the top of the stack until none applies.
fn reduce(stack: &mut Vec<Token>) {
    loop {
        if !reduce_three(stack) && !reduce_not(stack) {
            return;
        }
    }
}

fn reduce_three(stack: &mut Vec<Token>) -> bool {
    let n = stack.len();
    if n < 3 {
        return false;
    }
    let reducible = matches!(
        (&stack[n - 3], &stack[n - 2], &stack[n - 1]),
        (
            Token::Open,
            Token::Check(_) | Token::AndExpr(_) | Token::OrExpr(_),
            Token::Close
        ) | (
            Token::Check(_) | Token::AndExpr(_) | Token::OrExpr(_),
            Token::And | Token::Or,
            Token::Check(_)
        )
    );
    if !reducible {
        return false;
    }
    let (Some(c), Some(b), Some(a)) = (stack.pop(), stack.pop(), stack.pop()) else {
        return false;
    };
    let reduced = match (a, b, c) {
        (Token::Open, Token::Check(x), Token::Close) => Token::Check(x),
        (Token::Open, Token::AndExpr(items), Token::Close) => Token::Check(Check::And(items)),
        (Token::Open, Token::OrExpr(items), Token::Close) => Token::Check(Check::Or(items)),
        (Token::Check(x), Token::And, Token::Check(y)) => Token::AndExpr(vec![x, y]),
        (Token::AndExpr(mut items), Token::And, Token::Check(y)) => {
            items.push(y);
            Token::AndExpr(items)
        }
        (Token::OrExpr(mut items), Token::And, Token::Check(y)) => {
            // `a or b and c`: the and takes the last operand of the or.
            let joined = match items.pop() {
                Some(Check::And(mut all)) => {
                    all.push(y);
                    Check::And(all)
                }
                Some(last) => Check::And(vec![last, y]),
                None => y,
            };
            items.push(joined);
            Token::OrExpr(items)
        }
        (Token::Check(x), Token::Or, Token::Check(y)) => Token::OrExpr(vec![x, y]),
        (Token::AndExpr(items), Token::Or, Token::Check(y)) => {
            Token::OrExpr(vec![Check::And(items), y])
        }
        (Token::OrExpr(mut items), Token::Or, Token::Check(y)) => {
            items.push(y);
            Token::OrExpr(items)
        }
        (a, b, c) => {
            // Unreachable given `reducible`; put the tokens back untouched.
            stack.extend([a, b, c]);
            return false;
        }
    };
    stack.push(reduced);
    true
}

fn reduce_not(stack: &mut Vec<Token>) -> bool {
    let n = stack.len();
    if n < 2
        || !matches!(
            (&stack[n - 2], &stack[n - 1]),
            (Token::Not, Token::Check(_))
        )
    {
        return false;
    }
    let Some(Token::Check(inner)) = stack.pop() else {
        return false;
    };
    stack.pop();
    stack.push(Token::Check(Check::Not(Box::new(inner))));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> String {
        parse_rule(text).check.to_string()
    }

    #[test]
    fn precedence_and_grouping() {
        assert_eq!(
            shown("role:a or role:b and role:c"),
            "(role:a or (role:b and role:c))"
        );
        assert_eq!(shown("not role:a and role:b"), "(not role:a and role:b)");
        assert_eq!(shown("((role:a))"), "role:a");
        assert_eq!(shown("(project_id:%(p)s)"), "project_id:%(p)s");
    }

    #[test]
    fn failures_deny_and_are_reported() {
        for text in ["role:a or", "noColon", "'quoted'", "(role:a", "()", "not"] {
            let parsed = parse_rule(text);
            assert_eq!(parsed.check, Check::Deny, "{text}");
            assert!(!parsed.problems.is_empty(), "{text}");
        }
        let partial = parse_rule("role:a or noColon");
        assert_eq!(partial.check.to_string(), "(role:a or !)");
        assert_eq!(partial.problems.len(), 1);
    }

    #[test]
    fn list_syntax() {
        let rule = |v: &[&[&str]]| {
            let owned: Vec<Vec<String>> = v
                .iter()
                .map(|inner| inner.iter().map(|s| s.to_string()).collect())
                .collect();
            parse_list_rule(&owned).check.to_string()
        };
        assert_eq!(rule(&[]), "@");
        assert_eq!(rule(&[&[]]), "!");
        assert_eq!(rule(&[&["role:a"]]), "role:a");
        assert_eq!(
            rule(&[&["role:a", "system_scope:all"], &["role:b"]]),
            "((role:a and system_scope:all) or role:b)"
        );
    }
}
