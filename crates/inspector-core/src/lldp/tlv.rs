//! Byte-level decoding of the LLDP TLV payloads ironic-inspector understands
//! (802.1AB basic management set, 802.1Q and 802.3 organisationally specific
//! TLVs), with upstream's length rules: fixed-size structures must have the
//! exact size, everything else only needs enough bytes (extra bytes are ignored).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a TLV payload could not be decoded; the TLV is then skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DecodeError {
    /// Fewer bytes than a field needs.
    Truncated {
        field: &'static str,
        expected: usize,
        found: usize,
    },
    /// A fixed-size TLV whose payload has another size.
    WrongLength {
        name: &'static str,
        expected: usize,
        got: usize,
    },
    /// A string field that is not valid UTF-8.
    BadUtf8,
    /// 802.3 MAC/PHY TLV whose MAU type is not in the RFC 4836 table.
    UnknownMauType(u16),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated {
                field,
                expected,
                found,
            } => write!(
                f,
                "truncated field {field}: expected {expected} byte(s), found {found}"
            ),
            DecodeError::WrongLength {
                name,
                expected,
                got,
            } => write!(
                f,
                "invalid data for {name}: expected length {expected}, got {got}"
            ),
            DecodeError::BadUtf8 => f.write_str("string is not valid UTF-8"),
            DecodeError::UnknownMauType(mau) => write!(f, "invalid index for MAU type: {mau}"),
        }
    }
}

/// Sequential reader over a TLV payload.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let rest = &self.data[self.pos..];
        if rest.len() < n {
            return Err(DecodeError::Truncated {
                field,
                expected: n,
                found: rest.len(),
            });
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn rest(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        self.pos = self.data.len();
        rest
    }
}

fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| DecodeError::BadUtf8)
}

fn exact_len(data: &[u8], name: &'static str, expected: usize) -> Result<(), DecodeError> {
    if data.len() == expected {
        Ok(())
    } else {
        Err(DecodeError::WrongLength {
            name,
            expected,
            got: data.len(),
        })
    }
}

fn mac(reader: &mut Reader<'_>) -> Result<String, DecodeError> {
    let b = reader.take(6, "mac")?;
    Ok(format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    ))
}

/// Decoded value of a chassis/port ID or management address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum IdValue {
    Text(String),
    /// IANA address of a family upstream does not decode (value is `None` upstream).
    NoAddress,
    /// Subtype without a decoder (upstream's parsed value is `None`).
    Unmapped,
}

/// IANA address family + address, as used by chassis/port ID subtype
/// "network address" and by the management address TLV.
fn iana_address(reader: &mut Reader<'_>) -> Result<IdValue, DecodeError> {
    match reader.u8("family")? {
        1 => {
            let b = reader.take(4, "ipv4")?;
            Ok(IdValue::Text(
                Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
            ))
        }
        2 => {
            let b = reader.take(16, "ipv6")?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(b);
            let int = u128::from_be_bytes(octets);
            // Upstream builds the address from an integer without a version,
            // and netaddr picks IPv4 for anything that fits in 32 bits.
            let text = match u32::try_from(int) {
                Ok(v4) => Ipv4Addr::from(v4).to_string(),
                Err(_) => Ipv6Addr::from(int).to_string(),
            };
            Ok(IdValue::Text(text))
        }
        6 => Ok(IdValue::Text(mac(reader)?)),
        _ => Ok(IdValue::NoAddress),
    }
}

/// Chassis ID TLV (type 1): `(subtype, value)`.
pub(super) fn chassis_id(data: &[u8]) -> Result<(u8, IdValue), DecodeError> {
    let mut reader = Reader::new(data);
    let subtype = reader.u8("subtype")?;
    let value = match subtype {
        1 | 2 | 3 | 6 | 7 => IdValue::Text(utf8(reader.rest())?),
        4 => IdValue::Text(mac(&mut reader)?),
        5 => iana_address(&mut reader)?,
        _ => IdValue::Unmapped,
    };
    Ok((subtype, value))
}

/// Chassis ID subtype "MAC address".
pub(super) const CHASSIS_SUBTYPE_MAC: u8 = 4;

/// Port ID TLV (type 2): `(subtype, value)`.
pub(super) fn port_id(data: &[u8]) -> Result<(u8, IdValue), DecodeError> {
    let mut reader = Reader::new(data);
    let subtype = reader.u8("subtype")?;
    let value = match subtype {
        1 | 2 | 5 | 7 => IdValue::Text(utf8(reader.rest())?),
        3 => IdValue::Text(mac(&mut reader)?),
        4 => iana_address(&mut reader)?,
        _ => IdValue::Unmapped,
    };
    Ok((subtype, value))
}

/// Port description / system name / system description TLVs (4, 5, 6).
pub(super) fn text(data: &[u8]) -> Result<String, DecodeError> {
    utf8(data)
}

/// Management address TLV (type 8): the address, or `None` for an unknown family.
/// The OID/interface fields after the address are ignored, as upstream does.
pub(super) fn management_address(data: &[u8]) -> Result<Option<String>, DecodeError> {
    let mut reader = Reader::new(data);
    reader.u8("len")?;
    Ok(match iana_address(&mut reader)? {
        IdValue::Text(address) => Some(address),
        IdValue::NoAddress | IdValue::Unmapped => None,
    })
}

/// System capabilities TLV (type 7): (supported, enabled) capability names.
pub(super) fn capabilities(
    data: &[u8],
) -> Result<(Vec<&'static str>, Vec<&'static str>), DecodeError> {
    exact_len(data, "switch_capabilities", 4)?;
    let mut reader = Reader::new(data);
    let supported = reader.u16("system")?;
    let enabled = reader.u16("enabled")?;
    Ok((capability_names(supported), capability_names(enabled)))
}

/// Bit 0 ("Other") is not reported upstream; names are listed in this order.
const CAPABILITY_BITS: [(u16, &str); 10] = [
    (1, "Repeater"),
    (2, "Bridge"),
    (3, "WLAN"),
    (4, "Router"),
    (5, "Telephone"),
    (6, "DOCSIS cable device"),
    (7, "Station only"),
    (8, "C-Vlan"),
    (9, "S-Vlan"),
    (10, "TPMR"),
];

fn capability_names(bits: u16) -> Vec<&'static str> {
    CAPABILITY_BITS
        .iter()
        .filter(|(bit, _)| bits & (1 << bit) != 0)
        .map(|&(_, name)| name)
        .collect()
}

/// Organisationally specific TLV (type 127) header: (OUI, subtype, payload).
pub(super) fn org_specific(data: &[u8]) -> Result<([u8; 3], u8, &[u8]), DecodeError> {
    let mut reader = Reader::new(data);
    let oui = reader.take(3, "oui")?;
    let subtype = reader.u8("subtype")?;
    Ok(([oui[0], oui[1], oui[2]], subtype, reader.rest()))
}

pub(super) const OUI_802_1: [u8; 3] = [0x00, 0x80, 0xc2];
pub(super) const OUI_802_3: [u8; 3] = [0x00, 0x12, 0x0f];

/// A 16-bit big-endian value (VLAN IDs, MTU); extra bytes are ignored.
pub(super) fn u16_value(data: &[u8]) -> Result<u16, DecodeError> {
    Reader::new(data).u16("value")
}

/// 802.1 port and protocol VLAN ID: (enabled, supported, vlan id).
pub(super) fn port_protocol_vlan(data: &[u8]) -> Result<(bool, bool, u16), DecodeError> {
    exact_len(data, "switch_port_protocol", 3)?;
    let mut reader = Reader::new(data);
    let flags = reader.u8("flags")?;
    let vlan = reader.u16("vlanid")?;
    Ok((flags & 0b100 != 0, flags & 0b10 != 0, vlan))
}

/// 802.1 VLAN name: (vlan id, name). Trailing NUL padding is dropped.
pub(super) fn vlan_name(data: &[u8]) -> Result<(u16, String), DecodeError> {
    let mut reader = Reader::new(data);
    let vlan = reader.u16("vlanid")?;
    let len = reader.u8("name_len")?;
    let mut name = reader.take(usize::from(len), "vlan_name")?;
    while let [head @ .., 0] = name {
        name = head;
    }
    Ok((vlan, utf8(name)?))
}

/// 802.1 protocol identity, rendered as lower-case hex.
pub(super) fn protocol_identity(data: &[u8]) -> Result<String, DecodeError> {
    let mut reader = Reader::new(data);
    let len = reader.u8("len")?;
    Ok(hex::encode(reader.take(usize::from(len), "protocol")?))
}

/// 802.1 (and deprecated 802.3) link aggregation: (enabled, supported, port id).
pub(super) fn link_aggregation(data: &[u8]) -> Result<(bool, bool, u32), DecodeError> {
    exact_len(data, "switch_port_link_aggregation", 5)?;
    let mut reader = Reader::new(data);
    let status = reader.u8("status")?;
    let port = reader.u32("portid")?;
    Ok((status & 0b10 != 0, status & 0b1 != 0, port))
}

/// 802.3 MAC/PHY configuration/status.
pub(super) struct MacPhy {
    pub autoneg_enabled: bool,
    pub autoneg_supported: bool,
    pub capabilities: Vec<&'static str>,
    pub mau_type: &'static str,
}

pub(super) fn mac_phy(data: &[u8]) -> Result<MacPhy, DecodeError> {
    exact_len(data, "switch_port_mac_phy_config", 5)?;
    let mut reader = Reader::new(data);
    let autoneg = reader.u8("autoneg")?;
    let pmd = reader.u16("pmd_autoneg")?;
    let mau = reader.u16("mau_type")?;
    let mau_type = OPER_MAU_TYPES
        .get(usize::from(mau))
        .copied()
        .ok_or(DecodeError::UnknownMauType(mau))?;
    let mut capabilities: Vec<&'static str> = PMD_BITS
        .iter()
        .filter(|(bit, _)| pmd & (1 << bit) != 0)
        .map(|&(_, name)| name)
        .collect();
    capabilities.sort_unstable();
    capabilities.dedup();
    Ok(MacPhy {
        autoneg_enabled: autoneg & 0b10 != 0,
        autoneg_supported: autoneg & 0b1 != 0,
        capabilities,
        mau_type,
    })
}

/// PMD auto-negotiation advertised capability bits (IANAifMauAutoNegCapBits,
/// bit 15 is "other" and not reported).
///
/// Upstream's table maps both "10BASE-T hdx" and "10BASE-T fdx" to the hdx bit
/// (bit 14), so the fdx bit (13) is never reported and the hdx bit reports
/// both. This is reproduced on purpose (upstream-behaviour §q15): the processed data is read
/// by clients and introspection rules, and must stay byte-identical to what
/// ironic-inspector stores for the same switch.
const PMD_BITS: [(u16, &str); 15] = [
    (14, "10BASE-T hdx"),
    (14, "10BASE-T fdx"),
    (12, "10BASE-T4"),
    (11, "100BASE-TX hdx"),
    (10, "100BASE-TX fdx"),
    (9, "100BASE-T2 hdx"),
    (8, "100BASE-T2 fdx"),
    (7, "PAUSE fdx"),
    (6, "Asym PAUSE fdx"),
    (5, "Sym PAUSE fdx"),
    (4, "Asym and Sym PAUSE fdx"),
    (3, "1000BASE-X hdx"),
    (2, "1000BASE-X fdx"),
    (1, "1000BASE-T hdx"),
    (0, "1000BASE-T fdx"),
];

/// ifMauTypeList names (RFC 4836), indexed by MAU type; upstream stops at 53.
const OPER_MAU_TYPES: [&str; 54] = [
    "Unknown",
    "AUI",
    "10BASE-5",
    "FOIRL",
    "10BASE-2",
    "10BASE-T duplex mode unknown",
    "10BASE-FP",
    "10BASE-FB",
    "10BASE-FL duplex mode unknown",
    "10BROAD36",
    "10BASE-T half duplex",
    "10BASE-T full duplex",
    "10BASE-FL half duplex",
    "10BASE-FL full duplex",
    "100 BASE-T4",
    "100BASE-TX half duplex",
    "100BASE-TX full duplex",
    "100BASE-FX half duplex",
    "100BASE-FX full duplex",
    "100BASE-T2 half duplex",
    "100BASE-T2 full duplex",
    "1000BASE-X half duplex",
    "1000BASE-X full duplex",
    "1000BASE-LX half duplex",
    "1000BASE-LX full duplex",
    "1000BASE-SX half duplex",
    "1000BASE-SX full duplex",
    "1000BASE-CX half duplex",
    "1000BASE-CX full duplex",
    "1000BASE-T half duplex",
    "1000BASE-T full duplex",
    "10GBASE-X",
    "10GBASE-LX4",
    "10GBASE-R",
    "10GBASE-ER",
    "10GBASE-LR",
    "10GBASE-SR",
    "10GBASE-W",
    "10GBASE-EW",
    "10GBASE-LW",
    "10GBASE-SW",
    "10GBASE-CX4",
    "2BASE-TL",
    "10PASS-TS",
    "100BASE-BX10D",
    "100BASE-BX10U",
    "100BASE-LX10",
    "1000BASE-BX10D",
    "1000BASE-BX10U",
    "1000BASE-LX10",
    "1000BASE-PX10D",
    "1000BASE-PX10U",
    "1000BASE-PX20D",
    "1000BASE-PX20U",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_that_fits_in_32_bits_is_rendered_as_ipv4() {
        let mut data = vec![5u8, 2];
        data.extend_from_slice(&[0; 15]);
        data.push(10);
        assert_eq!(
            chassis_id(&data),
            Ok((5, IdValue::Text("0.0.0.10".to_owned())))
        );
    }

    #[test]
    fn vlan_name_strips_only_trailing_nuls() {
        assert_eq!(
            vlan_name(&[0, 100, 4, b'a', 0, b'b', 0]),
            Ok((100, "a\u{0}b".to_owned()))
        );
    }

    #[test]
    fn pmd_hdx_bit_reports_both_10base_t_names() {
        let phy = mac_phy(&[3, 0x40, 0x00, 0, 30]).map(|p| p.capabilities);
        assert_eq!(phy, Ok(vec!["10BASE-T fdx", "10BASE-T hdx"]));
        let phy = mac_phy(&[3, 0x20, 0x00, 0, 30]).map(|p| p.capabilities);
        assert_eq!(phy, Ok(vec![]));
    }

    #[test]
    fn mau_type_out_of_table_is_an_error() {
        assert_eq!(
            mac_phy(&[3, 0, 0, 0, 54]).err(),
            Some(DecodeError::UnknownMauType(54))
        );
    }
}
