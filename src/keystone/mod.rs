//! The Keystone v3 client, in one place: password authentication (a scoped
//! token and the service catalog, as keystoneauth's `password` plugin gets
//! them), used by the Ironic client and by token validation, which checks
//! the tokens of API callers as keystonemiddleware does.

mod validator;

pub use validator::{
    KeystoneConfigError, TokenInfo, TokenValidator, Unavailable, ValidatorSettings, http_client,
};

use std::time::Duration;

use inspector_core::conf::{KeystoneAuth, KeystoneClient};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PasswordAuth {
    pub auth_url: String,
    pub username: Option<String>,
    pub user_id: Option<String>,
    pub password: String,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub system_scope: Option<String>,
}

impl PasswordAuth {
    /// From the password plugin options of any config group (`[ironic]`,
    /// `[keystone_authtoken]`...); `auth_url` and `password` are given
    /// already checked.
    pub fn from_conf(auth: &KeystoneAuth, auth_url: String, password: String) -> Self {
        Self {
            auth_url,
            username: auth.username.clone(),
            user_id: auth.user_id.clone(),
            password,
            user_domain_name: auth.user_domain_name.clone(),
            user_domain_id: auth.user_domain_id.clone(),
            project_name: auth.project_name.clone(),
            project_id: auth.project_id.clone(),
            project_domain_name: auth.project_domain_name.clone(),
            project_domain_id: auth.project_domain_id.clone(),
            system_scope: auth.system_scope.clone(),
        }
    }

    /// The password plugin of a client group (`[ironic]`, `[swift]`),
    /// which needs `auth_url` and `password`.
    pub fn from_client(c: &KeystoneClient) -> Result<Self, String> {
        Ok(Self::from_conf(
            &c.auth,
            required_auth_option(c, &c.auth.auth_url, "auth_url")?,
            required_auth_option(c, &c.auth.password, "password")?,
        ))
    }
}

/// An option the group's `auth_type` cannot do without.
pub fn required_auth_option(
    c: &KeystoneClient,
    value: &Option<String>,
    name: &str,
) -> Result<String, String> {
    value
        .clone()
        .ok_or_else(|| format!("auth_type {} requires {name}", c.auth_type))
}

/// Why Keystone did not issue a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    /// No answer (connection refused, timeout): worth retrying.
    #[error("cannot reach Keystone at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("Keystone refused the credentials (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone)]
pub struct Token {
    pub value: String,
    pub expires_at: Option<OffsetDateTime>,
    pub catalog: Value,
    /// The project the token is scoped to, for `%(project_id)s` in an
    /// `endpoint_override` (Swift's endpoints name the project's account).
    pub project_id: Option<String>,
}

impl Token {
    /// Renew a minute early so a token never expires mid-request.
    pub fn is_fresh(&self) -> bool {
        match self.expires_at {
            Some(at) => OffsetDateTime::now_utc() + time::Duration::seconds(60) < at,
            None => true,
        }
    }
}

/// `.../v3` whether or not the configured URL names the version.
pub fn v3_url(auth_url: &str) -> String {
    let trimmed = auth_url.trim_end_matches('/');
    if trimmed.ends_with("/v3") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/v3")
    }
}

fn domain(name: &Option<String>, id: &Option<String>) -> Option<Value> {
    match (id, name) {
        (Some(id), _) => Some(json!({"id": id})),
        (None, Some(name)) => Some(json!({"name": name})),
        (None, None) => None,
    }
}

pub fn request_body(auth: &PasswordAuth) -> Value {
    let mut user = serde_json::Map::new();
    if let Some(id) = &auth.user_id {
        user.insert("id".into(), json!(id));
    }
    if let Some(name) = &auth.username {
        user.insert("name".into(), json!(name));
    }
    if let Some(d) = domain(&auth.user_domain_name, &auth.user_domain_id) {
        user.insert("domain".into(), d);
    }
    user.insert("password".into(), json!(auth.password));
    let mut body =
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}});
    let scope = if let Some(system) = &auth.system_scope {
        Some(json!({"system": {system.as_str(): true}}))
    } else if let Some(id) = &auth.project_id {
        Some(json!({"project": {"id": id}}))
    } else {
        auth.project_name.as_ref().map(|name| {
            let mut project = json!({"name": name});
            if let Some(d) = domain(&auth.project_domain_name, &auth.project_domain_id) {
                project["domain"] = d;
            }
            json!({"project": project})
        })
    };
    if let Some(scope) = scope {
        body["auth"]["scope"] = scope;
    }
    body
}

pub async fn issue_token(http: &reqwest::Client, auth: &PasswordAuth) -> Result<Token, IssueError> {
    let url = format!("{}/auth/tokens", v3_url(&auth.auth_url));
    let response = http
        .post(&url)
        .json(&request_body(auth))
        .send()
        .await
        .map_err(|e| IssueError::Unreachable {
            url: url.clone(),
            message: error_chain(&e),
        })?;
    let status = response.status();
    let token = response
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body["error"]["message"].as_str().unwrap_or("no message");
        return Err(IssueError::Refused {
            status: status.as_u16(),
            message: message.to_string(),
        });
    }
    let value = token
        .ok_or_else(|| IssueError::Invalid("Keystone answered without X-Subject-Token".into()))?;
    let expires_at = body["token"]["expires_at"]
        .as_str()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    Ok(Token {
        value,
        expires_at,
        catalog: body["token"]["catalog"].clone(),
        project_id: body["token"]["project"]["id"].as_str().map(str::to_owned),
    })
}

/// The TLS options of a keystoneauth session (`cafile`, `certfile`,
/// `keyfile`, `insecure` of a client group).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionTls {
    pub cafile: Option<String>,
    pub certfile: Option<String>,
    pub keyfile: Option<String>,
    pub insecure: bool,
}

impl SessionTls {
    pub fn from_client(c: &KeystoneClient) -> Self {
        Self {
            cafile: c.cafile.clone(),
            certfile: c.certfile.clone(),
            keyfile: c.keyfile.clone(),
            insecure: c.insecure,
        }
    }
}

/// The HTTP client of a keystoneauth session: `timeout` per request (and
/// at most 30 s to connect), no proxy from the environment, and the
/// session's TLS options. The error names the file at fault.
pub fn session_client(timeout: Duration, tls: &SessionTls) -> Result<reqwest::Client, String> {
    crate::tls::install_crypto_provider();
    let read = |path: &str| std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"));
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(30)))
        .no_proxy()
        .danger_accept_invalid_certs(tls.insecure);
    if let Some(path) = &tls.cafile {
        for cert in reqwest::Certificate::from_pem_bundle(&read(path)?)
            .map_err(|e| format!("invalid cafile {path}: {e}"))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let (Some(cert), Some(key)) = (&tls.certfile, &tls.keyfile) {
        let mut pem = read(cert)?;
        pem.extend(read(key)?);
        let identity = reqwest::Identity::from_pem(&pem)
            .map_err(|e| format!("invalid client certificate: {e}"))?;
        builder = builder.identity(identity);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Percent-encodes a URL path segment or query value (node names, object
/// names are free text).
pub fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || b == b',' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An error and its causes, e.g. "error sending request: connection refused".
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The first endpoint of `service_type` whose interface is the earliest in
/// `interfaces` (keystoneauth's `valid_interfaces`) and whose region matches.
pub fn find_endpoint(
    catalog: &Value,
    service_type: &str,
    interfaces: &[String],
    region: Option<&str>,
) -> Option<String> {
    let services = catalog.as_array()?;
    let service = services
        .iter()
        .find(|s| s["type"].as_str() == Some(service_type))?;
    let endpoints = service["endpoints"].as_array()?;
    for interface in interfaces {
        let wanted = interface.trim_end_matches("URL");
        let found = endpoints.iter().find(|e| {
            e["interface"].as_str() == Some(wanted)
                && region.is_none_or(|r| {
                    e["region_id"].as_str() == Some(r) || e["region"].as_str() == Some(r)
                })
        });
        if let Some(url) = found.and_then(|e| e["url"].as_str()) {
            return Some(url.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_suffix_is_added_once() {
        assert_eq!(v3_url("http://k:5000"), "http://k:5000/v3");
        assert_eq!(v3_url("http://k:5000/v3/"), "http://k:5000/v3");
        assert_eq!(v3_url("http://k/identity"), "http://k/identity/v3");
    }

    #[test]
    fn project_scoped_body() {
        let body = request_body(&PasswordAuth {
            auth_url: "x".into(),
            username: Some("inspector".into()),
            password: "pw".into(),
            user_domain_name: Some("Default".into()),
            project_name: Some("service".into()),
            project_domain_name: Some("Default".into()),
            ..Default::default()
        });
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["name"],
            "inspector"
        );
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["domain"]["name"],
            "Default"
        );
        assert_eq!(body["auth"]["scope"]["project"]["name"], "service");
        assert_eq!(
            body["auth"]["scope"]["project"]["domain"]["name"],
            "Default"
        );
    }

    #[test]
    fn catalog_lookup_honours_interface_order_and_region() {
        let catalog = json!([
            {"type": "identity", "endpoints": []},
            {"type": "baremetal", "endpoints": [
                {"interface": "public", "region_id": "r1", "url": "http://public"},
                {"interface": "internal", "region_id": "r2", "url": "http://internal-r2"},
                {"interface": "internal", "region_id": "r1", "url": "http://internal-r1"}
            ]}
        ]);
        let both = vec!["internal".to_string(), "public".to_string()];
        assert_eq!(
            find_endpoint(&catalog, "baremetal", &both, Some("r1")).as_deref(),
            Some("http://internal-r1")
        );
        assert_eq!(
            find_endpoint(&catalog, "baremetal", &both, None).as_deref(),
            Some("http://internal-r2")
        );
        assert_eq!(
            find_endpoint(&catalog, "baremetal", &["public".to_string()], None).as_deref(),
            Some("http://public")
        );
        assert_eq!(find_endpoint(&catalog, "network", &both, None), None);
    }
}
