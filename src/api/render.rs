//! JSON output as upstream's Flask produced it: compact, keys sorted, one
//! trailing newline. Sorting is done here rather than relying on serde_json's
//! map type, so stored documents keep their original order in the database.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
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
