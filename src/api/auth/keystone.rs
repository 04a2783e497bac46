//! `auth_strategy = keystone`: the caller's `X-Auth-Token` (and optional
//! `X-Service-Token`) validated by Keystone, then the route's policy rule
//! enforced on the credentials oslo.context would build from them.
//!
//! Answers: 401 `Authentication required` (with `WWW-Authenticate: Keystone
//! uri="..."`) without a valid token on a protected route; 403 `Access
//! denied by policy`; 503 when Keystone cannot be asked or the policy files
//! cannot be read. Upstream (keystonemiddleware with a delayed decision)
//! turns an unreachable Keystone into a 401; we answer 503 so that callers
//! can tell an outage from a bad token. On public routes an invalid token,
//! or an unreachable Keystone, makes the caller anonymous, as upstream.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use inspector_core::policy::PolicyError;
use serde_json::{Map, Value, json};

use super::Identity;
use super::session;
use crate::api::error::ApiError;
use crate::keystone::{
    IssueError, KeystoneConfigError, PasswordAuth, Token, TokenInfo, TokenValidator,
    ValidatorSettings, http_client, issue_token,
};
use crate::policy::{PolicyLoadError, PolicyStore};
use inspector_core::conf::Config;

/// Why Keystone authentication cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum KeystoneAuthError {
    #[error(transparent)]
    Config(#[from] KeystoneConfigError),
    #[error(transparent)]
    Policy(#[from] PolicyLoadError),
    #[error("www_authenticate_uri {0:?} is not a valid header value")]
    InvalidChallengeUri(String),
}

/// Keystone authentication with oslo.policy authorization.
pub struct KeystoneAuth {
    validator: TokenValidator,
    policy: PolicyStore,
    /// `Keystone uri="<www_authenticate_uri>"`.
    challenge: HeaderValue,
    /// A service token counts only with one of these roles (when required).
    service_token_roles: Vec<String>,
    service_token_roles_required: bool,
    /// Where the dashboard's login asks for users' tokens, and how.
    login: Option<(String, reqwest::Client)>,
}

/// The validated tokens of a request.
struct Caller {
    user: Option<TokenInfo>,
    service: Option<TokenInfo>,
}

impl KeystoneAuth {
    /// From `[keystone_authtoken]` and `[oslo_policy]`; `config_dirs` are
    /// where relative policy files are looked up first.
    pub fn from_config(
        config: &Config,
        config_dirs: &[std::path::PathBuf],
    ) -> Result<Self, KeystoneAuthError> {
        let c = &config.keystone_authtoken;
        let validator = TokenValidator::new(http_client(c)?, ValidatorSettings::from_config(c)?);
        let policy = PolicyStore::new(&config.oslo_policy, config_dirs)?;
        // The service's own identity endpoint: reachable from here, unlike
        // the public one it may advertise to clients.
        let login_url = c
            .auth
            .auth_url
            .clone()
            .or_else(|| c.www_authenticate_uri.clone());
        let login = match login_url {
            Some(url) => Some((url, http_client(c)?)),
            None => None,
        };
        // keystonemiddleware falls back to the identity endpoint it authenticates with.
        let uri = c
            .www_authenticate_uri
            .as_deref()
            .or(c.auth.auth_url.as_deref())
            .unwrap_or_default();
        let mut auth = Self::new(
            validator,
            policy,
            uri,
            c.service_token_roles.clone(),
            c.service_token_roles_required,
        )?;
        auth.login = login;
        Ok(auth)
    }

    pub fn new(
        validator: TokenValidator,
        policy: PolicyStore,
        www_authenticate_uri: &str,
        service_token_roles: Vec<String>,
        service_token_roles_required: bool,
    ) -> Result<Self, KeystoneAuthError> {
        let challenge = HeaderValue::from_str(&format!("Keystone uri=\"{www_authenticate_uri}\""))
            .map_err(|_| {
                KeystoneAuthError::InvalidChallengeUri(www_authenticate_uri.to_string())
            })?;
        Ok(Self {
            validator,
            policy,
            challenge,
            service_token_roles,
            service_token_roles_required,
            login: None,
        })
    }

    /// Authenticates the request and checks `rule`; the response to send
    /// instead when either fails.
    pub async fn authorize(
        &self,
        method: &Method,
        headers: &HeaderMap,
        rule: &str,
        public: bool,
    ) -> Result<Identity, Response> {
        let caller = self.caller_or_refusal(method, headers, public).await?;
        let allowed = self
            .enforce(&caller, rule, public)
            .ok_or_else(policy_unavailable)?;
        let user = caller
            .user
            .as_ref()
            .and_then(|u| u.user_name.clone().or_else(|| u.user_id.clone()));
        if !allowed {
            tracing::info!(rule, user = ?user, "access denied by policy");
            return Err(
                ApiError::new(StatusCode::FORBIDDEN, "Access denied by policy").into_response(),
            );
        }
        Ok(Identity { user })
    }

    /// Which of `rules` the authenticated caller passes (for the dashboard
    /// to offer only the actions it may take), with the caller's name.
    pub async fn allowed(
        &self,
        headers: &HeaderMap,
        rules: &[&str],
    ) -> Result<(Option<String>, Vec<bool>), Response> {
        let caller = self.caller_or_refusal(&Method::GET, headers, false).await?;
        let allowed = rules
            .iter()
            .map(|rule| self.enforce(&caller, rule, false))
            .collect::<Option<_>>()
            .ok_or_else(policy_unavailable)?;
        let user = caller.user.and_then(|u| u.user_name.or(u.user_id));
        Ok((user, allowed))
    }

    /// A project-scoped token for a user of the dashboard's login form.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        project: &str,
        domain: &str,
    ) -> Result<Token, IssueError> {
        let Some((url, http)) = &self.login else {
            return Err(IssueError::Invalid(
                "[keystone_authtoken] auth_url is not set".into(),
            ));
        };
        let auth = PasswordAuth {
            auth_url: url.clone(),
            username: Some(username.to_string()),
            password: password.to_string(),
            user_domain_name: Some(domain.to_string()),
            project_name: Some(project.to_string()),
            project_domain_name: Some(domain.to_string()),
            ..Default::default()
        };
        issue_token(http, &auth).await
    }

    /// The request's validated caller; anonymous on a public route when it
    /// has none; otherwise the response refusing it.
    async fn caller_or_refusal(
        &self,
        method: &Method,
        headers: &HeaderMap,
        public: bool,
    ) -> Result<Caller, Response> {
        let token = match request_token(headers) {
            Some(RequestToken::Cookie(_)) if !session::csrf_ok(method, headers) => {
                tracing::info!("refusing a cookie-authenticated request without its CSRF token");
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "CSRF token missing or invalid: send the inspector_csrf cookie's value in X-CSRF-Token",
                )
                .into_response());
            }
            other => other.map(RequestToken::value),
        };
        Ok(match self.caller(token, headers).await {
            Ok(Some(caller)) => caller,
            Ok(None) | Err(_) if public => Caller {
                user: None,
                service: None,
            },
            Ok(None) => return Err(self.unauthorized()),
            Err(unavailable) => {
                tracing::warn!("refusing a request: {unavailable}");
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The Keystone service is temporarily unavailable: the token cannot be validated",
                )
                .into_response());
            }
        })
    }

    /// Whether the caller passes `rule`; `None` when the policy cannot be
    /// read (logged here).
    fn enforce(&self, caller: &Caller, rule: &str, public: bool) -> Option<bool> {
        let policy = match self.policy.current() {
            Ok(policy) => policy,
            Err(e) => {
                tracing::error!("refusing a request: {e}");
                return None;
            }
        };
        let creds = credentials(caller, public);
        Some(match policy.enforce(rule, &Map::new(), &creds) {
            Ok(allowed) => allowed,
            Err(e @ PolicyError::Evaluation { .. }) => {
                tracing::warn!("{e}; access denied");
                false
            }
            Err(e @ PolicyError::NotRegistered(_)) => {
                tracing::error!("{e}; access denied");
                false
            }
        })
    }

    /// `Ok(None)` when the request carries no valid identity: no token, an
    /// invalid or expired one, or an invalid service token.
    async fn caller(
        &self,
        token: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Option<Caller>, crate::keystone::Unavailable> {
        let Some(token) = token else {
            return Ok(None);
        };
        let Some(user) = self.validator.validate(token).await? else {
            return Ok(None);
        };
        let service = match header(headers, "x-service-token") {
            None => None,
            Some(token) => match self.validator.validate(token).await? {
                Some(service) if self.service_roles_ok(&service) => Some(service),
                _ => return Ok(None),
            },
        };
        Ok(Some(Caller {
            user: Some(user),
            service,
        }))
    }

    fn service_roles_ok(&self, service: &TokenInfo) -> bool {
        !self.service_token_roles_required
            || service.roles.iter().any(|r| {
                self.service_token_roles
                    .iter()
                    .any(|wanted| wanted.eq_ignore_ascii_case(r))
            })
    }

    fn unauthorized(&self) -> Response {
        let mut err = ApiError::new(StatusCode::UNAUTHORIZED, "Authentication required");
        err.www_authenticate = Some(self.challenge.clone());
        err.into_response()
    }
}

fn policy_unavailable() -> Response {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "The API access policy cannot be loaded",
    )
    .into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Where the caller's token came from.
enum RequestToken<'a> {
    Header(&'a str),
    /// The dashboard's session cookie, which needs CSRF protection.
    Cookie(&'a str),
}

impl<'a> RequestToken<'a> {
    fn value(self) -> &'a str {
        match self {
            Self::Header(token) | Self::Cookie(token) => token,
        }
    }
}

/// `X-Auth-Token`, else the dashboard's session cookie.
fn request_token(headers: &HeaderMap) -> Option<RequestToken<'_>> {
    header(headers, "x-auth-token")
        .map(RequestToken::Header)
        .or_else(|| session::cookie(headers, session::TOKEN_COOKIE).map(RequestToken::Cookie))
}

/// oslo.context's policy values for the caller, plus inspector's
/// `is_public_api` (absent values are `None`, as upstream: a check such as
/// `project_id:None` matches them).
fn credentials(caller: &Caller, public: bool) -> Map<String, Value> {
    let user = caller.user.as_ref();
    let service = caller.service.as_ref();
    let roles = |t: Option<&TokenInfo>| json!(t.map(|t| t.roles.clone()).unwrap_or_default());
    let mut creds = Map::new();
    creds.insert(
        "user_id".into(),
        json!(user.and_then(|u| u.user_id.clone())),
    );
    creds.insert(
        "user_domain_id".into(),
        json!(user.and_then(|u| u.user_domain_id.clone())),
    );
    creds.insert(
        "system_scope".into(),
        json!(user.and_then(|u| u.system_scope.clone())),
    );
    creds.insert(
        "domain_id".into(),
        json!(user.and_then(|u| u.domain_id.clone())),
    );
    creds.insert(
        "project_id".into(),
        json!(user.and_then(|u| u.project_id.clone())),
    );
    creds.insert(
        "project_domain_id".into(),
        json!(user.and_then(|u| u.project_domain_id.clone())),
    );
    creds.insert("roles".into(), roles(user));
    creds.insert(
        "is_admin_project".into(),
        json!(user.is_none_or(|u| u.is_admin_project)),
    );
    creds.insert(
        "service_user_id".into(),
        json!(service.and_then(|s| s.user_id.clone())),
    );
    creds.insert(
        "service_user_domain_id".into(),
        json!(service.and_then(|s| s.user_domain_id.clone())),
    );
    creds.insert(
        "service_project_id".into(),
        json!(service.and_then(|s| s.project_id.clone())),
    );
    creds.insert(
        "service_project_domain_id".into(),
        json!(service.and_then(|s| s.project_domain_id.clone())),
    );
    creds.insert("service_roles".into(), roles(service));
    creds.insert("is_public_api".into(), json!(public));
    creds
}
