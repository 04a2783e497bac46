//! Helpers shared by the fuzz targets: how an input is split into parts and
//! the fixed documents targets run against.

use serde_json::Value;

/// Splits an input at its first NUL byte: the text before it, and what
/// follows (empty when there is no NUL). Targets that take two inputs
/// (a pattern and a subject, a template and a document) read them so.
pub fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// The introspection data targets fall back on when the input gives none:
/// an inventory shaped as IPA posts it.
pub fn default_data() -> Value {
    serde_json::from_str(include_str!("../data/introspection-data.json"))
        .expect("introspection-data.json is valid JSON")
}

/// A JSON document of the input part, or `fallback` when it is empty or
/// not JSON (an input that is not JSON still exercises the other part).
pub fn json_or(bytes: &[u8], fallback: impl FnOnce() -> Value) -> Value {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|text| !text.is_empty())
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_else(fallback)
}

/// Whether a JSON text nests deeper than the service accepts (its default
/// `[processing] max_json_depth`): the service refuses those before
/// parsing, so targets do too, or serde_json's own recursion limit would be
/// what the fuzzer explores.
pub fn too_deep(bytes: &[u8]) -> bool {
    inspector_core::json_depth::exceeds_depth(bytes, 25)
}
