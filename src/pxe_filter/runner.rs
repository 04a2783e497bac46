//! The one place where the PXE filter runs commands (iptables,
//! iptables-restore, the dnsmasq start and stop commands). Commands are
//! argument lists, never shell strings: nothing a port address or a
//! configuration value holds can be interpreted by a shell. Every command is
//! logged before it runs, with `[pxe_filter] command_prefix` (e.g.
//! `sudo ironic-inspector-rootwrap /etc/ironic-inspector/rootwrap.conf`, or
//! `ip netns exec NS`) put in front of it.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use inspector_core::pxe::command;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How much of a failing command's stderr is kept for the error message.
const STDERR_KEPT: usize = 4096;
/// How long stderr is still read after the command exited: a daemon it
/// started may hold the pipe open forever.
const STDERR_GRACE: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("empty command")]
    Empty,
    #[error("cannot run {command}: {error}")]
    Spawn { command: String, error: String },
    #[error("{command} failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("{command} did not finish within {seconds} s and was killed")]
    TimedOut { command: String, seconds: u64 },
}

/// Runs argument lists after a fixed prefix, without a shell.
#[derive(Debug, Clone)]
pub struct CommandRunner {
    prefix: Vec<String>,
    timeout: Duration,
}

impl CommandRunner {
    pub fn new(prefix: Vec<String>, timeout: Duration) -> Self {
        Self { prefix, timeout }
    }

    /// Runs `args` (after the prefix) and waits for it to exit successfully.
    pub async fn run(&self, args: &[String]) -> Result<(), CommandError> {
        self.execute(args, None).await
    }

    /// Same, with `input` on the command's standard input.
    pub async fn run_with_input(&self, args: &[String], input: &str) -> Result<(), CommandError> {
        self.execute(args, Some(input)).await
    }

    async fn execute(&self, args: &[String], input: Option<&str>) -> Result<(), CommandError> {
        let argv: Vec<&String> = self.prefix.iter().chain(args).collect();
        let (program, rest) = argv.split_first().ok_or(CommandError::Empty)?;
        let shown = command::join(&argv.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        match input {
            Some(text) => {
                tracing::info!(command = %shown, input_lines = text.lines().count(), "running command")
            }
            None => tracing::info!(command = %shown, "running command"),
        }
        let started = Instant::now();
        let mut child = tokio::process::Command::new(program)
            .args(rest)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| CommandError::Spawn {
                command: shown.clone(),
                error: e.to_string(),
            })?;

        // stderr is read while input is written, so that neither side can
        // block the other on a full pipe.
        let stderr_buf = Arc::new(Mutex::new(Vec::new()));
        let reader = child.stderr.take().map(|mut stderr| {
            let buf = stderr_buf.clone();
            tokio::spawn(async move {
                let mut chunk = [0u8; 1024];
                while let Ok(n) = stderr.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    let mut kept = buf.lock().unwrap_or_else(|e| e.into_inner());
                    let room = STDERR_KEPT.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..n.min(room)]);
                }
            })
        });
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            // A command that exits early closes the pipe; its status says why.
            let _ = stdin.write_all(text.as_bytes()).await;
            drop(stdin);
        }
        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => {
                return Err(CommandError::Spawn {
                    command: shown,
                    error: e.to_string(),
                });
            }
            Err(_) => {
                let _ = child.kill().await;
                return Err(CommandError::TimedOut {
                    command: shown,
                    seconds: self.timeout.as_secs(),
                });
            }
        };
        if let Some(mut reader) = reader
            && tokio::time::timeout(STDERR_GRACE, &mut reader)
                .await
                .is_err()
        {
            reader.abort();
        }
        let elapsed_ms = started.elapsed().as_millis() as u64;
        if status.success() {
            tracing::debug!(command = %shown, elapsed_ms, "command succeeded");
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&stderr_buf.lock().unwrap_or_else(|e| e.into_inner()))
            .trim()
            .to_string();
        Err(CommandError::Failed {
            command: shown,
            status: status.to_string(),
            stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn runner(prefix: &[&str]) -> CommandRunner {
        CommandRunner::new(words(prefix), Duration::from_secs(10))
    }

    #[tokio::test]
    async fn arguments_reach_the_program_verbatim() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let out_arg = out.display().to_string();
        // The prefix is a shell here only to observe the arguments.
        let r = runner(&["sh", "-c", "printf '%s|' \"$@\" > \"$0\""]);
        r.run(&words(&[&out_arg, "$HOME", "a b", "`id`", ";", "*"]))
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "$HOME|a b|`id`|;|*|"
        );
    }

    #[tokio::test]
    async fn input_is_fed_to_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let r = runner(&[]);
        r.run_with_input(
            &words(&["sh", "-c", "cat > \"$0\"", &out.display().to_string()]),
            "*filter\nCOMMIT\n",
        )
        .await
        .unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "*filter\nCOMMIT\n");
    }

    #[tokio::test]
    async fn failures_carry_status_and_stderr() {
        let err = runner(&["sh", "-c"])
            .run(&words(&["echo oops >&2; exit 3"]))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("exit status: 3"), "{text}");
        assert!(text.ends_with(": oops"), "{text}");
        let err = runner(&[])
            .run(&words(&["/nonexistent/program"]))
            .await
            .unwrap_err();
        assert!(matches!(err, CommandError::Spawn { .. }), "{err}");
        assert!(matches!(
            runner(&[]).run(&[]).await,
            Err(CommandError::Empty)
        ));
    }

    #[tokio::test]
    async fn hanging_commands_are_killed() {
        let r = CommandRunner::new(Vec::new(), Duration::from_millis(200));
        let started = Instant::now();
        let err = r.run(&words(&["sleep", "30"])).await.unwrap_err();
        assert!(matches!(err, CommandError::TimedOut { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_daemon_holding_stderr_does_not_block() {
        let started = Instant::now();
        // The background sleep inherits stderr and keeps it open.
        runner(&["sh", "-c"])
            .run(&words(&["sleep 5 & exit 0"]))
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
