//! Root device hints against fixtures generated from upstream ironic-inspector
//! (tests/oracle/gen_root_device.py), plus "never panics" property tests.

use inspector_core::root_device::{HintError, find_all_matching, find_first_matching, parse_hints};
use proptest::prelude::*;
use serde_json::{Value, json};

const FIXTURE: &str = include_str!("oracle/root_device.json");

struct Oracle {
    disk_lists: Vec<Vec<Value>>,
    cases: Vec<Value>,
    random: Vec<Value>,
    errors: Vec<Value>,
}

fn oracle() -> Oracle {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture is valid JSON");
    let list = |key: &str| fixture[key].as_array().expect("list").clone();
    Oracle {
        disk_lists: list("disk_lists")
            .into_iter()
            .map(|d| d.as_array().expect("disk list").clone())
            .collect(),
        cases: list("cases"),
        random: list("random"),
        errors: list("errors"),
    }
}

impl Oracle {
    /// `None` when `expected` is not an error reference.
    fn expected_error(&self, expected: &Value) -> Option<&Value> {
        let index = expected.get("error")?.as_u64()?;
        self.errors.get(usize::try_from(index).ok()?)
    }

    /// Compares one outcome; returns a description of the mismatch.
    fn check<T: std::fmt::Debug>(
        &self,
        got: &Result<T, HintError>,
        expected: &Value,
        to_json: impl Fn(&T) -> Value,
    ) -> Option<String> {
        match (self.expected_error(expected), got) {
            (Some(error), Err(e)) => {
                let (class, message, exact) = (&error[0], &error[1], &error[2]);
                let class_ok =
                    class == e.exception || (class == "SyntaxError" && e.exception == "ValueError");
                let ok = if exact == &Value::Bool(true) {
                    class == e.exception && message == e.message.as_str()
                } else {
                    class_ok
                };
                (!ok).then(|| format!("got error {e:?}, want {error}"))
            }
            (Some(error), Ok(v)) => Some(format!("got {v:?}, want error {error}")),
            (None, Err(e)) => Some(format!("got error {e:?}, want {expected}")),
            (None, Ok(v)) => {
                let v = to_json(v);
                (&v != expected).then(|| format!("got {v}, want {expected}"))
            }
        }
    }
}

#[test]
fn parsing_and_matching_match_upstream() {
    let oracle = oracle();
    assert!(oracle.cases.len() > 100 && oracle.disk_lists.len() > 10);
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in &oracle.cases {
        let hints = &case["hints"];
        let parsed = parse_hints(hints);
        let expected_parse = case.get("parsed").unwrap_or(case);
        if let Some(problem) = oracle.check(&parsed, expected_parse, |h| {
            h.parsed().map_or(Value::Null, Value::Object)
        }) {
            failures.push(format!("parse {hints}: {problem}"));
            continue;
        }
        let Ok(parsed) = parsed else { continue };
        for (disks, result) in oracle
            .disk_lists
            .iter()
            .zip(case["results"].as_array().expect("results"))
        {
            compared += 1;
            let first = find_first_matching(disks, &parsed);
            if let Some(problem) = oracle.check(&first, &result[0], |i| json!(i)) {
                failures.push(format!(
                    "first {hints} on {}: {problem}",
                    Value::Array(disks.clone())
                ));
            }
            let all = find_all_matching(disks, &parsed);
            if let Some(problem) = oracle.check(&all, &result[1], |v| json!(v)) {
                failures.push(format!(
                    "all {hints} on {}: {problem}",
                    Value::Array(disks.clone())
                ));
            }
        }
    }
    assert!(compared > 1000, "only {compared} comparisons");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn operator_soup_matches_upstream() {
    let oracle = oracle();
    assert!(oracle.random.len() >= 300);
    let mut failures = Vec::new();
    for case in &oracle.random {
        let hints = &case["hints"];
        let disks = case["disks"].as_array().expect("disks");
        let parsed = parse_hints(hints);
        let expected_parse = case.get("parsed").unwrap_or(case);
        if let Some(problem) = oracle.check(&parsed, expected_parse, |h| {
            h.parsed().map_or(Value::Null, Value::Object)
        }) {
            failures.push(format!("parse {hints}: {problem}"));
            continue;
        }
        let Ok(parsed) = parsed else { continue };
        let first = find_first_matching(disks, &parsed);
        if let Some(problem) = oracle.check(&first, &case["result"][0], |i| json!(i)) {
            failures.push(format!("first {hints} on {}: {problem}", case["disks"]));
        }
        let all = find_all_matching(disks, &parsed);
        if let Some(problem) = oracle.check(&all, &case["result"][1], |v| json!(v)) {
            failures.push(format!("all {hints} on {}: {problem}", case["disks"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn functional_test_root_device_hint() {
    // upstream-behaviour §functional, scenario 9: {"size": 20} selects the 20 GiB disk.
    let disks = [
        json!({"name": "/dev/sda", "size": 1000u64 << 30, "model": "Big Data Disk"}),
        json!({"name": "/dev/sdb", "size": 20u64 << 30, "model": "Small OS Disk"}),
    ];
    let hints = parse_hints(&json!({"size": 20})).expect("valid hints");
    assert_eq!(find_first_matching(&disks, &hints), Ok(Some(1)));
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "<or>",
            "<in>",
            "<all-in>",
            "<range-in>",
            "s==",
            "s!=",
            "==",
            "=",
            ">=",
            "<",
            "s<",
            " ",
            "\t",
            "\u{b}",
            "\u{a0}",
            "none",
            "1e5",
            "-1",
            "...",
            "0x1f",
            "%20",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{0,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Strings built from the grammar's pieces, to reach its corners.
fn expression() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "<or>",
            "<in>",
            "<all-in>",
            "<range-in>",
            "s==",
            "s!=",
            "s<",
            "s<=",
            "s>",
            "s>=",
            "==",
            "=",
            "!=",
            ">=",
            "<=",
            ">",
            "<",
            " ",
            "\t",
            "\n",
            "\r",
            "\u{b}",
            "\u{3000}",
            "a",
            "B",
            "20",
            "1e3",
            "-",
            ".",
            "_",
            "j",
            "é",
            "[",
            "]",
        ]),
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

fn hint_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "size",
        "model",
        "serial",
        "vendor",
        "wwn",
        "name",
        "rotational",
        "hctl",
        "by_path",
    ])
    .prop_map(str::to_owned)
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_input(hints in arbitrary_json(), disks in prop::collection::vec(arbitrary_json(), 0..4)) {
        if let Ok(parsed) = parse_hints(&hints) {
            let _ = find_first_matching(&disks, &parsed);
            let _ = find_all_matching(&disks, &parsed);
        }
    }

    #[test]
    fn never_panics_on_operator_soup(
        name in hint_name(),
        hint in expression(),
        attribute in expression(),
        size in any::<u64>(),
    ) {
        let hints = json!({ name.clone(): hint });
        let disk = json!({"name": "/dev/sda", "size": size, name: attribute});
        if let Ok(parsed) = parse_hints(&hints) {
            let first = find_first_matching(std::slice::from_ref(&disk), &parsed);
            let all = find_all_matching(std::slice::from_ref(&disk), &parsed);
            prop_assert_eq!(first.map(|f| f.is_some()), all.map(|a| !a.is_empty()));
        }
    }
}
