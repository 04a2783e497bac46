//! Layers every response goes through: a request id and access log, API
//! version negotiation (before routing and authentication, as upstream), the
//! version headers on every response, errors included.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use inspector_core::api_version;
use tracing::Instrument;

use super::error::{ApiError, InternalDetail, error_body};
use crate::api::state::AppState;

pub const VERSION_HEADER: HeaderName =
    HeaderName::from_static("x-openstack-ironic-inspector-api-version");
pub const MIN_VERSION_HEADER: HeaderName =
    HeaderName::from_static("x-openstack-ironic-inspector-api-minimum-version");
pub const MAX_VERSION_HEADER: HeaderName =
    HeaderName::from_static("x-openstack-ironic-inspector-api-maximum-version");
pub const STANDARD_VERSION_HEADER: HeaderName = HeaderName::from_static("openstack-api-version");
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-openstack-request-id");

fn header_text(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    // A header that is not valid text is treated like a malformed version.
    headers.get(name).map(|v| {
        v.to_str()
            .map(str::to_owned)
            .unwrap_or_else(|_| "\u{fffd}".into())
    })
}

pub async fn request_context(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = format!("req-{}", uuid::Uuid::new_v4());
    let span = tracing::info_span!("request", id = %request_id);
    async move {
        let started = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_else(|| "unmatched".into());
        let legacy = header_text(request.headers(), &VERSION_HEADER);
        let standard = header_text(request.headers(), &STANDARD_VERSION_HEADER);
        let mut response = match api_version::negotiate(legacy.as_deref(), standard.as_deref()) {
            Ok(version) => {
                request.extensions_mut().insert(version);
                next.run(request).await
            }
            Err(err) => {
                let status = match err {
                    api_version::VersionError::Malformed => StatusCode::BAD_REQUEST,
                    api_version::VersionError::Unsupported(_) => StatusCode::NOT_ACCEPTABLE,
                };
                ApiError::new(status, err.to_string()).into_response()
            }
        };
        if let Some(InternalDetail(detail)) = response.extensions_mut().remove::<InternalDetail>() {
            tracing::error!(error = %detail, "internal error");
            if state.debug() {
                *response.body_mut() = Body::from(error_body(&format!("Internal server error: {detail}")));
                response.headers_mut().remove(header::CONTENT_LENGTH);
            }
        }
        let headers = response.headers_mut();
        headers.insert(MIN_VERSION_HEADER, HeaderValue::from_static("1.0"));
        headers.insert(MAX_VERSION_HEADER, HeaderValue::from_static("1.19"));
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            headers.insert(REQUEST_ID_HEADER, value);
        }
        let status = response.status().as_u16();
        crate::metrics::http_request(method.as_str(), &route, status, started.elapsed());
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(%method, %path, status, elapsed_ms = format_args!("{elapsed_ms:.2}"), "request");
        response
    }
    .instrument(span)
    .await
}
