//! The HTTP layer: routes, version negotiation, authentication, error
//! rendering. Handlers are thin; the work happens in `domain`.

pub mod auth;
pub mod body;
pub mod dashboard;
pub mod error;
pub mod handlers;
pub mod links;
pub mod middleware;
pub mod openapi;
pub mod path;
pub mod render;
pub mod routes;
pub mod state;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::Layer;
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};

use error::ApiError;
use handlers::health;
use state::AppState;

/// What a URL no route serves gets; also a route asked for below its version.
pub(crate) async fn not_found() -> Response {
    not_found_response()
}

pub(crate) fn not_found_response() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check \
         your spelling and try again.",
    )
    .into_response()
}

/// Upstream answered with an HTML page here (upstream-behaviour §api-errors); we keep the status.
async fn method_not_allowed(request: Request) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "405 Method Not Allowed: The method {} is not allowed for the requested URL.",
            request.method()
        ),
    )
    .into_response()
}

/// The application, trailing slashes ignored on every route.
pub fn app(state: AppState) -> NormalizePath<Router> {
    let mut router = routes::router(state.authenticator())
        .merge(dashboard::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ));
    // Like oslo.middleware's, the health check sits outside the API: no
    // authentication and no version negotiation.
    let health_config = &state.inspector().config().healthcheck;
    if health_config.enabled {
        let path = health_config.path.clone();
        router = Router::new()
            .route(&path, get(health::healthcheck))
            .merge(router);
    }
    if state.inspector().config().default.use_ssl {
        router = router.layer(axum::Extension(links::DefaultScheme("https")));
    }
    let router = router.with_state(state);
    NormalizePathLayer::trim_trailing_slash().layer(router)
}
