//! Spawning the service for tests: a temporary SQLite file, a port chosen by
//! the OS on 127.0.0.1, and a reqwest client.

use std::net::SocketAddr;
use std::sync::Arc;

use inspector::domain::Inspector;
use inspector::store::Store;
use inspector_core::conf::{AuthStrategy, Config, StoreData};
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
}

/// A configuration for tests: noauth, data stored in the database, an Ironic
/// that is not there (tests that need one use the real test bed).
pub fn test_config(dir: &TempDir) -> Config {
    let mut config = Config::default();
    config.default.auth_strategy = AuthStrategy::Noauth;
    config.default.listen_address = "127.0.0.1".into();
    config.default.listen_port = 0;
    config.processing.store_data = StoreData::Database;
    config.pxe_filter.driver = inspector_core::conf::PxeDriver::Noop;
    config.database.connection = Some(format!(
        "sqlite:///{}",
        dir.path().join("inspector.sqlite").display()
    ));
    config.ironic.client.auth_type = "none".into();
    config.ironic.client.endpoint_override = Some("http://127.0.0.1:9".into());
    config.ironic.max_retries = 0;
    config.ironic.client.timeout = Some(std::time::Duration::from_secs(2));
    config
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(&dir);
        adjust(&mut config);
        Self::spawn_config(config, dir).await
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
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn store(&self) -> &Store {
        self.inspector.store()
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.expect("GET")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path)
            .send()
            .await
            .expect("DELETE")
    }

    /// Stops the server gracefully and starts a new one on the same
    /// configuration and database.
    pub async fn restart(mut self) -> TestApp {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task");
        }
        let mut config = self.config.clone();
        config.default.listen_port = 0;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        Self::spawn_config(config, dir).await
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
