//! Operations endpoints: the oslo.middleware-style health check and
//! Prometheus metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;
use crate::api::state::AppState;

/// `OK` when the database answers, 503 otherwise (plain text, as
/// oslo.middleware's healthcheck answers).
pub async fn healthcheck(State(state): State<AppState>) -> Response {
    match state.inspector().statuses().database_answers().await {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
            "OK",
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
                "database unavailable",
            )
                .into_response()
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let nodes = state.inspector().statuses().count_by_state().await?;
    let text = crate::metrics::render(&nodes);
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
