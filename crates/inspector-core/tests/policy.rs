//! The policy engine against the upstream oracle (tests/oracle/gen_policy.py,
//! the real oslo.policy 6.0.1 with ironic-inspector 12.5.0's rules): parse
//! trees, check evaluation, inspector's effective rules and decisions for
//! every policy-file case, and the sample generator's layout.
//!
//! Deviation: where oslo.policy raises during evaluation (upstream then
//! answers HTTP 500), we return an error, which the service turns into a
//! denial; the fixture records those cases as `"error: <Exception>"`.

use std::sync::LazyLock;

use inspector_core::policy::{
    DeprecatedRule, Operation, Policy, PolicyFile, PolicyOptions, RuleDefault, inspector_defaults,
    parse_policy_file, parse_rule, sample,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

static FIXTURE: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("oracle/policy.json")).expect("fixture parses")
});

fn object(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().expect("an object")
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn options(enforce_new_defaults: bool) -> PolicyOptions {
    PolicyOptions {
        enforce_new_defaults,
        default_rule: "default".into(),
    }
}

#[test]
fn parse_trees_match_oslo() {
    let cases = FIXTURE["parse"].as_array().unwrap();
    assert!(cases.len() > 40);
    for case in cases {
        let rule = case["rule"].as_str().unwrap();
        assert_eq!(parse_rule(rule).check.to_string(), case["str"], "{rule:?}");
    }
}

#[test]
fn check_evaluation_matches_oslo() {
    let rules: Vec<(String, inspector_core::policy::RuleSpec)> = object(&FIXTURE["rules"])
        .into_iter()
        .map(|(k, v)| {
            (
                k,
                inspector_core::policy::RuleSpec::Text(v.as_str().unwrap().into()),
            )
        })
        .collect();
    let file = PolicyFile {
        source: "fixture".into(),
        rules,
    };
    let (policy, _) = Policy::build(&[], &[file], &options(true));
    let targets: Vec<Map<String, Value>> = FIXTURE["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(object)
        .collect();
    let creds = object(&FIXTURE["creds"]);
    let mut compared = 0;
    for case in FIXTURE["checks"].as_array().unwrap() {
        let rule = case["rule"].as_str().unwrap();
        let target = &targets[case["target"].as_u64().unwrap() as usize];
        let check = parse_rule(rule).check;
        for (name, expected) in object(&case["allowed"]) {
            let got = policy.evaluate(&check, target, &object(&creds[&name]));
            match expected {
                Value::Bool(b) => assert_eq!(got, Ok(b), "{rule:?} target {target:?} creds {name}"),
                Value::String(s) => assert!(
                    got.is_err(),
                    "{rule:?} creds {name}: upstream raised ({s}), we gave {got:?}"
                ),
                other => panic!("unexpected fixture value {other}"),
            }
            compared += 1;
        }
    }
    assert!(compared > 1500, "{compared}");
}

#[test]
fn inspector_defaults_match_upstream_rules() {
    let upstream: Vec<&Value> = FIXTURE["sample_rules"].as_array().unwrap().iter().collect();
    let ours = inspector_defaults();
    // Upstream's rules come first, then those of the endpoints beyond upstream.
    let beyond: Vec<&str> = ours[upstream.len()..]
        .iter()
        .map(|rule| rule.name.as_str())
        .collect();
    assert_eq!(beyond, ["introspection:rule:evaluate"]);
    for (mine, theirs) in ours.iter().zip(upstream) {
        assert_eq!(mine.name, theirs["name"]);
        assert_eq!(mine.check_str, theirs["check_str"], "{}", mine.name);
        assert_eq!(
            mine.operations,
            operations(&theirs["operations"]),
            "{}",
            mine.name
        );
        assert_eq!(
            mine.deprecated_for_removal,
            theirs["deprecated_for_removal"].as_bool().unwrap()
        );
        assert_eq!(
            mine.deprecated_since.as_deref(),
            theirs["deprecated_since"].as_str()
        );
        assert_eq!(
            mine.deprecated_rule
                .as_ref()
                .map(|d| (d.name.as_str(), d.check_str.as_str())),
            theirs["deprecated_rule"].as_object().map(|d| (
                d["name"].as_str().unwrap(),
                d["check_str"].as_str().unwrap()
            )),
            "{}",
            mine.name
        );
    }
}

fn operations(v: &Value) -> Vec<Operation> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|op| Operation {
            method: op[0].as_str().unwrap().into(),
            path: op[1].as_str().unwrap().into(),
        })
        .collect()
}

#[test]
fn inspector_decisions_match_oslo_for_every_policy_file() {
    let names: Vec<String> = FIXTURE["inspector_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    let creds = object(&FIXTURE["creds"]);
    let mut decisions = 0;
    for case in FIXTURE["inspector"].as_array().unwrap() {
        let label = case["label"].as_str().unwrap();
        let files: Vec<PolicyFile> = match case["file"].as_str() {
            Some(text) => vec![parse_policy_file(label, text).expect("file parses")],
            None => Vec::new(),
        };
        let new_defaults = case["enforce_new_defaults"].as_bool().unwrap();
        let (policy, _warnings) =
            Policy::build(&inspector_defaults(), &files, &options(new_defaults));
        for name in &names {
            assert_eq!(
                policy.rule(name).map(ToString::to_string),
                text(&case["effective"][name]),
                "{label} new_defaults={new_defaults} rule {name}"
            );
        }
        for (who, expected) in object(&case["decisions"]) {
            for name in &names {
                let got = policy.enforce(name, &Map::new(), &object(&creds[&who]));
                assert_eq!(
                    got,
                    Ok(expected[name].as_bool().unwrap()),
                    "{label} new_defaults={new_defaults} {who} {name}"
                );
                decisions += 1;
            }
        }
    }
    assert!(decisions > 5000, "{decisions}");
}

#[test]
fn unregistered_rules_are_refused() {
    let (policy, warnings) = Policy::build(&inspector_defaults(), &[], &options(true));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(
        policy
            .enforce("introspection:nope", &Map::new(), &Map::new())
            .is_err()
    );
}

#[test]
fn problems_in_files_are_reported() {
    let file = parse_policy_file(
        "p.yaml",
        "a: \"rule:b\"\nb: \"rule:a\"\nc: \"rule:missing\"\nd: \"role:x or\"\n\
         \"introspection:start\": \"(role:admin and system_scope:all) or (role:admin) or (role:service)\"\n",
    )
    .unwrap();
    let (policy, warnings) = Policy::build(&inspector_defaults(), &[file], &options(true));
    let all = warnings.join("\n");
    assert!(all.contains("p.yaml: rule \"d\": cannot parse"), "{all}");
    assert!(all.contains("c reference undefined"), "{all}");
    assert!(all.contains("a, b are part of a cycle"), "{all}");
    assert!(
        all.contains("introspection:start in the policy files repeat"),
        "{all}"
    );
    // A cycle is an evaluation error (denied by the service), not a hang.
    let creds = Map::new();
    assert!(
        policy
            .evaluate(&parse_rule("rule:a").check, &Map::new(), &creds)
            .is_err()
    );
}

#[test]
fn sample_layout_matches_oslopolicy_sample_generator() {
    let rules: Vec<RuleDefault> = FIXTURE["sample_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| RuleDefault {
            name: r["name"].as_str().unwrap().into(),
            check_str: r["check_str"].as_str().unwrap().into(),
            description: text(&r["description"]),
            operations: operations(&r["operations"]),
            deprecated_for_removal: r["deprecated_for_removal"].as_bool().unwrap(),
            deprecated_reason: text(&r["deprecated_reason"]),
            deprecated_since: text(&r["deprecated_since"]),
            deprecated_rule: r["deprecated_rule"].as_object().map(|d| DeprecatedRule {
                name: d["name"].as_str().unwrap().into(),
                check_str: d["check_str"].as_str().unwrap().into(),
                reason: text(&d["deprecated_reason"]),
                since: text(&d["deprecated_since"]),
            }),
        })
        .collect();
    let expected = FIXTURE["sample"].as_str().unwrap();
    let got = sample(&rules);
    for (i, (a, b)) in got.lines().zip(expected.lines()).enumerate() {
        assert_eq!(a, b, "line {}", i + 1);
    }
    assert_eq!(got, expected);
}

#[test]
fn our_sample_parses_back_as_the_defaults() {
    // Uncommenting every rule line of the sample gives a policy file that
    // only repeats the defaults.
    let text: String = sample(&inspector_defaults())
        .lines()
        .filter_map(|l| l.strip_prefix("#\""))
        .map(|l| format!("\"{l}\n"))
        .collect();
    let file = parse_policy_file("sample", &text).unwrap();
    assert_eq!(file.rules.len(), inspector_defaults().len());
    let (_, warnings) = Policy::build(&inspector_defaults(), &[file], &options(true));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("repeat the defaults"));
}

proptest! {
    #[test]
    fn arbitrary_rules_never_panic(text in "[ a-z:()%'\"@!._]{0,60}") {
        let parsed = parse_rule(&text);
        let (policy, _) = Policy::build(&inspector_defaults(), &[], &options(true));
        let mut creds = Map::new();
        creds.insert("roles".into(), Value::Array(vec!["admin".into()]));
        let _ = policy.evaluate(&parsed.check, &Map::new(), &creds);
    }

    #[test]
    fn arbitrary_files_never_panic(text in "\\PC{0,80}") {
        let _ = parse_policy_file("p", &text);
    }
}
