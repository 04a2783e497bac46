//! The addresses a ramdisk posted (MACs, IPs, BMC addresses), so that the
//! answer to its callback can leave them out: anyone on the provisioning
//! network may post, and the answer should not confirm what a node has.

use serde_json::Value;

use super::Data;

/// What replaces a posted address in a message shown to the poster.
pub const HIDDEN: &str = "<address>";

/// Keys whose string values are addresses, wherever they appear.
const ADDRESS_KEYS: &[&str] = &[
    "mac_address",
    "mac",
    "macs",
    "ipv4_address",
    "ipv6_address",
    "ip",
    "client_id",
    "bmc_address",
    "bmc_v6address",
    "bmc_mac",
    "ipmi_address",
    "ipmi_v6address",
    "boot_interface",
    "pxe_interface",
];

/// Shorter strings are left alone: replacing them would mangle the text
/// around them and no address is that short.
const SHORTEST: usize = 3;

/// Every address in `data`: the values of the address keys at any depth,
/// and any other string that reads as a MAC or an IP address. Longest
/// first, so that replacing one never leaves part of a longer one.
pub fn posted_addresses(data: &Data) -> Vec<String> {
    let mut found = Vec::new();
    for (key, value) in data {
        collect(key, value, &mut found);
    }
    found.retain(|a: &String| a.chars().count() >= SHORTEST);
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    found.dedup();
    found
}

fn collect(key: &str, value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) if ADDRESS_KEYS.contains(&key) || looks_like_address(text) => {
            found.push(text.clone());
        }
        Value::Array(items) => items.iter().for_each(|item| collect(key, item, found)),
        Value::Object(map) => map.iter().for_each(|(k, v)| collect(k, v, found)),
        _ => {}
    }
}

fn looks_like_address(text: &str) -> bool {
    let bare = text.split('/').next().unwrap_or(text);
    bare.parse::<std::net::IpAddr>().is_ok() || is_mac(text)
}

fn is_mac(text: &str) -> bool {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `text` with every occurrence of `addresses` (ASCII case ignored: Ironic
/// echoes MACs in lower case) replaced by [`HIDDEN`]. One pass over the
/// text for the addresses it holds: a document may post thousands.
pub fn hide_addresses(text: &str, addresses: &[String]) -> String {
    // Most messages hold none or few of the addresses: match only those.
    let lower = text.to_ascii_lowercase();
    let present: Vec<&String> = addresses
        .iter()
        .filter(|a| lower.contains(&a.to_ascii_lowercase()))
        .collect();
    if present.is_empty() {
        return text.to_string();
    }
    let matcher = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(&present);
    match matcher {
        Ok(matcher) => matcher.replace_all(text, &vec![HIDDEN; present.len()]),
        // Only a pathological set of patterns is refused; say nothing then.
        Err(_) => HIDDEN.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(value: Value) -> Data {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn addresses_are_found_at_any_depth_and_by_their_look() {
        let posted = data(json!({
            "inventory": {
                "interfaces": [{"name": "eno1", "mac_address": "52:54:00:AA:00:01",
                                "ipv4_address": "not-an-ip", "lldp": [[1, "04aa"]]}],
                "bmc_address": "10.0.0.9",
                "hostname": "fe80::1",
            },
            "macs": ["52:54:00:aa:00:02"],
            "error": "x",
            "ip": "1",
        }));
        assert_eq!(
            posted_addresses(&posted),
            vec![
                "52:54:00:AA:00:01",
                "52:54:00:aa:00:02",
                "not-an-ip",
                "10.0.0.9",
                "fe80::1"
            ]
        );
    }

    #[test]
    fn hiding_ignores_ascii_case_and_keeps_the_rest() {
        let addresses = vec!["52:54:00:AA:00:01".to_string(), "10.0.0.9".to_string()];
        assert_eq!(
            hide_addresses(
                "port 52:54:00:aa:00:01 exists; é 10.0.0.9 and 10.0.0.9!",
                &addresses
            ),
            "port <address> exists; é <address> and <address>!"
        );
        assert_eq!(hide_addresses("nothing here", &addresses), "nothing here");
    }
}
