//! `loadgen http --client hyper|raw`: one keep-alive connection driven by a
//! leaner client than reqwest, to split what one HTTP exchange costs between
//! the kernel's loopback TCP (`raw`: a blocking socket and no HTTP library),
//! hyper's HTTP/1 connection (`hyper`: what reqwest runs on) and reqwest's own
//! layers (the default client, which the service uses).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use reqwest::{Method, Url};

/// One exchange's outcome: the status, or a transport error's text.
pub type Answer = Result<u16, String>;

/// Where a single connection goes, what it sends and until when.
pub struct Plan {
    host: String,
    port: u16,
    path: String,
    method: Method,
    /// Used in turn; none for requests without a body.
    bodies: Vec<String>,
    count: u64,
    deadline: Instant,
}

impl Plan {
    pub fn new(
        url: &str,
        method: Method,
        bodies: Vec<String>,
        count: u64,
        deadline: Instant,
    ) -> anyhow::Result<Self> {
        let url = Url::parse(url).with_context(|| format!("--url {url}"))?;
        if url.scheme() != "http" {
            bail!("--client hyper and raw speak plain http only");
        }
        let host = url.host_str().context("--url has no host")?.to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        Ok(Self {
            host,
            port,
            path,
            method,
            bodies,
            count,
            deadline,
        })
    }

    fn body(&self, index: u64) -> Option<&String> {
        (!self.bodies.is_empty()).then(|| &self.bodies[index as usize % self.bodies.len()])
    }
}

/// Sends the plan's requests one after the other on one blocking socket,
/// calling `record` with each answer and its latency.
pub fn raw(plan: &Plan, mut record: impl FnMut(Answer, Duration)) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect((plan.host.as_str(), plan.port))
        .with_context(|| format!("connect to {}:{}", plan.host, plan.port))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut buffer = Vec::with_capacity(64 * 1024);
    for index in 0..plan.count {
        if Instant::now() >= plan.deadline {
            break;
        }
        let mut request = format!(
            "{} {} HTTP/1.1\r\nHost: {}:{}\r\nAccept: application/json\r\n",
            plan.method, plan.path, plan.host, plan.port
        );
        let body = plan.body(index);
        if let Some(body) = body {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        if let Some(body) = body {
            request.push_str(body);
        }
        let started = Instant::now();
        let answer = stream
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())
            .and_then(|()| read_response(&mut stream, &mut buffer));
        let failed = answer.is_err();
        record(answer, started.elapsed());
        if failed {
            break; // the connection's framing is lost
        }
    }
    Ok(())
}

/// Reads one response with a Content-Length (or none, for 204 and 304),
/// which is all the servers measured here send; chunked bodies are refused.
fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Answer {
    buffer.clear();
    let mut chunk = [0u8; 16 * 1024];
    let (head_len, status, body_len) = loop {
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head =
                std::str::from_utf8(&buffer[..end]).map_err(|_| "a response head not in UTF-8")?;
            break parse_head(head).map(|(status, body)| (end + 4, status, body))?;
        }
    };
    while buffer.len() < head_len + body_len {
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection inside a body".into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Ok(status)
}

fn parse_head(head: &str) -> Result<(u16, usize), String> {
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP status line: {head:.60}"))?;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length: {value}"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err("chunked responses are not read by --client raw".into());
        }
    }
    match (length, status) {
        (Some(length), _) => Ok((status, length)),
        (None, 204 | 304) => Ok((status, 0)),
        (None, _) => Err(format!("a {status} response without Content-Length")),
    }
}

/// As [`raw`], through hyper's HTTP/1 connection on the current runtime.
pub async fn hyper(plan: &Plan, mut record: impl FnMut(Answer, Duration)) -> anyhow::Result<()> {
    let stream = tokio::net::TcpStream::connect((plan.host.as_str(), plan.port))
        .await
        .with_context(|| format!("connect to {}:{}", plan.host, plan.port))?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(
        hyper_util::rt::TokioIo::new(stream),
    )
    .await?;
    tokio::spawn(connection);
    let authority = format!("{}:{}", plan.host, plan.port);
    for index in 0..plan.count {
        if Instant::now() >= plan.deadline {
            break;
        }
        let mut request = hyper::Request::builder()
            .method(plan.method.clone())
            .uri(plan.path.as_str())
            .header("host", authority.as_str())
            .header("accept", "application/json");
        let body = match plan.body(index) {
            None => Bytes::new(),
            Some(body) => {
                request = request.header("content-type", "application/json");
                Bytes::from(body.clone())
            }
        };
        let request = request.body(Full::new(body))?;
        let started = Instant::now();
        let answer = match tokio::time::timeout(Duration::from_secs(60), async {
            // the connection takes the next request once it has finished the last one
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status().as_u16();
            response.into_body().collect().await?;
            Ok::<_, hyper::Error>(status)
        })
        .await
        {
            Ok(Ok(status)) => Ok(status),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 60 s".to_string()),
        };
        let failed = answer.is_err();
        record(answer, started.elapsed());
        if failed {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_head;

    #[test]
    fn a_head_gives_its_status_and_body_length() {
        assert_eq!(
            parse_head("HTTP/1.1 200 OK\r\ncontent-length: 42\r\nX-A: b"),
            Ok((200, 42))
        );
        assert_eq!(
            parse_head("HTTP/1.1 204 No Content\r\nX-A: b"),
            Ok((204, 0))
        );
        assert!(parse_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked").is_err());
        assert!(parse_head("HTTP/1.1 200 OK").is_err());
        assert!(parse_head("garbage").is_err());
    }
}
