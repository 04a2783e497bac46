//! `netaddr` 1.3 semantics for the `in-net` condition: `netaddr.IPNetwork(value)` at
//! validation and `netaddr.IPAddress(field) in network` at evaluation.
//!
//! Addresses are read as glibc's `inet_pton` reads them (what `socket.inet_pton` calls on
//! Linux): IPv4 strictly as four decimal octets without leading zeros, IPv6 without zone
//! identifiers. The legacy forms (`10/8`, partial addresses, `inet_aton` notations) are
//! rejected, as netaddr 1.x rejects them.

use super::num::int_from_str;
use super::value::{py_repr, type_name};
use super::{PyError, PyInt};
use ipnet::IpNet;
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn addr_format_error(message: String) -> PyError {
    PyError::new("AddrFormatError", message)
}

fn str_repr(s: &str) -> String {
    py_repr(&Value::String(s.to_string()))
}

/// glibc `inet_pton4`.
fn inet_pton4(s: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut octets = 0;
    let mut saw_digit = false;
    let mut cur: u32 = 0;
    for &ch in s {
        if ch.is_ascii_digit() {
            if saw_digit && cur == 0 {
                return None;
            }
            cur = cur * 10 + (ch - b'0') as u32;
            if cur > 255 {
                return None;
            }
            if !saw_digit {
                octets += 1;
                if octets > 4 {
                    return None;
                }
                saw_digit = true;
            }
            out[octets - 1] = cur as u8;
        } else if ch == b'.' && saw_digit {
            if octets == 4 {
                return None;
            }
            cur = 0;
            saw_digit = false;
        } else {
            return None;
        }
    }
    (octets == 4).then_some(out)
}

/// glibc `inet_pton6`.
fn inet_pton6(s: &[u8]) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut tp = 0usize;
    let mut colonp: Option<usize> = None;
    let mut i = 0;
    if s.is_empty() {
        return None;
    }
    if s[0] == b':' {
        if s.get(1) != Some(&b':') {
            return None;
        }
        i = 1;
    }
    let mut curtok = i;
    let mut xdigits = 0;
    let mut val: u32 = 0;
    while i < s.len() {
        let ch = s[i];
        i += 1;
        if let Some(d) = (ch as char).to_digit(16) {
            if xdigits == 4 {
                return None;
            }
            val = (val << 4) | d;
            xdigits += 1;
            continue;
        }
        if ch == b':' {
            curtok = i;
            if xdigits == 0 {
                if colonp.is_some() {
                    return None;
                }
                colonp = Some(tp);
                continue;
            } else if i == s.len() {
                return None;
            }
            if tp + 2 > 16 {
                return None;
            }
            out[tp] = (val >> 8) as u8;
            out[tp + 1] = val as u8;
            tp += 2;
            xdigits = 0;
            val = 0;
            continue;
        }
        if ch == b'.' && tp + 4 <= 16 {
            let v4 = inet_pton4(&s[curtok..])?;
            out[tp..tp + 4].copy_from_slice(&v4);
            tp += 4;
            xdigits = 0;
            break;
        }
        return None;
    }
    if xdigits > 0 {
        if tp + 2 > 16 {
            return None;
        }
        out[tp] = (val >> 8) as u8;
        out[tp + 1] = val as u8;
        tp += 2;
    }
    if let Some(c) = colonp {
        if tp == 16 {
            return None;
        }
        let n = tp - c;
        out.copy_within(c..tp, 16 - n);
        out[c..16 - n].fill(0);
        tp = 16;
    }
    (tp == 16).then_some(out)
}

#[derive(Clone, Copy, PartialEq)]
enum Version {
    V4,
    V6,
}

/// netaddr's `str_to_int` of one family.
fn str_to_addr(version: Version, s: &str) -> Result<IpAddr, Option<PyError>> {
    if version == Version::V4
        && (s.contains(':') || s.split('.').any(|p| p.len() > 1 && p.starts_with('0')))
    {
        return Err(None);
    }
    // socket.inet_pton refuses NUL with ValueError, which netaddr does not catch.
    if s.contains('\0') {
        return Err(Some(PyError::new("ValueError", "embedded null character")));
    }
    match version {
        Version::V4 => inet_pton4(s.as_bytes()).map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        Version::V6 => inet_pton6(s.as_bytes()).map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    }
    .ok_or(None)
}

/// `IPAddress(s, version, flags=INET_PTON)` as `parse_ip_network` calls it.
fn address_of_version(version: Version, s: &str) -> Result<IpAddr, PyError> {
    if s.contains('/') {
        return Err(PyError::new(
            "ValueError",
            "IPAddress() does not support netmasks or subnet prefixes! See documentation for details.",
        ));
    }
    str_to_addr(version, s).map_err(|e| {
        e.unwrap_or_else(|| {
            let v = if version == Version::V4 { 4 } else { 6 };
            addr_format_error(format!("base address {} is not IPv{v}", str_repr(s)))
        })
    })
}

fn to_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// netaddr's `parse_ip_network` for a str; `Err(None)` stands for an `AddrFormatError`
/// that makes `IPNetwork` try the next family.
fn parse_family(version: Version, s: &str) -> Result<IpNet, Option<PyError>> {
    let width: u32 = if version == Version::V4 { 32 } else { 128 };
    let (addr_text, prefix_text) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let passthrough = |e: PyError| {
        if e.class == "AddrFormatError" {
            None
        } else {
            Some(e)
        }
    };
    let addr = address_of_version(version, addr_text).map_err(passthrough)?;
    let prefix: PyInt = match prefix_text {
        None => PyInt::from_i128(width as i128),
        Some(p) => match int_from_str(p) {
            Ok(n) => n,
            Err(_) => {
                let mask = to_bits(address_of_version(version, p).map_err(passthrough)?);
                let max = if width == 32 {
                    u32::MAX as u128
                } else {
                    u128::MAX
                };
                let inverted = mask ^ max;
                let ones = |v: u128| v.count_ones();
                // is_netmask: the inverted mask + 1 is a power of two; is_hostmask: mask + 1.
                if inverted == max || (inverted & inverted.wrapping_add(1)) == 0 {
                    PyInt::from_i128(ones(mask) as i128)
                } else if (mask & mask.wrapping_add(1)) == 0 {
                    PyInt::from_i128((width - ones(mask)) as i128)
                } else {
                    return Err(None);
                }
            }
        },
    };
    let prefix = prefix.to_u64().filter(|&p| p <= width as u64).ok_or(None)?;
    IpNet::new(addr, prefix as u8).map_err(|_| None)
}

/// `netaddr.IPNetwork(s)` for a str. Errors: `AddrFormatError` ("invalid IPNetwork
/// <s>", which upstream validation reports as `invalid value: <message>`) or
/// `ValueError` (a `/` in the mask part, or a NUL character), which upstream
/// validation reports as the bare message.
pub fn parse_network(s: &str) -> Result<IpNet, PyError> {
    for version in [Version::V4, Version::V6] {
        match parse_family(version, s) {
            Ok(net) => return Ok(net),
            Err(Some(e)) => return Err(e),
            Err(None) => {}
        }
    }
    Err(addr_format_error(format!("invalid IPNetwork {s}")))
}

/// `netaddr.IPNetwork(v)` for any JSON value: non-strings raise `TypeError`.
pub fn parse_network_value(v: &Value) -> Result<IpNet, PyError> {
    match v {
        Value::String(s) => parse_network(s),
        other => Err(PyError::new(
            "TypeError",
            format!(
                "unexpected type <class '{}'> for addr arg",
                type_name(other)
            ),
        )),
    }
}

/// `netaddr.IPAddress(v)` for a field value: strings are parsed, ints (and bools) are
/// IPv4 up to 2^32-1 and IPv6 above; other values fail as netaddr fails on them.
pub fn parse_address(v: &Value) -> Result<IpAddr, PyError> {
    match v {
        Value::String(s) => {
            if s.contains('/') {
                return Err(PyError::new(
                    "ValueError",
                    "IPAddress() does not support netmasks or subnet prefixes! See documentation for details.",
                ));
            }
            for version in [Version::V4, Version::V6] {
                match str_to_addr(version, s) {
                    Ok(a) => return Ok(a),
                    Err(Some(e)) => return Err(e),
                    Err(None) => {}
                }
            }
            Err(addr_format_error(format!(
                "failed to detect a valid IP address from {}",
                str_repr(s)
            )))
        }
        Value::Bool(b) => Ok(IpAddr::V4(Ipv4Addr::from(*b as u32))),
        Value::Number(n) if n.is_u64() || n.is_i64() => match n.as_u64() {
            Some(u) if u <= u32::MAX as u64 => Ok(IpAddr::V4(Ipv4Addr::from(u as u32))),
            Some(u) => Ok(IpAddr::V6(Ipv6Addr::from(u as u128))),
            None => Err(addr_format_error(format!(
                "failed to detect a valid IP address from {n}"
            ))),
        },
        Value::Array(items) => {
            let has_colon = items.iter().any(|i| i.as_str() == Some(":"));
            Err(container_error("list", has_colon))
        }
        Value::Object(map) => Err(container_error("dict", map.contains_key(":"))),
        other => Err(PyError::new(
            "TypeError",
            format!("argument of type '{}' is not iterable", type_name(other)),
        )),
    }
}

/// netaddr on a list or dict: `':' in addr` decides which family's code fails first.
fn container_error(type_name: &str, has_colon: bool) -> PyError {
    if has_colon {
        PyError::new(
            "TypeError",
            format!("inet_pton() argument 2 must be str, not {type_name}"),
        )
    } else {
        PyError::new(
            "AttributeError",
            format!("'{type_name}' object has no attribute 'split'"),
        )
    }
}

/// `IPAddress in IPNetwork`: false across address families.
pub fn network_contains(net: &IpNet, addr: &IpAddr) -> bool {
    net.contains(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn networks_and_addresses() {
        let net = parse_network("10.0.0.1/8").unwrap();
        assert!(network_contains(
            &net,
            &parse_address(&json!("10.2.3.4")).unwrap()
        ));
        assert!(!network_contains(
            &net,
            &parse_address(&json!("::1")).unwrap()
        ));
        assert_eq!(parse_network("10.0.0.0/255.0.0.0").unwrap().prefix_len(), 8);
        assert_eq!(
            parse_network("10.0.0.0/0.0.0.255").unwrap().prefix_len(),
            24
        );
        assert_eq!(parse_network("fe80::/ 10").unwrap().prefix_len(), 10);
        assert_eq!(
            parse_network("10/8").unwrap_err().message,
            "invalid IPNetwork 10/8"
        );
        assert_eq!(
            parse_network("1.2.3.4/8/8").unwrap_err().class,
            "ValueError"
        );
        assert_eq!(
            parse_address(&json!(167772161)).unwrap(),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(parse_address(&json!(null)).unwrap_err().class, "TypeError");
        assert_eq!(
            parse_address(&json!("x")).unwrap_err().message,
            "failed to detect a valid IP address from 'x'"
        );
    }
}
