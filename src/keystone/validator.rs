//! Validation of API callers' tokens, as keystonemiddleware's auth_token
//! does it: `GET /v3/auth/tokens` with the token as `X-Subject-Token`,
//! authenticated with the service's own token (from `[keystone_authtoken]`),
//! against the identity endpoint of the service token's catalog. Valid tokens
//! are remembered in a bounded in-memory cache until they expire, and for at
//! most `token_cache_time` seconds so that a revoked token stops working.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use inspector_core::conf::KeystoneAuthtoken;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{IssueError, PasswordAuth, Token, error_chain, find_endpoint, issue_token, v3_url};

/// Upper bound on remembered tokens; beyond it the stalest are dropped.
const MAX_CACHED: usize = 10_000;
/// keystoneauth's first connect-retry delay, doubled on each retry.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);

/// `[keystone_authtoken]` cannot be used to validate tokens.
#[derive(Debug, thiserror::Error)]
pub enum KeystoneConfigError {
    #[error("[keystone_authtoken] auth_type {0} is not supported (use password)")]
    UnsupportedAuthType(String),
    #[error("[keystone_authtoken] auth_type must be set (to password) to validate tokens")]
    MissingAuthType,
    /// A required option (its name) is not set.
    #[error("[keystone_authtoken] {0} is required")]
    Missing(&'static str),
    #[error("cannot read {path}: {error}")]
    Unreadable { path: String, error: std::io::Error },
    #[error("invalid [keystone_authtoken] cafile {path}: {error}")]
    InvalidCaFile { path: String, error: reqwest::Error },
    #[error("invalid [keystone_authtoken] certfile/keyfile: {0}")]
    InvalidClientCertificate(reqwest::Error),
    #[error("[keystone_authtoken] certfile and keyfile go together")]
    CertfileWithoutKeyfile,
    /// The HTTP client cannot be built.
    #[error("{0}")]
    Client(reqwest::Error),
}

/// What the validator needs from `[keystone_authtoken]`.
#[derive(Debug, Clone)]
pub struct ValidatorSettings {
    /// The service user.
    pub auth: PasswordAuth,
    /// Catalog interface of the identity endpoint (`interface`).
    pub interface: String,
    pub region_name: Option<String>,
    /// `token_cache_time`: negative disables the cache, 0 keeps a token
    /// until it expires.
    pub cache_time: i64,
    /// `http_request_max_retries`: retries of a request that got no answer.
    pub max_retries: u32,
}

impl ValidatorSettings {
    /// From `[keystone_authtoken]`; only the `password` plugin is supported.
    pub fn from_config(c: &KeystoneAuthtoken) -> Result<Self, KeystoneConfigError> {
        match c.auth_type.as_deref() {
            Some("password" | "v3password") => {}
            Some(other) => {
                return Err(KeystoneConfigError::UnsupportedAuthType(other.to_string()));
            }
            None => return Err(KeystoneConfigError::MissingAuthType),
        }
        let required = |value: &Option<String>, name: &'static str| {
            value.clone().ok_or(KeystoneConfigError::Missing(name))
        };
        if c.auth.username.is_none() && c.auth.user_id.is_none() {
            return Err(KeystoneConfigError::Missing("username (or user_id)"));
        }
        Ok(Self {
            auth: PasswordAuth::from_conf(
                &c.auth,
                required(&c.auth.auth_url, "auth_url")?,
                required(&c.auth.password, "password")?,
            ),
            interface: c.interface.clone().unwrap_or_else(|| "internal".into()),
            region_name: c.region_name.clone(),
            cache_time: c.token_cache_time,
            max_retries: c.http_request_max_retries,
        })
    }
}

/// The HTTP client for Keystone: `http_connect_timeout` (30 s when unset,
/// rather than keystoneauth's unbounded wait), `cafile`, `certfile` and
/// `keyfile`, `insecure`.
pub fn http_client(c: &KeystoneAuthtoken) -> Result<reqwest::Client, KeystoneConfigError> {
    crate::tls::install_crypto_provider();
    let timeout = c.http_connect_timeout.unwrap_or(Duration::from_secs(30));
    let read = |path: &str| {
        std::fs::read(path).map_err(|error| KeystoneConfigError::Unreadable {
            path: path.to_string(),
            error,
        })
    };
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .no_proxy()
        .danger_accept_invalid_certs(c.insecure);
    if let Some(path) = &c.cafile {
        for cert in reqwest::Certificate::from_pem_bundle(&read(path)?).map_err(|error| {
            KeystoneConfigError::InvalidCaFile {
                path: path.clone(),
                error,
            }
        })? {
            builder = builder.add_root_certificate(cert);
        }
    }
    match (&c.certfile, &c.keyfile) {
        (Some(cert), Some(key)) => {
            let mut pem = read(cert)?;
            pem.extend(read(key)?);
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(KeystoneConfigError::InvalidClientCertificate)?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => return Err(KeystoneConfigError::CertfileWithoutKeyfile),
    }
    builder.build().map_err(KeystoneConfigError::Client)
}

/// Keystone could not be asked (or refused to answer for the service): the
/// request must be neither let through nor rejected as unauthenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// The service's own token could not be obtained.
    #[error("{0}")]
    ServiceToken(IssueError),
    /// The service token was renewed and still rejected.
    #[error("Keystone rejected the service credentials of [keystone_authtoken]")]
    ServiceCredentialsRejected,
    /// The validation request got no answer, retries included.
    #[error("cannot reach Keystone at {url}: {message}")]
    Unreachable { url: String, message: String },
    /// Keystone answered an unexpected status.
    #[error("Keystone at {url} answered HTTP {status} to a token validation: {message}")]
    Refused {
        url: String,
        status: u16,
        message: String,
    },
    #[error("Keystone at {url} answered 200 without token data")]
    NoTokenData { url: String },
}

/// What a valid token says about its bearer (what keystonemiddleware puts
/// in the `X-*` headers oslo.context reads).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_id: Option<String>,
    pub project_domain_id: Option<String>,
    pub domain_id: Option<String>,
    /// `all` for a system-scoped token.
    pub system_scope: Option<String>,
    pub roles: Vec<String>,
    pub is_admin_project: bool,
    pub expires_at: Option<OffsetDateTime>,
}

impl TokenInfo {
    /// Reads the `token` object of a Keystone v3 token response.
    pub fn from_token(token: &Value) -> TokenInfo {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let system_scope = token["system"]
            .as_object()
            .and_then(|s| s.keys().next().cloned());
        TokenInfo {
            user_id: text(&token["user"]["id"]),
            user_name: text(&token["user"]["name"]),
            user_domain_id: text(&token["user"]["domain"]["id"]),
            project_id: text(&token["project"]["id"]),
            project_domain_id: text(&token["project"]["domain"]["id"]),
            domain_id: text(&token["domain"]["id"]),
            system_scope,
            roles: token["roles"]
                .as_array()
                .map(|roles| roles.iter().filter_map(|r| text(&r["name"])).collect())
                .unwrap_or_default(),
            is_admin_project: token["is_admin_project"].as_bool().unwrap_or(true),
            expires_at: token["expires_at"]
                .as_str()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok()),
        }
    }

    fn expired(&self) -> bool {
        self.expires_at
            .is_some_and(|at| at <= OffsetDateTime::now_utc())
    }
}

struct Cached {
    info: TokenInfo,
    /// After this, Keystone is asked again (`token_cache_time`).
    fresh_until: Option<Instant>,
}

/// The service token and the identity endpoint found in its catalog.
struct ServiceSession {
    token: Token,
    identity_url: String,
}

/// Validates tokens, caching the valid ones and the service's own token.
pub struct TokenValidator {
    http: reqwest::Client,
    settings: ValidatorSettings,
    session: tokio::sync::Mutex<Option<ServiceSession>>,
    cache: Mutex<HashMap<String, Cached>>,
}

enum Answer {
    Valid(Box<TokenInfo>),
    Invalid,
    ServiceTokenRejected,
}

impl TokenValidator {
    pub fn new(http: reqwest::Client, settings: ValidatorSettings) -> Self {
        Self {
            http,
            settings,
            session: tokio::sync::Mutex::new(None),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The token's bearer, `Ok(None)` when the token is not (or no longer)
    /// valid, or an error when Keystone cannot tell.
    pub async fn validate(&self, token: &str) -> Result<Option<TokenInfo>, Unavailable> {
        // keystonemiddleware strips whitespace around the header value.
        let token = token.trim();
        if token.is_empty() {
            return Ok(None);
        }
        if let Some(cached) = self.cached(token) {
            return Ok(cached);
        }
        let mut renewed = false;
        loop {
            let session = self.session(renewed).await?;
            match self.ask(&session.0, &session.1, token).await? {
                Answer::Valid(info) => {
                    // 0 seconds of validity left means invalid now.
                    if info.expired() {
                        return Ok(None);
                    }
                    self.remember(token, &info);
                    return Ok(Some(*info));
                }
                Answer::Invalid => return Ok(None),
                Answer::ServiceTokenRejected if !renewed => {
                    tracing::info!("Keystone rejected the service token; renewing it");
                    renewed = true;
                }
                Answer::ServiceTokenRejected => {
                    return Err(Unavailable::ServiceCredentialsRejected);
                }
            }
        }
    }

    /// `Some(answer)` when the cache can answer without Keystone.
    fn cached(&self, token: &str) -> Option<Option<TokenInfo>> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let entry = cache.get(token)?;
        if entry.info.expired() {
            cache.remove(token);
            return Some(None);
        }
        if entry.fresh_until.is_some_and(|t| t <= Instant::now()) {
            cache.remove(token);
            return None;
        }
        Some(Some(entry.info.clone()))
    }

    fn remember(&self, token: &str, info: &TokenInfo) {
        let fresh_until = match self.settings.cache_time {
            t if t < 0 => return,
            0 => None,
            t => Some(Instant::now() + Duration::from_secs(t.unsigned_abs())),
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_CACHED {
            let now = Instant::now();
            cache.retain(|_, c| !c.info.expired() && c.fresh_until.is_none_or(|t| t > now));
        }
        if cache.len() >= MAX_CACHED {
            // Still full of live entries: drop the one that goes stale first.
            let stalest = cache
                .iter()
                .min_by_key(|(_, c)| (c.fresh_until, c.info.expires_at))
                .map(|(k, _)| k.clone());
            if let Some(key) = stalest {
                cache.remove(&key);
            }
        }
        cache.insert(
            token.to_string(),
            Cached {
                info: info.clone(),
                fresh_until,
            },
        );
    }

    /// The service token (renewed a minute before it expires, or when
    /// `renew`) and the identity endpoint to validate against.
    async fn session(&self, renew: bool) -> Result<(String, String), Unavailable> {
        let mut session = self.session.lock().await;
        if let Some(s) = session.as_ref().filter(|s| !renew && s.token.is_fresh()) {
            return Ok((s.token.value.clone(), s.identity_url.clone()));
        }
        let token = self.issue_service_token().await?;
        let interfaces = [self.settings.interface.clone()];
        let identity_url = match find_endpoint(
            &token.catalog,
            "identity",
            &interfaces,
            self.settings.region_name.as_deref(),
        ) {
            Some(url) => url,
            None => {
                tracing::warn!(
                    interface = %self.settings.interface,
                    "no identity endpoint with that interface in the service catalog; \
                     validating tokens at auth_url"
                );
                self.settings.auth.auth_url.clone()
            }
        };
        let identity_url = v3_url(&identity_url);
        let fresh = (token.value.clone(), identity_url.clone());
        *session = Some(ServiceSession {
            token,
            identity_url,
        });
        Ok(fresh)
    }

    async fn issue_service_token(&self) -> Result<Token, Unavailable> {
        let mut attempt = 0;
        loop {
            match issue_token(&self.http, &self.settings.auth).await {
                Ok(token) => return Ok(token),
                Err(IssueError::Unreachable { .. }) if attempt < self.settings.max_retries => {
                    tokio::time::sleep(retry_delay(attempt)).await;
                    attempt += 1;
                }
                Err(e) => {
                    tracing::error!("cannot get the service token of [keystone_authtoken]: {e}");
                    return Err(Unavailable::ServiceToken(e));
                }
            }
        }
    }

    async fn ask(
        &self,
        service_token: &str,
        identity_url: &str,
        token: &str,
    ) -> Result<Answer, Unavailable> {
        let url = format!("{identity_url}/auth/tokens");
        let mut attempt = 0;
        let response = loop {
            let sent = self
                .http
                .get(&url)
                .query(&[("nocatalog", "1")])
                .header("X-Auth-Token", service_token)
                .header("X-Subject-Token", token)
                .send()
                .await;
            match sent {
                Ok(response) => break response,
                Err(e) if attempt < self.settings.max_retries => {
                    tracing::debug!("Keystone at {url} did not answer ({e}); retrying");
                    tokio::time::sleep(retry_delay(attempt)).await;
                    attempt += 1;
                }
                Err(e) => {
                    let unreachable = Unavailable::Unreachable {
                        url,
                        message: error_chain(&e),
                    };
                    tracing::error!("unable to validate a token: {unreachable}");
                    return Err(unreachable);
                }
            }
        };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        match status {
            200 => match body.get("token") {
                Some(token) if token.is_object() => {
                    Ok(Answer::Valid(Box::new(TokenInfo::from_token(token))))
                }
                _ => Err(Unavailable::NoTokenData { url }),
            },
            404 => Ok(Answer::Invalid),
            401 => Ok(Answer::ServiceTokenRejected),
            _ => {
                let refused = Unavailable::Refused {
                    url,
                    status,
                    message: body["error"]["message"]
                        .as_str()
                        .unwrap_or("no message")
                        .to_string(),
                };
                tracing::error!("{refused}");
                Err(refused)
            }
        }
    }
}

fn retry_delay(attempt: u32) -> Duration {
    FIRST_RETRY_DELAY * 2u32.saturating_pow(attempt.min(6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Each unusable setting is its own case, with the message the start
    /// has always failed with.
    #[test]
    fn unusable_settings_are_told_apart() {
        let mut c = KeystoneAuthtoken::default();
        let err = ValidatorSettings::from_config(&c).unwrap_err();
        assert!(
            matches!(err, KeystoneConfigError::MissingAuthType),
            "{err:?}"
        );
        c.auth_type = Some("token".into());
        let err = ValidatorSettings::from_config(&c).unwrap_err();
        assert_eq!(
            err.to_string(),
            "[keystone_authtoken] auth_type token is not supported (use password)"
        );
        c.auth_type = Some("password".into());
        let err = ValidatorSettings::from_config(&c).unwrap_err();
        assert!(matches!(err, KeystoneConfigError::Missing(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "[keystone_authtoken] username (or user_id) is required"
        );
        c.auth.username = Some("inspector".into());
        let err = ValidatorSettings::from_config(&c).unwrap_err();
        assert_eq!(err.to_string(), "[keystone_authtoken] auth_url is required");

        c.certfile = Some("/nonexistent/cert.pem".into());
        let err = http_client(&c).unwrap_err();
        assert!(
            matches!(err, KeystoneConfigError::CertfileWithoutKeyfile),
            "{err:?}"
        );
        c.keyfile = Some("/nonexistent/key.pem".into());
        let err = http_client(&c).unwrap_err();
        let KeystoneConfigError::Unreadable { path, error } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(path, "/nonexistent/cert.pem");
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(
            err.to_string(),
            format!("cannot read /nonexistent/cert.pem: {error}")
        );
    }

    #[test]
    fn token_data_as_keystonemiddleware_exposes_it() {
        let info = TokenInfo::from_token(&json!({
            "user": {"id": "u", "name": "alice", "domain": {"id": "default"}},
            "system": {"all": true},
            "roles": [{"id": "1", "name": "reader"}, {"id": "2", "name": "member"}],
            "expires_at": "2999-01-01T00:00:00.000000Z"
        }));
        assert_eq!(info.user_name.as_deref(), Some("alice"));
        assert_eq!(info.system_scope.as_deref(), Some("all"));
        assert_eq!(info.project_id, None);
        assert_eq!(info.roles, ["reader", "member"]);
        assert!(info.is_admin_project);
        assert!(!info.expired());
        let old = TokenInfo::from_token(&json!({"expires_at": "2001-01-01T00:00:00Z"}));
        assert!(old.expired());
    }

    fn validator(cache_time: i64) -> TokenValidator {
        crate::tls::install_crypto_provider();
        TokenValidator::new(
            reqwest::Client::new(),
            ValidatorSettings {
                auth: PasswordAuth::default(),
                interface: "internal".into(),
                region_name: None,
                cache_time,
                max_retries: 0,
            },
        )
    }

    fn info(expires_in: i64) -> TokenInfo {
        TokenInfo {
            user_id: Some("u".into()),
            user_name: None,
            user_domain_id: None,
            project_id: None,
            project_domain_id: None,
            domain_id: None,
            system_scope: None,
            roles: vec![],
            is_admin_project: true,
            expires_at: Some(OffsetDateTime::now_utc() + time::Duration::seconds(expires_in)),
        }
    }

    #[test]
    fn cache_honours_expiry_and_cache_time() {
        let v = validator(300);
        v.remember("t", &info(600));
        assert!(matches!(v.cached("t"), Some(Some(i)) if i.user_id.as_deref() == Some("u")));
        assert_eq!(v.cached("unknown"), None);
        v.remember("expired", &info(-1));
        assert_eq!(v.cached("expired"), Some(None));

        let disabled = validator(-1);
        disabled.remember("t", &info(600));
        assert_eq!(disabled.cached("t"), None);

        let forever = validator(0);
        forever.remember("t", &info(600));
        assert!(matches!(forever.cached("t"), Some(Some(_))));
    }

    #[test]
    fn cache_stays_bounded() {
        let v = validator(0);
        for i in 0..MAX_CACHED + 10 {
            v.remember(&format!("t{i}"), &info(600));
        }
        assert_eq!(v.cache.lock().unwrap().len(), MAX_CACHED);
    }
}
