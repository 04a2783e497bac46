//! Absolute links as upstream builds them: from the request's Host (or the
//! `X-Forwarded-*` headers of a proxy, last value of each list) and the
//! application root a proxy announces with `X-Forwarded-Prefix`.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

#[derive(Debug, Clone)]
pub struct BaseUrl {
    /// `scheme://host[:port]` followed by the application root, no trailing slash.
    pub absolute: String,
    /// The application root alone (`""` when served at `/`).
    pub prefix: String,
}

impl BaseUrl {
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.absolute, path)
    }

    pub fn relative(&self, path: &str) -> String {
        format!("{}{}", self.prefix, path)
    }
}

fn last_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    let last = value.rsplit(',').next()?.trim();
    (!last.is_empty()).then(|| last.to_string())
}

fn host_without_port(host: &str) -> &str {
    if let Some(end) = host.find(']') {
        return &host[..=end];
    }
    host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
}

pub fn base_url(headers: &HeaderMap, default_scheme: &str) -> BaseUrl {
    let scheme =
        last_value(headers, "x-forwarded-proto").unwrap_or_else(|| default_scheme.to_string());
    let mut host = last_value(headers, "x-forwarded-host")
        .or_else(|| {
            headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "localhost".into());
    if let Some(port) = last_value(headers, "x-forwarded-port") {
        host = format!("{}:{port}", host_without_port(&host));
    }
    let prefix = last_value(headers, "x-forwarded-prefix")
        .map(|p| p.trim_end_matches('/').to_string())
        .unwrap_or_default();
    let prefix = if prefix.is_empty() || prefix.starts_with('/') {
        prefix
    } else {
        format!("/{prefix}")
    };
    BaseUrl {
        absolute: format!("{scheme}://{host}{prefix}"),
        prefix,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let scheme = parts
            .extensions
            .get::<DefaultScheme>()
            .map(|s| s.0)
            .unwrap_or("http");
        Ok(base_url(&parts.headers, scheme))
    }
}

/// The scheme links use when no proxy says otherwise (`https` with `use_ssl`).
#[derive(Debug, Clone, Copy)]
pub struct DefaultScheme(pub &'static str);

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn links_use_the_host_header() {
        let base = base_url(&headers(&[("host", "127.0.0.1:5050")]), "http");
        assert_eq!(base.link("/v1"), "http://127.0.0.1:5050/v1");
        assert_eq!(base.relative("/v1/rules/x"), "/v1/rules/x");
    }

    #[test]
    fn proxy_headers_win_and_the_last_value_counts() {
        let base = base_url(
            &headers(&[
                ("host", "10.0.0.1:5050"),
                ("x-forwarded-proto", "http, https"),
                ("x-forwarded-host", "a.example, inspector.example"),
                ("x-forwarded-port", "8443"),
                ("x-forwarded-prefix", "/baremetal-introspection/"),
            ]),
            "http",
        );
        assert_eq!(
            base.link("/v1"),
            "https://inspector.example:8443/baremetal-introspection/v1"
        );
        assert_eq!(
            base.relative("/v1/rules/x"),
            "/baremetal-introspection/v1/rules/x"
        );
    }

    #[test]
    fn forwarded_port_replaces_an_ipv6_hosts_port() {
        let base = base_url(
            &headers(&[("host", "[::1]:5050"), ("x-forwarded-port", "80")]),
            "http",
        );
        assert_eq!(base.absolute, "http://[::1]:80");
    }
}
