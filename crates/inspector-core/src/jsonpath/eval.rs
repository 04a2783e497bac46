//! Evaluation with jsonpath-rw's `find()` semantics, Python quirks included.

use std::borrow::Cow;
use std::rc::Rc;

use serde_json::Value;

use super::{Expr, FindError};

/// What `wrap(None)` turns into: a root datum holding `None`.
static NULL: Value = Value::Null;

/// Upper bound on matches and visited nodes of one `find`: paths like
/// `($|$).($|$).($|$)...` or long `..` chains grow exponentially, and Python would
/// eventually run out of memory. Real rule fields stay far below this.
#[cfg(not(fuzzing))]
const MAX_WORK: usize = 1_000_000;
/// The fuzzer finds paths that reach the limit within seconds, and each costs
/// tens of milliseconds in its instrumented build: a lower limit keeps it
/// exploring at thousands of inputs a second through the same code.
#[cfg(fuzzing)]
const MAX_WORK: usize = 10_000;

/// Upper bound on the JSON values one `find` copies into its results. A
/// match is borrowed from the document, except a value a slice wraps in a
/// list, which is copied whole: `($|$).($|$)...[0:]` stays within
/// [`MAX_WORK`] yet copied the whole document once per match (over a GB).
#[cfg(not(fuzzing))]
const MAX_COPIED: usize = 1_000_000;
#[cfg(fuzzing)]
const MAX_COPIED: usize = 10_000;

fn too_many_copies() -> FindError {
    raise("MemoryError", "JSON path copies too many values")
}

/// A value as Python sees it: borrowed from the document, or one of the two values
/// jsonpath-rw makes up: a character of a string (`s[i]`), or the one-element list
/// that a slice wraps around a dict, int or str.
#[derive(Clone)]
enum Node<'a> {
    Json(&'a Value),
    Char(char),
    Wrapped(Box<Node<'a>>),
}

/// jsonpath-rw's `DatumInContext`: a value and the datum it was found in.
struct Datum<'a> {
    node: Node<'a>,
    parent: Option<Rc<Datum<'a>>>,
}

/// One match: a datum, or the Python `None` that `parent` yields at the root.
#[derive(Clone)]
enum Match<'a> {
    Found(Rc<Datum<'a>>),
    Missing,
}

fn raise(exception: &'static str, message: impl Into<String>) -> FindError {
    FindError {
        exception,
        message: message.into(),
    }
}

fn no_value_attribute() -> FindError {
    raise(
        "AttributeError",
        "'NoneType' object has no attribute 'value'",
    )
}

/// Python's normalisation of an index into `0..len`, `None` when out of range.
fn py_position(index: i128, len: usize) -> Option<usize> {
    let len = i128::try_from(len).ok()?;
    let position = if index < 0 { index + len } else { index };
    if (0..len).contains(&position) {
        usize::try_from(position).ok()
    } else {
        None
    }
}

/// The indices `range(0, len)[start:end]` selects.
fn py_slice(start: Option<i128>, end: Option<i128>, len: usize) -> std::ops::Range<usize> {
    let len_i = i128::try_from(len).unwrap_or(i128::MAX);
    let clamp = |bound: Option<i128>, default: usize| match bound {
        None => default,
        Some(b) => {
            let b = if b < 0 {
                (b + len_i).max(0)
            } else {
                b.min(len_i)
            };
            usize::try_from(b).unwrap_or(default)
        }
    };
    clamp(start, 0)..clamp(end, len)
}

impl<'a> Node<'a> {
    fn type_name(&self) -> &'static str {
        match self {
            Node::Json(v) => crate::py::value::type_name(v),
            Node::Wrapped(_) => "list",
            Node::Char(_) => "str",
        }
    }

    /// Python's `len()`.
    fn len(&self) -> Result<usize, FindError> {
        match self {
            Node::Json(Value::Object(map)) => Ok(map.len()),
            Node::Json(Value::Array(items)) => Ok(items.len()),
            Node::Json(Value::String(s)) => Ok(s.chars().count()),
            Node::Char(_) | Node::Wrapped(_) => Ok(1),
            _ => Err(raise(
                "TypeError",
                format!("object of type '{}' has no len()", self.type_name()),
            )),
        }
    }

    /// Python's `self[index]` with an int index.
    fn index(&self, index: i128) -> Result<Node<'a>, FindError> {
        let len = self.len()?;
        // Sequences convert the index to a C `ssize_t` before bounds checking.
        let fits = i64::try_from(index).is_ok();
        let sequence_error = |kind: &str| {
            let message = if fits {
                format!("{kind} index out of range")
            } else {
                "cannot fit 'int' into an index-sized integer".to_string()
            };
            raise("IndexError", message)
        };
        let list_error = || sequence_error("list");
        let str_error = || sequence_error("string");
        let position = py_position(index, len);
        match self {
            Node::Json(Value::Array(items)) => position
                .and_then(|p| items.get(p))
                .map(Node::Json)
                .ok_or_else(list_error),
            Node::Wrapped(inner) => position.map(|_| (**inner).clone()).ok_or_else(list_error),
            Node::Json(Value::String(s)) => position
                .and_then(|p| s.chars().nth(p))
                .map(Node::Char)
                .ok_or_else(str_error),
            Node::Char(c) => position.map(|_| Node::Char(*c)).ok_or_else(str_error),
            // JSON object keys are strings, so an int key is never there.
            _ => Err(raise("KeyError", index.to_string())),
        }
    }

    /// Children visited by `..`: list items, or dict values in document order.
    fn children(&self) -> Vec<Node<'a>> {
        match self {
            Node::Json(Value::Array(items)) => items.iter().map(Node::Json).collect(),
            Node::Json(Value::Object(map)) => map.values().map(Node::Json).collect(),
            Node::Wrapped(inner) => vec![(**inner).clone()],
            _ => Vec::new(),
        }
    }

    /// Takes from `budget` the JSON values [`Node::to_value`] will copy
    /// (only a wrapped value is copied: the rest is borrowed from the
    /// document), before copying them.
    fn charge_copy(&self, budget: &mut usize) -> Result<(), FindError> {
        let Node::Wrapped(inner) = self else {
            return Ok(());
        };
        let mut pending: Vec<&Value> = Vec::new();
        let mut node = &**inner;
        loop {
            *budget = budget.checked_sub(1).ok_or_else(too_many_copies)?;
            match node {
                Node::Wrapped(deeper) => node = deeper,
                Node::Json(value) => {
                    pending.push(value);
                    break;
                }
                Node::Char(_) => break,
            }
        }
        while let Some(value) = pending.pop() {
            *budget = budget.checked_sub(1).ok_or_else(too_many_copies)?;
            match value {
                Value::Array(items) => pending.extend(items),
                Value::Object(map) => pending.extend(map.values()),
                _ => {}
            }
        }
        Ok(())
    }

    fn to_value(&self) -> Cow<'a, Value> {
        match self {
            Node::Json(value) => Cow::Borrowed(*value),
            Node::Char(c) => Cow::Owned(Value::String(c.to_string())),
            Node::Wrapped(inner) => Cow::Owned(Value::Array(vec![inner.to_value().into_owned()])),
        }
    }
}

pub(super) fn find<'a>(expr: &Expr, root: &'a Value) -> Result<Vec<Cow<'a, Value>>, FindError> {
    let start = Match::Found(Rc::new(Datum {
        node: Node::Json(root),
        parent: None,
    }));
    let matches = Evaluator { work: 0 }.eval(expr, &start)?;
    let mut copy_budget = MAX_COPIED;
    matches
        .iter()
        .map(|m| match m {
            Match::Found(datum) => {
                datum.node.charge_copy(&mut copy_budget)?;
                Ok(datum.node.to_value())
            }
            Match::Missing => Err(no_value_attribute()),
        })
        .collect()
}

struct Evaluator {
    work: usize,
}

impl Evaluator {
    fn spend(&mut self, amount: usize) -> Result<(), FindError> {
        self.work = self.work.saturating_add(amount);
        if self.work > MAX_WORK {
            return Err(raise("MemoryError", "JSON path produces too many matches"));
        }
        Ok(())
    }

    fn eval<'a>(&mut self, expr: &Expr, input: &Match<'a>) -> Result<Vec<Match<'a>>, FindError> {
        let out = self.eval_unbudgeted(expr, input)?;
        self.spend(out.len())?;
        Ok(out)
    }

    fn eval_unbudgeted<'a>(
        &mut self,
        expr: &Expr,
        input: &Match<'a>,
    ) -> Result<Vec<Match<'a>>, FindError> {
        // `DatumInContext.wrap`: a bare Python None becomes a root datum holding None.
        let datum = || match input {
            Match::Found(datum) => Rc::clone(datum),
            Match::Missing => Rc::new(Datum {
                node: Node::Json(&NULL),
                parent: None,
            }),
        };
        let child = |parent: &Rc<Datum<'a>>, node| {
            Match::Found(Rc::new(Datum {
                node,
                parent: Some(Rc::clone(parent)),
            }))
        };
        Ok(match expr {
            Expr::Root => {
                let mut top = datum();
                while let Some(parent) = top.parent.clone() {
                    top = parent;
                }
                vec![Match::Found(top)]
            }
            Expr::This => vec![Match::Found(datum())],
            Expr::Parent => vec![datum().parent.clone().map_or(Match::Missing, Match::Found)],
            Expr::Child(left, right) => {
                let mut out = Vec::new();
                for m in self.eval(left, input)? {
                    out.extend(self.eval(right, &m)?);
                }
                out
            }
            Expr::Where(left, right) => {
                let mut out = Vec::new();
                for m in self.eval(left, input)? {
                    if !self.eval(right, &m)?.is_empty() {
                        out.push(m);
                    }
                }
                out
            }
            Expr::Union(left, right) => {
                let mut out = self.eval(left, input)?;
                out.extend(self.eval(right, input)?);
                out
            }
            Expr::Intersect(..) => return Err(raise("NotImplementedError", "")),
            Expr::Descendants(left, right) => {
                let mut out = Vec::new();
                for m in self.eval(left, input)? {
                    self.descend(right, m, &mut out)?;
                }
                out
            }
            Expr::Fields(names) => {
                let datum = datum();
                let Node::Json(Value::Object(map)) = datum.node else {
                    return Ok(Vec::new());
                };
                let wanted: Vec<&str> = if names.iter().any(|n| n == "*") {
                    map.keys().map(String::as_str).collect()
                } else {
                    names.iter().map(String::as_str).collect()
                };
                wanted
                    .into_iter()
                    .filter_map(|name| map.get(name))
                    .map(|value| child(&datum, Node::Json(value)))
                    .collect()
            }
            Expr::Index(index) => {
                let datum = datum();
                // Python checks `len(value) > index` before indexing, so indices past
                // the end give nothing, while negative ones are tried (and may raise).
                let len = datum.node.len()?;
                if i128::try_from(len).is_ok_and(|len| len > *index) {
                    vec![child(&datum, datum.node.index(*index)?)]
                } else {
                    Vec::new()
                }
            }
            Expr::Slice { start, end } => {
                let mut datum = datum();
                let wraps = match datum.node {
                    Node::Json(value) => {
                        value.is_object()
                            || value.is_string()
                            || value.is_boolean()
                            || value.is_i64()
                            || value.is_u64()
                    }
                    Node::Char(_) => true,
                    Node::Wrapped(_) => false,
                };
                if wraps {
                    // The wrapping list takes the place of the value under its parent.
                    datum = Rc::new(Datum {
                        node: Node::Wrapped(Box::new(datum.node.clone())),
                        parent: datum.parent.clone(),
                    });
                }
                let items = match &datum.node {
                    Node::Json(Value::Array(items)) => items.iter().map(Node::Json).collect(),
                    Node::Wrapped(inner) => vec![(**inner).clone()],
                    other => {
                        return Err(raise(
                            "TypeError",
                            format!("object of type '{}' has no len()", other.type_name()),
                        ));
                    }
                };
                let range = py_slice(*start, *end, items.len());
                items
                    .into_iter()
                    .skip(range.start)
                    .take(range.end.saturating_sub(range.start))
                    .map(|node| child(&datum, node))
                    .collect()
            }
        })
    }

    /// `left..right` for one left match: `right` on the match, then on each of its
    /// descendants in document order (depth first), without the slice coercion.
    fn descend<'a>(
        &mut self,
        right: &Expr,
        start: Match<'a>,
        out: &mut Vec<Match<'a>>,
    ) -> Result<(), FindError> {
        let mut pending = vec![start];
        while let Some(m) = pending.pop() {
            self.spend(1)?;
            out.extend(self.eval(right, &m)?);
            let Match::Found(datum) = m else {
                return Err(no_value_attribute());
            };
            let children = datum.node.children();
            pending.extend(children.into_iter().rev().map(|node| {
                Match::Found(Rc::new(Datum {
                    node,
                    parent: Some(Rc::clone(&datum)),
                }))
            }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_positions_and_slices() {
        assert_eq!(py_position(0, 3), Some(0));
        assert_eq!(py_position(-1, 3), Some(2));
        assert_eq!(py_position(-3, 3), Some(0));
        assert_eq!(py_position(-4, 3), None);
        assert_eq!(py_position(3, 3), None);
        assert_eq!(py_position(i128::MIN, 3), None);
        assert_eq!(py_slice(None, None, 4), 0..4);
        assert_eq!(py_slice(Some(-1), None, 4), 3..4);
        assert_eq!(py_slice(Some(-9), Some(2), 4), 0..2);
        assert!(py_slice(Some(3), Some(1), 4).is_empty());
        assert!(py_slice(Some(i128::MAX), Some(i128::MIN), 4).is_empty());
        assert_eq!(py_slice(Some(i128::MIN), Some(i128::MAX), 4), 0..4);
    }
}
