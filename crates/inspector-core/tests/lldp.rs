//! LLDP parsing against fixtures generated from upstream ironic-inspector
//! (tests/oracle/gen_lldp.py), plus "never panics" property tests.

use inspector_core::lldp::{is_valid_mac, local_link_from_tlvs, process_tlvs};
use proptest::prelude::*;
use serde_json::{Value, json};

const FIXTURE: &str = include_str!("oracle/lldp.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("fixture is valid JSON")
}

fn cases() -> Vec<Value> {
    fixture()["cases"]
        .as_array()
        .expect("cases is a list")
        .clone()
}

fn warning_count(case: &Value, part: &str) -> usize {
    let n = case[part]["warnings"].as_u64().expect("warning count");
    usize::try_from(n).expect("small count")
}

#[test]
fn processed_values_match_upstream() {
    let cases = cases();
    assert!(cases.len() > 500, "fixture unexpectedly small");
    let mut failures = Vec::new();
    for case in &cases {
        let (map, warnings) = process_tlvs(&case["tlvs"]);
        let expected = &case["processed"]["expected"];
        let want_warnings = warning_count(case, "processed");
        if &Value::Object(map.clone()) != expected || warnings.len() != want_warnings {
            failures.push(format!(
                "{}: tlvs {}\n  got {} with {} warnings {:?}\n  want {} with {} warnings (upstream error: {})",
                case["name"],
                case["tlvs"],
                Value::Object(map),
                warnings.len(),
                warnings,
                expected,
                want_warnings,
                case["processed"]["upstream_error"]
            ));
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
fn local_link_matches_upstream() {
    let mut failures = Vec::new();
    for case in &cases() {
        let link = local_link_from_tlvs(&case["tlvs"]);
        let want = &case["local_link"];
        let want_warnings = warning_count(case, "local_link");
        let got_port = link.port_id.clone().map_or(Value::Null, Value::String);
        let got_switch = link.switch_id.clone().map_or(Value::Null, Value::String);
        if got_port != want["port_id"]
            || got_switch != want["switch_id"]
            || link.warnings.len() != want_warnings
        {
            failures.push(format!(
                "{}: tlvs {}\n  got {:?}\n  want {}",
                case["name"], case["tlvs"], link, want
            ));
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
fn handmade_inventory_matches_stored_data() {
    let cases = cases();
    let eno1 = cases
        .iter()
        .find(|c| c["name"] == "handmade:eno1")
        .expect("handmade case present");
    let (map, warnings) = process_tlvs(&eno1["tlvs"]);
    assert!(warnings.is_empty());
    assert_eq!(
        Value::Object(map),
        json!({
            "switch_chassis_id": "88:5a:92:ec:54:59",
            "switch_port_id": "Ethernet1/18",
            "switch_system_name": "leaf-sw-01.example.com",
            "switch_port_description": "uplink to host-a eth0",
            "switch_port_untagged_vlan_id": 100
        })
    );
}

#[test]
fn mac_validation_matches_oslo() {
    let fixture = fixture();
    let macs = fixture["is_valid_mac"].as_array().expect("mac list");
    assert!(!macs.is_empty());
    for pair in macs {
        let s = pair[0].as_str().expect("mac string");
        let want = pair[1].as_bool().expect("bool");
        assert_eq!(is_valid_mac(s), want, "is_valid_mac({s:?})");
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![0u64, 1, 2, 3, 4, 5, 6, 7, 8, 127]).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::String(hex::encode(b))),
    ];
    leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Well-formed `[type, hex]` pairs with arbitrary payloads, to reach the decoders.
fn tlv_list() -> impl Strategy<Value = Value> {
    let tlv_type = prop::sample::select(vec![0u64, 1, 2, 3, 4, 5, 6, 7, 8, 127, 9]);
    let payload = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        (
            prop::sample::select(vec![[0x00u8, 0x80, 0xc2], [0x00, 0x12, 0x0f]]),
            any::<u8>(),
            prop::collection::vec(any::<u8>(), 0..16)
        )
            .prop_map(|(oui, sub, rest)| {
                let mut v = oui.to_vec();
                v.push(sub % 9);
                v.extend(rest);
                v
            }),
    ];
    prop::collection::vec(
        (tlv_type, payload).prop_map(|(t, p)| json!([t, hex::encode(p)])),
        0..12,
    )
    .prop_map(Value::Array)
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_json(tlvs in arbitrary_json()) {
        let _ = process_tlvs(&tlvs);
        let _ = local_link_from_tlvs(&tlvs);
    }

    #[test]
    fn never_panics_on_arbitrary_payloads(tlvs in tlv_list()) {
        let (map, _) = process_tlvs(&tlvs);
        // Every produced key is one of upstream's names.
        for key in map.keys() {
            prop_assert!(key.starts_with("switch_"));
        }
        let link = local_link_from_tlvs(&tlvs);
        if let Some(switch_id) = link.switch_id {
            prop_assert!(is_valid_mac(&switch_id));
        }
    }

    #[test]
    fn mac_check_never_panics(s in ".{0,24}") {
        let _ = is_valid_mac(&s);
    }
}
