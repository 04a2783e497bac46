//! python jsonpath-rw 1.4 semantics for rule fields.
//!
//! `parse(path)?.find(&data)` returns what `[m.value for m in
//! jsonpath_rw.parse(path).find(data)]` returns, in the same order. The dialect is
//! jsonpath-rw's, not RFC 9535: no leading `$` needed, IDs may contain `-` and `@`,
//! numbers may be negative, and `[*]`/slices wrap a dict, int or string into a
//! one-element list (so `cpu[*]` on a dict yields the dict itself).
//!
//! Where Python raises inside `find()` (`&` is not implemented, `[n]` on a number
//! or on a dict with more than n keys, a negative index before the start, `[*]` on
//! null or a float, `` `parent` `` of the root as the result), [`JsonPath::try_find`] returns that exception as a
//! [`FindError`] and [`JsonPath::find`] returns no values.
//!
//! Deliberate limits: trees deeper than 256 levels, or more than 256 nested
//! parentheses and operands of rising precedence, are a [`ParseError`] (Python
//! parses them, and `find()` hits its recursion limit from about 500 levels), and
//! one evaluation stops after a million matches and visited nodes.
//! Dict order is `serde_json::Map` order: it equals Python's only with serde_json's
//! `preserve_order` feature; without it, `*` and `..` list keys sorted. Integers
//! beyond the u64 range are floats in serde_json, so `[*]` raises on them where
//! Python would wrap them.

mod eval;
mod lexer;
mod parser;

use std::borrow::Cow;

use serde_json::Value;

/// Deepest expression tree, and deepest parser recursion (parentheses, operands of
/// rising precedence), that `parse` accepts.
const MAX_DEPTH: usize = 256;

/// A parsed jsonpath-rw path, ready to be evaluated against documents.
#[derive(Clone)]
pub struct JsonPath {
    expr: Expr,
    /// The keys of a plain `a.b.c` path (optionally after `$`), which most
    /// rule fields are: found by looking each key up in turn, with the same
    /// result as the general evaluation and none of its bookkeeping.
    keys: Option<Box<[String]>>,
}

/// The syntax tree alone: the key chain is derived from it.
impl std::fmt::Debug for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("JsonPath").field(&self.expr).finish()
    }
}

/// The keys of `expr` if it is a chain of single-key fields, as `a.b.c`,
/// `$.a.b` or `$` (no keys) parse.
fn key_chain(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Root => Some(Vec::new()),
        Expr::Fields(names) => single_key(names).map(|key| vec![key.to_string()]),
        Expr::Child(left, right) => {
            let Expr::Fields(names) = &**right else {
                return None;
            };
            let key = single_key(names)?;
            let mut keys = key_chain(left)?;
            keys.push(key.to_string());
            Some(keys)
        }
        _ => None,
    }
}

fn single_key(names: &[String]) -> Option<&str> {
    match names {
        [name] if name != "*" => Some(name),
        _ => None,
    }
}

/// jsonpath-rw's abstract syntax.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Root,
    This,
    Parent,
    /// Field names; a name `*` anywhere selects every key.
    Fields(Vec<String>),
    Index(i128),
    /// `[*]`, `[:]` and `[start:end]`.
    Slice {
        start: Option<i128>,
        end: Option<i128>,
    },
    Child(Box<Expr>, Box<Expr>),
    Descendants(Box<Expr>, Box<Expr>),
    Where(Box<Expr>, Box<Expr>),
    Union(Box<Expr>, Box<Expr>),
    Intersect(Box<Expr>, Box<Expr>),
}

/// A path jsonpath-rw refuses; `message` mimics the Python exception text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
}

/// The exception jsonpath-rw raises inside `find()`: class name and `str(exc)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{exception}: {message}")]
pub struct FindError {
    pub exception: &'static str,
    pub message: String,
}

/// Parse `path` as `jsonpath_rw.parse` does (no `data://`/`node://` scheme here).
pub fn parse(path: &str) -> Result<JsonPath, ParseError> {
    parser::parse(path).map(|expr| JsonPath {
        keys: key_chain(&expr).map(Vec::into_boxed_slice),
        expr,
    })
}

impl JsonPath {
    /// Values matched in `root`, or none where jsonpath-rw would raise.
    ///
    /// Values are borrowed from `root`, except the ones jsonpath-rw builds itself:
    /// a character picked out of a string by `[n]`, and the one-element list a slice
    /// wraps around a value (reachable through `$` or `` `parent` ``).
    pub fn find<'a>(&self, root: &'a Value) -> Vec<Cow<'a, Value>> {
        self.try_find(root).unwrap_or_default()
    }

    /// Values matched in `root`, or the exception jsonpath-rw raises.
    pub fn try_find<'a>(&self, root: &'a Value) -> Result<Vec<Cow<'a, Value>>, FindError> {
        let Some(keys) = &self.keys else {
            return eval::find(&self.expr, root);
        };
        // jsonpath-rw's `Fields` finds a key only in a dict: in a list, a
        // string or a number the lookup raises inside and is caught as
        // "no match".
        let mut value = root;
        for key in keys {
            match value.as_object().and_then(|map| map.get(key)) {
                Some(found) => value = found,
                None => return Ok(Vec::new()),
            }
        }
        Ok(vec![Cow::Borrowed(value)])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ast(path: &str) -> String {
        format!("{:?}", parse(path).map(|p| p.expr))
    }

    /// The key-chain shortcut finds what the general evaluation finds.
    #[test]
    fn key_chains_find_what_the_general_evaluation_finds() {
        let docs = [
            json!({"a": {"b": {"c": 1}, "l": [1, {"c": 2}], "s": "text", "n": null}}),
            json!([{"a": 1}]),
            json!("a"),
            json!(null),
        ];
        let chains = [
            "a", "$", "$.a", "a.b", "a.b.c", "a.l", "a.l.c", "a.s.c", "a.n", "a.n.c",
        ];
        for path in chains {
            let parsed = parse(path).unwrap();
            assert!(parsed.keys.is_some(), "{path} is a key chain");
            for doc in &docs {
                assert_eq!(
                    parsed.try_find(doc).unwrap(),
                    eval::find(&parsed.expr, doc).unwrap(),
                    "{path} in {doc}"
                );
            }
        }
        for path in ["a.*", "a,b", "a[0]", "a.(b.c)", "a.`this`", "a..b", "$.$"] {
            assert!(parse(path).unwrap().keys.is_none(), "{path} is not");
        }
    }

    #[test]
    fn precedence_matches_jsonpath_rw() {
        assert_eq!(
            ast("a.b[0]"),
            r#"Ok(Child(Child(Fields(["a"]), Fields(["b"])), Index(0)))"#
        );
        assert_eq!(
            ast("a|b.c[0]"),
            r#"Ok(Child(Child(Union(Fields(["a"]), Fields(["b"])), Fields(["c"])), Index(0)))"#
        );
        assert_eq!(
            ast("a where b.c"),
            r#"Ok(Child(Where(Fields(["a"]), Fields(["b"])), Fields(["c"])))"#
        );
        assert_eq!(
            ast("a..b.c"),
            r#"Ok(Descendants(Fields(["a"]), Child(Fields(["b"]), Fields(["c"]))))"#
        );
        assert_eq!(ast("a,b"), r#"Ok(Fields(["a", "b"]))"#);
        assert_eq!(ast("[:]"), "Ok(Slice { start: None, end: None })");
    }

    #[test]
    fn values_built_by_python_are_owned() {
        let doc = json!({"s": "héllo", "d": {"k": 1}});
        let chars = parse("s[1]").map(|p| p.find(&doc));
        assert_eq!(chars, Ok(vec![Cow::<Value>::Owned(json!("é"))]));
        let wrapped = parse("d[*].`parent`").map(|p| p.find(&doc));
        assert_eq!(wrapped, Ok(vec![Cow::<Value>::Owned(json!([{"k": 1}]))]));
    }

    #[test]
    fn depth_is_capped() {
        let nested = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&nested).is_ok());
        let nested = format!(
            "{}a{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(parse(&nested).is_err());
        let chain = vec!["a"; MAX_DEPTH].join(".");
        assert!(parse(&chain).is_ok());
        let chain = vec!["a"; MAX_DEPTH + 1].join(".");
        assert!(parse(&chain).is_err());
    }
}
