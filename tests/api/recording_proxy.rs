//! A reverse proxy on 127.0.0.1 that forwards every request to a real
//! service (Ironic, Keystone, ours) and records it, to count round trips,
//! and optionally checks every answer on the way back (what the API tests
//! do to answers our service gives clients run as subprocesses). Shared by
//! the API tests and `examples/keystone_auth_bench.rs`.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub body: String,
}

impl Call {
    /// "METHOD /path?query".
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}

/// A check of one answer: the request's method and path (no query), the
/// answer's status, headers and body; `Err` says what is wrong with it.
pub type AnswerCheck =
    Box<dyn Fn(&Method, &str, u16, &HeaderMap, &[u8]) -> Result<(), String> + Send + Sync>;

pub struct RecordingProxy {
    pub url: String,
    origin: String,
    client: reqwest::Client,
    calls: Mutex<Vec<Call>>,
    check: Option<AnswerCheck>,
    /// What `check` found wrong, one line per answer.
    problems: Mutex<Vec<String>>,
    /// Requests starting with the prefix ("METHOD /path") wait this long
    /// before they are forwarded: a slow peer, to catch work mid-way.
    delays: Mutex<Vec<(String, std::time::Duration)>>,
}

impl RecordingProxy {
    /// Serves a proxy to `origin` (scheme, host and port; paths are kept).
    pub async fn start(origin: &str) -> Arc<RecordingProxy> {
        Self::serve("127.0.0.1:0", origin, None).await
    }

    /// Serves a proxy on `listen` ("127.0.0.1:0" for any port) to `origin`
    /// that runs `check` on every answer before passing it on, keeping what
    /// it finds for [`RecordingProxy::assert_answers_passed`].
    pub async fn checking(listen: &str, origin: &str, check: AnswerCheck) -> Arc<RecordingProxy> {
        Self::serve(listen, origin, Some(check)).await
    }

    async fn serve(listen: &str, origin: &str, check: Option<AnswerCheck>) -> Arc<RecordingProxy> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .unwrap_or_else(|e| panic!("the proxy cannot listen on {listen}: {e}"));
        let proxy = Arc::new(RecordingProxy {
            url: format!("http://{}", listener.local_addr().unwrap()),
            origin: origin.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder()
                .no_proxy()
                // Redirects go back to the client as they are, as a reverse
                // proxy passes them (and the checking proxy checks them).
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            calls: Mutex::new(Vec::new()),
            check,
            problems: Mutex::new(Vec::new()),
            delays: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(proxy.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        proxy
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.calls.lock().unwrap().clear();
    }

    /// Holds every later request starting with `prefix` ("METHOD /path")
    /// for `by` before forwarding it.
    pub fn delay(&self, prefix: &str, by: std::time::Duration) {
        self.delays.lock().unwrap().push((prefix.to_string(), by));
    }

    /// Fails the test unless the proxy forwarded at least one request (so
    /// the check cannot pass for want of answers) and every answer passed
    /// its check.
    pub fn assert_answers_passed(&self) {
        let calls = self.calls();
        assert!(
            !calls.is_empty(),
            "no request went through the checking proxy {}",
            self.url
        );
        let problems = self.problems.lock().unwrap();
        assert!(
            problems.is_empty(),
            "{} of {} answers failed their check:\n{}",
            problems.len(),
            calls.len(),
            problems.join("\n")
        );
    }

    /// How many recorded requests start with `prefix` ("METHOD /path").
    pub fn count(&self, prefix: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.line().starts_with(prefix))
            .count()
    }
}

async fn forward(
    State(proxy): State<Arc<RecordingProxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let call = Call {
        method: method.to_string(),
        target: target.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let delay = proxy
        .delays
        .lock()
        .unwrap()
        .iter()
        .filter(|(prefix, _)| call.line().starts_with(prefix.as_str()))
        .map(|(_, by)| *by)
        .max();
    proxy.calls.lock().unwrap().push(call);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut request = proxy
        .client
        .request(method.clone(), format!("{}{target}", proxy.origin));
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = match request.body(body).send().await {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let answer_headers = answer.headers().clone();
    let kept: Vec<_> = answer_headers
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "transfer-encoding" | "content-length" | "connection"
            )
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let bytes = answer.bytes().await.unwrap_or_default();
    if let Some(check) = &proxy.check {
        let path = target.split('?').next().unwrap_or(&target);
        if let Err(problem) = check(&method, path, status.as_u16(), &answer_headers, &bytes) {
            proxy.problems.lock().unwrap().push(format!(
                "{method} {target} ({status}): {problem}; body: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
            ));
        }
    }
    let mut response = (status, bytes).into_response();
    // The service's own headers replace the ones axum set for raw bytes.
    response.headers_mut().remove("content-type");
    for (name, value) in kept {
        response.headers_mut().append(name, value);
    }
    response
}
