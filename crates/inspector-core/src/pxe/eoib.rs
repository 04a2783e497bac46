//! Ethernet over InfiniBand (`[iptables] ethoib_interfaces`): an InfiniBand
//! port boots with an Ethernet MAC (EMAC) that its EoIB interface learned.
//! `/sys/class/net/<iface>/eth/neighs` lines read
//! `EMAC=<mac> IMAC=<...><guid>`, and the GUID is the last 8 bytes (23
//! characters) of the port's `extra.client-id`. Reading the files is the
//! service's job; matching is here.

use super::Mac;

/// Characters of `xx:xx:xx:xx:xx:xx:xx:xx`.
const GUID_CHARS: usize = 23;

/// The neighbour table of an EoIB interface. The name must be a plain
/// interface name, so that the path stays inside `/sys/class/net`.
pub fn neighbours_path(interface: &str) -> Result<String, String> {
    let plain = !interface.is_empty()
        && interface.len() <= 15
        && interface != "."
        && interface != ".."
        && interface
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '@' | '-'));
    if plain {
        Ok(format!("/sys/class/net/{interface}/eth/neighs"))
    } else {
        Err(format!(
            "[iptables] ethoib_interfaces: {interface:?} is not an interface name"
        ))
    }
}

/// The InfiniBand GUID of a client id: its last 23 characters (all of it
/// when shorter).
pub fn guid_of(client_id: &str) -> &str {
    let skip = client_id.chars().count().saturating_sub(GUID_CHARS);
    match client_id.char_indices().nth(skip) {
        Some((start, _)) => &client_id[start..],
        None => client_id,
    }
}

/// The EMAC that one neighbour table gives `guid`: the first line (in file
/// order) with `EMAC=<mac> IMAC=` followed, later on the same line, by the
/// GUID. Upstream matches with a regular expression built from the GUID;
/// here the GUID is matched literally, which is the same for any real GUID
/// (hex digits and colons) and cannot be subverted by a crafted client id.
pub fn emac_in_table(table: &str, guid: &str) -> Option<Mac> {
    table.split('\n').find_map(|line| {
        line.match_indices("EMAC=").find_map(|(at, _)| {
            let rest = &line[at + "EMAC=".len()..];
            let mac = rest.get(..17)?;
            let after = rest[17..].strip_prefix(" IMAC=")?;
            let mac = Mac::parse(mac)?;
            after.contains(guid).then_some(mac)
        })
    })
}

/// The EMAC of a port with this client id, looking in every table in order;
/// a later table's match wins, as upstream rewrites the address once per
/// interface. `None` for an empty client id or when no table knows it.
pub fn emac_for_client_id(client_id: &str, tables: &[&str]) -> Option<Mac> {
    if client_id.is_empty() {
        return None;
    }
    let guid = guid_of(client_id);
    tables
        .iter()
        .rev()
        .find_map(|table| emac_in_table(table, guid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TABLE: &str = "EMAC=02:00:02:97:00:01 IMAC=97:fe:80:00:00:00:00:00:00:7c:fe:90:03:00:29:26:52 \
                         EMAC=02:00:00:61:00:02 IMAC=61:fe:80:00:00:00:00:00:00:7c:fe:90:03:00:29:24:4f\n\
                         EMAC=02:00:00:61:00:03 IMAC=61:fe:80:00:00:00:00:00:00:7c:fe:90:03:00:29:24:50\n";

    #[test]
    fn neighbour_tables_stay_in_sys_class_net() {
        assert_eq!(
            neighbours_path("ib0.8001").unwrap(),
            "/sys/class/net/ib0.8001/eth/neighs"
        );
        for bad in ["", ".", "..", "../etc", "a/b", "ib 0", "abcdefghijklmnop"] {
            assert!(neighbours_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn guid_is_the_last_23_characters() {
        assert_eq!(
            guid_of("ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:26:52"),
            "7c:fe:90:03:00:29:26:52"
        );
        assert_eq!(guid_of("short"), "short");
        assert_eq!(guid_of(""), "");
        assert_eq!(guid_of(&"é".repeat(30)), "é".repeat(23));
    }

    #[test]
    fn first_matching_emac_on_the_line_wins() {
        // Both GUIDs of line 1 are after the first EMAC, as with upstream's `.*`.
        let emac = |g| emac_in_table(TABLE, g).map(|m| m.to_string());
        assert_eq!(
            emac("7c:fe:90:03:00:29:26:52").as_deref(),
            Some("02:00:02:97:00:01")
        );
        assert_eq!(
            emac("7c:fe:90:03:00:29:24:4f").as_deref(),
            Some("02:00:02:97:00:01")
        );
        assert_eq!(
            emac("7c:fe:90:03:00:29:24:50").as_deref(),
            Some("02:00:00:61:00:03")
        );
        assert_eq!(emac("7c:fe:90:03:00:29:24:51"), None);
    }

    #[test]
    fn malformed_lines_do_not_match() {
        for table in [
            "EMAC=02:00:02:97:00:0 IMAC=7c:fe:90:03:00:29:26:52",
            "EMAC=02:00:02:97:00:0G IMAC=7c:fe:90:03:00:29:26:52",
            "EMAC=02:00:02:97:00:01  IMAC=7c:fe:90:03:00:29:26:52",
            "EMAC=02:00:02:97:00:01 IMAC=\n7c:fe:90:03:00:29:26:52",
            "EMAC=02:00:02:97:00:01",
            "EMAC=",
        ] {
            assert_eq!(
                emac_in_table(table, "7c:fe:90:03:00:29:26:52"),
                None,
                "{table:?}"
            );
        }
    }

    #[test]
    fn later_tables_win_and_empty_client_ids_are_ignored() {
        let first = "EMAC=02:00:00:00:00:01 IMAC=aa:7c:fe:90:03:00:29:26:52";
        let second = "EMAC=02:00:00:00:00:02 IMAC=bb:7c:fe:90:03:00:29:26:52";
        let client = "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:26:52";
        assert_eq!(
            emac_for_client_id(client, &[first, second]).map(|m| m.to_string()),
            Some("02:00:00:00:00:02".to_string())
        );
        assert_eq!(
            emac_for_client_id(client, &[first, "nothing"]).map(|m| m.to_string()),
            Some("02:00:00:00:00:01".to_string())
        );
        assert_eq!(emac_for_client_id("", &[first]), None);
        assert_eq!(emac_for_client_id(client, &[]), None);
    }

    proptest! {
        #[test]
        fn never_panics(table in "\\PC{0,200}", client in "\\PC{0,40}") {
            let _ = emac_for_client_id(&client, &[&table]);
        }
    }
}
