//! `[DEFAULT] use_ssl`: the shipped binary serving the API over HTTPS, with
//! certificates made by the `openssl` command at test time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::binary::{Served, free_port, serve_until_answered, spawn, write_config};
use crate::helpers::eventually;

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl command is needed by the TLS tests");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA (`ca.pem`) in `dir`, created once per directory.
fn make_ca(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=inspector test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// `NAME.pem` and `NAME.key` signed by the CA of `dir`, for 127.0.0.1.
fn make_leaf(dir: &Path, name: &str, serial: &str, usage: &str) {
    let ext = format!("{name}.ext");
    std::fs::write(
        dir.join(&ext),
        format!(
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n"
        ),
    )
    .unwrap();
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={name}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            serial,
            "-days",
            "2",
            "-out",
            &pem,
            "-extfile",
            &ext,
        ],
    );
}

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        make_ca(dir.path());
        make_leaf(dir.path(), "server", "1001", "serverAuth");
        make_leaf(dir.path(), "client", "2001", "clientAuth");
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ssl_section(&self, extra: &str) -> String {
        format!(
            "auth_strategy = noauth\nuse_ssl = true\n[ssl]\ncert_file = {}\nkey_file = {}\n{extra}\n\
             [ironic]\nauth_type = none\nendpoint_override = http://127.0.0.1:9\n[pxe_filter]\ndriver = noop\n",
            self.path("server.pem").display(),
            self.path("server.key").display()
        )
    }

    fn ca(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(&std::fs::read(self.path("ca.pem")).unwrap()).unwrap()
    }
}

fn https_client(pki: &Pki, identity: Option<&str>) -> reqwest::Client {
    inspector::tls::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([pki.ca()])
        .timeout(Duration::from_secs(10));
    if let Some(name) = identity {
        let mut pem = std::fs::read(pki.path(&format!("{name}.pem"))).unwrap();
        pem.extend(std::fs::read(pki.path(&format!("{name}.key"))).unwrap());
        builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    builder.build().unwrap()
}

/// Starts the TLS server and waits until it answers `GET /v1` over HTTPS.
async fn serve_tls(config: &Path, port: u16, client: &reqwest::Client) -> Served {
    let url = format!("https://127.0.0.1:{port}/v1");
    serve_until_answered(config, port, client, &url).await
}

#[tokio::test]
async fn https_serves_the_api_and_plain_http_is_closed_promptly() {
    let pki = Pki::new();
    let port = free_port();
    let config = write_config(pki.dir.path(), port, &pki.ssl_section(""));
    let client = https_client(&pki, None);
    let served = serve_tls(&config, port, &client).await;

    let answer = client
        .get(format!("https://127.0.0.1:{port}/v1"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let over_https = answer.text().await.unwrap();
    assert!(
        over_https.contains(&format!("https://127.0.0.1:{port}/v1")),
        "links use https: {over_https}"
    );

    // Plain HTTP on the TLS port: the handshake fails and the connection is
    // closed, instead of the client waiting for an answer that never comes.
    let started = Instant::now();
    let mut plain = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    plain
        .write_all(b"GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut reply)).await;
    assert!(read.is_ok(), "plain HTTP not closed within 5 s");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        !String::from_utf8_lossy(&reply).contains("HTTP/1.1 200"),
        "plain HTTP answered: {reply:?}"
    );

    // A client that connects and says nothing is let go by the handshake timeout.
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut nothing = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(20), silent.read_to_end(&mut nothing)).await;
    assert!(read.is_ok(), "a silent client kept its connection for 20 s");

    // The same API as over plain HTTP, on the same port.
    drop(served);
    let plain_config = write_config(
        pki.dir.path(),
        port,
        "auth_strategy = noauth\n[ironic]\nauth_type = none\nendpoint_override = http://127.0.0.1:9\n[pxe_filter]\ndriver = noop\n",
    );
    let served = crate::binary::serve(&plain_config, port).await;
    let over_http = reqwest::get(served.url("/v1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(over_https.replace("https://", "http://"), over_http);
}

async fn exits_naming(config: &Path, option: &str) {
    let mut served = spawn(config, 0);
    let code = served.wait_exit(Duration::from_secs(20)).await;
    assert_ne!(code, Some(0));
    let log = served.log_text();
    assert!(log.contains(option), "{option} not named: {log}");
    let (code, out, err) =
        crate::binary::run(&["config", "check", "--config-file", config.to_str().unwrap()]);
    assert_ne!(code, 0, "config check passed: {out}{err}");
    assert!(
        err.contains(option),
        "{option} not named by config check: {err}"
    );
}

#[tokio::test]
async fn bad_certificate_files_stop_start_up_naming_the_option() {
    let pki = Pki::new();
    let port = free_port();
    let mismatched = pki.ssl_section("").replace(
        &pki.path("server.key").display().to_string(),
        &pki.path("client.key").display().to_string(),
    );
    let config = write_config(pki.dir.path(), port, &mismatched);
    exits_naming(&config, "[ssl] key_file").await;

    let missing = pki.ssl_section("").replace(
        &pki.path("server.pem").display().to_string(),
        &pki.path("absent.pem").display().to_string(),
    );
    let config = write_config(pki.dir.path(), port, &missing);
    exits_naming(&config, "[ssl] cert_file").await;

    let missing_ca = pki.ssl_section(&format!(
        "ca_file = {}",
        pki.path("absent-ca.pem").display()
    ));
    let config = write_config(pki.dir.path(), port, &missing_ca);
    exits_naming(&config, "[ssl] ca_file").await;
}

#[tokio::test]
async fn ca_file_requires_a_client_certificate_signed_by_it() {
    let pki = Pki::new();
    let port = free_port();
    let section = pki.ssl_section(&format!("ca_file = {}", pki.path("ca.pem").display()));
    let config = write_config(pki.dir.path(), port, &section);
    let with_cert = https_client(&pki, Some("client"));
    let _served = serve_tls(&config, port, &with_cert).await;
    let url = format!("https://127.0.0.1:{port}/v1");

    let answer = with_cert.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let refused = https_client(&pki, None).get(&url).send().await;
    assert!(
        refused.is_err(),
        "served without a client certificate: {refused:?}"
    );
    // The server's own certificate is not a client certificate.
    let wrong = https_client(&pki, Some("server")).get(&url).send().await;
    assert!(
        wrong.is_err(),
        "served with a server certificate as client: {wrong:?}"
    );
}

async fn tls_connect(pki: &Pki, port: u16) -> TlsStream<TcpStream> {
    inspector::tls::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(pki.path("ca.pem")).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap()
}

fn peer_certificate(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// One keep-alive `GET /v1` on an open connection; the status line.
async fn get_v1(stream: &mut TlsStream<TcpStream>) -> String {
    stream
        .write_all(b"GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert_eq!(read, 1, "connection closed; so far: {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("a content-length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    head.lines().next().unwrap().to_string()
}

#[tokio::test]
async fn sighup_reloads_the_certificate_and_keeps_open_connections() {
    let pki = Pki::new();
    let port = free_port();
    let config = write_config(pki.dir.path(), port, &pki.ssl_section(""));
    let served = serve_tls(&config, port, &https_client(&pki, None)).await;
    let first = CertificateDer::from_pem_file(pki.path("server.pem"))
        .unwrap()
        .to_vec();

    let mut open = tls_connect(&pki, port).await;
    assert_eq!(peer_certificate(&open), first);
    assert_eq!(get_v1(&mut open).await, "HTTP/1.1 200 OK");

    make_leaf(pki.dir.path(), "server", "1002", "serverAuth");
    let second = CertificateDer::from_pem_file(pki.path("server.pem"))
        .unwrap()
        .to_vec();
    assert_ne!(first, second);
    served.signal("HUP");

    let fresh = eventually(
        "a new connection sees the new certificate",
        Duration::from_secs(10),
        || {
            let pki = &pki;
            let second = second.clone();
            async move {
                let stream = tls_connect(pki, port).await;
                if peer_certificate(&stream) == second {
                    Ok(stream)
                } else {
                    Err("still the old certificate".to_string())
                }
            }
        },
    )
    .await;
    drop(fresh);
    // The connection opened before the reload still works, with its certificate.
    assert_eq!(get_v1(&mut open).await, "HTTP/1.1 200 OK");
    assert_eq!(peer_certificate(&open), first);
    assert!(served.log_text().contains("reloaded the TLS certificate"));
}

/// python-ironic-inspector-client through the `openstack` CLI, over HTTPS.
async fn openstack_over_https(
    port: u16,
    cacert: Option<&Path>,
    args: &[&str],
) -> std::process::Output {
    let venv = crate::bed::env("INSPECTOR_TEST_VENV");
    let mut command = tokio::process::Command::new(format!("{venv}/bin/openstack"));
    if let Some(cacert) = cacert {
        command.arg("--os-cacert").arg(cacert);
    }
    command
        .arg("--inspector-url")
        .arg(format!("https://127.0.0.1:{port}"))
        .args(["baremetal", "introspection"])
        .args(args)
        .env("OS_AUTH_TYPE", "none")
        .env("OS_ENDPOINT", "http://127.0.0.1:9")
        .env("no_proxy", "127.0.0.1")
        .output()
        .await
        .expect("openstack CLI in the test venv")
}

#[tokio::test]
#[cfg_attr(
    not(bed_venv),
    ignore = "needs the test bed (venv-ironic): run scripts/test.sh"
)]
async fn the_cli_manages_rules_over_https_with_the_ca_file() {
    let pki = Pki::new();
    let port = free_port();
    let config = write_config(pki.dir.path(), port, &pki.ssl_section(""));
    let _served = serve_tls(&config, port, &https_client(&pki, None)).await;
    let rules = pki.path("rules.json");
    std::fs::write(
        &rules,
        r#"[{"description": "over https", "actions": [{"action": "fail", "message": "x"}]}]"#,
    )
    .unwrap();
    let ca = pki.path("ca.pem");

    let imported = openstack_over_https(
        port,
        Some(&ca),
        &["rule", "import", rules.to_str().unwrap()],
    )
    .await;
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let listed = openstack_over_https(port, Some(&ca), &["rule", "list", "-f", "json"]).await;
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed[0]["Description"], "over https", "{listed}");

    // Without the CA the client refuses the server's certificate.
    let untrusted = openstack_over_https(port, None, &["rule", "list"]).await;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&untrusted.stdout),
        String::from_utf8_lossy(&untrusted.stderr)
    );
    assert!(said.contains("CERTIFICATE_VERIFY_FAILED"), "{said}");
}

#[tokio::test]
#[cfg_attr(
    not(bed_venv),
    ignore = "needs the test bed (venv-ironic): run scripts/test.sh"
)]
async fn openstacksdk_talks_https_with_the_ca_file() {
    let pki = Pki::new();
    let port = free_port();
    let config = write_config(pki.dir.path(), port, &pki.ssl_section(""));
    let _served = serve_tls(&config, port, &https_client(&pki, None)).await;
    let script = r#"
import json, sys, uuid
import openstack
conn = openstack.connection.Connection(auth_type="none", cacert=sys.argv[2],
    baremetal_introspection_endpoint_override=sys.argv[1])
bi = conn.baremetal_introspection
rule = bi.create_introspection_rule(uuid=str(uuid.uuid4()), actions=[{"action": "fail", "message": "x"}], description="sdk over https")
print(json.dumps({"rules": [r.description for r in bi.introspection_rules()]}))
"#;
    let printed = crate::clients::run_python(
        script,
        &[
            format!("https://127.0.0.1:{port}"),
            pki.path("ca.pem").display().to_string(),
        ],
    )
    .await;
    assert_eq!(printed, serde_json::json!({"rules": ["sdk over https"]}));
}
