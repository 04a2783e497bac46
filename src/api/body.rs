//! Request bodies: read whatever the Content-Type says (the ramdisk sends
//! none, and upstream parsed bodies "forcibly"), refuse oversized or too
//! deeply nested documents before parsing them.

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use serde_json::Value;

use super::error::ApiError;

/// Limits applied to one endpoint's body.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub max_depth: usize,
}

pub async fn read_bytes(body: Body, limits: BodyLimits) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limits.max_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "Request body is larger than the limit of {} bytes",
                    limits.max_bytes
                ),
            )
        })
}

/// Parses a JSON document within the limits; the error message is the
/// caller's to choose, since upstream words them differently per endpoint.
pub fn parse_json(bytes: &[u8], limits: BodyLimits) -> Result<Value, ParseFailure> {
    if inspector_core::json_depth::exceeds_depth(bytes, limits.max_depth) {
        return Err(ParseFailure::TooDeep(limits.max_depth));
    }
    serde_json::from_slice(bytes).map_err(|e| ParseFailure::Invalid(e.to_string()))
}

#[derive(Debug)]
pub enum ParseFailure {
    TooDeep(usize),
    Invalid(String),
}

impl From<ParseFailure> for ApiError {
    fn from(failure: ParseFailure) -> Self {
        match failure {
            ParseFailure::TooDeep(max) => ApiError::bad_request(format!(
                "Invalid JSON: documents may nest at most {max} levels deep"
            )),
            ParseFailure::Invalid(detail) => {
                ApiError::bad_request(format!("Invalid JSON in request body: {detail}"))
            }
        }
    }
}
