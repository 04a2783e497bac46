//! JSON output as upstream's Flask produced it: compact, keys sorted, one
//! trailing newline. Sorting is done here rather than relying on serde_json's
//! map type, so stored documents keep their original order in the database.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use serde_json::Value;

/// Serialises with object keys sorted at every level.
pub fn to_json_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_sorted(value, &mut out);
    out.push(b'\n');
    out
}

fn write_sorted(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Serialising a string cannot fail.
                let _ = serde_json::to_writer(&mut *out, key);
                out.push(b':');
                write_sorted(val, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_sorted(item, out);
            }
            out.push(b']');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

/// A JSON response with the given status.
pub fn json(status: StatusCode, value: &Value) -> Response {
    json_text(status, to_json_bytes(value))
}

/// A response of JSON already rendered (stored documents, which upstream
/// serves as stored, and bodies written straight from typed rows).
pub fn json_text(status: StatusCode, text: impl Into<axum::body::Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        text.into(),
    )
        .into_response()
}

/// A large JSON body written in chunks of about 32 KiB. Each stays under the
/// allocator's mmap threshold (64 KiB, set in `main.rs`), so the body of a
/// list page is written into heap memory freed by the last one, not into
/// pages mapped, faulted in and unmapped for every response: that was a
/// seventh of a 1,000-status page's CPU.
pub struct ChunkedJson {
    done: VecDeque<Bytes>,
    current: Vec<u8>,
}

impl ChunkedJson {
    const CUT_AT: usize = 32 * 1024;
    /// Room for the item that crosses `CUT_AT` without growing the chunk.
    const CAPACITY: usize = 48 * 1024;

    pub fn new() -> Self {
        ChunkedJson {
            done: VecDeque::new(),
            current: Vec::with_capacity(Self::CAPACITY),
        }
    }

    /// Where the next bytes go. Call [`ChunkedJson::item_written`] after
    /// each item, so a chunk ends between items.
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.current
    }

    pub fn item_written(&mut self) {
        if self.current.len() >= Self::CUT_AT {
            let full = std::mem::replace(&mut self.current, Vec::with_capacity(Self::CAPACITY));
            self.done.push_back(Bytes::from(full));
        }
    }

    pub fn into_response(mut self, status: StatusCode) -> Response {
        self.done.push_back(Bytes::from(self.current));
        let remaining = self.done.iter().map(|chunk| chunk.len() as u64).sum();
        json_text(
            status,
            axum::body::Body::new(Chunks {
                chunks: self.done,
                remaining,
            }),
        )
    }
}

impl Default for ChunkedJson {
    fn default() -> Self {
        Self::new()
    }
}

/// The chunks as a body of known length: the response keeps its
/// Content-Length rather than switching to chunked transfer encoding.
struct Chunks {
    chunks: VecDeque<Bytes>,
    remaining: u64,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let next = self.chunks.pop_front();
        if let Some(chunk) = &next {
            self.remaining -= chunk.len() as u64;
        }
        Poll::Ready(next.map(|chunk| Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// A JSON response from a typed document, for large ones: written straight
/// into the body without a `Value` tree. The type must declare its fields in
/// sorted order so the bytes are those [`json`] would send.
pub fn json_typed<T: serde::Serialize>(status: StatusCode, document: &T) -> Response {
    let mut out = Vec::with_capacity(256);
    // Serialising plain structs of strings cannot fail.
    let _ = serde_json::to_writer(&mut out, document);
    out.push(b'\n');
    json_text(status, out)
}

/// 202 with the exact `{}\n` body upstream sends (and a JSON content type,
/// which Apache mod_proxy setups rely on).
pub fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        "{}\n",
    )
        .into_response()
}

/// 204 with an empty body. Upstream also sent `Content-Length: 0` (an
/// eventlet workaround); HTTP forbids it on a 204 and hyper drops it.
pub fn no_content() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A body of many items leaves in chunks cut between items, each under
    /// the mmap threshold, and keeps an exact Content-Length.
    #[tokio::test]
    async fn a_chunked_body_is_the_whole_text_with_its_length() {
        use http_body_util::BodyExt;

        let item = format!("{{\"name\":\"{}\"}}", "x".repeat(500));
        let mut body = ChunkedJson::new();
        body.out().push(b'[');
        for i in 0..300 {
            if i > 0 {
                body.out().push(b',');
            }
            body.out().extend_from_slice(item.as_bytes());
            body.item_written();
        }
        body.out().extend_from_slice(b"]\n");
        let expected = format!("[{}]\n", vec![item.as_str(); 300].join(","));

        let response = body.into_response(StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let mut body = response.into_body();
        assert_eq!(
            http_body::Body::size_hint(&body).exact(),
            Some(expected.len() as u64)
        );
        let mut received = Vec::new();
        let mut chunks = 0;
        while let Some(frame) = body.frame().await {
            let chunk = frame.unwrap().into_data().unwrap();
            assert!(chunk.len() < 64 * 1024, "a chunk of {} bytes", chunk.len());
            chunks += 1;
            received.extend_from_slice(&chunk);
        }
        assert!(chunks > 1, "one chunk");
        assert_eq!(String::from_utf8(received).unwrap(), expected);
    }

    #[test]
    fn keys_are_sorted_at_every_level_with_a_trailing_newline() {
        let value = json!({"b": 1, "a": {"z": [{"y": 1, "x": 2}], "c": null}});
        assert_eq!(
            String::from_utf8(to_json_bytes(&value)).unwrap(),
            "{\"a\":{\"c\":null,\"z\":[{\"x\":2,\"y\":1}]},\"b\":1}\n"
        );
    }

    #[test]
    fn strings_are_escaped() {
        let value = json!({"k\"": "line\nbreak \u{1}"});
        let text = String::from_utf8(to_json_bytes(&value)).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    }
}
