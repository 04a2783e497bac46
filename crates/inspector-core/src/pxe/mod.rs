//! PXE filtering decisions (upstream-behaviour §pxe), without any I/O: which MAC addresses
//! may PXE-boot the introspection ramdisk, what the dnsmasq driver writes to
//! its hosts directory, and which iptables rules the iptables driver builds.
//!
//! The service gathers the inputs (Ironic's ports, the MACs of nodes under
//! introspection, EoIB neighbour tables), calls these functions, and performs
//! the writes and commands they return. Every MAC that ends up in a file
//! name or a command argument is a [`Mac`], which only exists validated.

pub mod command;
pub mod dnsmasq;
pub mod eoib;
pub mod iptables;

use std::collections::HashSet;
use std::fmt;

/// A MAC address in Ironic's canonical form: lower-case `xx:xx:xx:xx:xx:xx`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(String);

impl Mac {
    /// The address when `text` is exactly in canonical form; `None` otherwise
    /// (upper case, other separators, surrounding blanks are all refused).
    pub fn parse(text: &str) -> Option<Mac> {
        let bytes = text.as_bytes();
        if bytes.len() != 17 {
            return None;
        }
        let valid = bytes.iter().enumerate().all(|(i, b)| {
            if i % 3 == 2 {
                *b == b':'
            } else {
                matches!(b, b'0'..=b'9' | b'a'..=b'f')
            }
        });
        valid.then(|| Mac(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The settings that decide who may boot, besides the MAC lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `[pxe_filter] deny_unknown_macs`.
    pub deny_unknown_macs: bool,
    /// `[processing] node_not_found_hook` is set (discovery).
    pub discovery: bool,
}

impl Policy {
    /// Whether DHCP answers anyone at all: some introspection runs, or
    /// discovery may enroll unknown machines (upstream's
    /// `_should_enable_dhcp`, used by the iptables driver).
    pub fn dhcp_open(&self, introspection_active: bool) -> bool {
        introspection_active || self.discovery
    }

    /// Whether MACs unknown to Ironic (and ports deleted from it) may boot
    /// (the dnsmasq driver's wildcard entry).
    pub fn unknown_hosts_allowed(&self, introspection_active: bool) -> bool {
        self.dhcp_open(introspection_active) && !self.deny_unknown_macs
    }
}

/// What the filter needs of one Ironic port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortAddress<'a> {
    /// `address`, as Ironic returns it.
    pub address: &'a str,
    /// `extra.client-id` when it is a string (InfiniBand ports).
    pub client_id: Option<&'a str>,
}

/// Ironic's MACs split the way the drivers use them (upstream's
/// `get_ironic_macs`, `get_active_macs`, `get_inactive_macs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MacSets {
    /// The MAC of every port.
    pub ironic: HashSet<Mac>,
    /// MACs of ports whose address is a lookup attribute of a node under
    /// introspection.
    pub active: HashSet<Mac>,
    /// MACs of every other port.
    pub inactive: HashSet<Mac>,
    /// Addresses that are not canonical MACs, left out of every set.
    pub rejected: Vec<String>,
}

/// Classifies Ironic's ports. A port is active when its address (as Ironic
/// has it) is one of `active_macs`; its filtered MAC is then replaced by the
/// EoIB MAC that `neighbour_tables` map its InfiniBand GUID to, if any, as
/// upstream does (the classification uses the original address).
pub fn mac_sets(
    ports: &[PortAddress<'_>],
    active_macs: &HashSet<String>,
    neighbour_tables: &[&str],
) -> MacSets {
    let mut sets = MacSets::default();
    for port in ports {
        let mapped = port
            .client_id
            .and_then(|client_id| eoib::emac_for_client_id(client_id, neighbour_tables));
        let Some(mac) = mapped.or_else(|| Mac::parse(port.address)) else {
            sets.rejected.push(port.address.to_string());
            continue;
        };
        if active_macs.contains(port.address) {
            sets.active.insert(mac.clone());
        } else {
            sets.inactive.insert(mac.clone());
        }
        sets.ironic.insert(mac);
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_canonical_macs_parse() {
        assert_eq!(
            Mac::parse("52:54:00:ab:cd:ef").map(|m| m.to_string()),
            Some("52:54:00:ab:cd:ef".to_string())
        );
        for bad in [
            "",
            "52:54:00:AB:CD:EF",
            "52-54-00-ab-cd-ef",
            "52:54:00:ab:cd:ef ",
            " 52:54:00:ab:cd:ef",
            "52:54:00:ab:cd",
            "52:54:00:ab:cd:e",
            "52:54:00:ab:cd:eg",
            "525:4:00:ab:cd:ef",
            "../../etc/passwd",
            "52:54:00:ab:cd:e\n",
            "unknown_hosts_filter",
            "*:*:*:*:*:*",
        ] {
            assert_eq!(Mac::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn policy_matches_upstream_conditions() {
        let plain = Policy {
            deny_unknown_macs: false,
            discovery: false,
        };
        assert!(!plain.dhcp_open(false));
        assert!(plain.dhcp_open(true));
        assert!(!plain.unknown_hosts_allowed(false));
        assert!(plain.unknown_hosts_allowed(true));
        let discovery = Policy {
            deny_unknown_macs: false,
            discovery: true,
        };
        assert!(discovery.dhcp_open(false));
        assert!(discovery.unknown_hosts_allowed(false));
        let strict = Policy {
            deny_unknown_macs: true,
            discovery: false,
        };
        assert!(strict.dhcp_open(true));
        assert!(!strict.unknown_hosts_allowed(true));
    }

    #[test]
    fn ports_split_into_active_and_inactive() {
        let ports = [
            PortAddress {
                address: "52:54:00:00:00:01",
                client_id: None,
            },
            PortAddress {
                address: "52:54:00:00:00:02",
                client_id: None,
            },
            PortAddress {
                address: "52:54:00:00:00:0G",
                client_id: None,
            },
            PortAddress {
                address: "",
                client_id: None,
            },
        ];
        let active: HashSet<String> = ["52:54:00:00:00:02", "52:54:00:00:00:99"]
            .map(String::from)
            .into();
        let sets = mac_sets(&ports, &active, &[]);
        let mac = |s| Mac::parse(s).unwrap();
        assert_eq!(
            sets.ironic,
            [mac("52:54:00:00:00:01"), mac("52:54:00:00:00:02")].into()
        );
        assert_eq!(sets.active, [mac("52:54:00:00:00:02")].into());
        assert_eq!(sets.inactive, [mac("52:54:00:00:00:01")].into());
        assert_eq!(sets.rejected, ["52:54:00:00:00:0G", ""]);
    }

    #[test]
    fn eoib_ports_are_classified_by_their_ironic_address() {
        let neighs =
            "EMAC=02:00:02:97:00:01 IMAC=97:fe:80:00:00:00:00:00:00:7c:fe:90:03:00:29:26:52\n";
        let client_id = "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:26:52";
        let ports = [PortAddress {
            address: "7c:fe:90:29:26:52",
            client_id: Some(client_id),
        }];
        let active: HashSet<String> = ["7c:fe:90:29:26:52".to_string()].into();
        let sets = mac_sets(&ports, &active, &[neighs]);
        let emac = Mac::parse("02:00:02:97:00:01").unwrap();
        assert_eq!(sets.active, [emac.clone()].into());
        assert_eq!(sets.ironic, [emac].into());
        assert!(sets.inactive.is_empty());
    }

    proptest! {
        #[test]
        fn parsed_macs_are_safe_file_names(text in "\\PC{0,20}") {
            if let Some(mac) = Mac::parse(&text) {
                prop_assert_eq!(mac.as_str().len(), 17);
                prop_assert!(mac.as_str().bytes().all(|b| b == b':' || b.is_ascii_hexdigit()));
                prop_assert!(!mac.as_str().starts_with('.'));
            }
        }
    }
}
