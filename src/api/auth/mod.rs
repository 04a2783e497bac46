//! Authentication and authorization (upstream-behaviour §auth). One layer,
//! [`guard`], attached to each route after routing (as upstream checks
//! inside each endpoint, so an unknown URL is a 404 even without
//! credentials), with the route's policy rule and [`Access`] from the route
//! table. Authenticated routes need an identity; public ones (`/`,
//! `/{version}`, `/v1/continue`) need none but, under keystone, still obey
//! their policy rule. Policy applies to keystone only: `noauth` and
//! `http_basic` let any (authenticated) caller do everything, as upstream.
//! Before any of that, a browser's request that would change something,
//! sent by a page of another origin, is refused (see
//! [`session::is_cross_site_change`]).

mod basic;
mod keystone;
pub mod session;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;

pub use basic::{BasicAuth, HtpasswdProblem, HtpasswdUnreadable, parse_htpasswd};
pub use keystone::{KeystoneAuth, KeystoneAuthError};

/// How requests are authenticated, from `[DEFAULT] auth_strategy`.
pub enum Authenticator {
    Noauth,
    HttpBasic(BasicAuth),
    Keystone(Box<KeystoneAuth>),
}

/// The authenticated caller, for logs.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: Option<String>,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No identity needed (version discovery, the ramdisk's callback); under
    /// keystone the policy rule is still checked, with `is_public_api` set.
    Public,
    /// The caller must authenticate, and under keystone pass the rule.
    Authenticated,
}

/// What [`guard`] checks for one route.
#[derive(Clone)]
pub struct RouteGuard {
    pub authenticator: Arc<Authenticator>,
    pub rule: &'static str,
    pub access: Access,
}

pub async fn guard(State(guard): State<RouteGuard>, request: Request, next: Next) -> Response {
    if session::is_cross_site_change(request.method(), request.headers()) {
        tracing::info!(method = %request.method(), path = %request.uri().path(), "refusing a cross-site request");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "Cross-site request refused: a page of another origin cannot change anything here",
        )
        .into_response();
    }
    match guard.access {
        Access::Authenticated => {
            require_auth(&guard.authenticator, guard.rule, request, next).await
        }
        Access::Public => public_policy(&guard.authenticator, guard.rule, request, next).await,
    }
}

async fn require_auth(
    authenticator: &Authenticator,
    rule: &'static str,
    mut request: Request,
    next: Next,
) -> Response {
    let identity = match authenticator {
        Authenticator::Noauth => Identity { user: None },
        Authenticator::HttpBasic(basic) => match basic
            .authenticate(request.headers().get(axum::http::header::AUTHORIZATION))
            .await
        {
            Ok(user) => Identity { user: Some(user) },
            Err(response) => return response,
        },
        Authenticator::Keystone(keystone) => {
            match keystone
                .authorize(request.method(), request.headers(), rule, false)
                .await
            {
                Ok(identity) => identity,
                Err(response) => return response,
            }
        }
    };
    if let Some(user) = &identity.user {
        tracing::debug!(user = %user, "authenticated");
    }
    request.extensions_mut().insert(identity);
    next.run(request).await
}

/// Public endpoints: no identity needed, but keystone's policy still applies
/// (with `is_public_api` set in the credentials).
async fn public_policy(
    authenticator: &Authenticator,
    rule: &'static str,
    mut request: Request,
    next: Next,
) -> Response {
    if let Authenticator::Keystone(keystone) = authenticator {
        match keystone
            .authorize(request.method(), request.headers(), rule, true)
            .await
        {
            Ok(identity) => {
                request.extensions_mut().insert(identity);
            }
            Err(response) => return response,
        }
    }
    next.run(request).await
}

/// For the dashboard: authenticates the request as the API does and says
/// which of `rules` the caller passes (every one under `noauth` and
/// `http_basic`, which have no policy), with the caller's name; or the
/// response refusing the request (under `http_basic`, the 401 whose
/// challenge makes a browser ask for credentials).
pub async fn dashboard_access(
    authenticator: &Authenticator,
    headers: &axum::http::HeaderMap,
    rules: &[&str],
) -> Result<(Option<String>, Vec<bool>), Response> {
    match authenticator {
        Authenticator::Noauth => Ok((None, vec![true; rules.len()])),
        Authenticator::HttpBasic(basic) => {
            let user = basic
                .authenticate(headers.get(axum::http::header::AUTHORIZATION))
                .await?;
            Ok((Some(user), vec![true; rules.len()]))
        }
        Authenticator::Keystone(keystone) => keystone.allowed(headers, rules).await,
    }
}
