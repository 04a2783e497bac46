//! jsonpath-rw compatibility: oracle fixtures from the real Python library, plus
//! robustness properties (no panics, bounded work on pathological input).

use std::borrow::Cow;

use inspector_core::jsonpath::{self, FindError};
use proptest::prelude::*;
use serde_json::{Value, json};

const FIXTURE: &str = include_str!("oracle/jsonpath.json");

/// Whether `serde_json::Map` keeps document order (feature `preserve_order`); the
/// fixture records Python's result for both key orders where they differ.
fn map_preserves_order() -> bool {
    let probe: Value = serde_json::from_str(r#"{"b": 0, "a": 0}"#).unwrap();
    probe
        .as_object()
        .and_then(|m| m.keys().next())
        .map(String::as_str)
        == Some("b")
}

fn owned(values: Vec<Cow<'_, Value>>) -> Vec<Value> {
    values.into_iter().map(Cow::into_owned).collect()
}

/// Checks one parsed path against the oracle's results; returns mismatch descriptions.
fn check_results(
    path: &str,
    parsed: &jsonpath::JsonPath,
    case: &Value,
    docs: &[Value],
) -> Vec<String> {
    let sorted_keys = !map_preserves_order();
    let mut failures = Vec::new();
    for result in case["results"].as_array().unwrap() {
        let doc = &docs[result["doc"].as_u64().unwrap() as usize];
        let expected = match result.get("sorted") {
            Some(sorted) if sorted_keys => sorted,
            _ => result,
        };
        let actual = parsed.try_find(doc);
        let ok = match (&actual, expected.get("values"), expected.get("raises")) {
            (Ok(values), Some(Value::Array(want)), None) => owned(values.clone()) == *want,
            (Err(FindError { exception, message }), None, Some(raised)) => {
                parsed.find(doc).is_empty() && raised == &json!([exception, message])
            }
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{path:?} on doc {}: expected {expected}, got {actual:?}",
                result["doc"]
            ));
        }
    }
    failures
}

#[test]
fn matches_jsonpath_rw_oracle() {
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let docs = fixture["docs"].as_array().unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() > 1000, "fixture unexpectedly small");
    let mut failures = Vec::new();
    let mut checked_results = 0;
    for case in cases {
        let path = case["path"].as_str().unwrap();
        let parsed = jsonpath::parse(path);
        match (parsed, case.get("error")) {
            (Err(err), Some(want)) => {
                if err.message != want.as_str().unwrap() || err.to_string() != err.message {
                    failures.push(format!("{path:?}: expected error {want}, got {err:?}"));
                }
            }
            (Ok(parsed), None) => {
                if let Some(ast) = case["ast"].as_str() {
                    let debug = format!("{parsed:?}");
                    if debug != format!("JsonPath({ast})") {
                        failures.push(format!("{path:?}: expected tree {ast}, got {debug}"));
                    }
                }
                checked_results += case["results"].as_array().unwrap().len();
                failures.extend(check_results(path, &parsed, case, docs));
            }
            (got, want) => failures.push(format!("{path:?}: expected {want:?}, got {got:?}")),
        }
    }
    assert!(checked_results > 3000, "fixture has too few results");
    assert!(
        failures.is_empty(),
        "{} mismatches with jsonpath-rw:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn rule_fields_from_upstream_tests() {
    let data = json!({
        "memory_mb": 12288, "local_gb": 999, "cpu_arch": "x86_64", "root_disk": {"wwn": null},
        "inventory": {"interfaces": [{"ipv4_address": "1.2.3.4"}, {"ipv4_address": "127.0.0.1"}],
                      "cpu": {"count": 4}},
    });
    let find = |path: &str| owned(jsonpath::parse(path).unwrap().find(&data));
    assert_eq!(find("memory_mb"), [json!(12288)]);
    assert_eq!(find("root_disk.wwn"), [Value::Null]);
    assert_eq!(find("i.do.not.exist"), Vec::<Value>::new());
    assert_eq!(find("inventory.cpu.count"), [json!(4)]);
    assert_eq!(
        find("inventory.interfaces[*].ipv4_address"),
        [json!("1.2.3.4"), json!("127.0.0.1")]
    );
    // The slice quirk: a dict under `[*]` is wrapped, not iterated.
    assert_eq!(find("inventory.cpu[*]"), [json!({"count": 4})]);
    assert_eq!(
        find("inventory.interfaces"),
        [data["inventory"]["interfaces"].clone()]
    );
}

#[test]
fn find_time_exceptions_give_no_values() {
    let data = json!({"a": [], "d": {"x": 1}, "n": 5});
    for (path, exception) in [
        ("a&a", "NotImplementedError"),
        ("a[-1]", "IndexError"),
        ("d[0]", "KeyError"),
        ("n[0]", "TypeError"),
        ("`parent`", "AttributeError"),
    ] {
        let parsed = jsonpath::parse(path).unwrap();
        assert_eq!(
            parsed.try_find(&data).unwrap_err().exception,
            exception,
            "{path}"
        );
        assert!(parsed.find(&data).is_empty(), "{path}");
    }
}

#[test]
fn pathological_paths_are_bounded() {
    let long_chain = vec!["a"; 200_000].join(".");
    assert!(jsonpath::parse(&long_chain).is_err());
    let deep_parens = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(jsonpath::parse(&deep_parens).is_err());
    let unclosed = "(".repeat(100_000);
    assert!(jsonpath::parse(&unclosed).is_err());
    // Every operator level of the precedence climb recurses once per parenthesis.
    let climb = format!("{}a{}", "a..a.a|a&a where (".repeat(300), ")".repeat(300));
    assert!(jsonpath::parse(&climb).is_err());

    // The deepest accepted trees evaluate without exhausting the stack.
    let doc = json!({"a": {"a": {"a": 1}}});
    let deepest_chain = jsonpath::parse(&vec!["`this`"; 256].join(".")).unwrap();
    assert_eq!(
        owned(deepest_chain.find(&doc)),
        [json!({"a": {"a": {"a": 1}}})]
    );
    let right_nested = format!("{}`this`{}", "`this`.(".repeat(128), ")".repeat(128));
    let right_nested = jsonpath::parse(&right_nested).unwrap();
    assert_eq!(
        owned(right_nested.find(&doc)),
        [json!({"a": {"a": {"a": 1}}})]
    );
    let parens = format!("{}a{}", "(".repeat(256), ")".repeat(256));
    assert_eq!(
        owned(jsonpath::parse(&parens).unwrap().find(&doc)),
        [doc["a"].clone()]
    );
    let brackets = "[".repeat(100_000);
    assert!(jsonpath::parse(&brackets).is_err());
    let long_fields = vec!["a"; 200_000].join(",");
    assert!(jsonpath::parse(&long_fields).is_ok());
    let long_quoted = format!("'{}'", "x".repeat(1_000_000));
    assert!(jsonpath::parse(&long_quoted).is_ok());

    // Each `.($|$)` doubles the matches: evaluation must stop, not exhaust memory.
    let exploding = vec!["($|$)"; 64].join(".");
    let parsed = jsonpath::parse(&exploding).unwrap();
    assert_eq!(
        parsed.try_find(&json!({})).unwrap_err().exception,
        "MemoryError"
    );
    let doc: Value =
        serde_json::from_str(&format!("{}1{}", "[".repeat(100), "]".repeat(100))).unwrap();
    let parsed = jsonpath::parse("$..[*]").unwrap();
    assert_eq!(parsed.find(&doc).len(), 101); // the innermost 1 is wrapped too
    let descendants = vec!["[*]"; 30].join("..");
    let parsed = jsonpath::parse(&descendants).unwrap();
    assert_eq!(parsed.try_find(&doc).unwrap_err().exception, "MemoryError");

    // Within the match budget, but each match a copy of the whole document
    // (the list a slice wraps a dict in, reached as the parent of its item,
    // is a value of its own, copied): stopped before copying.
    let big = json!({"items": (0..2_000).collect::<Vec<_>>()});
    let copying = format!("{}.`this`[0:].`parent`", vec!["($|$)"; 15].join("."));
    let parsed = jsonpath::parse(&copying).unwrap();
    let error = parsed.try_find(&big).map(|found| found.len()).unwrap_err();
    assert_eq!(
        (error.exception, error.message.as_str()),
        ("MemoryError", "JSON path copies too many values")
    );
    // A few such copies are fine.
    let few = jsonpath::parse("($|$).`this`[0:].`parent`").unwrap();
    assert_eq!(owned(few.find(&big)), [json!([big]), json!([big])]);
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-c\u{e9}\u{663}]{0,4}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-c*@ -]{0,3}", inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Strings made of jsonpath-rw tokens, so that many of them parse.
fn arb_path() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "a", "b", "c", "*", "@", "a-b", "where", "0", "1", "-1", "\u{663}", ".", "..", "[", "]",
        "(", ")", "$", ",", ":", "|", "&", "`this`", "`parent`", "`x`", "'a b'", "\"c\"", " ",
        "\n", "'", "\\", "%",
    ]);
    prop::collection::vec(token, 0..24).prop_map(|tokens| tokens.concat())
}

proptest! {
    #[test]
    fn parse_and_find_never_panic_on_any_string(path in "\\PC{0,40}", doc in arb_json()) {
        if let Ok(parsed) = jsonpath::parse(&path) {
            let _ = parsed.try_find(&doc);
        }
    }

    #[test]
    fn parse_and_find_never_panic_on_token_soup(path in arb_path(), doc in arb_json()) {
        if let Ok(parsed) = jsonpath::parse(&path) {
            let found = parsed.try_find(&doc);
            // `find` is `try_find` with exceptions mapped to "no values".
            prop_assert_eq!(parsed.find(&doc), found.unwrap_or_default());
        }
    }
}
