//! Ironic down: an API request waits for Ironic at most 10 s in all before
//! its 503, background work keeps the `[ironic]` retry budget, and a SIGTERM
//! while Ironic is down ends the retries at once, leaving every node in a
//! state the next start recovers.
//!
//! "Down" is a closed port, a mock that never answers or answers 503 or
//! NodeLocked forever, or a TCP switch in front of the real test-bed Ironic
//! that refuses connections or hangs, and later lets them through again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::bed::{Ironic, random_mac};
use crate::binary::{free_port, serve};
use crate::helpers::{TestApp, eventually};
use crate::openapi::SendChecked;

/// What an API request may take on an Ironic that is down: the 10 s it
/// waits, and slack for a loaded machine.
const API_BOUND: Duration = Duration::from_secs(15);

const NODE: &str = "5d0c6e1f-2a3b-4c4d-9e8f-7a6b5c4d3e2f";

/// A TCP forwarder to a real Ironic that can be switched off (its port
/// refuses connections, open ones are cut), made to hang (requests, on new
/// or open connections, are taken and never forwarded), and switched on
/// again on the same port.
struct IronicSwitch {
    url: String,
    addr: SocketAddr,
    origin: String,
    hanging: Arc<AtomicBool>,
    accepting: Mutex<Option<JoinHandle<()>>>,
}

/// Copies bytes until either side closes; holds them while `hanging`.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, hanging: Arc<AtomicBool>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if hanging.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

impl IronicSwitch {
    async fn start(origin_url: &str) -> IronicSwitch {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let origin = origin_url
            .trim_end_matches('/')
            .trim_start_matches("http://")
            .to_string();
        let switch = IronicSwitch {
            url: format!("http://{addr}"),
            addr,
            origin,
            hanging: Arc::new(AtomicBool::new(false)),
            accepting: Mutex::new(None),
        };
        *switch.accepting.lock().await = Some(switch.forward(listener));
        switch
    }

    fn forward(&self, listener: TcpListener) -> JoinHandle<()> {
        let origin = self.origin.clone();
        let hanging = self.hanging.clone();
        tokio::spawn(async move {
            // Owned here, so that switching off drops every open connection.
            let mut connections = JoinSet::new();
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    continue;
                };
                let origin = origin.clone();
                let hanging = hanging.clone();
                connections.spawn(async move {
                    let Ok(outbound) = TcpStream::connect(&origin).await else {
                        return;
                    };
                    let (client_read, client_write) = inbound.into_split();
                    let (ironic_read, ironic_write) = outbound.into_split();
                    tokio::select! {
                        _ = pump(client_read, ironic_write, hanging.clone()) => {}
                        _ = pump(ironic_read, client_write, hanging) => {}
                    }
                });
            }
        })
    }

    /// Ironic is gone: connections are refused, open ones closed.
    async fn off(&self) {
        if let Some(task) = self.accepting.lock().await.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Ironic hangs: requests are taken and never answered.
    fn hang(&self) {
        self.hanging.store(true, Ordering::SeqCst);
    }

    /// Ironic is back on the same address.
    async fn on(&self) {
        self.off().await;
        self.hanging.store(false, Ordering::SeqCst);
        let listener = TcpListener::bind(self.addr).await.unwrap();
        *self.accepting.lock().await = Some(self.forward(listener));
    }
}

/// Sends `request` and returns (status, error message, time taken); fails
/// when there is no answer within [`API_BOUND`].
async fn timed(request: crate::helpers::ApiRequest) -> (u16, String, Duration) {
    let started = Instant::now();
    let response = tokio::time::timeout(API_BOUND, request.send())
        .await
        .unwrap_or_else(|_| panic!("no answer within {API_BOUND:?}"))
        .unwrap();
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (status, message, elapsed)
}

/// An app on `url` with the default `[ironic]` retries (30 × 2 s) and
/// timeout (60 s), which the test configuration lowers.
async fn app_with_default_retries(url: String) -> TestApp {
    let defaults = inspector_core::conf::Config::default().ironic;
    TestApp::spawn_with(move |c| {
        c.ironic.client.endpoint_override = Some(url);
        c.ironic.max_retries = defaults.max_retries;
        c.ironic.retry_interval = defaults.retry_interval;
        c.ironic.client.timeout = defaults.client.timeout;
        c.default.introspection_delay = 0;
    })
    .await
}

#[tokio::test]
async fn a_refused_ironic_gets_a_503_naming_the_cause_within_the_api_deadline() {
    // Nothing listens there.
    let url = format!("http://127.0.0.1:{}", free_port());
    let app = app_with_default_retries(url.clone()).await;
    // Starting (several Ironic calls) and a status by node name (one).
    let (start, by_name) = tokio::join!(
        timed(app.request(Method::POST, &format!("/v1/introspection/{NODE}"))),
        timed(app.request(Method::GET, "/v1/introspection/some-node-name")),
    );
    for (status, message, elapsed) in [start, by_name] {
        eprintln!("refused Ironic: {status} after {elapsed:?}: {message}");
        assert_eq!(status, 503, "{message}");
        assert!(
            message.starts_with(&format!(
                "Ironic at {url} is unreachable: connection failed"
            )),
            "{message}"
        );
        assert!(message.contains("Connection refused"), "{message}");
        // It did retry: the deadline, not the first failure, ended the wait.
        assert!(elapsed >= Duration::from_secs(4), "{elapsed:?}");
    }
    assert_eq!(
        app.get(&format!("/v1/introspection/{NODE}")).await.status(),
        404
    );
}

/// The root document, so that the client negotiates a version.
async fn mock_root(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "default_version": {"id": "v1", "version": "1.115", "min_version": "1.1", "status": "CURRENT"}
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_hanging_or_failing_ironic_gets_a_503_within_the_api_deadline() {
    // Accepts connections and never answers.
    let hanging = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(100)))
        .mount(&hanging)
        .await;
    // A gateway whose Ironic is gone: 503 for every node call.
    let gateway = MockServer::start().await;
    mock_root(&gateway).await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/nodes/{NODE}")))
        .respond_with(ResponseTemplate::new(503).set_body_string("no server is available"))
        .mount(&gateway)
        .await;
    // The node stays locked by a conductor.
    let locked = MockServer::start().await;
    mock_root(&locked).await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/nodes/{NODE}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uuid": NODE, "provision_state": "manageable", "driver_info": {}, "properties": {}
        })))
        .mount(&locked)
        .await;
    let lock_message = json!({"faultstring": format!("Node {NODE} is locked by host conductor-1, please retry after the current operation is completed.")});
    Mock::given(method("GET"))
        .and(path(format!("/v1/nodes/{NODE}/validate")))
        .respond_with(
            ResponseTemplate::new(409)
                .set_body_json(json!({"error_message": lock_message.to_string()})),
        )
        .mount(&locked)
        .await;

    let cases = [
        (&hanging, "no answer to GET"),
        (&gateway, "HTTP 503: no server is available"),
        (&locked, "is locked by host conductor-1"),
    ];
    let mut apps = Vec::new();
    for (server, _) in &cases {
        apps.push(app_with_default_retries(server.uri()).await);
    }
    // Concurrently: each request has its own deadline.
    let requests: Vec<_> = apps
        .iter()
        .map(|app| {
            tokio::spawn(timed(
                app.request(Method::POST, &format!("/v1/introspection/{NODE}")),
            ))
        })
        .collect();
    for ((server, cause), request) in cases.iter().zip(requests) {
        let (status, message, elapsed) = request.await.unwrap();
        eprintln!("{cause:?}: {status} after {elapsed:?}: {message}");
        assert_eq!(status, 503, "{message}");
        assert!(
            message.starts_with(&format!("Ironic at {} is unreachable: ", server.uri())),
            "{message}"
        );
        assert!(message.contains(cause), "{message}");
    }
}

async fn status_of(app: &TestApp, uuid: &str) -> Value {
    app.get(&format!("/v1/introspection/{uuid}"))
        .await
        .json()
        .await
        .unwrap()
}

/// Ironic goes away while a node's start runs in the background: an API
/// request gives up after its 10 s, the background step keeps retrying
/// (`max_retries` × `retry_interval` = 20 s) and succeeds once Ironic is
/// back 16 s later.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn background_work_keeps_its_retry_budget_while_api_requests_give_up() {
    let ironic = Ironic::new();
    let switch = IronicSwitch::start(&ironic.url).await;
    let url = switch.url.clone();
    let app = TestApp::spawn_with(move |c| {
        c.ironic.client.endpoint_override = Some(url);
        c.ironic.max_retries = 20;
        c.ironic.retry_interval = 1;
        c.ironic.client.timeout = Some(Duration::from_secs(30));
        // The second node waits for its power-on turn, so Ironic is gone
        // before it can be powered on, and that call at least retries
        // for more than the 10 s of an API request.
        c.default.introspection_delay = 4;
    })
    .await;
    let (first, _) = ironic.node_with_port().await;
    let (second, _) = ironic.node_with_port().await;
    let (other, _) = ironic.node_with_port().await;
    app.start_introspection(&first, "").await;
    app.wait_for_state(&first, "waiting", Duration::from_secs(20))
        .await;
    app.start_introspection(&second, "").await;
    switch.off().await;
    let down_since = Instant::now();

    let (status, message, elapsed) =
        timed(app.request(Method::POST, &format!("/v1/introspection/{other}"))).await;
    eprintln!("API request with Ironic down: {status} after {elapsed:?}: {message}");
    assert_eq!(status, 503, "{message}");
    assert!(message.contains("Connection refused"), "{message}");
    // Longer than an API request waits, and the background step still tries.
    // (A time to let pass, not a condition to poll: the step must still
    // be retrying then.)
    tokio::time::sleep_until((down_since + Duration::from_secs(16)).into()).await;
    let during = status_of(&app, &second).await;
    assert_eq!(during["state"], "starting", "{during}");
    switch.on().await;
    let after = app
        .wait_for_state(&second, "waiting", Duration::from_secs(20))
        .await;
    eprintln!(
        "background start recovered {:?} after Ironic went down",
        down_since.elapsed()
    );
    assert_eq!(after["error"], Value::Null, "{after}");
    // The retried power-on reached Ironic.
    ironic
        .wait_for(&second, "power_state", "power on", Duration::from_secs(30))
        .await;
}

fn service_config(dir: &std::path::Path, port: u16, ironic_url: &str) -> std::path::PathBuf {
    let path = dir.join("inspector.conf");
    // Default [ironic] retries: 30 × 2 s of background budget.
    let text = format!(
        "[DEFAULT]\nlisten_address = 127.0.0.1\nlisten_port = {port}\nauth_strategy = noauth\n\
         introspection_delay = 3\nclean_up_period = 1\n\
         [ironic]\nauth_type = none\nendpoint_override = {ironic_url}\n\
         [pxe_filter]\ndriver = noop\n\
         [database]\nconnection = sqlite:///{db}\n",
        db = dir.join("inspector.sqlite").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[derive(Debug, Clone, Copy)]
enum Outage {
    /// Connections refused: the background step retries every 2 s.
    Refusing,
    /// Connections accepted, never answered: the step's first attempt
    /// waits for the 60 s `[ironic] timeout`.
    Hanging,
}

/// SIGTERM while Ironic refuses connections and a node's start retries in
/// the background: the process exits at once, and the next start on the
/// same database has every node consistent.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn sigterm_with_ironic_refusing_exits_at_once_and_a_restart_recovers() {
    sigterm_with_ironic_down(Outage::Refusing).await;
}

/// As above, Ironic hanging: the exchange in flight is not waited for.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn sigterm_with_ironic_hanging_exits_at_once_and_a_restart_recovers() {
    sigterm_with_ironic_down(Outage::Hanging).await;
}

async fn sigterm_with_ironic_down(outage: Outage) {
    let ironic = Ironic::new();
    let switch = IronicSwitch::start(&ironic.url).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = service_config(dir.path(), port, &switch.url);
    let mut served = serve(&config, port).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let status_of = |uuid: String| {
        let client = client.clone();
        let url = format!("http://127.0.0.1:{port}/v1/introspection/{uuid}");
        async move {
            client
                .get(url)
                .send_checked()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let start = |uuid: String, query: &'static str| {
        let client = client.clone();
        let url = format!("http://127.0.0.1:{port}/v1/introspection/{uuid}{query}");
        async move {
            let response = client.post(url).send_checked().await.unwrap();
            assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
        }
    };

    let unmanaged = ironic.manageable_node(json!({})).await;
    ironic.create_port(&unmanaged, &random_mac()).await;
    start(unmanaged.clone(), "?manage_boot=false").await;
    let (managed, _) = ironic.node_with_port().await;
    start(managed.clone(), "").await;
    eventually(
        "the managed start is waiting",
        Duration::from_secs(20),
        || async { status_of(managed.clone()).await["state"] == "waiting" },
    )
    .await;
    // Its background steps meet Ironic down (its power-on at the latest,
    // which waits for the introspection delay).
    let (interrupted, _) = ironic.node_with_port().await;
    start(interrupted.clone(), "").await;
    match outage {
        Outage::Refusing => switch.off().await,
        Outage::Hanging => switch.hang(),
    }
    // The start and the periodic Ironic sync wait for Ironic.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(status_of(interrupted.clone()).await["state"], "starting");

    served.signal("TERM");
    let signalled = Instant::now();
    let code = served.wait_exit(Duration::from_secs(5)).await;
    let exit_time = signalled.elapsed();
    eprintln!("{outage:?}: exited {exit_time:?} after SIGTERM");
    assert_eq!(code, Some(0), "{}", served.log_text());
    let log = served.log_text();
    assert!(!log.contains("did not finish in time"), "{log}");
    drop(served);

    // The next start, Ironic back.
    switch.on().await;
    let served = serve(&config, port).await;
    for uuid in [&unmanaged, &managed] {
        let status = status_of(uuid.clone()).await;
        assert_eq!(status["state"], "waiting", "{status}");
        assert_eq!(status["error"], Value::Null, "{status}");
    }
    let status = status_of(interrupted.clone()).await;
    eprintln!("{outage:?}: interrupted node after the restart: {status}");
    assert_eq!(status["state"], "error", "{status}");
    assert_eq!(status["finished"], true, "{status}");
    let error = status["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("shutting down") || error.contains("interrupted by a restart"),
        "{status}"
    );
    drop(served);
}
