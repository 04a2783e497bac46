//! The web dashboard at `/dashboard/`: a page and its script and style,
//! compiled into the binary (nothing is fetched from elsewhere), that call
//! the JSON API from the browser. The dashboard is not an API resource: it
//! is mounted beside the API's route table, without version negotiation.
//!
//! Authentication is the API's: open under `noauth`; under `http_basic` the
//! page answers 401 with the `Basic` challenge, so the browser asks for
//! credentials and then sends them with every API call; under `keystone` a
//! login form obtains a token from Keystone, kept in an HttpOnly,
//! SameSite=Strict cookie that the API accepts as `X-Auth-Token`, with the
//! CSRF protection of [`crate::api::auth::session`].

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::auth::session::{self, CSRF_COOKIE, TOKEN_COOKIE};
use super::auth::{Authenticator, dashboard_access};
use super::error::ApiError;
use super::render;
use super::state::AppState;

const INDEX_HTML: &str = include_str!("assets/index.html");
const LOGIN_HTML: &str = include_str!("assets/login.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");
const FAVICON_SVG: &str = include_str!("assets/favicon.svg");

/// The page may load only its own script, style and API; no frames, no
/// inline code, forms post only here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; \
                                       frame-ancestors 'none'";

/// The actions the page offers, each with the policy rule the API checks.
const ACTIONS: &[(&str, &str)] = &[
    ("start", "introspection:start"),
    ("abort", "introspection:abort"),
    ("reapply", "introspection:reapply"),
    ("evaluate", "introspection:rule:evaluate"),
];

/// The dashboard's routes (paths without a trailing slash: the application
/// trims it), each answer with the security headers.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(index))
        .route("/dashboard/app.js", get(app_js))
        .route("/dashboard/style.css", get(style_css))
        .route("/dashboard/favicon.svg", get(favicon))
        .route("/dashboard/session", get(session_info))
        .route("/dashboard/login", get(login_form).post(login))
        .route("/dashboard/logout", post(logout))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn favicon() -> Response {
    asset("image/svg+xml", FAVICON_SVG)
}

async fn style_css() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The page. Under `http_basic` only for an authenticated browser (the
/// challenge makes it ask); under `keystone`, without a session, the login
/// form instead.
async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.authenticator().as_ref() {
        Authenticator::Noauth => {}
        Authenticator::HttpBasic(_) => {
            if let Err(refusal) = dashboard_access(state.authenticator(), &headers, &[]).await {
                return refusal;
            }
        }
        Authenticator::Keystone(_) => {
            if session::cookie(&headers, TOKEN_COOKIE).is_none() {
                return Redirect::to("/dashboard/login").into_response();
            }
        }
    }
    html(StatusCode::OK, INDEX_HTML.to_string())
}

/// Who the caller is and which actions policy lets them take (the server
/// enforces the same rules on each call; this only spares the page buttons
/// that would be refused).
async fn session_info(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let rules: Vec<&str> = ACTIONS.iter().map(|(_, rule)| *rule).collect();
    match dashboard_access(state.authenticator(), &headers, &rules).await {
        Ok((user, allowed)) => {
            let actions: serde_json::Map<String, serde_json::Value> = ACTIONS
                .iter()
                .zip(allowed)
                .map(|((name, _), allowed)| (name.to_string(), json!(allowed)))
                .collect();
            let strategy = match state.authenticator().as_ref() {
                Authenticator::Noauth => "noauth",
                Authenticator::HttpBasic(_) => "http_basic",
                Authenticator::Keystone(_) => "keystone",
            };
            render::json(
                StatusCode::OK,
                &json!({"auth_strategy": strategy, "user": user, "actions": actions}),
            )
        }
        Err(refusal) => refusal,
    }
}

/// Keystone's authenticator; the login and logout pages exist only with it.
fn keystone_only(state: &AppState) -> Option<&super::auth::KeystoneAuth> {
    match state.authenticator().as_ref() {
        Authenticator::Keystone(keystone) => Some(keystone),
        _ => None,
    }
}

/// `name=value` with the session cookies' attributes; `max_age` bounds it.
fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    http_only: bool,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; SameSite=Strict");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if state.inspector().config().default.use_ssl {
        cookie.push_str("; Secure");
    }
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={}", seconds.max(0)));
    }
    HeaderValue::from_str(&cookie).expect("cookie values are hex or Keystone token text")
}

/// The login form, carrying the CSRF token it must post back (a fresh one,
/// also set as the cookie, unless the browser already has one).
fn login_page(state: &AppState, headers: &HeaderMap, status: StatusCode, error: &str) -> Response {
    let existing = session::cookie(headers, CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    let csrf = existing.map_or_else(session::new_csrf_token, str::to_owned);
    let error_block = if error.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"error\" role=\"alert\" id=\"login-error\">{}</p>",
            escape_html(error)
        )
    };
    let body = LOGIN_HTML
        .replace("{{csrf}}", &csrf)
        .replace("{{error}}", &error_block);
    let mut response = html(status, body);
    if existing.is_none() {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(state, CSRF_COOKIE, &csrf, false, None),
        );
    }
    response
}

async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if keystone_only(&state).is_none() {
        return super::not_found_response();
    }
    login_page(&state, &headers, StatusCode::OK, "")
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    csrf: String,
}

/// Asks Keystone for a project-scoped token with the form's credentials;
/// on success the session cookies (token HttpOnly, bounded by the token's
/// expiry, and a new CSRF token) and a redirect to the page.
async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Some(keystone) = keystone_only(&state) else {
        return super::not_found_response();
    };
    let Ok(axum::Form(form)) = form else {
        return login_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            "The login form was not posted as a form.",
        );
    };
    if !session::csrf_matches(&headers, Some(&form.csrf)) {
        return login_page(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            "The form expired or came from another site; please try again.",
        );
    }
    if form.username.is_empty() || form.password.is_empty() || form.project.is_empty() {
        return login_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            "User name, password and project are required.",
        );
    }
    let domain = if form.domain.trim().is_empty() {
        "Default"
    } else {
        form.domain.trim()
    };
    let token = match keystone
        .login(&form.username, &form.password, &form.project, domain)
        .await
    {
        Ok(token) => token,
        Err(crate::keystone::IssueError::Refused { status, .. }) if status < 500 => {
            tracing::info!(user = %form.username, "dashboard login refused by Keystone");
            return login_page(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                "Keystone refused these credentials.",
            );
        }
        Err(e) => {
            tracing::warn!("dashboard login: {e}");
            return login_page(
                &state,
                &headers,
                StatusCode::SERVICE_UNAVAILABLE,
                "Keystone cannot be reached; please try again later.",
            );
        }
    };
    if token
        .value
        .bytes()
        .any(|b| !b.is_ascii_graphic() || b == b';')
    {
        tracing::warn!("dashboard login: Keystone issued a token that cannot be a cookie");
        return login_page(
            &state,
            &headers,
            StatusCode::BAD_GATEWAY,
            "Keystone issued an unusable token.",
        );
    }
    let max_age = token
        .expires_at
        .map(|at| (at - OffsetDateTime::now_utc()).whole_seconds());
    tracing::info!(user = %form.username, "dashboard login");
    let mut response = Redirect::to("/dashboard/").into_response();
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        set_cookie(&state, TOKEN_COOKIE, &token.value, true, max_age),
    );
    cookies.append(
        header::SET_COOKIE,
        set_cookie(
            &state,
            CSRF_COOKIE,
            &session::new_csrf_token(),
            false,
            max_age,
        ),
    );
    response
}

/// Forgets the session: both cookies expire now. Needs the CSRF token.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if keystone_only(&state).is_none() {
        return super::not_found_response();
    }
    if !session::csrf_ok(&axum::http::Method::POST, &headers) {
        return ApiError::new(StatusCode::FORBIDDEN, "CSRF token missing or invalid")
            .into_response();
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        set_cookie(&state, TOKEN_COOKIE, "", true, Some(0)),
    );
    cookies.append(
        header::SET_COOKIE,
        set_cookie(&state, CSRF_COOKIE, "", false, Some(0)),
    );
    response
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_pages_load_nothing_from_elsewhere_and_run_no_inline_code() {
        for page in [INDEX_HTML, LOGIN_HTML] {
            assert!(!page.contains("http://") && !page.contains("https://"));
            assert!(!page.contains("<script>"), "inline script");
            assert!(!page.contains("style="), "inline style");
            let handler = page.split(" on").skip(1).any(|rest| {
                let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
                name_len > 0 && rest[name_len..].starts_with('=')
            });
            assert!(!handler, "inline event handler");
        }
        assert!(!APP_JS.contains("http://") && !APP_JS.contains("https://"));
    }
}
