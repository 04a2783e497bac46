//! Version discovery documents.

use crate::api::path::ApiPath;
use axum::http::StatusCode;
use axum::response::Response;
use inspector_core::api_version::ApiVersion;
use serde_json::json;

use crate::api::error::ApiError;
use crate::api::links::BaseUrl;
use crate::api::render;

pub async fn versions(base: BaseUrl) -> Response {
    let doc = json!({"versions": [{
        "id": ApiVersion::MAX.to_string(),
        "status": "CURRENT",
        "links": [{"href": base.link("/v1"), "rel": "self"}],
    }]});
    render::json(StatusCode::OK, &doc)
}

/// The OpenAPI document (1.19), with this request's base URL as its server.
pub async fn openapi(base: BaseUrl) -> Response {
    render::json(StatusCode::OK, &crate::api::openapi::served(&base))
}

/// Resources of a major version; upstream answers every other single path
/// segment with this route's 404 (upstream-behaviour §q18), which we keep.
/// The route table passes the resources in.
pub async fn version_resources(
    ApiPath(version): ApiPath<String>,
    base: BaseUrl,
    resources: Vec<&'static str>,
) -> Result<Response, ApiError> {
    if version != "v1" {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Version {version} not found."),
        ));
    }
    let resources: Vec<_> = resources
        .iter()
        .map(|name| json!({"name": name, "links": [{"href": base.link(&format!("/v1/{name}")), "rel": "self"}]}))
        .collect();
    Ok(render::json(
        StatusCode::OK,
        &json!({"resources": resources}),
    ))
}
