//! The test kit: spawning the service for tests (a temporary SQLite file, a
//! port chosen by the OS on 127.0.0.1, a reqwest client) through
//! [`TestApp::builder`], waiting for a condition with [`eventually`] instead
//! of hand-written polling loops, waiting until background work is idle
//! ([`TestApp::wait_idle`]) instead of sleeping, and the teardown check
//! [`TestApp::finish`]. Every response of the service under test is checked
//! against the OpenAPI document on the way ([`ApiRequest::send`]). The scenario helpers that need the test bed's Ironic
//! are in `bed.rs`.

use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use inspector::domain::Inspector;
use inspector::store::Store;
use inspector_core::conf::{AuthStrategy, Config, StoreData};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use tempfile::TempDir;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub inspector: Arc<Inspector>,
    pub dir: TempDir,
    pub config: Config,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// A server database made for this test, dropped with the app (passed
    /// on by `restart`).
    owned_database: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(url) = self.owned_database.take() {
            crate::db_backend::drop_database(&url);
        }
    }
}

/// A configuration for tests: noauth, data stored in the database, an Ironic
/// that is not there (tests that need one use the real test bed). The
/// database is a SQLite file in `dir`, or a fresh database on a server
/// (`INSPECTOR_TEST_DB_BACKEND`, see `db_backend.rs`).
pub fn test_config(dir: &TempDir) -> Config {
    let mut config = Config::default();
    config.default.auth_strategy = AuthStrategy::Noauth;
    config.default.listen_address = "127.0.0.1".into();
    config.default.listen_port = 0;
    config.processing.store_data = StoreData::Database;
    config.pxe_filter.driver = inspector_core::conf::PxeDriver::Noop;
    config.database.connection = Some(crate::db_backend::test_connection(dir));
    config.ironic.client.auth_type = "none".into();
    config.ironic.client.endpoint_override = Some("http://127.0.0.1:9".into());
    config.ironic.max_retries = 0;
    config.ironic.client.timeout = Some(std::time::Duration::from_secs(2));
    config
}

/// What a poll of [`eventually`] saw: ready (with a value), or not yet
/// (with what it saw, for the failure message).
pub trait Polled {
    type Value;
    fn ready(self) -> Result<Self::Value, String>;
}

impl Polled for bool {
    type Value = ();
    fn ready(self) -> Result<(), String> {
        if self { Ok(()) } else { Err("false".into()) }
    }
}

impl<T> Polled for Option<T> {
    type Value = T;
    fn ready(self) -> Result<T, String> {
        self.ok_or_else(|| "None".into())
    }
}

impl<T, E: Display> Polled for Result<T, E> {
    type Value = T;
    fn ready(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

/// Polls `check` every 100 ms until it is ready (`true`, `Some`, `Ok`) and
/// returns its value; panics after `limit` with `what` and the last thing
/// the check saw. The one polling loop of the tests.
pub async fn eventually<F, Fut>(
    what: &str,
    limit: Duration,
    mut check: F,
) -> <Fut::Output as Polled>::Value
where
    F: FnMut() -> Fut,
    Fut: Future,
    Fut::Output: Polled,
{
    let started = Instant::now();
    loop {
        match check().await.ready() {
            Ok(value) => return value,
            Err(seen) => assert!(
                started.elapsed() < limit,
                "not true after {limit:?}: {what}; last seen: {seen}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How a test's service is set up: `TestApp::builder()...spawn().await`.
/// Starts from [`test_config`] (an Ironic that is not there: tests that need
/// one use [`TestAppBuilder::bed_ironic`] or [`TestAppBuilder::ironic_at`]).
#[must_use]
pub struct TestAppBuilder<'a> {
    adjustments: Vec<Adjustment<'a>>,
}

type Adjustment<'a> = Box<dyn FnOnce(&mut Config) + 'a>;

impl<'a> TestAppBuilder<'a> {
    /// Any other change to the configuration, applied in order.
    pub fn configure(mut self, adjust: impl FnOnce(&mut Config) + 'a) -> Self {
        self.adjustments.push(Box::new(adjust));
        self
    }

    /// Talks to the Ironic at `url` (a proxy, a fault-injecting mock), with
    /// no retries.
    pub fn ironic_at(self, url: &str) -> Self {
        let url = url.to_string();
        self.configure(move |c| c.ironic.client.endpoint_override = Some(url))
    }

    /// Talks to the test bed's real Ironic (`INSPECTOR_TEST_IRONIC_URL`),
    /// with a few retries and no delay between power-ons.
    pub fn bed_ironic(self) -> Self {
        self.configure(crate::bed::use_bed_ironic)
    }

    /// `[ironic] max_retries` and `retry_interval` (seconds).
    pub fn ironic_retries(self, max_retries: u32, retry_interval: u64) -> Self {
        self.configure(move |c| {
            c.ironic.max_retries = max_retries;
            c.ironic.retry_interval = retry_interval;
        })
    }

    /// `[DEFAULT] clean_up_period` (seconds): how often the timeout and
    /// Ironic-sync periodic tasks run.
    pub fn clean_up_period(self, seconds: u64) -> Self {
        self.configure(move |c| c.default.clean_up_period = seconds)
    }

    /// `[DEFAULT] timeout` (seconds) of an introspection.
    pub fn introspection_timeout(self, seconds: u64) -> Self {
        self.configure(move |c| c.default.timeout = seconds)
    }

    pub async fn spawn(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(&dir);
        let made = config
            .database
            .connection
            .clone()
            .filter(|url| crate::db_backend::is_test_database(url));
        for adjust in self.adjustments {
            adjust(&mut config);
        }
        if let Some(unused) = made
            .as_ref()
            .filter(|url| config.database.connection.as_ref() != Some(url))
        {
            crate::db_backend::drop_database(unused);
        }
        let mut app = TestApp::spawn_config(config, dir).await;
        app.owned_database =
            made.filter(|url| app.config.database.connection.as_ref() == Some(url));
        app
    }
}

impl TestApp {
    pub fn builder<'a>() -> TestAppBuilder<'a> {
        TestAppBuilder {
            adjustments: Vec::new(),
        }
    }

    pub async fn spawn() -> TestApp {
        Self::builder().spawn().await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        Self::builder().configure(adjust).spawn().await
    }

    pub async fn spawn_config(config: Config, dir: TempDir) -> TestApp {
        inspector::tls::install_crypto_provider();
        let bound = inspector::service::bind(&config).await.expect("bind");
        let kept_config = config.clone();
        let addr = bound.local_addr().expect("tcp address");
        let (state, inspector) = inspector::service::build(config)
            .await
            .expect("build service");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server_inspector = inspector.clone();
        let server = tokio::spawn(async move {
            inspector::service::serve(bound, state, server_inspector, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        TestApp {
            addr,
            client,
            inspector,
            dir,
            config: kept_config,
            shutdown: Some(tx),
            server: Some(server),
            owned_database: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn store(&self) -> &Store {
        self.inspector.store()
    }

    /// A request to the service; its response is checked against the
    /// OpenAPI document when it arrives.
    pub fn request(&self, method: Method, path: &str) -> ApiRequest {
        let health = &self.config.healthcheck;
        ApiRequest {
            builder: self.client.request(method, self.url(path)),
            client: self.client.clone(),
            health_check: health.enabled.then(|| health.path.clone()),
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.expect("GET")
    }

    /// `GET path` asking for API `version` with the legacy version header.
    pub async fn get_at(&self, path: &str, version: &str) -> Response {
        self.request(Method::GET, path)
            .header("X-OpenStack-Ironic-Inspector-API-Version", version)
            .send()
            .await
            .expect("GET")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// The ramdisk's callback: `data` posted to `/v1/continue`.
    pub async fn callback(&self, data: &Value) -> Response {
        self.request(Method::POST, "/v1/continue")
            .body(data.to_string())
            .send()
            .await
            .expect("POST /v1/continue")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path)
            .send()
            .await
            .expect("DELETE")
    }

    /// Waits (at most 30 s) until no background step is running (start,
    /// processing, abort, reapply): what tests that assert "nothing more
    /// happened" wait for, instead of sleeping.
    pub async fn wait_idle(&self) {
        eventually(
            "the service's background work is idle",
            Duration::from_secs(30),
            || async {
                match self.inspector.background_work_in_flight() {
                    0 => Ok(()),
                    n => Err(format!("{n} background tasks running")),
                }
            },
        )
        .await
    }

    /// The teardown check: background work ends (none left running or
    /// stuck), then the server stops gracefully. Dropping a `TestApp`
    /// without it only aborts the server with the test's runtime.
    pub async fn finish(mut self) {
        self.wait_idle().await;
        self.stop().await;
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task");
        }
    }

    /// Stops the server gracefully and starts a new one on the same
    /// configuration and database.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let mut config = self.config.clone();
        config.default.listen_port = 0;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        let mut app = Self::spawn_config(config, dir).await;
        app.owned_database = self.owned_database.take();
        app
    }
}

/// A request to the service under test: reqwest's builder, whose
/// [`send`](ApiRequest::send) checks the response against the OpenAPI
/// document (`openapi.rs`), failing the test on any difference.
#[must_use]
pub struct ApiRequest {
    builder: RequestBuilder,
    client: reqwest::Client,
    /// The health check's path when it is on: oslo.middleware's, outside
    /// the API and so outside the document.
    health_check: Option<String>,
}

impl ApiRequest {
    pub fn header<K, V>(self, key: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<axum::http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<axum::http::Error>,
    {
        self.map(|b| b.header(key, value))
    }

    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        self.map(|b| b.body(body))
    }

    pub fn json<T: serde::Serialize + ?Sized>(self, json: &T) -> Self {
        self.map(|b| b.json(json))
    }

    pub fn basic_auth(self, user: impl Display, password: Option<impl Display>) -> Self {
        self.map(|b| b.basic_auth(user, password))
    }

    fn map(self, change: impl FnOnce(RequestBuilder) -> RequestBuilder) -> Self {
        Self {
            builder: change(self.builder),
            ..self
        }
    }

    pub async fn send(self) -> reqwest::Result<Response> {
        let request = self.builder.build()?;
        if self.health_check.as_deref() == Some(request.url().path().trim_end_matches('/')) {
            return self.client.execute(request).await;
        }
        crate::openapi::execute_checked(&self.client, request).await
    }
}

/// The body as JSON, asserting the status first.
pub async fn json_with_status(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

/// Asserts an error response: status and exact message.
pub async fn assert_error(response: Response, status: u16, message: &str) {
    let body = json_with_status(response, status).await;
    assert_eq!(body, serde_json::json!({"error": {"message": message}}));
}

/// Asserts an error response whose message starts with `prefix`.
pub async fn assert_error_prefix(response: Response, status: u16, prefix: &str) {
    let body = json_with_status(response, status).await;
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message in {body}"));
    assert!(
        message.starts_with(prefix),
        "{message:?} does not start with {prefix:?}"
    );
}
