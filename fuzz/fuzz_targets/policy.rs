//! Policy files and checks: a policy file (YAML or JSON) overriding
//! inspector's registered defaults, the rule set built from it (references,
//! cycles), and every registered rule enforced for a few callers. The input
//! is also parsed as a lone check string, as `oslo.policy` parses one rule.
#![no_main]

use std::sync::OnceLock;

use inspector_core::policy::{
    Policy, PolicyOptions, RuleDefault, inspector_defaults, parse_policy_file, parse_rule,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

fn defaults() -> &'static [RuleDefault] {
    static DEFAULTS: OnceLock<Vec<RuleDefault>> = OnceLock::new();
    DEFAULTS.get_or_init(inspector_defaults)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("callers pass objects"),
    }
}

fn callers() -> &'static [Map<String, Value>] {
    static CALLERS: OnceLock<Vec<Map<String, Value>>> = OnceLock::new();
    CALLERS.get_or_init(|| {
        vec![
            object(
                json!({"roles": ["admin"], "project_id": "p1", "user_id": "u1",
                          "is_admin_project": true, "system_scope": "all"}),
            ),
            object(
                json!({"roles": ["member", "reader"], "project_id": "p2", "user_id": "u2",
                          "is_admin": false}),
            ),
            object(json!({})),
        ]
    })
}

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let lone = parse_rule(text);
    let target = object(json!({"project_id": "p1", "user_id": "u2", "node": {"owner": "p1"}}));
    let Ok(file) = parse_policy_file("policy.yaml", text) else {
        return;
    };
    for enforce_new_defaults in [false, true] {
        let options = PolicyOptions {
            enforce_new_defaults,
            default_rule: "default".into(),
        };
        let (policy, _warnings) = Policy::build(defaults(), std::slice::from_ref(&file), &options);
        for caller in callers() {
            for default in defaults() {
                let _ = policy.enforce(&default.name, &target, caller);
            }
            let _ = policy.evaluate(&lone.check, &target, caller);
        }
    }
});
