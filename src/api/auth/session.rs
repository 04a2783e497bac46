//! The dashboard's browser session under keystone: the Keystone token kept
//! in an HttpOnly cookie, and the double-submit CSRF token that every
//! state-changing request authenticated by that cookie must echo in a
//! header. A cookie is sent by the browser on any request to this origin,
//! including one a hostile page triggers, so the cookie alone must never
//! authorize an action; the CSRF cookie can only be read by scripts of this
//! origin, which copy it into `X-CSRF-Token`.

use axum::http::{HeaderMap, Method};

/// The Keystone token (HttpOnly: scripts cannot read it).
pub const TOKEN_COOKIE: &str = "inspector_token";
/// The CSRF token, readable by the dashboard's script.
pub const CSRF_COOKIE: &str = "inspector_csrf";
/// Where the dashboard echoes the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Methods that change nothing, which need no CSRF token.
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether `given` (a header or form field) matches the CSRF cookie.
pub fn csrf_matches(headers: &HeaderMap, given: Option<&str>) -> bool {
    match (cookie(headers, CSRF_COOKIE), given) {
        (Some(expected), Some(given)) => constant_time_eq(expected.as_bytes(), given.as_bytes()),
        _ => false,
    }
}

/// Whether a request authenticated by the session cookie may proceed: safe
/// methods always, others only with the CSRF header matching its cookie.
pub fn csrf_ok(method: &Method, headers: &HeaderMap) -> bool {
    is_safe(method)
        || csrf_matches(
            headers,
            headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()),
        )
}

/// A browser's request that would change something, made by a page of
/// another origin (`Sec-Fetch-Site` neither `same-origin` nor `none`, the
/// latter being the user's own navigation). Browsers attach the credentials
/// they hold for this origin (HTTP basic, cookies) whichever page sends the
/// request, and the service allows no cross-origin use (no CORS), so such a
/// request can only be forged. Clients outside browsers send no such header.
pub fn is_cross_site_change(method: &Method, headers: &HeaderMap) -> bool {
    !is_safe(method)
        && headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| !matches!(site, "same-origin" | "none"))
}

/// A fresh CSRF token: 244 random bits from two v4 UUIDs (the OS's random
/// source), as hex.
pub fn new_csrf_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Compares without an early exit, so the time taken does not tell how
/// much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn cookies_are_found_among_several_headers() {
        let h = headers(&[
            ("cookie", "a=1; inspector_token=tok"),
            ("cookie", "inspector_csrf=c"),
        ]);
        assert_eq!(cookie(&h, TOKEN_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, CSRF_COOKIE), Some("c"));
        assert_eq!(cookie(&h, "inspector"), None);
        assert_eq!(
            cookie(&headers(&[("cookie", "inspector_token=")]), TOKEN_COOKIE),
            None
        );
    }

    #[test]
    fn unsafe_methods_need_the_matching_header() {
        let with = headers(&[("cookie", "inspector_csrf=abc"), ("x-csrf-token", "abc")]);
        let wrong = headers(&[("cookie", "inspector_csrf=abc"), ("x-csrf-token", "abd")]);
        let without = headers(&[("cookie", "inspector_csrf=abc")]);
        let no_cookie = headers(&[("x-csrf-token", "abc")]);
        assert!(csrf_ok(&Method::POST, &with));
        assert!(!csrf_ok(&Method::POST, &wrong));
        assert!(!csrf_ok(&Method::DELETE, &without));
        assert!(!csrf_ok(&Method::POST, &no_cookie));
        assert!(csrf_ok(&Method::GET, &without));
    }

    #[test]
    fn only_changes_from_other_origins_are_cross_site() {
        let from = |site: &str| headers(&[("sec-fetch-site", site)]);
        assert!(is_cross_site_change(&Method::POST, &from("cross-site")));
        assert!(is_cross_site_change(&Method::DELETE, &from("same-site")));
        assert!(!is_cross_site_change(&Method::POST, &from("same-origin")));
        assert!(!is_cross_site_change(&Method::POST, &from("none")));
        assert!(!is_cross_site_change(&Method::GET, &from("cross-site")));
        assert!(!is_cross_site_change(&Method::POST, &HeaderMap::new()));
    }

    #[test]
    fn fresh_tokens_differ() {
        let (a, b) = (new_csrf_token(), new_csrf_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
