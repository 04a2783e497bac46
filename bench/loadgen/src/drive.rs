//! Closed-loop HTTP load and the paginated walk of the status list.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use reqwest::Method;
use serde_json::{Value, json};

use crate::stats::summary;

/// A client for loopback servers: no proxy from the environment, keep-alive
/// connections, a bound on every request.
pub fn client(connections: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// The client of `loadgen http`: like [`client`], or with `--cacert` for
/// https, or with `--new-connections` one connection (and for https one full
/// handshake, no session resumption) per request.
fn http_client(args: &HttpArgs) -> anyhow::Result<reqwest::Client> {
    let idle = if args.new_connections {
        0
    } else {
        args.concurrency
    };
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(idle)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60));
    if let Some(path) = &args.cacert {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(path)
            .with_context(|| format!("--cacert {}", path.display()))?
        {
            roots.add(cert.with_context(|| format!("--cacert {}", path.display()))?)?;
        }
        let mut tls = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.resumption = rustls::client::Resumption::disabled();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        builder = builder.tls_backend_preconfigured(tls);
    }
    Ok(builder.build()?)
}

#[derive(Args)]
pub struct HttpArgs {
    #[arg(long)]
    url: String,
    /// PEM file of the CA to trust for an https URL (the only one trusted).
    #[arg(long)]
    cacert: Option<PathBuf>,
    /// Open a new connection for every request instead of keeping them alive.
    #[arg(long)]
    new_connections: bool,
    #[arg(long, default_value = "GET")]
    method: String,
    /// A JSON file: one body, or an array of bodies used in turn.
    #[arg(long)]
    body_file: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Stop after this many seconds...
    #[arg(long, value_parser = crate::seconds, default_value = "5")]
    duration: Duration,
    /// ...or after this many requests, whichever comes first.
    #[arg(long, default_value_t = 1_000_000)]
    count: u64,
    /// The status every answer must have (any 2xx when not given).
    #[arg(long)]
    expect: Option<u16>,
    /// The client that sends the requests; hyper and raw keep one plain-http
    /// connection, at concurrency 1.
    #[arg(long, value_enum, default_value = "reqwest")]
    client: HttpClient,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HttpClient {
    /// reqwest, as the service calls Ironic.
    Reqwest,
    /// hyper's own HTTP/1 connection, which reqwest runs on.
    Hyper,
    /// A blocking socket and no HTTP library: the kernel's part of an exchange.
    Raw,
}

#[derive(Default)]
struct WorkerResult {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    first_error: Option<String>,
}

pub async fn http(args: HttpArgs) -> anyhow::Result<Value> {
    if args.concurrency == 0 || args.concurrency > 256 {
        bail!("--concurrency must be between 1 and 256");
    }
    let method: Method = args.method.parse().context("--method")?;
    let bodies: Vec<String> = match &args.body_file {
        None => Vec::new(),
        Some(path) => match serde_json::from_str::<Value>(&crate::read_text(path)?)
            .with_context(|| format!("{} is not JSON", path.display()))?
        {
            Value::Array(items) => items.iter().map(Value::to_string).collect(),
            one => vec![one.to_string()],
        },
    };
    if args.client != HttpClient::Reqwest {
        return single_connection(args, method, bodies).await;
    }
    let bodies = Arc::new(bodies);
    let client = http_client(&args)?;
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + args.duration;
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (client, next, bodies, method, url) = (
            client.clone(),
            next.clone(),
            bodies.clone(),
            method.clone(),
            args.url.clone(),
        );
        let expect = args.expect;
        workers.push(tokio::spawn(async move {
            let mut out = WorkerResult::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= args.count || Instant::now() >= deadline {
                    break;
                }
                let mut request = client.request(method.clone(), &url);
                if !bodies.is_empty() {
                    request = request
                        .header("Content-Type", "application/json")
                        .body(bodies[index as usize % bodies.len()].clone());
                }
                let t = Instant::now();
                let answer = match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        response.bytes().await.map(|_| status)
                    }
                    Err(e) => Err(e),
                };
                out.record(answer.map_err(|e| e.to_string()), t.elapsed(), expect);
            }
            out
        }));
    }
    let mut all = WorkerResult::default();
    for worker in workers {
        let part = worker.await?;
        all.latencies.extend(part.latencies);
        for (status, n) in part.statuses {
            *all.statuses.entry(status).or_default() += n;
        }
        all.transport_errors += part.transport_errors;
        all.first_error = all.first_error.or(part.first_error);
    }
    Ok(http_report(&args, all, started))
}

/// `--client hyper|raw`: the requests one after the other on one connection.
async fn single_connection(
    args: HttpArgs,
    method: Method,
    bodies: Vec<String>,
) -> anyhow::Result<Value> {
    if args.concurrency != 1 || args.new_connections || args.cacert.is_some() {
        bail!(
            "--client hyper and raw keep one plain-http connection: --concurrency 1, no --new-connections or --cacert"
        );
    }
    let started = Instant::now();
    let plan = crate::lean::Plan::new(
        &args.url,
        method,
        bodies,
        args.count,
        started + args.duration,
    )?;
    let expect = args.expect;
    let out = match args.client {
        HttpClient::Raw => {
            tokio::task::spawn_blocking(move || {
                let mut out = WorkerResult::default();
                crate::lean::raw(&plan, |answer, elapsed| out.record(answer, elapsed, expect))
                    .map(|()| out)
            })
            .await??
        }
        _ => {
            // on a worker, as reqwest's requests are, so the connection's task runs beside them
            tokio::spawn(async move {
                let mut out = WorkerResult::default();
                crate::lean::hyper(&plan, |answer, elapsed| out.record(answer, elapsed, expect))
                    .await
                    .map(|()| out)
            })
            .await??
        }
    };
    Ok(http_report(&args, out, started))
}

impl WorkerResult {
    fn record(&mut self, answer: Result<u16, String>, elapsed: Duration, expect: Option<u16>) {
        match answer {
            Ok(status) => {
                *self.statuses.entry(status).or_default() += 1;
                let ok = match expect {
                    Some(code) => status == code,
                    None => (200..300).contains(&status),
                };
                if ok {
                    self.latencies.push(elapsed);
                } else if self.first_error.is_none() {
                    self.first_error = Some(format!("status {status}"));
                }
            }
            Err(e) => {
                self.transport_errors += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(e);
                }
            }
        }
    }
}

fn http_report(args: &HttpArgs, mut all: WorkerResult, started: Instant) -> Value {
    let wall = started.elapsed().as_secs_f64();
    let ok = all.latencies.len() as u64;
    let total: u64 = all.statuses.values().sum::<u64>() + all.transport_errors;
    json!({
        "url": args.url,
        "method": args.method,
        "new_connections": args.new_connections,
        "concurrency": args.concurrency,
        "client": args.client.to_possible_value().map(|v| v.get_name().to_string()),
        "requests": total,
        "ok": ok,
        "errors": total - ok,
        "first_error": all.first_error,
        "statuses": all.statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "wall_s": wall,
        "rps": ok as f64 / wall,
        "latency": summary(&mut all.latencies),
    })
}

#[derive(Args)]
pub struct WalkArgs {
    /// The service's base URL.
    #[arg(long)]
    url: String,
    /// Page size to ask for (the service's default page when not given).
    #[arg(long)]
    limit: Option<u32>,
    /// How many nodes a complete walk must see.
    #[arg(long)]
    expect: Option<u64>,
    #[arg(long, default_value_t = 3)]
    repeat: u32,
    /// Give up (and fail) after this many seconds in all.
    #[arg(long, value_parser = crate::seconds, default_value = "300")]
    timeout: Duration,
}

/// A status page as the walk reads it.
#[derive(serde::Deserialize)]
struct WalkPage {
    introspection: Vec<WalkStatus>,
}

#[derive(serde::Deserialize)]
struct WalkStatus {
    uuid: String,
}

pub async fn walk(args: WalkArgs) -> anyhow::Result<Value> {
    let client = client(1)?;
    let deadline = Instant::now() + args.timeout;
    let mut walks = Vec::new();
    let mut pages_latency = Vec::new();
    let mut first_page = Vec::new();
    for _ in 0..args.repeat.clamp(1, 100) {
        let started = Instant::now();
        let (mut marker, mut pages, mut nodes) = (None::<String>, 0u64, 0u64);
        loop {
            if Instant::now() >= deadline {
                bail!("the walk took longer than {:?}", args.timeout);
            }
            let mut query: Vec<(&str, String)> = Vec::new();
            if let Some(limit) = args.limit {
                query.push(("limit", limit.to_string()));
            }
            if let Some(m) = &marker {
                query.push(("marker", m.clone()));
            }
            let t = Instant::now();
            let response = client
                .get(format!("{}/v1/introspection", args.url))
                .query(&query)
                .send()
                .await?;
            let status = response.status();
            if !status.is_success() {
                let text = response.text().await.unwrap_or_default();
                bail!("page {pages}: {status} {text}");
            }
            // Only the UUIDs are read: a walk measures the service's paging,
            // and building every status as a JSON tree took the client longer
            // than the service took to write the page.
            let page: WalkPage = serde_json::from_slice(&response.bytes().await?)
                .context("a status page that is not the expected JSON")?;
            let elapsed = t.elapsed();
            pages_latency.push(elapsed);
            if marker.is_none() {
                first_page.push(elapsed);
            }
            pages += 1;
            let Some(last) = page.introspection.last() else {
                break;
            };
            nodes += page.introspection.len() as u64;
            marker = Some(last.uuid.clone());
        }
        if let Some(expected) = args.expect
            && nodes != expected
        {
            bail!("the walk saw {nodes} nodes, expected {expected}");
        }
        walks.push(
            json!({"seconds": started.elapsed().as_secs_f64(), "pages": pages, "nodes": nodes}),
        );
    }
    Ok(json!({
        "walks": walks,
        "page": summary(&mut pages_latency),
        "first_page": summary(&mut first_page),
    }))
}
