//! Resource faults: the SQLite database's filesystem full, the ramdisk-logs
//! directory read-only. The database lives on a small tmpfs mounted for
//! the test (the tests run as root; a refused mount fails the test).

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::bed::{Ironic, env, use_bed_ironic};
use crate::binary::{free_port, serve, write_config};
use crate::helpers::{TestApp, eventually, json_with_status};
use crate::processing::Machine;
use crate::rules::{rule_count, sample_rule};

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = TempDir::new().unwrap();
        mount_cmd(
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"],
            dir.path(),
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a connection of the service may still be closing.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn mount_cmd(args: &[&str], target: &Path) {
    let out = Command::new("mount")
        .args(args)
        .arg(target)
        .output()
        .expect("run mount(8): these tests need it, as root");
    assert!(
        out.status.success(),
        "mount {args:?} {} failed (these tests need root and mount permission): {}",
        target.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes zeros to `path` until the filesystem refuses more.
fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    // The last partial page may still be buffered: a final flush hits ENOSPC too.
    let _ = file.flush();
    written
}

/// Moves every page of the WAL into the database file and truncates the
/// WAL, so that the next write must grow a file again (a WAL with free
/// pages would take a small write on a full disk).
fn truncate_wal(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let (busy, _, _): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(busy, 0, "the checkpoint was blocked");
}

async fn assert_cannot_write(response: reqwest::Response, what: &str, cause: &str) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 503, "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("The database cannot be written: ") && message.contains(cause),
        "{what}: {message}"
    );
}

#[tokio::test]
async fn a_full_database_disk_answers_503_keeps_nothing_and_recovers() {
    let disk = Tmpfs::mount("6m");
    let db = disk.path().join("inspector.sqlite");
    let url = format!("sqlite:///{}", db.display());
    let app = TestApp::builder()
        .configure(|c| {
            use_bed_ironic(c);
            c.database.connection = Some(url);
        })
        .spawn()
        .await;
    let ironic = Ironic::new();
    // One node waits for its ramdisk when the disk fills, one is started after.
    let waiting = Machine::new();
    let waiting_node = waiting.node(&ironic).await;
    ironic.create_port(&waiting_node, &waiting.pxe).await;
    let (later_node, _) = ironic.node_with_port().await;
    app.start_introspection(&waiting_node, "").await;
    app.wait_for_state(&waiting_node, "waiting", Duration::from_secs(20))
        .await;

    truncate_wal(&db);
    let filler = disk.path().join("filler");
    assert!(fill(&filler) > 0);

    assert_cannot_write(
        app.post_json("/v1/rules", &sample_rule()).await,
        "a rule",
        "full",
    )
    .await;
    assert_eq!(rule_count(&app).await, 0, "no part of the rule was kept");
    assert_cannot_write(
        app.request(
            reqwest::Method::POST,
            &format!("/v1/introspection/{later_node}"),
        )
        .send()
        .await
        .unwrap(),
        "an introspection start",
        "full",
    )
    .await;
    let status = app.get(&format!("/v1/introspection/{later_node}")).await;
    assert_eq!(status.status(), 404, "the refused start left no node");
    assert_cannot_write(app.callback(&waiting.data()).await, "a callback", "full").await;
    let status = app
        .wait_for_state(&waiting_node, "waiting", Duration::from_secs(5))
        .await;
    assert_eq!(status["error"], json!(null), "{status}");
    assert_eq!(
        app.get("/").await.status(),
        200,
        "the service still answers"
    );

    std::fs::remove_file(&filler).unwrap();
    json_with_status(app.post_json("/v1/rules", &sample_rule()).await, 201).await;
    assert_eq!(rule_count(&app).await, 1);
    let answer = json_with_status(app.callback(&waiting.data()).await, 200).await;
    assert_eq!(answer, json!({"uuid": waiting_node}));
    let status = app
        .wait_for_state(&waiting_node, "finished", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], json!(null), "{status}");
    app.start_introspection(&later_node, "").await;
    app.wait_for_state(&later_node, "waiting", Duration::from_secs(20))
        .await;
    app.finish().await;
    drop(disk);
}

/// Upstream keeps processing when the ramdisk logs cannot be written: the
/// node finishes, the failure is logged with the node, nothing answers 500.
#[tokio::test]
async fn an_unwritable_ramdisk_logs_directory_is_logged_and_processing_goes_on() {
    let logs = Tmpfs::mount("1m");
    // Read-only before the service opens anything there (root ignores modes).
    mount_cmd(&["-o", "remount,ro"], logs.path());
    let dir = TempDir::new().unwrap();
    let port = free_port();
    let extra = format!(
        "auth_strategy = noauth\n[ironic]\nauth_type = none\nendpoint_override = {ironic}\n\
         max_retries = 3\nretry_interval = 1\n[pxe_filter]\ndriver = noop\n\
         [processing]\nstore_data = database\nramdisk_logs_dir = {logs}\n\
         always_store_ramdisk_logs = true\n",
        ironic = env("INSPECTOR_TEST_IRONIC_URL"),
        logs = logs.path().display()
    );
    let served = serve(&write_config(dir.path(), port, &extra), port).await;
    let ironic = Ironic::new();
    let machine = Machine::new();
    let node = machine.node(&ironic).await;
    ironic.create_port(&node, &machine.pxe).await;
    let client = reqwest::Client::new();
    let started = client
        .post(served.url(&format!("/v1/introspection/{node}")))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let status_url = served.url(&format!("/v1/introspection/{node}"));
    let in_state = |state: &'static str| {
        let (client, url) = (client.clone(), status_url.clone());
        async move {
            let status: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
            if status["state"] == state {
                Ok(status)
            } else {
                Err(status.to_string())
            }
        }
    };
    eventually("the node waits", Duration::from_secs(20), || {
        in_state("waiting")
    })
    .await;

    let mut data = machine.data();
    data["logs"] = json!("aGVsbG8gZnJvbSB0aGUgcmFtZGlzawo=");
    let answer = client
        .post(served.url("/v1/continue"))
        .body(data.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
    let status = eventually("the node finished", Duration::from_secs(30), || {
        in_state("finished")
    })
    .await;
    assert_eq!(status["error"], json!(null), "{status}");

    // A callback no node matches fails as usual, its logs refused as well.
    let mut stranger = Machine::new().data();
    stranger["logs"] = json!("aGVsbG8K");
    let answer = client
        .post(served.url("/v1/continue"))
        .body(stranger.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);

    assert_eq!(std::fs::read_dir(logs.path()).unwrap().count(), 0);
    let log = served.log_text();
    let refusals: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("cannot store the ramdisk logs"))
        .collect();
    assert_eq!(refusals.len(), 2, "{log}");
    assert!(
        refusals[0].contains(&node) && refusals[0].contains("Read-only file system"),
        "{}",
        refusals[0]
    );
    assert!(refusals[1].contains("unknown"), "{}", refusals[1]);
}
