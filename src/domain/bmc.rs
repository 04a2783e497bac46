//! BMC addresses of a node, as lookup attributes (upstream-behaviour §bmc-address).

use std::net::IpAddr;

use serde_json::{Map, Value};

/// The field's host, and its resolved non-loopback IPv4 and IPv6 addresses
/// (the last of each family, as upstream keeps them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BmcAddresses {
    pub host: Option<String>,
    pub v4: Option<String>,
    pub v6: Option<String>,
}

impl BmcAddresses {
    pub fn lookup_values(&self) -> Vec<String> {
        self.v4.iter().chain(self.v6.iter()).cloned().collect()
    }
}

/// The host named by the first non-empty BMC field of `driver_info`: URLs
/// give their host name, IPv6 brackets are dropped. Bridged IPMI has none.
pub fn bmc_host(driver_info: &Map<String, Value>, extra_fields: &[String]) -> Option<String> {
    if driver_info
        .get("ipmi_bridging")
        .and_then(Value::as_str)
        .is_some_and(|b| b != "no")
    {
        return None;
    }
    let fields = std::iter::once("ipmi_address").chain(extra_fields.iter().map(String::as_str));
    for field in fields {
        let Some(value) = driver_info
            .get(field)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        let host = if value.contains("//") {
            url_host(value)?
        } else {
            value.to_string()
        };
        return Some(
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
        );
    }
    None
}

/// The host of `scheme://[user@]host[:port]/path`.
fn url_host(url: &str) -> Option<String> {
    let after = url.split_once("//")?.1;
    let authority = after.split(['/', '?', '#']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest.split_once(']').map(|(h, _)| h.to_string());
    }
    let host = host_port.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Resolves the BMC host; loopback addresses are ignored, failures logged.
pub async fn resolve(host: Option<String>, node: &str) -> BmcAddresses {
    let Some(host) = host else {
        return BmcAddresses::default();
    };
    let mut result = BmcAddresses {
        host: Some(host.clone()),
        v4: None,
        v6: None,
    };
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match tokio::net::lookup_host((host.as_str(), 0)).await {
            Ok(found) => found.map(|s| s.ip()).collect(),
            Err(e) => {
                tracing::warn!(node, bmc = %host, error = %e, "cannot resolve the BMC address");
                return result;
            }
        },
    };
    for ip in addrs {
        if ip.is_loopback() {
            tracing::warn!(node, %ip, "ignoring loopback BMC address");
            continue;
        }
        match ip {
            IpAddr::V4(v4) => result.v4 = Some(v4.to_string()),
            IpAddr::V6(v6) => result.v6 = Some(v6.to_string()),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn first_non_empty_field_wins() {
        let extra = vec!["redfish_address".to_string(), "drac_host".to_string()];
        assert_eq!(
            bmc_host(&info(json!({"ipmi_address": "10.0.0.1"})), &extra).as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(
            bmc_host(&info(json!({"ipmi_address": "", "redfish_address": "https://bmc.example:8443/redfish/v1"})), &extra)
                .as_deref(),
            Some("bmc.example")
        );
        assert_eq!(
            bmc_host(&info(json!({"drac_host": "[fd00::5]"})), &extra).as_deref(),
            Some("fd00::5")
        );
        assert_eq!(
            bmc_host(
                &info(json!({"redfish_address": "http://[fd00::6]:443"})),
                &extra
            )
            .as_deref(),
            Some("fd00::6")
        );
        assert_eq!(bmc_host(&info(json!({"other": "x"})), &extra), None);
    }

    #[test]
    fn bridged_ipmi_has_no_usable_address() {
        assert_eq!(
            bmc_host(
                &info(json!({"ipmi_address": "10.0.0.1", "ipmi_bridging": "single"})),
                &[]
            ),
            None
        );
        assert_eq!(
            bmc_host(
                &info(json!({"ipmi_address": "10.0.0.1", "ipmi_bridging": "no"})),
                &[]
            )
            .as_deref(),
            Some("10.0.0.1")
        );
    }

    #[tokio::test]
    async fn literal_addresses_resolve_to_themselves_and_loopback_is_ignored() {
        let found = resolve(Some("10.1.2.3".into()), "n").await;
        assert_eq!(found.lookup_values(), ["10.1.2.3"]);
        let found = resolve(Some("2001:db8::1".into()), "n").await;
        assert_eq!(found.v6.as_deref(), Some("2001:db8::1"));
        assert!(
            resolve(Some("127.0.0.1".into()), "n")
                .await
                .lookup_values()
                .is_empty()
        );
        assert!(
            resolve(Some("no-such-host.invalid".into()), "n")
                .await
                .lookup_values()
                .is_empty()
        );
    }
}
