//! The ramdisk callback. Public: the ramdisk has no credentials.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use inspector_core::py::value::type_name;
use serde_json::{Value, json};

use crate::api::body::{self, BodyLimits};
use crate::api::error::ApiError;
use crate::api::render;
use crate::api::state::AppState;

pub fn processing_limits(state: &AppState) -> BodyLimits {
    let processing = &state.inspector().config().processing;
    BodyLimits {
        max_bytes: usize::try_from(processing.max_body_size).unwrap_or(usize::MAX),
        max_depth: processing.max_json_depth as usize,
    }
}

pub async fn continue_(
    State(state): State<AppState>,
    request_body: Body,
) -> Result<Response, ApiError> {
    let _turn = state.callback_turn().await?;
    let limits = processing_limits(&state);
    let (bytes, mut admission) =
        body::read_admitted(state.documents(), request_body, limits).await?;
    let data = match body::parse_admitted(&bytes, limits, &mut admission).await? {
        Value::Object(map) => map,
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid data: expected a JSON object, got {}",
                type_name(&other)
            )));
        }
    };
    drop(bytes);
    let uuid = state.inspector().processing().process(data).await?;
    drop(admission);
    Ok(render::json(StatusCode::OK, &json!({"uuid": uuid})))
}
