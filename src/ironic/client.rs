//! HTTP calls to Ironic with microversion negotiation, authentication and
//! bounded retries of transient failures (connection errors, timeouts, 502,
//! 503, 504, and 409 NodeLocked).
//!
//! Retries are bounded three ways: `[ironic] max_retries` × `retry_interval`
//! (background work), an optional deadline for all of one API request's
//! Ironic work ([`IronicClient::within`]), and the service's shutdown
//! ([`IronicClient::stopped_by`]), which ends retries and their pauses at once
//! and bounds the wait for an answer in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::api::{IronicApi, IronicFuture};
use super::error::{IronicError, error_message};
use super::models::{Node, Port};
use super::plain_http::PlainHttp;
use crate::keystone::{self, PasswordAuth, Token, encode_segment as encode};
use inspector_core::conf;

/// The newest Bare Metal API microversion inspector asks for; what
/// openstacksdk requested for nodes when upstream ran against it.
const MAX_MICROVERSION: (u32, u32) = (1, 109);
/// Node creation in `enroll` needs 1.11; traits 1.37; reset_interfaces 1.45.
const MIN_MICROVERSION: (u32, u32) = (1, 46);

#[derive(Debug, Clone, PartialEq)]
pub enum AuthMode {
    None,
    Basic { username: String, password: String },
    Password(Box<PasswordAuth>),
}

/// What the client needs from `[ironic]`.
#[derive(Debug, Clone)]
pub struct IronicSettings {
    pub auth: AuthMode,
    pub endpoint_override: Option<String>,
    pub service_type: String,
    pub valid_interfaces: Vec<String>,
    pub region_name: Option<String>,
    pub timeout: Duration,
    pub max_retries: u32,
    pub retry_interval: Duration,
    pub max_version: Option<(u32, u32)>,
    pub cafile: Option<String>,
    pub certfile: Option<String>,
    pub keyfile: Option<String>,
    pub insecure: bool,
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

impl IronicSettings {
    pub fn from_config(ironic: &conf::Ironic) -> Result<Self, IronicError> {
        let c = &ironic.client;
        let required = |value: &Option<String>, name: &str| {
            keystone::required_auth_option(c, value, name).map_err(IronicError::Config)
        };
        let auth = match c.auth_type.as_str() {
            "none" | "noauth" => AuthMode::None,
            "http_basic" => AuthMode::Basic {
                username: required(&c.auth.username, "username")?,
                password: required(&c.auth.password, "password")?,
            },
            "password" | "v3password" => AuthMode::Password(Box::new(
                PasswordAuth::from_client(c).map_err(IronicError::Config)?,
            )),
            other => {
                return Err(IronicError::Config(format!(
                    "auth_type {other} is not supported (use none, http_basic or password)"
                )));
            }
        };
        if auth == AuthMode::None && c.endpoint_override.is_none() {
            return Err(IronicError::Config(
                "auth_type none requires endpoint_override".into(),
            ));
        }
        let max_version = match &c.max_version {
            Some(v) => Some(
                parse_version(v)
                    .ok_or_else(|| IronicError::Config(format!("invalid max_version {v}")))?,
            ),
            None => None,
        };
        Ok(Self {
            auth,
            endpoint_override: c.endpoint_override.clone(),
            service_type: c.service_type.clone(),
            valid_interfaces: c.valid_interfaces.clone(),
            region_name: c.region_name.clone(),
            timeout: c.timeout.unwrap_or(Duration::from_secs(60)),
            max_retries: ironic.max_retries,
            retry_interval: Duration::from_secs(ironic.retry_interval),
            max_version,
            cafile: c.cafile.clone(),
            certfile: c.certfile.clone(),
            keyfile: c.keyfile.clone(),
            insecure: c.insecure,
        })
    }
}

struct Inner {
    /// For `https` endpoints and Keystone.
    http: reqwest::Client,
    /// For plain `http` endpoints: cheaper per call (see its module).
    plain: PlainHttp,
    settings: IronicSettings,
    token: Mutex<Option<Token>>,
    /// Endpoint root (no `/v1`) and negotiated microversion, found on first use.
    session: Mutex<Option<(String, String)>>,
    /// Whether the last exchange with Ironic failed transiently (no answer,
    /// 502-504): at shutdown, an exchange in flight with a failing Ironic is
    /// not waited for, one with a healthy Ironic may finish (see
    /// [`ANSWER_WAIT_AT_SHUTDOWN`]).
    failing: AtomicBool,
}

/// When the calls of one client handle stop waiting for Ironic.
#[derive(Clone, Default)]
struct Limits {
    /// The end of the time the caller can wait, retries included.
    deadline: Option<tokio::time::Instant>,
    /// How long the caller can wait in all, for error messages.
    patience: Option<Duration>,
    shutdown: Option<CancellationToken>,
}

/// Why a call stopped before Ironic's answer or the end of its retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Deadline,
    Shutdown,
}

impl Limits {
    /// Resolves when the caller stops waiting for an exchange in flight: at
    /// the deadline, or at shutdown; `answer_due` says then until when an
    /// Ironic that seems healthy may still answer (None: not waited for).
    async fn interrupted(&self, answer_due: impl Fn() -> Option<tokio::time::Instant>) -> Stop {
        let deadline = async {
            match self.deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        let shutdown = async {
            match &self.shutdown {
                Some(token) => {
                    token.cancelled().await;
                    if let Some(due) = answer_due() {
                        tokio::time::sleep_until(due).await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = shutdown => Stop::Shutdown,
            _ = deadline => Stop::Deadline,
        }
    }

    /// The pause before a retry; a pause that would end past the deadline
    /// is not taken.
    async fn pause(&self, interval: Duration) -> Result<(), Stop> {
        if let Some(deadline) = self.deadline
            && tokio::time::Instant::now() + interval >= deadline
        {
            return Err(Stop::Deadline);
        }
        let shutdown = async {
            match &self.shutdown {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = shutdown => Err(Stop::Shutdown),
            _ = tokio::time::sleep(interval) => Ok(()),
        }
    }
}

/// A handle on Ironic. Clones share the connection pool, token and
/// negotiated session; each carries its own [`Limits`].
#[derive(Clone)]
pub struct IronicClient {
    inner: Arc<Inner>,
    limits: Limits,
}

/// The most of one Ironic answer read: far above any page Ironic serves
/// (a page of 1000 detailed nodes is a few MiB), low enough that a broken
/// server or proxy streaming without end cannot exhaust memory.
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// One HTTP exchange with Ironic, after retries.
struct Reply {
    /// The request, e.g. `GET http://ironic/v1/nodes/x`, for errors.
    request: String,
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Result<Value, IronicError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            IronicError::InvalidResponse(format!("{}: the body is not JSON ({e})", self.request))
        })
    }

    /// The answer as a node: an object with its UUID.
    fn node(&self) -> Result<Node, IronicError> {
        let doc = self.json()?;
        if !doc.get("uuid").is_some_and(Value::is_string) {
            return Err(self.wrong_shape("a node object with a \"uuid\""));
        }
        Ok(Node(doc))
    }

    fn wrong_shape(&self, expected: &str) -> IronicError {
        IronicError::InvalidResponse(format!("{}: expected {expected}", self.request))
    }
}

/// Once the service stops, how long from its start an exchange with an
/// Ironic that has been answering may still run: a normal answer (the node
/// being powered off at the end of processing, say) arrives well within it,
/// a hung exchange does not hold the exit longer.
const ANSWER_WAIT_AT_SHUTDOWN: Duration = Duration::from_secs(2);

/// Whether a reply is worth retrying.
fn transient(status: u16, body: &[u8]) -> bool {
    match status {
        502..=504 => true,
        // NodeLocked is a 409 whose message says the node is locked.
        409 => String::from_utf8_lossy(body)
            .to_ascii_lowercase()
            .contains("locked"),
        _ => false,
    }
}

impl IronicClient {
    pub fn new(settings: IronicSettings) -> Result<Self, IronicError> {
        let tls = keystone::SessionTls {
            cafile: settings.cafile.clone(),
            certfile: settings.certfile.clone(),
            keyfile: settings.keyfile.clone(),
            insecure: settings.insecure,
        };
        let http = keystone::session_client(settings.timeout, &tls).map_err(IronicError::Config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                plain: PlainHttp::new(settings.timeout, MAX_ANSWER_BYTES),
                settings,
                token: Mutex::new(None),
                session: Mutex::new(None),
                failing: AtomicBool::new(false),
            }),
            limits: Limits::default(),
        })
    }

    /// This client, whose retries and pauses end as soon as `shutdown` is
    /// cancelled; an exchange in flight is abandoned at once when Ironic has
    /// been failing, else [`ANSWER_WAIT_AT_SHUTDOWN`] after it began.
    pub fn stopped_by(&self, shutdown: CancellationToken) -> Self {
        let mut limits = self.limits.clone();
        limits.shutdown = Some(shutdown);
        Self {
            inner: self.inner.clone(),
            limits,
        }
    }

    /// This client, for work that can wait for Ironic `patience` in all from
    /// now (e.g. one API request): past that, a call fails with
    /// [`IronicError::OutOfTime`] instead of retrying.
    pub fn within(&self, patience: Duration) -> Self {
        let deadline = tokio::time::Instant::now() + patience;
        let mut limits = self.limits.clone();
        if limits.deadline.is_none_or(|d| deadline < d) {
            limits.deadline = Some(deadline);
            limits.patience = Some(patience);
        }
        Self {
            inner: self.inner.clone(),
            limits,
        }
    }

    async fn token(&self, renew: bool) -> Result<Option<String>, IronicError> {
        let AuthMode::Password(auth) = &self.inner.settings.auth else {
            return Ok(None);
        };
        let mut cached = self.inner.token.lock().await;
        if !renew && let Some(token) = cached.as_ref().filter(|t| t.is_fresh()) {
            return Ok(Some(token.value.clone()));
        }
        let token = keystone::issue_token(&self.inner.http, auth)
            .await
            .map_err(|e| IronicError::Auth(e.to_string()))?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(Some(value))
    }

    async fn endpoint_root(&self) -> Result<String, IronicError> {
        let settings = &self.inner.settings;
        let url = match &settings.endpoint_override {
            Some(url) => url.clone(),
            None => {
                self.token(false).await?;
                let cached = self.inner.token.lock().await;
                let catalog = cached
                    .as_ref()
                    .map(|t| t.catalog.clone())
                    .unwrap_or(Value::Null);
                keystone::find_endpoint(
                    &catalog,
                    &settings.service_type,
                    &settings.valid_interfaces,
                    settings.region_name.as_deref(),
                )
                .ok_or_else(|| {
                    IronicError::Config(format!(
                        "no {} endpoint with interface {:?} in the Keystone catalog",
                        settings.service_type, settings.valid_interfaces
                    ))
                })?
            }
        };
        let trimmed = url.trim_end_matches('/');
        Ok(trimmed.strip_suffix("/v1").unwrap_or(trimmed).to_string())
    }

    /// The endpoint and the microversion to send, negotiated once.
    async fn session(&self) -> Result<(String, String), IronicError> {
        // Not locked while negotiating: a caller with little time left must
        // not queue behind one retrying with the background budget. Two
        // concurrent negotiations reach the same answer.
        if let Some(s) = self.inner.session.lock().await.as_ref() {
            return Ok(s.clone());
        }
        let started = Instant::now();
        let root = match self.unless_stopped(self.endpoint_root(), || None).await {
            Ok(root) => root?,
            Err(stop) => {
                return Err(self.stopped(
                    stop,
                    "the Ironic endpoint",
                    "no Ironic endpoint found in time",
                    0,
                    started,
                ));
            }
        };
        let reply = self
            .send_with_retries(Method::GET, &format!("{root}/"), None, None, None, None)
            .await?;
        let doc = reply.json()?;
        let server_max = doc["default_version"]["version"]
            .as_str()
            .and_then(parse_version)
            .ok_or_else(|| {
                IronicError::InvalidResponse(format!(
                    "no API version in the root document of {root}"
                ))
            })?;
        let ceiling = self
            .inner
            .settings
            .max_version
            .unwrap_or(MAX_MICROVERSION)
            .min(MAX_MICROVERSION);
        let chosen = server_max.min(ceiling);
        if chosen < MIN_MICROVERSION {
            return Err(IronicError::Config(format!(
                "Ironic at {root} supports API {}.{} at most; inspector needs {}.{}",
                server_max.0, server_max.1, MIN_MICROVERSION.0, MIN_MICROVERSION.1
            )));
        }
        let version = format!("{}.{}", chosen.0, chosen.1);
        tracing::info!(endpoint = %root, microversion = %version, "connected to Ironic");
        *self.inner.session.lock().await = Some((root.clone(), version.clone()));
        Ok((root, version))
    }

    /// `future`, unless the limits stop the caller first (`answer_due` as
    /// in [`Limits::interrupted`]).
    async fn unless_stopped<T>(
        &self,
        future: impl std::future::Future<Output = T>,
        answer_due: impl Fn() -> Option<tokio::time::Instant>,
    ) -> Result<T, Stop> {
        tokio::select! {
            biased;
            stop = self.limits.interrupted(answer_due) => Err(stop),
            value = future => Ok(value),
        }
    }

    /// The error for a call the limits stopped; `cause` is the last failure.
    fn stopped(
        &self,
        stop: Stop,
        target: &str,
        cause: &str,
        attempts: u32,
        started: Instant,
    ) -> IronicError {
        let endpoint = self
            .inner
            .settings
            .endpoint_override
            .clone()
            .unwrap_or_else(|| format!("the {} endpoint", self.inner.settings.service_type));
        let error = match stop {
            Stop::Deadline => IronicError::OutOfTime {
                endpoint,
                cause: cause.to_string(),
                attempts,
                waited: started.elapsed(),
                patience: self.limits.patience.unwrap_or_default(),
            },
            Stop::Shutdown => IronicError::ShuttingDown {
                target: target.to_string(),
                cause: cause.to_string(),
            },
        };
        tracing::warn!(call = target, attempts, error = %error, "stopped waiting for Ironic");
        error
    }

    /// One request and its answer; `Err(Ok(text))` is a failure worth
    /// retrying (no answer), `Err(Err(e))` one that is not.
    async fn exchange(
        &self,
        method: &Method,
        url: &str,
        microversion: Option<&str>,
        body: Option<&Value>,
        renew_token: bool,
    ) -> Result<Reply, Result<String, IronicError>> {
        let settings = &self.inner.settings;
        let mut headers = vec![("accept", HeaderValue::from_static("application/json"))];
        if let Some(v) = microversion {
            headers.push(("x-openstack-ironic-api-version", header_value(v)?));
        }
        match &settings.auth {
            AuthMode::None => {}
            AuthMode::Basic { username, password } => {
                let credentials = STANDARD.encode(format!("{username}:{password}"));
                let mut value = header_value(&format!("Basic {credentials}"))?;
                value.set_sensitive(true);
                headers.push(("authorization", value));
            }
            AuthMode::Password(_) => {
                if let Some(token) = self.token(renew_token).await.map_err(Err)? {
                    let mut value = header_value(&token)?;
                    value.set_sensitive(true);
                    headers.push(("x-auth-token", value));
                }
            }
        }
        let body = match body {
            Some(body) => {
                Some(Bytes::from(serde_json::to_vec(body).map_err(|e| {
                    Err(IronicError::Config(format!("{method} {url}: {e}")))
                })?))
            }
            None => None,
        };
        let request = format!("{method} {url}");
        if PlainHttp::serves(url) {
            let answer = self
                .inner
                .plain
                .exchange(method, url, &headers, body.clone())
                .await?;
            // keystoneauth follows redirects (an `http` endpoint sent on to
            // `https`, say), and so does reqwest: such a call is sent again
            // through it. The redirecting server did not act on it.
            if !matches!(answer.status, 301 | 302 | 303 | 307 | 308) {
                return Ok(Reply {
                    request,
                    status: answer.status,
                    body: answer.body,
                });
            }
            tracing::debug!(%method, url, status = answer.status, "Ironic's endpoint redirects; following");
        }
        let mut builder = self.inner.http.request(method.clone(), url);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = body {
            builder = builder
                .header("content-type", "application/json")
                .body(body);
        }
        match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = read_capped(response, &request).await?;
                Ok(Reply {
                    request,
                    status,
                    body,
                })
            }
            Err(e) => Err(Ok(describe_reqwest_error(&e))),
        }
    }
}

/// A header's value, refused (not retried) when it cannot be one.
fn header_value(text: &str) -> Result<HeaderValue, Result<String, IronicError>> {
    HeaderValue::from_str(text).map_err(|_| {
        Err(IronicError::Config(
            "a header value has a forbidden character".into(),
        ))
    })
}

/// The body of `response`, refused (not retried) past [`MAX_ANSWER_BYTES`]
/// without reading the rest; a broken transfer is worth retrying.
async fn read_capped(
    mut response: reqwest::Response,
    request: &str,
) -> Result<Vec<u8>, Result<String, IronicError>> {
    let too_large = || {
        Err(IronicError::InvalidResponse(format!(
            "{request}: the answer exceeds {} MiB",
            MAX_ANSWER_BYTES / (1024 * 1024)
        )))
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > MAX_ANSWER_BYTES => {
                return Err(too_large());
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(e) => return Err(Ok(e.to_string())),
        }
    }
}

impl IronicClient {
    async fn send_with_retries(
        &self,
        method: Method,
        url: &str,
        microversion: Option<&str>,
        body: Option<&Value>,
        node: Option<&str>,
        retries: Option<u32>,
    ) -> Result<Reply, IronicError> {
        let settings = &self.inner.settings;
        let max_retries = retries.unwrap_or(settings.max_retries);
        let target = format!("{method} {url}");
        let node = node.unwrap_or("-");
        let call_started = Instant::now();
        let mut attempt = 0u32;
        let mut renew_token = false;
        let mut renewed_token = false;
        // What went wrong last, for the error when the limits stop us.
        let mut last_failure = String::from("no answer yet");
        loop {
            let started = Instant::now();
            let is_retry = attempt > 0;
            let failing = &self.inner.failing;
            // At shutdown, a retry or an exchange with a failing Ironic is
            // abandoned at once; Ironic may still answer any other.
            let answer_due = || {
                (!is_retry && !failing.load(Ordering::Relaxed))
                    .then(|| tokio::time::Instant::from_std(started) + ANSWER_WAIT_AT_SHUTDOWN)
            };
            let exchange = self.exchange(&method, url, microversion, body, renew_token);
            renew_token = false;
            let outcome = match self.unless_stopped(exchange, answer_due).await {
                Ok(outcome) => outcome,
                Err(stop) => {
                    // No answer in time: later calls need not wait for one
                    // at shutdown either.
                    self.inner.failing.store(true, Ordering::Relaxed);
                    let cause = match (is_retry, stop) {
                        (true, _) => format!("{last_failure}; the last attempt had no answer yet"),
                        (false, Stop::Deadline) => format!("no answer to {target} in time"),
                        (false, Stop::Shutdown) => "no answer yet".to_string(),
                    };
                    return Err(self.stopped(stop, &target, &cause, attempt + 1, call_started));
                }
            };
            let outcome = match outcome {
                Ok(reply) => Ok(reply),
                Err(Ok(error)) => Err(error),
                Err(Err(error)) => return Err(error),
            };
            let elapsed_ms = started.elapsed().as_millis() as u64;
            crate::metrics::ironic_request(
                method.as_str(),
                outcome.as_ref().ok().map(|r| r.status),
            );
            let down = match &outcome {
                Ok(reply) => (502..=504).contains(&reply.status),
                Err(_) => true,
            };
            self.inner.failing.store(down, Ordering::Relaxed);
            match outcome {
                Ok(reply)
                    if reply.status == 401
                        && !renewed_token
                        && matches!(settings.auth, AuthMode::Password(_)) =>
                {
                    tracing::info!(node, %method, url, "Ironic rejected the token; renewing it");
                    renew_token = true;
                    renewed_token = true;
                    continue;
                }
                Ok(reply) if transient(reply.status, &reply.body) && attempt < max_retries => {
                    let error = error_message(&String::from_utf8_lossy(&reply.body));
                    tracing::warn!(
                        node, %method, url, status = reply.status, attempt = attempt + 1, max_retries,
                        error = %error, "transient Ironic failure; retrying"
                    );
                    last_failure = format!("HTTP {}: {error}", reply.status);
                }
                Ok(reply) => {
                    tracing::debug!(node, %method, url, status = reply.status, elapsed_ms, "Ironic call");
                    return Ok(reply);
                }
                Err(error) if attempt < max_retries => {
                    tracing::warn!(node, %method, url, attempt = attempt + 1, max_retries, %error, "Ironic unreachable; retrying");
                    last_failure = error;
                }
                Err(error) => {
                    tracing::warn!(node, %method, url, attempt, %error, "Ironic unreachable; giving up");
                    return Err(IronicError::Unreachable(error));
                }
            }
            attempt += 1;
            if let Err(stop) = self.limits.pause(settings.retry_interval).await {
                return Err(self.stopped(stop, &target, &last_failure, attempt, call_started));
            }
            crate::metrics::ironic_retry();
        }
    }

    /// Calls `path` (below `/v1`) and maps failures to typed errors.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        node: Option<&str>,
    ) -> Result<Reply, IronicError> {
        let (root, version) = self.session().await?;
        let url = format!("{root}/v1{path}");
        let reply = self
            .send_with_retries(method, &url, Some(&version), body, node, None)
            .await?;
        if (200..300).contains(&reply.status) {
            return Ok(reply);
        }
        let message = error_message(&String::from_utf8_lossy(&reply.body));
        Err(match reply.status {
            404 => IronicError::NotFound { message },
            409 => IronicError::Conflict { message },
            401 | 403 => IronicError::Auth(message),
            status @ 400..=499 => IronicError::Rejected { status, message },
            status => IronicError::Server { status, message },
        })
    }

    /// Every item of a paginated collection, following Ironic's `next` links.
    async fn list_all(
        &self,
        path: &str,
        key: &str,
        node: Option<&str>,
    ) -> Result<Vec<Value>, IronicError> {
        let mut items = Vec::new();
        let mut next_path = path.to_string();
        // Bounded: a misbehaving server cannot keep us paging forever.
        for _ in 0..100_000 {
            let reply = self.call(Method::GET, &next_path, None, node).await?;
            let doc = reply.json()?;
            let Some(page) = doc[key].as_array().cloned() else {
                return Err(reply.wrong_shape(&format!("an object with a \"{key}\" list")));
            };
            let empty = page.is_empty();
            items.extend(page);
            let Some(next) = doc["next"].as_str().filter(|_| !empty) else {
                break;
            };
            // Reuse only the query of Ironic's link: its host may be a public name we cannot reach.
            let Some((_, query)) = next.split_once('?') else {
                break;
            };
            let base = path.split('?').next().unwrap_or(path);
            next_path = format!("{base}?{query}");
        }
        Ok(items)
    }

    pub async fn get_node(&self, id: &str) -> Result<Node, IronicError> {
        self.read_node(id, None).await
    }

    pub async fn get_node_fields(&self, id: &str, fields: &str) -> Result<Node, IronicError> {
        self.read_node(id, Some(fields)).await
    }

    /// `GET /nodes/<id>`, every field or only `fields`.
    async fn read_node(&self, id: &str, fields: Option<&str>) -> Result<Node, IronicError> {
        let mut path = format!("/nodes/{}", encode(id));
        if let Some(fields) = fields {
            path.push_str(&format!("?fields={}", encode(fields)));
        }
        let reply = self.call(Method::GET, &path, None, Some(id)).await?;
        reply.node()
    }

    pub async fn validate_node(&self, uuid: &str) -> Result<Value, IronicError> {
        self.call(
            Method::GET,
            &format!("/nodes/{}/validate", encode(uuid)),
            None,
            Some(uuid),
        )
        .await?
        .json()
    }

    pub async fn node_ports(&self, uuid: &str, fields: &str) -> Result<Vec<Port>, IronicError> {
        let items = self
            .list_all(
                &format!("/ports?node={}&fields={}", encode(uuid), encode(fields)),
                "ports",
                Some(uuid),
            )
            .await?;
        Ok(items.into_iter().map(Port).collect())
    }

    /// Every port (address and extra only), for the PXE filter.
    pub async fn all_ports(&self) -> Result<Vec<Port>, IronicError> {
        let items = self
            .list_all("/ports?fields=uuid,address,extra,node_uuid", "ports", None)
            .await?;
        Ok(items.into_iter().map(Port).collect())
    }

    pub async fn ports_by_address(&self, mac: &str) -> Result<Vec<Port>, IronicError> {
        let items = self
            .list_all(
                &format!(
                    "/ports?address={}&fields=uuid,node_uuid,address",
                    encode(mac)
                ),
                "ports",
                None,
            )
            .await?;
        Ok(items.into_iter().map(Port).collect())
    }

    /// Every node, with only the given fields.
    pub async fn list_nodes(&self, fields: &str) -> Result<Vec<Node>, IronicError> {
        let items = self
            .list_all(&format!("/nodes?fields={}", encode(fields)), "nodes", None)
            .await?;
        Ok(items.into_iter().map(Node).collect())
    }

    pub async fn set_boot_device(
        &self,
        uuid: &str,
        device: &str,
        persistent: bool,
    ) -> Result<(), IronicError> {
        let body = json!({"boot_device": device, "persistent": persistent});
        self.call(
            Method::PUT,
            &format!("/nodes/{}/management/boot_device", encode(uuid)),
            Some(&body),
            Some(uuid),
        )
        .await?;
        Ok(())
    }

    pub async fn set_power_state(&self, uuid: &str, target: &str) -> Result<(), IronicError> {
        let body = json!({"target": target});
        self.call(
            Method::PUT,
            &format!("/nodes/{}/states/power", encode(uuid)),
            Some(&body),
            Some(uuid),
        )
        .await?;
        Ok(())
    }

    pub async fn patch_node(
        &self,
        uuid: &str,
        patch: &[Value],
        reset_interfaces: bool,
    ) -> Result<Node, IronicError> {
        let query = if reset_interfaces {
            "?reset_interfaces=True"
        } else {
            ""
        };
        let body = Value::Array(patch.to_vec());
        let reply = self
            .call(
                Method::PATCH,
                &format!("/nodes/{}{query}", encode(uuid)),
                Some(&body),
                Some(uuid),
            )
            .await?;
        reply.node()
    }

    pub async fn create_port(&self, body: &Value) -> Result<Port, IronicError> {
        let node = body["node_uuid"].as_str();
        Ok(Port(
            self.call(Method::POST, "/ports", Some(body), node)
                .await?
                .json()?,
        ))
    }

    pub async fn patch_port(
        &self,
        port_uuid: &str,
        patch: &[Value],
        node: &str,
    ) -> Result<Port, IronicError> {
        let body = Value::Array(patch.to_vec());
        Ok(Port(
            self.call(
                Method::PATCH,
                &format!("/ports/{}", encode(port_uuid)),
                Some(&body),
                Some(node),
            )
            .await?
            .json()?,
        ))
    }

    pub async fn delete_port(&self, port_uuid: &str, node: &str) -> Result<(), IronicError> {
        self.call(
            Method::DELETE,
            &format!("/ports/{}", encode(port_uuid)),
            None,
            Some(node),
        )
        .await?;
        Ok(())
    }

    pub async fn add_trait(&self, uuid: &str, name: &str) -> Result<(), IronicError> {
        self.call(
            Method::PUT,
            &format!("/nodes/{}/traits/{}", encode(uuid), encode(name)),
            None,
            Some(uuid),
        )
        .await?;
        Ok(())
    }

    pub async fn remove_trait(&self, uuid: &str, name: &str) -> Result<(), IronicError> {
        self.call(
            Method::DELETE,
            &format!("/nodes/{}/traits/{}", encode(uuid), encode(name)),
            None,
            Some(uuid),
        )
        .await?;
        Ok(())
    }

    pub async fn create_node(&self, body: &Value) -> Result<Node, IronicError> {
        self.call(Method::POST, "/nodes", Some(body), None)
            .await?
            .node()
    }
}

impl IronicApi for IronicClient {
    fn get_node<'a>(&'a self, id: &'a str) -> IronicFuture<'a, Node> {
        Box::pin(IronicClient::get_node(self, id))
    }

    fn get_node_fields<'a>(&'a self, id: &'a str, fields: &'a str) -> IronicFuture<'a, Node> {
        Box::pin(IronicClient::get_node_fields(self, id, fields))
    }

    fn validate_node<'a>(&'a self, uuid: &'a str) -> IronicFuture<'a, Value> {
        Box::pin(IronicClient::validate_node(self, uuid))
    }

    fn node_ports<'a>(&'a self, uuid: &'a str, fields: &'a str) -> IronicFuture<'a, Vec<Port>> {
        Box::pin(IronicClient::node_ports(self, uuid, fields))
    }

    fn all_ports(&self) -> IronicFuture<'_, Vec<Port>> {
        Box::pin(IronicClient::all_ports(self))
    }

    fn ports_by_address<'a>(&'a self, mac: &'a str) -> IronicFuture<'a, Vec<Port>> {
        Box::pin(IronicClient::ports_by_address(self, mac))
    }

    fn list_nodes<'a>(&'a self, fields: &'a str) -> IronicFuture<'a, Vec<Node>> {
        Box::pin(IronicClient::list_nodes(self, fields))
    }

    fn set_boot_device<'a>(
        &'a self,
        uuid: &'a str,
        device: &'a str,
        persistent: bool,
    ) -> IronicFuture<'a, ()> {
        Box::pin(IronicClient::set_boot_device(
            self, uuid, device, persistent,
        ))
    }

    fn set_power_state<'a>(&'a self, uuid: &'a str, target: &'a str) -> IronicFuture<'a, ()> {
        Box::pin(IronicClient::set_power_state(self, uuid, target))
    }

    fn patch_node<'a>(
        &'a self,
        uuid: &'a str,
        patch: &'a [Value],
        reset_interfaces: bool,
    ) -> IronicFuture<'a, Node> {
        Box::pin(IronicClient::patch_node(
            self,
            uuid,
            patch,
            reset_interfaces,
        ))
    }

    fn create_port<'a>(&'a self, body: &'a Value) -> IronicFuture<'a, Port> {
        Box::pin(IronicClient::create_port(self, body))
    }

    fn patch_port<'a>(
        &'a self,
        port_uuid: &'a str,
        patch: &'a [Value],
        node: &'a str,
    ) -> IronicFuture<'a, Port> {
        Box::pin(IronicClient::patch_port(self, port_uuid, patch, node))
    }

    fn delete_port<'a>(&'a self, port_uuid: &'a str, node: &'a str) -> IronicFuture<'a, ()> {
        Box::pin(IronicClient::delete_port(self, port_uuid, node))
    }

    fn add_trait<'a>(&'a self, uuid: &'a str, name: &'a str) -> IronicFuture<'a, ()> {
        Box::pin(IronicClient::add_trait(self, uuid, name))
    }

    fn remove_trait<'a>(&'a self, uuid: &'a str, name: &'a str) -> IronicFuture<'a, ()> {
        Box::pin(IronicClient::remove_trait(self, uuid, name))
    }

    fn create_node<'a>(&'a self, body: &'a Value) -> IronicFuture<'a, Node> {
        Box::pin(IronicClient::create_node(self, body))
    }

    fn within(&self, patience: Duration) -> Arc<dyn IronicApi> {
        Arc::new(IronicClient::within(self, patience))
    }

    fn stopped_by(&self, shutdown: CancellationToken) -> Arc<dyn IronicApi> {
        Arc::new(IronicClient::stopped_by(self, shutdown))
    }
}

fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    format!("{kind}: {}", keystone::error_chain(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode("node-1"), "node-1");
        assert_eq!(encode("a/b c?d"), "a%2Fb%20c%3Fd");
        assert_eq!(encode("uuid,driver_info"), "uuid,driver_info");
    }

    fn client() -> IronicClient {
        let mut conf = conf::Ironic::default();
        conf.client.auth_type = "none".into();
        conf.client.endpoint_override = Some("http://127.0.0.1:9".into());
        IronicClient::new(IronicSettings::from_config(&conf).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_pause_past_the_deadline_is_not_taken() {
        let ironic = client().within(Duration::from_millis(500));
        let started = Instant::now();
        assert_eq!(
            ironic.limits.pause(Duration::from_secs(2)).await,
            Err(Stop::Deadline)
        );
        assert!(started.elapsed() < Duration::from_millis(400));
        assert_eq!(ironic.limits.pause(Duration::from_millis(10)).await, Ok(()));
    }

    #[tokio::test]
    async fn shutdown_ends_a_pause_and_an_exchange_with_a_failing_ironic_at_once() {
        let shutdown = CancellationToken::new();
        let ironic = client().stopped_by(shutdown.clone());
        shutdown.cancel();
        let started = Instant::now();
        assert_eq!(
            ironic.limits.pause(Duration::from_secs(60)).await,
            Err(Stop::Shutdown)
        );
        assert_eq!(ironic.limits.interrupted(|| None).await, Stop::Shutdown);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_narrower_scope_keeps_the_earlier_deadline() {
        let outer = client().within(Duration::from_secs(1));
        let inner = outer.within(Duration::from_secs(30));
        assert_eq!(inner.limits.deadline, outer.limits.deadline);
        assert_eq!(inner.limits.patience, Some(Duration::from_secs(1)));
    }

    #[test]
    fn only_locks_and_gateway_failures_are_transient() {
        assert!(transient(503, b""));
        assert!(transient(
            409,
            br#"{"error_message": "Node x is locked by host y"}"#
        ));
        assert!(!transient(
            409,
            br#"{"error_message": "A port with MAC address x already exists"}"#
        ));
        assert!(!transient(400, b""));
        assert!(!transient(500, b""));
    }
}
