//! HTTP basic authentication (upstream-behaviour §auth-basic): public endpoints stay open, the
//! rest need a valid bcrypt htpasswd entry, the file is re-read on change.

use reqwest::Method;

use crate::helpers::{TestApp, assert_error, json_with_status};

async fn basic_app(htpasswd: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("htpasswd");
    std::fs::write(&path, htpasswd).unwrap();
    let mut config = crate::helpers::test_config(&dir);
    config.default.auth_strategy = inspector_core::conf::AuthStrategy::HttpBasic;
    config.default.http_basic_auth_user_file = path.display().to_string();
    TestApp::spawn_config(config, dir).await
}

pub(crate) fn entry(user: &str, password: &str) -> String {
    format!(
        "{user}:{}\n",
        bcrypt::hash(password, 4)
            .unwrap()
            .replacen("$2b$", "$2y$", 1)
    )
}

#[tokio::test]
async fn public_endpoints_need_no_credentials() {
    let app = basic_app(&entry("admin", "secret")).await;
    assert_eq!(app.get("/").await.status(), 200);
    assert_eq!(app.get("/v1").await.status(), 200);
    // Even a malformed header does not break them (upstream answered 400).
    let response = app
        .request(Method::GET, "/v1")
        .header("Authorization", "Basic %%%")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn protected_endpoints_need_valid_credentials() {
    let app = basic_app(&entry("admin", "secret")).await;
    type Credentials<'a> = Option<(&'a str, &'a str)>;
    let cases: [(Credentials, Option<&str>); 5] = [
        (None, None),
        (Some(("admin", "wrong")), None),
        (Some(("nobody", "secret")), None),
        (None, Some("Basic !!!notbase64")),
        (None, Some("Bearer abc")),
    ];
    for (credentials, raw) in cases {
        let mut request = app.request(Method::GET, "/v1/rules");
        if let Some((user, password)) = credentials {
            request = request.basic_auth(user, Some(password));
        }
        if let Some(raw) = raw {
            request = request.header("Authorization", raw);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"Baremetal API\""
        );
        assert_eq!(
            response.headers()["x-openstack-ironic-inspector-api-maximum-version"],
            "1.19"
        );
        assert_error(response, 401, "Authentication required").await;
    }
    let response = app
        .request(Method::GET, "/v1/rules")
        .basic_auth("admin", Some("secret"))
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await;
}

#[tokio::test]
async fn unknown_urls_are_404_and_bad_versions_406_before_authentication() {
    let app = basic_app(&entry("admin", "secret")).await;
    assert_eq!(app.get("/v1/nowhere/at/all").await.status(), 404);
    let response = app
        .request(Method::GET, "/v1/rules")
        .header("X-OpenStack-Ironic-Inspector-API-Version", "1.99")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
}

#[tokio::test]
async fn the_user_file_is_reread_when_it_changes() {
    let app = basic_app(&entry("admin", "secret")).await;
    let path = app.dir.path().join("htpasswd");
    let get = |user: &'static str, password: &'static str| {
        app.request(Method::GET, "/v1/rules")
            .basic_auth(user, Some(password))
            .send()
    };
    assert_eq!(get("admin", "secret").await.unwrap().status(), 200);
    assert_eq!(get("operator", "hunter2").await.unwrap().status(), 401);
    // A different size guarantees the change is noticed even within one mtime tick.
    std::fs::write(&path, format!("{}{}", entry("operator", "hunter2"), "\n")).unwrap();
    assert_eq!(get("operator", "hunter2").await.unwrap().status(), 200);
    assert_eq!(get("admin", "secret").await.unwrap().status(), 401);
}
