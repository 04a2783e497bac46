//! A YAML document as PyYAML's `safe_load` reads it (YAML 1.1 scalar types:
//! `yes`/`off` booleans, `0777` octal, `1_000`, floats only with a dot), turned
//! into JSON. Used for the accelerator catalogue.
//!
//! Differences from PyYAML, all for constructs a catalogue has no use for:
//! timestamps stay strings, merge keys (`<<`) and unknown tags are errors,
//! infinities and NaN are errors (JSON cannot carry them).

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::py::value::json_key;

/// Upper bound on nodes produced, so that aliases cannot blow up memory.
const MAX_NODES: usize = 100_000;

/// Parses a single YAML document (an empty stream is `null`).
pub(crate) fn load(text: &str) -> Result<Value, String> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|e| e.to_string())?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    match builder.documents.len() {
        0 => Ok(Value::Null),
        1 => Ok(builder.documents.remove(0)),
        _ => Err("expected a single document in the stream".into()),
    }
}

enum Frame {
    Sequence {
        items: Vec<Value>,
        anchor: usize,
    },
    Mapping {
        entries: Map<String, Value>,
        key: Option<Value>,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    documents: Vec<Value>,
    nodes: usize,
    error: Option<String>,
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, _mark: Marker) {
        if self.error.is_none()
            && let Err(e) = self.handle(event)
        {
            self.error = Some(e);
        }
    }
}

impl Builder {
    fn handle(&mut self, event: Event) -> Result<(), String> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let value = resolve_scalar(&text, style, tag.as_deref())?;
                self.finish(value, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.map(|t| format!("{}{}", t.handle, t.suffix)), "seq")?;
                self.stack.push(Frame::Sequence {
                    items: Vec::new(),
                    anchor,
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.map(|t| format!("{}{}", t.handle, t.suffix)), "map")?;
                self.stack.push(Frame::Mapping {
                    entries: Map::new(),
                    key: None,
                    anchor,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Sequence { items, anchor }) => self.finish(Value::Array(items), anchor),
                Some(Frame::Mapping {
                    entries, anchor, ..
                }) => self.finish(Value::Object(entries), anchor),
                None => Err("unbalanced YAML collection".into()),
            },
            Event::Alias(anchor) => {
                let value = self
                    .anchors
                    .get(&anchor)
                    .cloned()
                    .ok_or("found undefined alias")?;
                self.nodes += count_nodes(&value);
                self.finish(value, 0)
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => Ok(()),
        }
    }

    /// Places a completed node in its parent (or as a document).
    fn finish(&mut self, value: Value, anchor: usize) -> Result<(), String> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err("YAML document is too large".into());
        }
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(value),
            Some(Frame::Sequence { items, .. }) => items.push(value),
            Some(Frame::Mapping { entries, key, .. }) => match key.take() {
                None => {
                    if value.as_str() == Some("<<") {
                        return Err("YAML merge keys are not supported".into());
                    }
                    *key = Some(value);
                }
                Some(k) => {
                    // PyYAML fails on unhashable keys; scalars become JSON keys.
                    let name = json_key(&k).ok_or("found unhashable key")?;
                    entries.insert(name, value);
                }
            },
        }
        Ok(())
    }
}

fn count_nodes(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

const CORE: &str = "tag:yaml.org,2002:";

fn check_collection_tag(tag: Option<String>, kind: &str) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(t) if t.strip_prefix(CORE) == Some(kind) => Ok(()),
        Some(t) => Err(format!(
            "could not determine a constructor for the tag '{t}'"
        )),
    }
}

fn resolve_scalar(text: &str, style: TScalarStyle, tag: Option<&str>) -> Result<Value, String> {
    let kind = match tag {
        Some(t) => match t.strip_prefix(CORE) {
            Some(kind @ ("str" | "int" | "float" | "bool" | "null")) => kind,
            _ => {
                return Err(format!(
                    "could not determine a constructor for the tag '{t}'"
                ));
            }
        },
        None if style != TScalarStyle::Plain => "str",
        None => implicit_kind(text),
    };
    let invalid = || format!("invalid {kind} value: {text:?}");
    match kind {
        "null" => Ok(Value::Null),
        "bool" => Ok(Value::Bool(matches!(
            text.to_ascii_lowercase().as_str(),
            "yes" | "true" | "on"
        ))),
        "int" => construct_int(text).ok_or_else(invalid),
        "float" => construct_float(text).ok_or_else(invalid),
        _ => Ok(Value::String(text.to_string())),
    }
}

/// PyYAML's implicit resolvers for a plain scalar.
fn implicit_kind(text: &str) -> &'static str {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => "null",
        "yes" | "Yes" | "YES" | "no" | "No" | "NO" | "true" | "True" | "TRUE" | "false"
        | "False" | "FALSE" | "on" | "On" | "ON" | "off" | "Off" | "OFF" => "bool",
        _ if is_int(text) => "int",
        _ if is_float(text) => "float",
        _ => "str",
    }
}

fn split_sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

fn all(text: &str, allowed: impl Fn(u8) -> bool) -> bool {
    !text.is_empty() && text.bytes().all(allowed)
}

/// Sexagesimal `1:30:00` (each part after the first is `[0-5]?[0-9]`).
fn is_sexagesimal_tail(parts: &[&str]) -> bool {
    !parts.is_empty()
        && parts.iter().all(|p| {
            let b = p.as_bytes();
            matches!(b.len(), 1 | 2)
                && b.iter().all(u8::is_ascii_digit)
                && (b.len() == 1 || b[0] <= b'5')
        })
}

fn is_int(text: &str) -> bool {
    let (_, body) = split_sign(text);
    if let Some(bin) = body.strip_prefix("0b") {
        return all(bin, |b| matches!(b, b'0' | b'1' | b'_'));
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return all(hex, |b| b.is_ascii_hexdigit() || b == b'_');
    }
    if body == "0" {
        return true;
    }
    if let Some(octal) = body.strip_prefix('0') {
        return all(octal, |b| matches!(b, b'0'..=b'7' | b'_'));
    }
    let mut parts = body.split(':');
    let head = parts.next().unwrap_or_default();
    let tail: Vec<&str> = parts.collect();
    let decimal_head = head
        .as_bytes()
        .first()
        .is_some_and(|b| (b'1'..=b'9').contains(b))
        && all(head, |b| b.is_ascii_digit() || b == b'_');
    decimal_head && (tail.is_empty() || is_sexagesimal_tail(&tail))
}

fn is_float(text: &str) -> bool {
    let (_, body) = split_sign(text);
    if matches!(body, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let digits = |s: &str| all(s, |b| b.is_ascii_digit() || b == b'_');
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let (sign, digits_part) = (e.as_bytes().first(), e.get(1..).unwrap_or(""));
        matches!(sign, Some(b'-' | b'+')) && all(digits_part, |b| b.is_ascii_digit())
    });
    let Some((whole, fraction)) = mantissa.split_once('.') else {
        return false;
    };
    let fraction_ok = fraction.is_empty() || all(fraction, |b| b.is_ascii_digit() || b == b'_');
    if whole.is_empty() {
        // `.5`: needs a leading digit in the fraction and no sign.
        return text.starts_with('.')
            && fraction.as_bytes().first().is_some_and(u8::is_ascii_digit)
            && fraction_ok
            && exponent_ok;
    }
    let mut parts = whole.split(':');
    let head = parts.next().unwrap_or_default();
    let tail: Vec<&str> = parts.collect();
    let head_ok = head.as_bytes().first().is_some_and(u8::is_ascii_digit) && digits(head);
    if tail.is_empty() {
        head_ok && fraction_ok && exponent_ok
    } else {
        head_ok && is_sexagesimal_tail(&tail) && fraction_ok && exponent.is_none()
    }
}

fn construct_int(text: &str) -> Option<Value> {
    let cleaned = text.replace('_', "");
    let (negative, body) = split_sign(&cleaned);
    let magnitude: i128 = if body == "0" {
        0
    } else if let Some(bin) = body.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = body.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if let Some(octal) = body.strip_prefix('0') {
        i128::from_str_radix(octal, 8).ok()?
    } else if body.contains(':') {
        body.split(':').try_fold(0i128, |acc, part| {
            acc.checked_mul(60)?.checked_add(part.parse().ok()?)
        })?
    } else {
        body.parse().ok()?
    };
    let value = if negative { -magnitude } else { magnitude };
    if let Ok(i) = i64::try_from(value) {
        Some(Value::from(i))
    } else {
        u64::try_from(value).ok().map(Value::from)
    }
}

fn construct_float(text: &str) -> Option<Value> {
    let cleaned = text.replace('_', "").to_ascii_lowercase();
    let (negative, body) = split_sign(&cleaned);
    let magnitude: f64 = if body.contains(':') {
        body.split(':').try_fold(0.0, |acc: f64, part| {
            Some(acc * 60.0 + part.parse::<f64>().ok()?)
        })?
    } else {
        body.parse().ok()?
    };
    let value = if negative { -magnitude } else { magnitude };
    Number::from_f64(value).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_scalars() {
        let doc = load(
            "a: yes\nb: Off\nc: 0777\nd: 1_000\ne: 1e3\nf: 1.5e+3\ng: 0x1F\nh: ~\ni: '010'\nj: 1:30\nk: 10de\nl: .5\nm: 2.\n",
        )
        .unwrap();
        assert_eq!(
            doc,
            json!({"a": true, "b": false, "c": 511, "d": 1000, "e": "1e3", "f": 1500.0, "g": 31, "h": null,
                   "i": "010", "j": 90, "k": "10de", "l": 0.5, "m": 2.0})
        );
    }

    #[test]
    fn structure_and_errors() {
        assert_eq!(load("").unwrap(), Value::Null);
        assert_eq!(
            load("x: &a [1, 2]\ny: *a\n1: !!str 5\n").unwrap(),
            json!({"x": [1, 2], "y": [1, 2], "1": "5"})
        );
        assert!(load("a: 1\n---\nb: 2\n").is_err());
        assert!(load("a: !!python/object x\n").is_err());
        assert!(load("a: [1\n").is_err());
        assert!(load("? [1]\n: 2\n").is_err());
    }
}
