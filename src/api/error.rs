//! Every error leaves the API as `{"error": {"message": "..."}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain::{Error, ErrorKind};

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Detail of an internal error: logged, and shown only with `debug`.
    pub internal_detail: Option<String>,
    pub www_authenticate: Option<HeaderValue>,
}

/// Attached to 500 responses so the outer layer can log it and, with
/// `debug = true`, show it as upstream does.
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            internal_detail: None,
            www_authenticate: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let status = match err.kind {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if err.kind == ErrorKind::Internal {
            return Self {
                internal_detail: Some(err.message),
                ..Self::new(status, "Internal server error")
            };
        }
        Self::new(status, err.message)
    }
}

/// The error document, as bytes.
pub fn error_body(message: &str) -> Vec<u8> {
    super::render::to_json_bytes(&json!({"error": {"message": message}}))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            error_body(&self.message),
        )
            .into_response();
        if let Some(value) = self.www_authenticate {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(detail) = self.internal_detail {
            response.extensions_mut().insert(InternalDetail(detail));
        }
        response
    }
}
