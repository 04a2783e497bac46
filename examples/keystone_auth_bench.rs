//! Benchmark: what Keystone authentication costs an API request, and proof
//! that a warm authenticated request makes no Keystone round trip.
//!
//! Needs the test-bed Keystone (scripts/testbed/keystone.sh start):
//!
//! ```text
//! INSPECTOR_TEST_KEYSTONE_URL=http://127.0.0.1:5000 \
//! INSPECTOR_TEST_KEYSTONE_USERS=target/testbed/keystone-5000/users.json \
//!     cargo run --release --example keystone_auth_bench [-- REQUESTS]
//! ```
//!
//! It serves inspector in-process twice (noauth as the baseline, then
//! keystone), with Keystone behind a counting proxy, and measures
//! `GET /v1/introspection`: the very first authenticated request (service
//! token + validation), the first request of another token (validation
//! only), then REQUESTS (default 2000) warm requests, counting the Keystone
//! requests each phase made.

use std::time::{Duration, Instant};

use inspector_core::conf::{AuthStrategy, Config};
use serde_json::{Value, json};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set (see the header of this file)"))
}

// The API tests use all of it; this example only counts.
#[allow(dead_code)]
#[path = "../tests/api/recording_proxy.rs"]
mod recording_proxy;

async fn serve(config: Config) -> (String, tokio::sync::oneshot::Sender<()>) {
    let bound = inspector::service::bind(&config).await.unwrap();
    let addr = bound.local_addr().unwrap();
    let (state, inspector) = inspector::service::build(config).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        inspector::service::serve(bound, state, inspector, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (format!("http://{addr}"), tx)
}

fn base_config(dir: &std::path::Path) -> Config {
    let mut c = Config::default();
    c.default.listen_address = "127.0.0.1".into();
    c.default.listen_port = 0;
    c.default.auth_strategy = AuthStrategy::Noauth;
    c.pxe_filter.driver = inspector_core::conf::PxeDriver::Noop;
    c.database.connection = Some(format!("sqlite:///{}", dir.join("bench.sqlite").display()));
    c.ironic.client.auth_type = "none".into();
    c.ironic.client.endpoint_override = Some("http://127.0.0.1:9".into());
    c.oslo_policy.policy_file = "/nonexistent/bench-policy.yaml".into();
    c.oslo_policy.policy_dirs = Vec::new();
    c
}

async fn token(client: &reqwest::Client, auth_url: &str, users: &Value) -> String {
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": users["admin"]["password"]}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}});
    let response = client
        .post(format!("{auth_url}/v3/auth/tokens"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "token: {}",
        response.status()
    );
    response.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string()
}

async fn get(client: &reqwest::Client, url: &str, token: Option<&str>) -> Duration {
    let started = Instant::now();
    let mut request = client.get(format!("{url}/v1/introspection"));
    if let Some(token) = token {
        request = request.header("X-Auth-Token", token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap();
    started.elapsed()
}

struct Stats {
    mean: Duration,
    p50: Duration,
    p99: Duration,
}

async fn warm(client: &reqwest::Client, url: &str, token: Option<&str>, n: usize) -> Stats {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        samples.push(get(client, url, token).await);
    }
    samples.sort();
    Stats {
        mean: samples.iter().sum::<Duration>() / n as u32,
        p50: samples[n / 2],
        p99: samples[(n * 99 / 100).min(n - 1)],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    inspector::tls::install_crypto_provider();
    let requests: usize = std::env::args()
        .nth(1)
        .map_or(2000, |n| n.parse().expect("REQUESTS"));
    let keystone = env("INSPECTOR_TEST_KEYSTONE_URL")
        .trim_end_matches('/')
        .to_string();
    let users_path = env("INSPECTOR_TEST_KEYSTONE_USERS");
    let users: Value =
        serde_json::from_str(&std::fs::read_to_string(&users_path).unwrap()).unwrap();
    let users = users["users"].clone();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let dir = tempfile::tempdir().unwrap();

    let (noauth_url, stop_noauth) = serve(base_config(dir.path())).await;
    let baseline = warm(&client, &noauth_url, None, requests).await;
    let _ = stop_noauth.send(());

    let proxy = recording_proxy::RecordingProxy::start(&keystone).await;
    let seen = || proxy.calls().len();
    let mut config = base_config(&dir.path().join("ks"));
    std::fs::create_dir_all(dir.path().join("ks")).unwrap();
    config.default.auth_strategy = AuthStrategy::Keystone;
    let k = &mut config.keystone_authtoken;
    k.auth.auth_url = Some(proxy.url.clone());
    // No `admin` identity endpoint in the test bed's catalog: validation
    // falls back to auth_url, i.e. goes through the counting proxy.
    k.interface = Some("admin".into());
    k.auth_type = Some("password".into());
    k.auth.username = Some("inspector".into());
    k.auth.password = users["inspector"]["password"].as_str().map(str::to_string);
    k.auth.project_name = Some("service".into());
    k.auth.user_domain_name = Some("Default".into());
    k.auth.project_domain_name = Some("Default".into());
    let (url, stop) = serve(config).await;

    let first_token = token(&client, &keystone, &users).await;
    let second_token = token(&client, &keystone, &users).await;

    let before = seen();
    let very_first = get(&client, &url, Some(&first_token)).await;
    let very_first_calls = seen() - before;

    let before = seen();
    let cold = get(&client, &url, Some(&second_token)).await;
    let cold_calls = seen() - before;

    let before = seen();
    let hot = warm(&client, &url, Some(&second_token), requests).await;
    let warm_calls = seen() - before;
    let _ = stop.send(());

    println!("GET /v1/introspection, {requests} warm requests per row\n");
    println!("| request | latency | Keystone requests |");
    println!("|---|---|---|");
    println!(
        "| first authenticated request (service token + validation) | {} | {very_first_calls} |",
        ms(very_first)
    );
    println!(
        "| first request of another token (validation) | {} | {cold_calls} |",
        ms(cold)
    );
    println!(
        "| warm, keystone: mean / p50 / p99 | {} / {} / {} | {warm_calls} in {requests} requests |",
        ms(hot.mean),
        ms(hot.p50),
        ms(hot.p99)
    );
    println!(
        "| warm, noauth baseline: mean / p50 / p99 | {} / {} / {} | - |",
        ms(baseline.mean),
        ms(baseline.p50),
        ms(baseline.p99)
    );
    println!(
        "\nKeystone requests seen: {:?}",
        proxy.calls().iter().map(|c| c.line()).collect::<Vec<_>>()
    );
    assert_eq!(warm_calls, 0, "a warm request went to Keystone");
}
