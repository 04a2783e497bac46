//! IP address parsing the way the hooks' Python libraries do it: netaddr's
//! strict `IPAddress` (loopback filter of `validate_interfaces`) and the
//! standard library's `ipaddress` (the `physnet_cidr_map` hook).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

/// What netaddr's `IPAddress(value)` makes of a JSON value.
pub(crate) enum NetaddrParse {
    Address(IpAddr),
    /// `AddrFormatError` (or the netmask `ValueError`), with upstream's text.
    Invalid(String),
    /// A type netaddr cannot handle at all (floats, lists, objects).
    Unsupported,
}

/// netaddr `IPAddress(value)` with its default (inet_pton) parsing.
pub(crate) fn netaddr_parse(value: &Value) -> NetaddrParse {
    match value {
        Value::String(s) => {
            if s.contains('/') {
                return NetaddrParse::Invalid(
                    "IPAddress() does not support netmasks or subnet prefixes! See documentation for details."
                        .into(),
                );
            }
            match s.parse::<IpAddr>() {
                Ok(ip) => NetaddrParse::Address(ip),
                Err(_) => NetaddrParse::Invalid(format!(
                    "failed to detect a valid IP address from {}",
                    crate::py::value::str_repr(s)
                )),
            }
        }
        Value::Number(n) if n.is_f64() => NetaddrParse::Unsupported,
        Value::Bool(_) | Value::Number(_) => match integer_address(value) {
            Some(ip) => NetaddrParse::Address(ip),
            None => NetaddrParse::Invalid(format!(
                "failed to detect a valid IP address from {}",
                crate::py::value::py_repr(value)
            )),
        },
        _ => NetaddrParse::Unsupported,
    }
}

/// An integer (or bool) as an address: IPv4 below 2^32, IPv6 above.
fn integer_address(value: &Value) -> Option<IpAddr> {
    let n: u128 = match value {
        Value::Bool(b) => u128::from(*b),
        Value::Number(n) => u128::from(n.as_u64()?),
        _ => return None,
    };
    Some(match u32::try_from(n) {
        Ok(v4) => IpAddr::V4(Ipv4Addr::from(v4)),
        Err(_) => IpAddr::V6(Ipv6Addr::from(n)),
    })
}

/// netaddr's `is_loopback()`: 127.0.0.0/8 or ::1.
pub(crate) fn is_loopback(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[0] == 127,
        IpAddr::V6(v6) => *v6 == Ipv6Addr::LOCALHOST,
    }
}

/// Python's `ipaddress.ip_address(value)`; `None` where it raises `ValueError`.
pub(crate) fn python_ip_address(value: &Value) -> Option<IpAddr> {
    match value {
        Value::String(s) => parse_python_address(s),
        Value::Bool(_) | Value::Number(_) if !value.is_f64() => integer_address(value),
        _ => None,
    }
}

/// `IPv4Address(s)` or `IPv6Address(s)` (a `%scope` suffix is allowed on
/// IPv6 and does not take part in comparisons).
fn parse_python_address(s: &str) -> Option<IpAddr> {
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    let (addr, scope) = match s.split_once('%') {
        Some((addr, scope)) => (addr, Some(scope)),
        None => (s, None),
    };
    if scope.is_some_and(|scope| scope.is_empty() || scope.contains('%')) || s.contains('/') {
        return None;
    }
    addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// An IP network as `ipaddress.ip_network(text)` (strict) accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `address[/prefix]`; IPv4 also takes a netmask or hostmask.
    pub(crate) fn parse(text: &str) -> Result<Network, String> {
        let invalid = || {
            format!(
                "{} does not appear to be an IPv4 or IPv6 network",
                crate::py::value::str_repr(text)
            )
        };
        let mut parts = text.split('/');
        let address = parts.next().unwrap_or_default();
        let mask = parts.next();
        if parts.next().is_some() {
            return Err(invalid());
        }
        let address = parse_python_address(address).ok_or_else(invalid)?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match mask {
            None => max,
            Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => {
                match m.trim_start_matches('0').parse::<u32>() {
                    Ok(p) if p <= u32::from(max) => p as u8,
                    Err(_) if m.bytes().all(|b| b == b'0') => 0,
                    _ => return Err(invalid()),
                }
            }
            Some(m) if address.is_ipv4() => ipv4_mask_prefix(m).ok_or_else(invalid)?,
            Some(_) => return Err(invalid()),
        };
        let network = Network { address, prefix };
        if network.network_bits() != network.address_bits() {
            return Err(format!("{text} has host bits set"));
        }
        Ok(network)
    }

    fn mask(&self) -> u128 {
        let width = if self.address.is_ipv4() { 32 } else { 128 };
        if self.prefix == 0 {
            0
        } else {
            (u128::MAX << (width - u32::from(self.prefix))) & width_mask(width)
        }
    }

    fn address_bits(&self) -> u128 {
        ip_bits(&self.address)
    }

    fn network_bits(&self) -> u128 {
        self.address_bits() & self.mask()
    }

    /// `ip in network`: false across IP versions.
    pub(crate) fn contains(&self, ip: &IpAddr) -> bool {
        self.address.is_ipv4() == ip.is_ipv4() && ip_bits(ip) & self.mask() == self.network_bits()
    }
}

fn width_mask(width: u32) -> u128 {
    if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    }
}

fn ip_bits(ip: &IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(*v4)),
        IpAddr::V6(v6) => u128::from(*v6),
    }
}

/// Prefix length of an IPv4 netmask (`255.255.0.0`) or hostmask (`0.0.255.255`).
fn ipv4_mask_prefix(mask: &str) -> Option<u8> {
    let bits = u32::from(mask.parse::<Ipv4Addr>().ok()?);
    let from_netmask = |m: u32| {
        let ones = m.leading_ones();
        (m.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
    };
    from_netmask(bits).or_else(|| from_netmask(!bits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn netaddr_is_strict() {
        for bad in [
            "1",
            "127.1",
            "01.2.3.4",
            " 1.2.3.4",
            "1.2.3.4\n",
            "fe80::1%eth0",
            "",
            "1.2.3.256",
        ] {
            assert!(
                matches!(netaddr_parse(&json!(bad)), NetaddrParse::Invalid(_)),
                "{bad}"
            );
        }
        assert!(
            matches!(netaddr_parse(&json!("127.0.0.1/8")), NetaddrParse::Invalid(m) if m.contains("netmasks"))
        );
        for (good, loopback) in [
            ("::1", true),
            ("127.255.255.255", true),
            ("::ffff:127.0.0.1", false),
            ("0:0:0:0:0:0:0:1", true),
        ] {
            match netaddr_parse(&json!(good)) {
                NetaddrParse::Address(ip) => assert_eq!(is_loopback(&ip), loopback, "{good}"),
                _ => panic!("{good}"),
            }
        }
        assert!(
            matches!(netaddr_parse(&json!(5)), NetaddrParse::Address(IpAddr::V4(a)) if a == Ipv4Addr::new(0, 0, 0, 5))
        );
        assert!(matches!(
            netaddr_parse(&json!(1.5)),
            NetaddrParse::Unsupported
        ));
        assert!(matches!(
            netaddr_parse(&json!(-1)),
            NetaddrParse::Invalid(_)
        ));
    }

    #[test]
    fn python_networks() {
        let net = |s: &str| Network::parse(s);
        assert_eq!(net("10.0.0.0/255.0.0.0"), net("10.0.0.0/8"));
        assert_eq!(net("10.0.0.0/0.255.255.255"), net("10.0.0.0/8"));
        assert_eq!(net("10.0.0.0/024"), net("10.0.0.0/24"));
        assert_eq!(net("0.0.0.0/0.0.0.0"), net("0.0.0.0/0"));
        assert_eq!(
            net("10.0.0.1/8").unwrap_err(),
            "10.0.0.1/8 has host bits set"
        );
        assert!(net("10.0.0.0/ 8").is_err());
        assert!(net("10.0.0.0/33").is_err());
        assert!(net("2001:db8::/64").is_ok());
        let v6 = net("fe80::%eth0/64").unwrap();
        assert!(v6.contains(&python_ip_address(&json!("fe80::1%eth1")).unwrap()));
        assert!(!v6.contains(&python_ip_address(&json!("10.0.0.1")).unwrap()));
        assert!(python_ip_address(&json!("1.2.3.04")).is_none());
        assert!(python_ip_address(&json!("fe80::1%")).is_none());
        assert!(python_ip_address(&json!(1.0)).is_none());
    }
}
