//! Introspection rules: validation of a posted rule (`POST /v1/rules`), then
//! its evaluation with the dry run of `POST /v1/rules/evaluate`, which takes
//! every condition and action the real run takes (scopes, jsonpath fields,
//! `re`, `str.format`, node patches) without calling Ironic.
//!
//! Input: the rule body, optionally followed by a NUL and the introspection
//! data (an IPA inventory when absent).
#![no_main]

use std::sync::OnceLock;

use inspector_core::rules::{self, run};
use inspector_fuzz::{default_data, json_or, split, too_deep};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fn node() -> &'static Value {
    static NODE: OnceLock<Value> = OnceLock::new();
    NODE.get_or_init(|| {
        rules::eval::node_for_rules(&json!({
            "uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
            "driver": "ipmi",
            "properties": {"cpus": 4, "capabilities": "boot_mode:uefi"},
            "extra": {"rack": "r1"},
            "driver_info": {"ipmi_address": "127.0.0.1"},
            "owner": "project-1",
            "traits": ["CUSTOM_A"],
        }))
    })
}

fn data() -> &'static Value {
    static DATA: OnceLock<Value> = OnceLock::new();
    DATA.get_or_init(default_data)
}

fuzz_target!(|input: &[u8]| {
    let (rule_part, data_part) = split(input);
    if too_deep(rule_part) || too_deep(data_part) {
        return;
    }
    let Ok(body) = serde_json::from_slice::<Value>(rule_part) else {
        return;
    };
    let Ok(rule) = rules::parse_rule(&body) else {
        return;
    };
    let data = json_or(data_part, || data().clone());
    let rule_set = [run::CompiledRule::new(rule)];
    let evaluation = run::dry_run(&rule_set, &data, node());
    let _ = run::report(
        &rule_set,
        &evaluation,
        "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
    );
});
