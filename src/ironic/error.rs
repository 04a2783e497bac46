//! Typed failures of Ironic calls.

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum IronicError {
    #[error("{message}")]
    NotFound { message: String },
    /// 409 that is not a transient node lock (e.g. a duplicate port MAC).
    #[error("{message}")]
    Conflict { message: String },
    /// Any other 4xx: our request was refused.
    #[error("{message} (HTTP {status})")]
    Rejected { status: u16, message: String },
    /// 5xx, after retries.
    #[error("Ironic failed: {message} (HTTP {status})")]
    Server { status: u16, message: String },
    /// Connection refused, reset, timed out, after retries.
    #[error("Ironic is unreachable: {0}")]
    Unreachable(String),
    /// Transient failures went on past the time the caller could wait (one
    /// API request's deadline).
    #[error(
        "Ironic at {endpoint} is unreachable: {cause} (gave up after {attempts} attempt(s) in {:.1} s; \
         an API request waits at most {} s for Ironic)",
        waited.as_secs_f64(),
        patience.as_secs()
    )]
    OutOfTime {
        endpoint: String,
        cause: String,
        attempts: u32,
        waited: Duration,
        patience: Duration,
    },
    /// The service is stopping: retries and their pauses end at once.
    #[error("inspector is shutting down: gave up on {target} ({cause})")]
    ShuttingDown { target: String, cause: String },
    #[error("authentication to Ironic failed: {0}")]
    Auth(String),
    #[error("invalid [ironic] configuration: {0}")]
    Config(String),
    #[error("unexpected answer from Ironic: {0}")]
    InvalidResponse(String),
}

impl IronicError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, IronicError::NotFound { .. })
    }
}

/// Ironic's error body: `{"error_message": "<JSON text>"}` whose inner
/// document has a `faultstring`; fall back to the raw text (an HTML page,
/// from a proxy in front of Ironic, as its text without tags).
pub fn error_message(body: &str) -> String {
    let outer: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => return raw_text(body),
    };
    let inner = &outer["error_message"];
    let decoded = match inner {
        serde_json::Value::String(text) => {
            serde_json::from_str::<serde_json::Value>(text).unwrap_or(inner.clone())
        }
        other => other.clone(),
    };
    decoded
        .get("faultstring")
        .and_then(|f| f.as_str())
        .map(str::to_owned)
        .or_else(|| decoded.as_str().map(str::to_owned))
        .unwrap_or_else(|| raw_text(body))
}

/// The first 500 characters of a body that is not Ironic's JSON; an HTML
/// page loses its markup (`<title>502 Bad Gateway</title>` reads
/// "502 Bad Gateway").
fn raw_text(body: &str) -> String {
    let body = body.trim();
    if !body.starts_with('<') {
        return body.chars().take(500).collect();
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    words.join(" ").chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ironic_double_encoded_errors_are_unwrapped() {
        let body = r#"{"error_message": "{\"faultstring\": \"Node abc could not be found.\", \"faultcode\": \"Client\", \"debuginfo\": null}"}"#;
        assert_eq!(error_message(body), "Node abc could not be found.");
        assert_eq!(
            error_message(
                "<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
            ),
            "502 Bad Gateway 502 Bad Gateway nginx"
        );
        assert_eq!(error_message("  plain text  "), "plain text");
        assert_eq!(error_message(r#"{"error_message": "plain"}"#), "plain");
    }
}
