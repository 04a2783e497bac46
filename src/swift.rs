//! The Swift (object storage) client of `[processing] store_data = swift`:
//! a Keystone token from the `[swift]` group's password options, the
//! `object-store` endpoint from the catalog (or `endpoint_override`), and
//! the two calls the data store needs: put an object (creating the
//! container first, as upstream does on every write) and get one.

use std::time::Duration;

use inspector_core::conf;
use reqwest::{Method, StatusCode};
use tokio::sync::Mutex;

use crate::keystone::{self, PasswordAuth, SessionTls, Token, encode_segment};

/// How long one Swift or Keystone request may take when `[swift] timeout`
/// is unset (keystoneauth has no limit; a stuck Swift must not hold a node's
/// lock forever).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwiftError {
    /// The `[swift]` options cannot make a client.
    #[error("{0}")]
    Config(String),
    /// Keystone or Swift did not answer (refused, reset, timed out).
    #[error("{0}")]
    Unreachable(String),
    /// Keystone refused the credentials, or the catalog has no endpoint.
    #[error("{0}")]
    Auth(String),
    /// Swift answered with an error status.
    #[error("{message}")]
    Refused { status: u16, message: String },
}

/// What the client needs from `[swift]`.
#[derive(Debug, Clone)]
pub struct SwiftSettings {
    /// None: `auth_type = none`, requests go unauthenticated to
    /// `endpoint_override`.
    pub auth: Option<PasswordAuth>,
    pub endpoint_override: Option<String>,
    pub service_type: String,
    pub valid_interfaces: Vec<String>,
    pub region_name: Option<String>,
    pub timeout: Duration,
    pub tls: SessionTls,
    pub container: String,
    pub delete_after: u64,
}

impl SwiftSettings {
    pub fn from_config(swift: &conf::Swift) -> Result<Self, SwiftError> {
        let c = &swift.client;
        let auth = match c.auth_type.as_str() {
            "password" | "v3password" => {
                Some(PasswordAuth::from_client(c).map_err(SwiftError::Config)?)
            }
            "none" | "noauth" => {
                keystone::required_auth_option(c, &c.endpoint_override, "endpoint_override")
                    .map_err(SwiftError::Config)?;
                None
            }
            other => {
                return Err(SwiftError::Config(format!(
                    "auth_type {other} is not supported for Swift (use password or none)"
                )));
            }
        };
        Ok(Self {
            auth,
            endpoint_override: c.endpoint_override.clone(),
            service_type: c.service_type.clone(),
            valid_interfaces: c.valid_interfaces.clone(),
            region_name: c.region_name.clone(),
            timeout: c.timeout.unwrap_or(DEFAULT_TIMEOUT),
            tls: SessionTls::from_client(c),
            container: swift.container.clone(),
            delete_after: swift.delete_after,
        })
    }
}

pub struct SwiftClient {
    http: reqwest::Client,
    settings: SwiftSettings,
    token: Mutex<Option<Token>>,
}

impl SwiftClient {
    pub fn new(settings: SwiftSettings) -> Result<Self, SwiftError> {
        let http = keystone::session_client(settings.timeout, &settings.tls)
            .map_err(SwiftError::Config)?;
        Ok(Self {
            http,
            settings,
            token: Mutex::new(None),
        })
    }

    /// `[swift] container`.
    pub fn container(&self) -> &str {
        &self.settings.container
    }

    /// Creates the container if needed (Swift answers 201 or 202 either
    /// way).
    pub async fn create_container(&self) -> Result<(), SwiftError> {
        self.send(Method::PUT, None, None).await.map(drop)
    }

    /// Writes an object of `[swift] container`; with `[swift] delete_after`
    /// Swift deletes it that many seconds later.
    pub async fn put_object(&self, name: &str, body: String) -> Result<(), SwiftError> {
        self.send(Method::PUT, Some(name), Some(body))
            .await
            .map(drop)
    }

    /// An object's bytes.
    pub async fn get_object(&self, name: &str) -> Result<Vec<u8>, SwiftError> {
        self.send(Method::GET, Some(name), None).await
    }

    /// One request on the container or one of its objects; a token Swift
    /// refuses (expired, revoked) is renewed once.
    async fn send(
        &self,
        method: Method,
        object: Option<&str>,
        body: Option<String>,
    ) -> Result<Vec<u8>, SwiftError> {
        let mut renew = false;
        loop {
            let (token, account) = self.session(renew).await?;
            let mut url = format!("{account}/{}", encode_segment(&self.settings.container));
            if let Some(name) = object {
                url.push('/');
                url.push_str(&encode_segment(name));
            }
            let mut request = self.http.request(method.clone(), &url);
            if let Some(token) = &token {
                request = request.header("X-Auth-Token", token);
            }
            if let Some(body) = &body {
                if self.settings.delete_after > 0 {
                    request = request.header("X-Delete-After", self.settings.delete_after);
                }
                request = request.body(body.clone());
            }
            let response = request.send().await.map_err(|e| {
                SwiftError::Unreachable(format!(
                    "cannot reach Swift at {url}: {}",
                    keystone::error_chain(&e)
                ))
            })?;
            let status = response.status();
            let bytes = response.bytes().await.map_err(|e| {
                SwiftError::Unreachable(format!(
                    "reading Swift's answer from {url} failed: {}",
                    keystone::error_chain(&e)
                ))
            })?;
            if status.is_success() {
                return Ok(bytes.to_vec());
            }
            if status == StatusCode::UNAUTHORIZED && token.is_some() && !renew {
                renew = true;
                continue;
            }
            return Err(SwiftError::Refused {
                status: status.as_u16(),
                message: refusal(status, &url, &bytes),
            });
        }
    }

    /// The token to send (none without authentication) and the account URL.
    async fn session(&self, renew: bool) -> Result<(Option<String>, String), SwiftError> {
        let Some(auth) = &self.settings.auth else {
            let url = self.settings.endpoint_override.clone().unwrap_or_default();
            return Ok((None, url.trim_end_matches('/').to_string()));
        };
        let mut cached = self.token.lock().await;
        let token = match cached.as_ref() {
            Some(token) if !renew && token.is_fresh() => token,
            _ => cached.insert(keystone::issue_token(&self.http, auth).await.map_err(
                |e| match e {
                    keystone::IssueError::Unreachable { .. } => {
                        SwiftError::Unreachable(e.to_string())
                    }
                    _ => SwiftError::Auth(e.to_string()),
                },
            )?),
        };
        let url = match &self.settings.endpoint_override {
            // keystoneauth fills in the token's project, which Swift's
            // account names carry (AUTH_<project id>).
            Some(url) => {
                let project = token.project_id.as_deref().unwrap_or_default();
                url.replace("%(project_id)s", project)
                    .replace("%(tenant_id)s", project)
            }
            None => keystone::find_endpoint(
                &token.catalog,
                &self.settings.service_type,
                &self.settings.valid_interfaces,
                self.settings.region_name.as_deref(),
            )
            .ok_or_else(|| {
                SwiftError::Auth(format!(
                    "no {} endpoint with interface {:?} in the Keystone catalog",
                    self.settings.service_type, self.settings.valid_interfaces
                ))
            })?,
        };
        Ok((
            Some(token.value.clone()),
            url.trim_end_matches('/').to_string(),
        ))
    }
}

/// Worded as openstacksdk words Swift's refusals ("404: Client Error for
/// url: ..., Not Found: ..."), with the text of Swift's short error page.
fn refusal(status: StatusCode, url: &str, body: &[u8]) -> String {
    let page = String::from_utf8_lossy(body);
    let mut text = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                // A heading and a paragraph: keep them apart.
                if !text.is_empty() && !text.ends_with(": ") {
                    text.push_str(": ");
                }
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.trim().trim_end_matches(':').trim();
    let side = if status.is_server_error() {
        "Server"
    } else {
        "Client"
    };
    let code = status.as_u16();
    if text.is_empty() {
        format!("{code}: {side} Error for url: {url}")
    } else {
        format!("{code}: {side} Error for url: {url}, {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swift(auth_type: &str) -> conf::Swift {
        let mut swift = conf::Swift::default();
        swift.client.auth_type = auth_type.into();
        swift
    }

    #[test]
    fn password_auth_needs_url_and_password() {
        let err = SwiftSettings::from_config(&swift("password")).unwrap_err();
        assert_eq!(
            err,
            SwiftError::Config("auth_type password requires auth_url".into())
        );
        let mut conf = swift("password");
        conf.client.auth.auth_url = Some("http://k:5000".into());
        conf.client.auth.password = Some("pw".into());
        let settings = SwiftSettings::from_config(&conf).unwrap();
        assert_eq!(settings.container, "ironic-inspector");
        assert_eq!(settings.delete_after, 0);
    }

    #[test]
    fn no_auth_needs_an_endpoint_and_other_plugins_are_refused() {
        assert!(SwiftSettings::from_config(&swift("none")).is_err());
        let mut conf = swift("none");
        conf.client.endpoint_override = Some("http://s:8080/v1/AUTH_x".into());
        assert!(SwiftSettings::from_config(&conf).unwrap().auth.is_none());
        let err = SwiftSettings::from_config(&swift("http_basic")).unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
    }

    #[test]
    fn swift_error_pages_keep_their_text() {
        let body = b"<html><h1>Not Found</h1><p>The resource could not be found.</p></html>";
        assert_eq!(
            refusal(StatusCode::NOT_FOUND, "http://s/o", body),
            "404: Client Error for url: http://s/o, Not Found: The resource could not be found."
        );
        assert_eq!(
            refusal(StatusCode::SERVICE_UNAVAILABLE, "http://s/o", b""),
            "503: Server Error for url: http://s/o"
        );
    }
}
