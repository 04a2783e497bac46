//! An Ironic answering garbage (invalid JSON, a proxy's HTML error page,
//! the wrong JSON shape, a 100 MB body): a real Ironic cannot be made to,
//! so a small HTTP server plays one, choosing the fault by node UUID. The
//! start of a node whose own fetch fails answers 503; a node whose ports
//! listing fails, or whose update at the callback gets garbage, ends in
//! `error`; the service keeps serving the good node.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{TestApp, json_with_status};
use crate::processing::Machine;

const GOOD: &str = "0b0a0000-0000-4000-8000-000000000001";
/// Faults in `GET /v1/nodes/<uuid>`: the start request itself fails.
const NODE_NOT_JSON: &str = "0b0a0000-0000-4000-8000-000000000002";
const NODE_WITHOUT_UUID: &str = "0b0a0000-0000-4000-8000-000000000003";
const NODE_HUGE: &str = "0b0a0000-0000-4000-8000-000000000004";
/// Faults in the ports listing, done after the start was accepted.
const PORTS_NOT_JSON: &str = "0b0a0000-0000-4000-8000-000000000005";
const PORTS_HTML_502: &str = "0b0a0000-0000-4000-8000-000000000006";
const PORTS_WRONG_SHAPE: &str = "0b0a0000-0000-4000-8000-000000000007";
const PORTS_HUGE: &str = "0b0a0000-0000-4000-8000-000000000008";
/// Starts well; the update at the ramdisk's callback gets garbage.
const PATCH_NOT_JSON: &str = "0b0a0000-0000-4000-8000-000000000009";

/// The one port of `node` in this Ironic.
fn mac_of(node: &str) -> String {
    format!("52:54:00:0b:0a:{}", &node[node.len() - 2..])
}

const HUGE_BYTES: usize = 100 * 1024 * 1024;

const HTML_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\
    <body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

enum Answer {
    Json(u16, Value),
    Raw(u16, &'static str, &'static str),
    /// 200, `[` then spaces, without a length, until HUGE_BYTES were sent.
    Endless,
}

fn answer(method: &str, target: &str) -> Answer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let node_doc = |uuid: &str| {
        json!({"uuid": uuid, "name": null, "provision_state": "manageable",
               "driver_info": {}, "properties": {}, "extra": {}})
    };
    match (method, path) {
        ("GET", "/") => Answer::Json(
            200,
            json!({"default_version": {"id": "v1", "version": "1.115", "min_version": "1.1", "status": "CURRENT"}}),
        ),
        ("GET", "/v1/ports") if query.starts_with("node=") => {
            let node = query
                .trim_start_matches("node=")
                .split('&')
                .next()
                .unwrap_or("");
            match node {
                PORTS_NOT_JSON => Answer::Raw(200, "application/json", "{\"ports\": [{\"uuid\""),
                PORTS_HTML_502 => Answer::Raw(502, "text/html", HTML_502),
                PORTS_WRONG_SHAPE => Answer::Json(200, json!({"ports": "x"})),
                PORTS_HUGE => Answer::Endless,
                _ => Answer::Json(
                    200,
                    json!({"ports": [{"uuid": "0b0a0000-0000-4000-8000-0000000000ff",
                                      "address": mac_of(node), "node_uuid": node}]}),
                ),
            }
        }
        ("GET", path) if path.ends_with("/validate") => {
            Answer::Json(200, json!({"power": {"result": true, "reason": null}}))
        }
        ("PUT", path) if path.ends_with("/management/boot_device") => {
            Answer::Raw(204, "application/json", "")
        }
        ("PUT", path) if path.ends_with("/states/power") => {
            Answer::Raw(202, "application/json", "")
        }
        ("PATCH", path) if path == format!("/v1/nodes/{PATCH_NOT_JSON}") => {
            Answer::Raw(200, "application/json", "<html>oops</html>")
        }
        ("GET", path) if path.starts_with("/v1/nodes/") => {
            match path.trim_start_matches("/v1/nodes/") {
                NODE_NOT_JSON => Answer::Raw(200, "application/json", "<html>not json</html>"),
                NODE_WITHOUT_UUID => {
                    Answer::Json(200, json!({"name": "x", "provision_state": "manageable"}))
                }
                NODE_HUGE => Answer::Endless,
                uuid => Answer::Json(200, node_doc(uuid)),
            }
        }
        _ => Answer::Json(404, json!({"error_message": "not here"})),
    }
}

/// Serves one request on `stream` (HTTP/1.1, closed after the answer).
async fn serve_one(mut stream: TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    if stream.read_exact(&mut body).await.is_err() {
        return;
    }
    let (status, content_type, text) = match answer(method, target) {
        Answer::Json(status, doc) => (status, "application/json", doc.to_string()),
        Answer::Raw(status, content_type, text) => (status, content_type, text.to_string()),
        Answer::Endless => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let spaces = vec![b' '; 64 * 1024];
            let mut sent = 0;
            // The client hangs up once it has read enough.
            while sent < HUGE_BYTES && stream.write_all(&spaces).await.is_ok() {
                sent += spaces.len();
            }
            return;
        }
    };
    let reply = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn garbage_ironic() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_one(stream));
        }
    });
    url
}

/// The most memory this process ever held, in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

async fn start(app: &TestApp, node: &str) -> reqwest::Response {
    app.request(reqwest::Method::POST, &format!("/v1/introspection/{node}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn garbage_from_ironic_fails_the_node_or_the_request_clearly() {
    let ironic = garbage_ironic().await;
    let app = TestApp::builder()
        .ironic_at(&ironic)
        .ironic_retries(0, 0)
        .configure(|c| {
            c.ironic.client.timeout = Some(Duration::from_secs(20));
            c.default.introspection_delay = 0;
        })
        .spawn()
        .await;
    let peak_before = peak_rss_kib();

    for (node, expected) in [
        (NODE_NOT_JSON, "the body is not JSON"),
        (NODE_WITHOUT_UUID, "expected a node object with a \"uuid\""),
        (NODE_HUGE, "the answer exceeds 32 MiB"),
    ] {
        let body = json_with_status(start(&app, node).await, 503).await;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("unexpected answer from Ironic: GET ")
                && message.contains(&format!(
                    "/v1/nodes/{node}?fields=uuid,provision_state,driver_info: {expected}"
                )),
            "{node}: {message}"
        );
        let status = app.get(&format!("/v1/introspection/{node}")).await;
        assert_eq!(status.status(), 404, "{node}: no node was recorded");
    }

    for (node, expected) in [
        (PORTS_NOT_JSON, "unexpected answer from Ironic: GET "),
        (
            PORTS_HTML_502,
            "Ironic failed: 502 Bad Gateway 502 Bad Gateway nginx (HTTP 502)",
        ),
        (
            PORTS_WRONG_SHAPE,
            "expected an object with a \"ports\" list",
        ),
        (PORTS_HUGE, "the answer exceeds 32 MiB"),
    ] {
        app.start_introspection(node, "").await;
        let status = app
            .wait_for_state(node, "error", Duration::from_secs(20))
            .await;
        let error = status["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with(&format!("Cannot list the ports of node {node}: "))
                && error.contains(expected)
                && !error.contains('<'),
            "{node}: {error}"
        );
    }

    // At the callback: the node's update gets garbage.
    app.start_introspection(PATCH_NOT_JSON, "").await;
    app.wait_for_state(PATCH_NOT_JSON, "waiting", Duration::from_secs(20))
        .await;
    let mut machine = Machine::new();
    machine.pxe = mac_of(PATCH_NOT_JSON);
    let answer = app.callback(&machine.data()).await;
    assert_ne!(answer.status(), 500, "{:?}", answer.text().await);
    let status = app
        .wait_for_state(PATCH_NOT_JSON, "error", Duration::from_secs(20))
        .await;
    let error = status["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!(
            "unexpected answer from Ironic: PATCH {ironic}/v1/nodes/{PATCH_NOT_JSON}: the body is not JSON"
        )),
        "{error}"
    );

    // The 100 MB answers were cut short, not held in memory.
    let grown_mib = (peak_rss_kib() - peak_before) / 1024;
    assert!(grown_mib < 80, "peak memory grew by {grown_mib} MiB");
    // The service still works with an Ironic that answers well.
    app.start_introspection(GOOD, "").await;
    let status = app
        .wait_for_state(GOOD, "waiting", Duration::from_secs(20))
        .await;
    assert_eq!(status["error"], json!(null), "{status}");
    assert_eq!(app.get("/").await.status(), 200);
    app.finish().await;
}
