//! Ironic's calls over plain HTTP, on hyper's HTTP/1 connections kept in a
//! pool of our own.
//!
//! reqwest runs on the same connections, but its layers above them (its
//! pool, building each request from a URL string, the redirect and timeout
//! layers, more thread wake-ups) cost about 110 µs of CPU per call here, as
//! much as the kernel's part of the exchange; a callback makes about six
//! calls (docs/benchmarks-analysis.md, seventh and eighth passes). What
//! reqwest does that Ironic's calls need is kept: a timeout for the whole
//! exchange and a shorter one to connect, no proxy, keep-alive, and a retry
//! on a fresh connection of a request that a reused connection refused
//! before sending it. An `https` endpoint stays on reqwest, whose TLS
//! options (CA file, client certificate, `insecure`) mirror keystoneauth's.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_LENGTH, HOST, HeaderValue};
use hyper::http::uri::Scheme;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::error::IronicError;

/// Idle connections kept for reuse; more are opened under load and closed
/// when they come back to a full pool.
const MAX_IDLE: usize = 32;

/// An idle connection older than this is closed rather than reused, as
/// reqwest's pool does: servers drop keep-alive connections after a while,
/// and a request sent as they do fails.
const IDLE_FOR_AT_MOST: Duration = Duration::from_secs(90);

/// One answer: its status and whole body.
pub(super) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A failure worth retrying (`Ok`: no answer, with its cause) or not.
pub(super) type Failure = Result<String, IronicError>;

struct Idle {
    authority: String,
    sender: SendRequest<Full<Bytes>>,
    since: Instant,
}

pub(super) struct PlainHttp {
    idle: Mutex<Vec<Idle>>,
    timeout: Duration,
    connect_timeout: Duration,
    max_answer_bytes: usize,
}

/// Where a request goes and what its first line names.
struct Target {
    authority: String,
    host: String,
    port: u16,
    path: Uri,
}

impl Target {
    /// `None` for anything but a plain `http` URL with a host.
    fn parse(url: &str) -> Option<Target> {
        let uri: Uri = url.parse().ok()?;
        if uri.scheme() != Some(&Scheme::HTTP) {
            return None;
        }
        let authority = uri.authority()?;
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let path = uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()
            .ok()?;
        Some(Target {
            authority: authority.as_str().to_string(),
            host: host.to_string(),
            port: authority.port_u16().unwrap_or(80),
            path,
        })
    }
}

impl PlainHttp {
    /// `timeout` bounds a whole exchange, as reqwest's client timeout does;
    /// connecting gets at most 30 s of it.
    pub(super) fn new(timeout: Duration, max_answer_bytes: usize) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            timeout,
            connect_timeout: timeout.min(Duration::from_secs(30)),
            max_answer_bytes,
        }
    }

    /// Whether `url` is one this transport serves: a plain `http` one.
    pub(super) fn serves(url: &str) -> bool {
        url.get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
    }

    /// One request and its whole answer. `headers` come on top of `Host`
    /// and, with a body, `Content-Type: application/json`.
    pub(super) async fn exchange(
        &self,
        method: &Method,
        url: &str,
        headers: &[(&'static str, HeaderValue)],
        body: Option<Bytes>,
    ) -> Result<Answer, Failure> {
        let target = Target::parse(url)
            .ok_or_else(|| Err(IronicError::Config(format!("not a plain http URL: {url}"))))?;
        let request = || -> Result<Request<Full<Bytes>>, Failure> {
            let mut builder = Request::builder()
                .method(method.clone())
                .uri(target.path.clone())
                .header(HOST, target.authority.as_str());
            for (name, value) in headers {
                builder = builder.header(*name, value.clone());
            }
            if body.is_some() {
                builder = builder.header("content-type", "application/json");
            }
            builder
                .body(Full::new(body.clone().unwrap_or_default()))
                .map_err(|e| Err(IronicError::Config(format!("{method} {url}: {e}"))))
        };
        let exchange = async {
            let (mut sender, reused) = self.checkout(&target, url).await?;
            let response = match sender.send_request(request()?).await {
                // The reused connection closed before the request left: it
                // was never sent, so sending it again is safe.
                Err(e) if reused && e.is_canceled() => {
                    sender = self.connect(&target, url).await?;
                    sender.send_request(request()?).await
                }
                sent => sent,
            }
            .map_err(|e| Ok(describe("request failed", url, &e)))?;
            let status = response.status().as_u16();
            let body = self.read_capped(response, method, url).await?;
            self.check_in(&target, sender);
            Ok(Answer { status, body })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(done) => done,
            Err(_) => Err(Ok(format!(
                "timed out: no answer to {method} {url} within {} s",
                self.timeout.as_secs_f64()
            ))),
        }
    }

    /// A connection to `target` ready for a request, and whether it served
    /// one before.
    async fn checkout(
        &self,
        target: &Target,
        url: &str,
    ) -> Result<(SendRequest<Full<Bytes>>, bool), Failure> {
        while let Some(mut sender) = self.take_idle(&target.authority) {
            // Ready at once unless the server has closed it meanwhile.
            if sender.ready().await.is_ok() {
                return Ok((sender, true));
            }
        }
        Ok((self.connect(target, url).await?, false))
    }

    /// The connection to `target.authority` that was idle last, if any.
    fn take_idle(&self, authority: &str) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.retain(|c| !c.sender.is_closed() && c.since.elapsed() < IDLE_FOR_AT_MOST);
        let position = idle.iter().rposition(|c| c.authority == authority)?;
        Some(idle.swap_remove(position).sender)
    }

    fn check_in(&self, target: &Target, sender: SendRequest<Full<Bytes>>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(Idle {
                authority: target.authority.clone(),
                sender,
                since: Instant::now(),
            });
        }
    }

    async fn connect(
        &self,
        target: &Target,
        url: &str,
    ) -> Result<SendRequest<Full<Bytes>>, Failure> {
        let failed = |cause: String| {
            Ok(format!(
                "connection failed: cannot connect to {} for {url}: {cause}",
                target.authority
            ))
        };
        let address = (target.host.as_str(), target.port);
        let stream =
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(address)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return Err(failed(e.to_string())),
                Err(_) => {
                    return Err(Ok(format!(
                        "timed out: cannot connect to {} for {url} within {} s",
                        target.authority,
                        self.connect_timeout.as_secs_f64()
                    )));
                }
            };
        // Requests are small and answered at once: no waiting to coalesce.
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| failed(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection to Ironic ended");
            }
        });
        Ok(sender)
    }

    /// The body of `response`, refused (not retried) past the cap without
    /// reading the rest; a broken transfer is worth retrying.
    async fn read_capped(
        &self,
        response: hyper::Response<hyper::body::Incoming>,
        method: &Method,
        url: &str,
    ) -> Result<Vec<u8>, Failure> {
        let too_large = || {
            Err(IronicError::InvalidResponse(format!(
                "{method} {url}: the answer exceeds {} MiB",
                self.max_answer_bytes / (1024 * 1024)
            )))
        };
        let announced = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > self.max_answer_bytes as u64) {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(announced.unwrap_or(0) as usize);
        let mut incoming = response.into_body();
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|e| Ok(describe("request failed", url, &e)))?;
            if let Ok(data) = frame.into_data() {
                if body.len() + data.len() > self.max_answer_bytes {
                    return Err(too_large());
                }
                body.extend_from_slice(&data);
            }
        }
        Ok(body)
    }
}

/// `kind: url: error: its causes`, as for reqwest's errors.
fn describe(kind: &str, url: &str, e: &hyper::Error) -> String {
    format!("{kind}: {url}: {}", crate::keystone::error_chain(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// What the test server does with each connection it accepts.
    #[derive(Clone, Copy)]
    enum Serve {
        /// Answers every request with `body`, keeping the connection.
        KeepAlive(&'static str),
        /// Answers one request with `body`, then closes the connection
        /// without saying so (as a server's keep-alive timeout does).
        OnceThenHangUp(&'static str),
        /// Reads the request and never answers.
        Never,
        /// Announces an answer of this many bytes.
        Announce(usize),
    }

    /// A server on 127.0.0.1 and how many connections it accepted.
    async fn server(serve: Serve) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/nodes/n", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    // Each test request fits one read and has no body.
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        let answer = match serve {
                            Serve::KeepAlive(body) | Serve::OnceThenHangUp(body) => format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            ),
                            Serve::Never => {
                                tokio::time::sleep(Duration::from_secs(60)).await;
                                return;
                            }
                            Serve::Announce(n) => {
                                format!("HTTP/1.1 200 OK\r\ncontent-length: {n}\r\n\r\n{{")
                            }
                        };
                        if stream.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                        if matches!(serve, Serve::OnceThenHangUp(_)) {
                            return;
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    async fn get(http: &PlainHttp, url: &str) -> Result<Answer, Failure> {
        let headers = [("accept", HeaderValue::from_static("application/json"))];
        http.exchange(&Method::GET, url, &headers, None).await
    }

    #[tokio::test]
    async fn calls_share_one_kept_alive_connection() {
        let (url, accepted) = server(Serve::KeepAlive("{}")).await;
        let http = PlainHttp::new(Duration::from_secs(5), 1024);
        for _ in 0..3 {
            let answer = get(&http, &url).await.ok().unwrap();
            assert_eq!((answer.status, answer.body.as_slice()), (200, &b"{}"[..]));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_is_replaced_without_a_failure() {
        let (url, accepted) = server(Serve::OnceThenHangUp("[]")).await;
        let http = PlainHttp::new(Duration::from_secs(5), 1024);
        for _ in 0..3 {
            assert_eq!(get(&http, &url).await.ok().unwrap().body, b"[]");
            // Time for the connection's task to see the hang-up.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn no_answer_in_time_is_a_timeout_worth_retrying() {
        let (url, _) = server(Serve::Never).await;
        let http = PlainHttp::new(Duration::from_millis(200), 1024);
        let started = Instant::now();
        let Err(Ok(cause)) = get(&http, &url).await else {
            panic!("expected a failure worth retrying");
        };
        assert!(cause.starts_with("timed out: no answer to GET "), "{cause}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connection_failure_worth_retrying() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let http = PlainHttp::new(Duration::from_secs(5), 1024);
        let Err(Ok(cause)) = get(&http, &url).await else {
            panic!("expected a failure worth retrying");
        };
        assert!(cause.starts_with("connection failed: "), "{cause}");
        assert!(cause.contains("Connection refused"), "{cause}");
    }

    #[tokio::test]
    async fn an_answer_over_the_cap_is_refused_without_reading_it() {
        let (url, _) = server(Serve::Announce(4096)).await;
        let http = PlainHttp::new(Duration::from_secs(5), 1024);
        let Err(Err(IronicError::InvalidResponse(message))) = get(&http, &url).await else {
            panic!("expected a refusal");
        };
        assert!(message.contains("exceeds"), "{message}");
    }

    #[test]
    fn only_plain_http_urls_are_served() {
        let t = Target::parse("http://127.0.0.1:6385/v1/nodes/a?fields=uuid").unwrap();
        assert_eq!(t.authority, "127.0.0.1:6385");
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 6385));
        assert_eq!(t.path, "/v1/nodes/a?fields=uuid");
        let t = Target::parse("http://[::1]/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 80));
        assert_eq!(t.authority, "[::1]");
        assert!(PlainHttp::serves("HTTP://ironic/v1"));
        assert!(!PlainHttp::serves("https://ironic.example/v1"));
        assert!(!PlainHttp::serves("ironic/v1"));
        assert!(Target::parse("https://ironic.example/v1").is_none());
    }
}
