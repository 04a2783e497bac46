//! Resource faults: the SQLite database's file system full or turned
//! read-only, the ramdisk-logs directory read-only. Each test mounts its own
//! small file system (tmpfs, or ext4 on a loop device); the tests run as
//! root, and a refused mount fails the test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::bed::{Ironic, env, use_bed_ironic};
use crate::binary::{free_port, serve, write_config};
use crate::helpers::{TestApp, assert_error, eventually, json_with_status};
use crate::openapi::SendChecked;
use crate::processing::Machine;
use crate::pxe::sh;
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

/// Runs mount(8) (the tests run as root; a refusal fails the test).
fn mount_cmd(args: &[&str], target: &Path) {
    let mut command = vec!["mount"];
    command.extend_from_slice(args);
    command.push(target.to_str().unwrap());
    sh(&command);
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
    // The callback is unauthenticated: its 503 does not say why.
    assert_error(
        app.callback(&waiting.data()).await,
        503,
        "Lookup is not possible now: the database is not available, please retry later",
    )
    .await;
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
    inspector::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    let started = client
        .post(served.url(&format!("/v1/introspection/{node}")))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let status_url = served.url(&format!("/v1/introspection/{node}"));
    let in_state = |state: &'static str| {
        let (client, url) = (client.clone(), status_url.clone());
        async move {
            let answer = client.get(&url).send_checked().await.unwrap();
            let status: Value = answer.json().await.unwrap();
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
        .send_checked()
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
        .send_checked()
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

/// An ext4 image on a loop device, mounted with `errors=remount-ro` on a
/// fresh directory; unmounted on drop.
struct Ext4 {
    image: TempDir,
    dir: TempDir,
}

impl Ext4 {
    fn mount() -> Self {
        let image = TempDir::new().unwrap();
        let file = image.path().join("disk.img");
        std::fs::File::create(&file)
            .unwrap()
            .set_len(16 * 1024 * 1024)
            .unwrap();
        sh(&["mkfs.ext4", "-q", file.to_str().unwrap()]);
        let ext4 = Self {
            image,
            dir: TempDir::new().unwrap(),
        };
        ext4.attach();
        ext4
    }

    fn image(&self) -> PathBuf {
        self.image.path().join("disk.img")
    }

    fn attach(&self) {
        let image = self.image();
        mount_cmd(
            &["-o", "loop,errors=remount-ro", image.to_str().unwrap()],
            self.dir.path(),
        );
    }

    /// What the kernel does on a file system error: the mount turns
    /// read-only at once, whatever files are open for writing.
    fn fail(&self) {
        let source = sh(&[
            "findmnt",
            "-n",
            "-o",
            "SOURCE",
            self.dir.path().to_str().unwrap(),
        ]);
        let device = source.trim().trim_start_matches("/dev/");
        std::fs::write(format!("/sys/fs/ext4/{device}/trigger_fs_error"), "1")
            .expect("trigger an ext4 error (needs root)");
    }

    /// The operator's repair: unmount, check, mount again.
    fn repair(&self) {
        sh(&["umount", self.dir.path().to_str().unwrap()]);
        // e2fsck exits 1 when it fixed something, which is expected here.
        let status = Command::new("e2fsck")
            .args(["-fy", self.image().to_str().unwrap()])
            .output()
            .expect("run e2fsck");
        assert!(matches!(status.status.code(), Some(0 | 1)), "{status:?}");
        self.attach();
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// A database whose file system turns read-only under the running service
/// (an ext4 error with `errors=remount-ro`): writes answer 503 naming the
/// database, nothing of them is kept, the service stays up; such a mount
/// cannot be made writable while files are open on it, so recovery is the
/// operator's repair and a restart, with every earlier write intact.
#[tokio::test]
async fn a_database_disk_turned_read_only_answers_503_and_recovers_after_repair() {
    let disk = Ext4::mount();
    let dir = TempDir::new().unwrap();
    let port = free_port();
    let config = dir.path().join("inspector.conf");
    std::fs::write(
        &config,
        format!(
            "[DEFAULT]\nlisten_address = 127.0.0.1\nlisten_port = {port}\nauth_strategy = noauth\n\
             [ironic]\nauth_type = none\nendpoint_override = http://127.0.0.1:9\n\
             [database]\nconnection = sqlite:///{}/inspector.sqlite\n",
            disk.dir.path().display()
        ),
    )
    .unwrap();
    inspector::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    let mut served = serve(&config, port).await;
    let rules = served.url("/v1/rules");
    let post_rule = || client.post(&rules).json(&sample_rule()).send_checked();
    let count = || async {
        let answer = client.get(&rules).send_checked().await.unwrap();
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap();
        (status, body["rules"].as_array().map(Vec::len))
    };
    assert_eq!(post_rule().await.unwrap().status(), 201);
    // The WAL is not synced at each commit (synchronous=NORMAL): what the
    // kernel has not yet written back dies with the aborted file system.
    // Flush it, so the test knows what the disk holds.
    sh(&["sync", "-f", disk.dir.path().to_str().unwrap()]);

    disk.fail();
    assert_cannot_write(post_rule().await.unwrap(), "a rule", "I/O error").await;
    assert_eq!(count().await, (200, Some(1)), "reads still work");
    let root = client.get(served.url("/")).send_checked().await.unwrap();
    assert_eq!(root.status(), 200, "the service still answers");

    served.signal("TERM");
    served.wait_exit(Duration::from_secs(20)).await;
    disk.repair();
    let _served = serve(&config, port).await;
    assert_eq!(
        count().await,
        (200, Some(1)),
        "the refused rule was not kept"
    );
    assert_eq!(post_rule().await.unwrap().status(), 201);
    assert_eq!(count().await, (200, Some(2)));
}
