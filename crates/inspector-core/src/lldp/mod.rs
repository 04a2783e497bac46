//! LLDP TLV parsing as ironic-inspector's `lldp_basic` and
//! `local_link_connection` hooks do it.
//!
//! Input is an interface's raw `lldp` list from the ramdisk, `[[type, "hex"], ...]`,
//! which is untrusted. Where upstream skips a bad TLV with a warning we do the
//! same; where upstream lets an exception escape (bad hex string, item that is
//! not a pair, unhashable type, chassis/port ID subtype it has no decoder for,
//! truncated TLVs in `local_link_connection`) and so fails the whole
//! introspection, we deliberately skip just that TLV with a warning instead.

mod tlv;

use serde_json::{Map, Value};

use tlv::{DecodeError, IdValue};

const CHASSIS_ID: &str = "switch_chassis_id";
const PORT_ID: &str = "switch_port_id";
const PORT_DESCRIPTION: &str = "switch_port_description";
const SYSTEM_NAME: &str = "switch_system_name";
const SYSTEM_DESCRIPTION: &str = "switch_system_description";
const CAPABILITIES_SUPPORT: &str = "switch_capabilities_support";
const CAPABILITIES_ENABLED: &str = "switch_capabilities_enabled";
const MGMT_ADDRESSES: &str = "switch_mgmt_addresses";
const PORT_UNTAGGED_VLAN_ID: &str = "switch_port_untagged_vlan_id";
const PORT_PROTOCOL_VLAN_ENABLED: &str = "switch_port_protocol_vlan_enabled";
const PORT_PROTOCOL_VLAN_SUPPORT: &str = "switch_port_protocol_vlan_support";
const PORT_PROTOCOL_VLAN_IDS: &str = "switch_port_protocol_vlan_ids";
const PORT_VLANS: &str = "switch_port_vlans";
const PROTOCOL_IDENTITIES: &str = "switch_protocol_identities";
const PORT_MANAGEMENT_VLAN_ID: &str = "switch_port_management_vlan_id";
const PORT_LINK_AGGREGATION_ENABLED: &str = "switch_port_link_aggregation_enabled";
const PORT_LINK_AGGREGATION_SUPPORT: &str = "switch_port_link_aggregation_support";
const PORT_LINK_AGGREGATION_ID: &str = "switch_port_link_aggregation_id";
const PORT_AUTONEGOTIATION_ENABLED: &str = "switch_port_autonegotiation_enabled";
const PORT_AUTONEGOTIATION_SUPPORT: &str = "switch_port_autonegotiation_support";
const PORT_PHYSICAL_CAPABILITIES: &str = "switch_port_physical_capabilities";
const PORT_MAU_TYPE: &str = "switch_port_mau_type";
const PORT_MTU: &str = "switch_port_mtu";

/// TLV types upstream's parser map knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlvType {
    End,
    ChassisId,
    PortId,
    Ttl,
    PortDescription,
    SystemName,
    SystemDescription,
    Capabilities,
    ManagementAddress,
    OrgSpecific,
}

impl TlvType {
    fn from_number(n: u64) -> Option<Self> {
        Some(match n {
            0 => TlvType::End,
            1 => TlvType::ChassisId,
            2 => TlvType::PortId,
            3 => TlvType::Ttl,
            4 => TlvType::PortDescription,
            5 => TlvType::SystemName,
            6 => TlvType::SystemDescription,
            7 => TlvType::Capabilities,
            8 => TlvType::ManagementAddress,
            127 => TlvType::OrgSpecific,
            _ => return None,
        })
    }
}

/// How upstream's dict lookup sees the JSON type field.
enum TypeKey {
    Known(TlvType),
    /// Not a key of the parser map: ignored silently (strings, null, 42, 1.5 ...).
    Ignored,
    /// Lists and objects cannot be dict keys: upstream raises `TypeError`.
    Unhashable,
}

/// Python dict lookup semantics: `1 == 1.0 == True`, so integral floats and
/// booleans select a TLV type too.
fn type_key(value: &Value) -> TypeKey {
    let number = match value {
        Value::Bool(b) => Some(u64::from(*b)),
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..=127.0).contains(f))
                // Exact: the float is integral and within 0..=127.
                .map(|f| f as u64)
        }),
        Value::Array(_) | Value::Object(_) => return TypeKey::Unhashable,
        Value::Null | Value::String(_) => None,
    };
    match number.and_then(TlvType::from_number) {
        Some(t) => TypeKey::Known(t),
        None => TypeKey::Ignored,
    }
}

/// Python `==` against an integer TLV type constant.
fn type_equals(value: &Value, wanted: TlvType) -> bool {
    matches!(type_key(value), TypeKey::Known(t) if t == wanted)
}

/// Splits one list item into (type, decoded bytes), or says why it is skipped.
fn decode_item(item: &Value) -> Result<(&Value, Vec<u8>), String> {
    let Some([tlv_type, tlv_value]) = item.as_array().map(Vec::as_slice) else {
        return Err(format!(
            "LLDP TLV {} is not a [type, value] pair, skipped",
            truncate_for_log(item)
        ));
    };
    match tlv_value {
        Value::String(hex_text) => {
            hex::decode(hex_text)
                .map(|data| (tlv_type, data))
                .map_err(|e| {
                    format!(
                        "TLV value for TLV type {} is not valid hexadecimal ({e}), skipped",
                        truncate_for_log(tlv_type)
                    )
                })
        }
        other => Err(format!(
            "TLV value for TLV type {} not in correct format, value must be in hexadecimal, got {}",
            truncate_for_log(tlv_type),
            json_type_name(other)
        )),
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Keeps warnings about garbage input short.
fn truncate_for_log(value: &Value) -> String {
    const LIMIT: usize = 64;
    let text = value.to_string();
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// Name/value pairs with upstream's "first value wins" and "append to list" rules.
trait Values {
    fn set_first(&mut self, name: &str, value: Value);
    fn push_to(&mut self, name: &str, value: Value);
}

impl Values for Map<String, Value> {
    fn set_first(&mut self, name: &str, value: Value) {
        self.entry(name).or_insert(value);
    }

    fn push_to(&mut self, name: &str, value: Value) {
        let list = self.entry(name).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list {
            items.push(value);
        }
    }
}

fn id_value_to_json(value: IdValue) -> Option<Value> {
    match value {
        IdValue::Text(text) => Some(Value::String(text)),
        IdValue::NoAddress => Some(Value::Null),
        IdValue::Unmapped => None,
    }
}

fn names_to_json(names: Vec<&'static str>) -> Value {
    Value::Array(
        names
            .into_iter()
            .map(|n| Value::String(n.to_owned()))
            .collect(),
    )
}

/// Parses one known TLV into `values`; `Err` is the warning to report.
fn parse_tlv(
    tlv_type: TlvType,
    data: &[u8],
    values: &mut Map<String, Value>,
) -> Result<(), String> {
    let parse_error = |e: DecodeError| format!("TLV parse error: {e}");
    match tlv_type {
        TlvType::End | TlvType::Ttl => {}
        TlvType::ChassisId | TlvType::PortId => {
            let (name, decoded) = if tlv_type == TlvType::ChassisId {
                (CHASSIS_ID, tlv::chassis_id(data))
            } else {
                (PORT_ID, tlv::port_id(data))
            };
            let (subtype, value) = decoded.map_err(parse_error)?;
            let value = id_value_to_json(value).ok_or_else(|| {
                // Upstream fails the whole introspection here (AttributeError).
                format!("{name} subtype {subtype} is not supported, TLV skipped")
            })?;
            values.set_first(name, value);
        }
        TlvType::PortDescription | TlvType::SystemName | TlvType::SystemDescription => {
            let name = match tlv_type {
                TlvType::PortDescription => PORT_DESCRIPTION,
                TlvType::SystemName => SYSTEM_NAME,
                _ => SYSTEM_DESCRIPTION,
            };
            values.set_first(name, Value::String(tlv::text(data).map_err(parse_error)?));
        }
        TlvType::Capabilities => {
            let (supported, enabled) = tlv::capabilities(data).map_err(|e| e.to_string())?;
            values.set_first(CAPABILITIES_SUPPORT, names_to_json(supported));
            values.set_first(CAPABILITIES_ENABLED, names_to_json(enabled));
        }
        TlvType::ManagementAddress => {
            if let Some(address) = tlv::management_address(data).map_err(parse_error)? {
                values.push_to(MGMT_ADDRESSES, Value::String(address));
            }
        }
        TlvType::OrgSpecific => {
            let (oui, subtype, payload) = tlv::org_specific(data).map_err(parse_error)?;
            // Upstream hands the org-specific sub-parser `nv or {}`: while
            // nothing has been recorded yet the sub-parser writes into a fresh
            // dict that is thrown away. Reproduced so stored data stays identical
            // (real LLDPDUs start with the chassis ID, so this rarely matters).
            let mut discarded = Map::new();
            let target = if values.is_empty() {
                &mut discarded
            } else {
                values
            };
            match oui {
                tlv::OUI_802_1 => parse_dot1(subtype, payload, target),
                tlv::OUI_802_3 => parse_dot3(subtype, payload, target),
                _ => Err(format!(
                    "Organizationally Unique ID {} not recognized",
                    hex::encode(oui)
                )),
            }?;
        }
    }
    Ok(())
}

/// 802.1Q organisationally specific TLVs; unknown subtypes are ignored.
fn parse_dot1(subtype: u8, data: &[u8], values: &mut Map<String, Value>) -> Result<(), String> {
    let error = |e: DecodeError| format!("802.1 subtype {subtype}: {e}");
    match subtype {
        1 | 6 => {
            let name = if subtype == 1 {
                PORT_UNTAGGED_VLAN_ID
            } else {
                PORT_MANAGEMENT_VLAN_ID
            };
            values.set_first(name, Value::from(tlv::u16_value(data).map_err(error)?));
        }
        2 => {
            let (enabled, supported, vlan) = tlv::port_protocol_vlan(data).map_err(error)?;
            values.set_first(PORT_PROTOCOL_VLAN_ENABLED, Value::Bool(enabled));
            values.set_first(PORT_PROTOCOL_VLAN_SUPPORT, Value::Bool(supported));
            values.push_to(PORT_PROTOCOL_VLAN_IDS, Value::from(vlan));
        }
        3 => {
            let (vlan, name) = tlv::vlan_name(data).map_err(error)?;
            let mut entry = Map::new();
            entry.insert("name".to_owned(), Value::String(name));
            entry.insert("id".to_owned(), Value::from(vlan));
            values.push_to(PORT_VLANS, Value::Object(entry));
        }
        4 => {
            let identity = tlv::protocol_identity(data).map_err(error)?;
            values.push_to(PROTOCOL_IDENTITIES, Value::String(identity));
        }
        7 => set_link_aggregation(data, values).map_err(error)?,
        _ => {}
    }
    Ok(())
}

/// 802.3 organisationally specific TLVs; unknown subtypes are ignored.
fn parse_dot3(subtype: u8, data: &[u8], values: &mut Map<String, Value>) -> Result<(), String> {
    let error = |e: DecodeError| format!("802.3 subtype {subtype}: {e}");
    match subtype {
        1 => {
            let phy = tlv::mac_phy(data).map_err(error)?;
            values.set_first(
                PORT_AUTONEGOTIATION_ENABLED,
                Value::Bool(phy.autoneg_enabled),
            );
            values.set_first(
                PORT_AUTONEGOTIATION_SUPPORT,
                Value::Bool(phy.autoneg_supported),
            );
            values.set_first(PORT_PHYSICAL_CAPABILITIES, names_to_json(phy.capabilities));
            values.set_first(PORT_MAU_TYPE, Value::String(phy.mau_type.to_owned()));
        }
        3 => set_link_aggregation(data, values).map_err(error)?,
        4 => values.set_first(PORT_MTU, Value::from(tlv::u16_value(data).map_err(error)?)),
        _ => {}
    }
    Ok(())
}

fn set_link_aggregation(data: &[u8], values: &mut Map<String, Value>) -> Result<(), DecodeError> {
    let (enabled, supported, port) = tlv::link_aggregation(data)?;
    values.set_first(PORT_LINK_AGGREGATION_ENABLED, Value::Bool(enabled));
    values.set_first(PORT_LINK_AGGREGATION_SUPPORT, Value::Bool(supported));
    values.set_first(PORT_LINK_AGGREGATION_ID, Value::from(port));
    Ok(())
}

/// The TLV list, or why there is none. Upstream iterates whatever it gets:
/// empty strings/objects give nothing, anything else that is not a list fails.
fn tlv_items(tlvs: &Value) -> Result<&[Value], Option<String>> {
    match tlvs {
        Value::Array(items) => Ok(items),
        Value::String(s) if s.is_empty() => Err(None),
        Value::Object(o) if o.is_empty() => Err(None),
        Value::Null => Err(Some("No LLDP data found".to_owned())),
        other => Err(Some(format!(
            "LLDP data is not a list of TLVs: {}",
            truncate_for_log(other)
        ))),
    }
}

/// `lldp_processed` dict for one interface, as `lldp_basic` stores it in
/// `all_interfaces[name].lldp_processed` (the hook stores it only when non-empty),
/// plus warnings about skipped TLVs.
pub fn process_tlvs(tlvs: &Value) -> (Map<String, Value>, Vec<String>) {
    let mut map = Map::new();
    let mut warnings = Vec::new();
    let items = match tlv_items(tlvs) {
        Ok(items) => items,
        Err(warning) => {
            warnings.extend(warning);
            return (map, warnings);
        }
    };
    for item in items {
        let (raw_type, data) = match decode_item(item) {
            Ok(decoded) => decoded,
            Err(warning) => {
                warnings.push(warning);
                continue;
            }
        };
        let tlv_type = match type_key(raw_type) {
            TypeKey::Known(t) => t,
            TypeKey::Ignored => continue,
            TypeKey::Unhashable => {
                warnings.push(format!(
                    "LLDP TLV type {} is not a number, skipped",
                    truncate_for_log(raw_type)
                ));
                continue;
            }
        };
        if let Err(warning) = parse_tlv(tlv_type, &data, &mut map) {
            warnings.push(format!(
                "LLDP TLV type {}: {warning}",
                truncate_for_log(raw_type)
            ));
        }
    }
    (map, warnings)
}

/// What `local_link_connection` derives from raw TLVs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalLink {
    /// Port ID TLV value (any subtype with a decoder), when non-empty.
    pub port_id: Option<String>,
    /// Chassis ID TLV value, only for the MAC address subtype.
    pub switch_id: Option<String>,
    /// Skipped TLVs.
    pub warnings: Vec<String>,
}

/// What `local_link_connection` derives from raw TLVs when `lldp_processed`
/// gives nothing. Upstream emits one JSON-patch `add` per matching TLV, so with
/// repeated TLVs the last one ends up on the port; that is the value kept here.
pub fn local_link_from_tlvs(tlvs: &Value) -> LocalLink {
    let mut link = LocalLink::default();
    let items = match tlv_items(tlvs) {
        Ok(items) => items,
        Err(warning) => {
            link.warnings.extend(warning);
            return link;
        }
    };
    for item in items {
        let (raw_type, data) = match decode_item(item) {
            Ok(decoded) => decoded,
            Err(warning) => {
                link.warnings.push(warning);
                continue;
            }
        };
        if type_equals(raw_type, TlvType::PortId) {
            match tlv::port_id(&data) {
                Ok((_, IdValue::Text(port))) if !port.is_empty() => link.port_id = Some(port),
                Ok(_) => {}
                Err(e) => link
                    .warnings
                    .push(format!("TLV parse error for Port ID: {e}")),
            }
        } else if type_equals(raw_type, TlvType::ChassisId) {
            match tlv::chassis_id(&data) {
                Ok((tlv::CHASSIS_SUBTYPE_MAC, IdValue::Text(mac))) => link.switch_id = Some(mac),
                Ok((subtype, IdValue::Unmapped)) => link.warnings.push(format!(
                    "TLV parse error for Chassis ID: subtype {subtype} is not supported"
                )),
                Ok(_) => {}
                Err(e) => link
                    .warnings
                    .push(format!("TLV parse error for Chassis ID: {e}")),
            }
        }
    }
    link
}

/// oslo.utils `netutils.is_valid_mac`: six colon-separated hex octets, any case.
/// Like Python's `re.match(...$)`, a single trailing newline is accepted.
pub fn is_valid_mac(s: &str) -> bool {
    let s = s.strip_suffix('\n').unwrap_or(s);
    let bytes = s.as_bytes();
    bytes.len() == 17
        && bytes.chunks(3).all(|chunk| match chunk {
            [a, b, rest @ ..] => {
                a.is_ascii_hexdigit() && b.is_ascii_hexdigit() && matches!(rest, [] | [b':'])
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn functional_test_tlvs() {
        let (map, warnings) = process_tlvs(&json!([
            [1, "04112233aabbcc"],
            [2, "07373334"],
            [3, "003c"]
        ]));
        assert_eq!(
            Value::Object(map),
            json!({"switch_chassis_id": "11:22:33:aa:bb:cc", "switch_port_id": "734"})
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn org_specific_before_any_other_value_is_dropped() {
        let (map, _) = process_tlvs(&json!([
            [127, "0080c2010064"],
            [5, "61"],
            [127, "0080c2010065"]
        ]));
        assert_eq!(
            Value::Object(map),
            json!({"switch_system_name": "a", "switch_port_untagged_vlan_id": 101})
        );
    }

    #[test]
    fn bad_items_are_skipped_with_one_warning_each() {
        let (map, warnings) =
            process_tlvs(&json!([[1, "0"], "ab", [2, 5], [[1], "07"], [5, "61"]]));
        assert_eq!(Value::Object(map), json!({"switch_system_name": "a"}));
        assert_eq!(warnings.len(), 4);
    }

    #[test]
    fn mac_validation() {
        assert!(is_valid_mac("aa:BB:cc:dd:ee:ff"));
        assert!(is_valid_mac("aa:bb:cc:dd:ee:ff\n"));
        assert!(!is_valid_mac("aa:bb:cc:dd:ee:ff\n\n"));
        assert!(!is_valid_mac("aa-bb-cc-dd-ee-ff"));
        assert!(!is_valid_mac("aa:bb:cc:dd:ee:f"));
        assert!(!is_valid_mac("aa:bb:cc:dd:ee:fff"));
        assert!(!is_valid_mac("aaa:bb:cc:dd:ee:f"));
    }

    #[test]
    fn local_link_keeps_last_value_and_only_mac_chassis() {
        let link = local_link_from_tlvs(&json!([
            [1, "04aabbccddeeff"],
            [1, "0761"],
            [2, "0531"],
            [2, "0532"],
            [2, "07"]
        ]));
        assert_eq!(link.switch_id.as_deref(), Some("aa:bb:cc:dd:ee:ff"));
        assert_eq!(link.port_id.as_deref(), Some("2"));
        assert!(link.warnings.is_empty());
    }
}
