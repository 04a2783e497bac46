//! systemd's service notifications (the sd_notify protocol), written by hand:
//! each message is one datagram sent to the unix socket named by
//! `NOTIFY_SOCKET` (a path, or an abstract name written with a leading `@`).
//! The unit uses `Type=notify`, so systemd considers the service started
//! only at `READY=1`, and `WatchdogSec=` restarts it when `WATCHDOG=1`
//! stops coming. Without `NOTIFY_SOCKET` (not run by systemd) nothing is
//! sent.

use std::future::Future;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::task::AbortOnDropHandle;

/// Where notifications go; cheap to clone.
#[derive(Clone, Default)]
pub struct Notifier {
    target: Option<Arc<Target>>,
}

struct Target {
    socket: UnixDatagram,
    address: SocketAddr,
    /// As written in `NOTIFY_SOCKET`, for messages.
    name: String,
}

impl Notifier {
    /// The notifier systemd asked for through `NOTIFY_SOCKET`, or one that
    /// sends nothing.
    pub fn from_env() -> Self {
        let Some(name) = std::env::var_os("NOTIFY_SOCKET") else {
            return Self::default();
        };
        let name = name.to_string_lossy().into_owned();
        match connect(&name) {
            Ok((socket, address)) => Self {
                target: Some(Arc::new(Target {
                    socket,
                    address,
                    name,
                })),
            },
            Err(e) => {
                tracing::warn!("NOTIFY_SOCKET={name}: cannot notify systemd: {e}");
                Self::default()
            }
        }
    }

    /// Sends one message (`KEY=VALUE` lines); failures are logged, never
    /// fatal: the service works the same without its supervisor.
    pub fn notify(&self, message: &str) {
        let Some(target) = &self.target else { return };
        if let Err(e) = target
            .socket
            .send_to_addr(message.as_bytes(), &target.address)
        {
            tracing::warn!("cannot send {message:?} to systemd at {}: {e}", target.name);
        }
    }

    /// The listener is bound and the PXE filter is in place.
    pub fn ready(&self) {
        self.notify("READY=1");
    }

    /// Shutdown has begun.
    pub fn stopping(&self) {
        self.notify("STOPPING=1");
    }

    /// `shutdown`, followed by `STOPPING=1` as soon as it resolves.
    pub fn stopping_when(
        &self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send + 'static {
        let notifier = self.clone();
        async move {
            shutdown.await;
            notifier.stopping();
        }
    }

    /// Sends `WATCHDOG=1` every half of `WATCHDOG_USEC` when systemd asks for
    /// it (and `WATCHDOG_PID`, if set, is this process), until the returned
    /// handle is dropped.
    pub fn start_watchdog(&self) -> Option<AbortOnDropHandle<()>> {
        self.target.as_ref()?;
        let period = watchdog_ping_period(
            std::env::var("WATCHDOG_USEC").ok().as_deref(),
            std::env::var("WATCHDOG_PID").ok().as_deref(),
            std::process::id(),
        )?;
        tracing::info!(
            every_ms = period.as_millis() as u64,
            "sending systemd watchdog keep-alives"
        );
        let notifier = self.clone();
        Some(AbortOnDropHandle::new(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                notifier.notify("WATCHDOG=1");
            }
        })))
    }
}

/// An unbound datagram socket and the address of `NOTIFY_SOCKET`.
fn connect(name: &str) -> std::io::Result<(UnixDatagram, SocketAddr)> {
    let address = match name.strip_prefix('@') {
        Some(abstract_name) => abstract_address(abstract_name)?,
        None if name.starts_with('/') => SocketAddr::from_pathname(name)?,
        None => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "neither an absolute path nor an abstract socket name (@...)",
            ));
        }
    };
    let socket = UnixDatagram::unbound()?;
    // A full receive queue must not hold up the service for long.
    socket.set_write_timeout(Some(Duration::from_secs(1)))?;
    Ok((socket, address))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_address(name: &str) -> std::io::Result<SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    SocketAddr::from_abstract_name(name.as_bytes())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn abstract_address(_name: &str) -> std::io::Result<SocketAddr> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "abstract unix sockets exist only on Linux",
    ))
}

/// How often to send `WATCHDOG=1`: half the period systemd gave in
/// `WATCHDOG_USEC` (as sd_watchdog_enabled advises), when that is a positive
/// number and the watchdog is meant for `own_pid`.
pub fn watchdog_ping_period(
    watchdog_usec: Option<&str>,
    watchdog_pid: Option<&str>,
    own_pid: u32,
) -> Option<Duration> {
    let usec: u64 = watchdog_usec?.trim().parse().ok()?;
    if usec == 0 {
        return None;
    }
    if let Some(pid) = watchdog_pid
        && pid.trim().parse::<u32>().ok() != Some(own_pid)
    {
        return None;
    }
    Some(Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_period_is_half_of_watchdog_usec() {
        assert_eq!(
            watchdog_ping_period(Some("3000000"), None, 7),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            watchdog_ping_period(Some("3000000"), Some("7"), 7),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn watchdog_is_off_when_not_meant_for_this_process() {
        assert_eq!(watchdog_ping_period(None, None, 7), None);
        assert_eq!(watchdog_ping_period(Some("0"), None, 7), None);
        assert_eq!(watchdog_ping_period(Some("soon"), None, 7), None);
        assert_eq!(watchdog_ping_period(Some("3000000"), Some("8"), 7), None);
        assert_eq!(watchdog_ping_period(Some("3000000"), Some("x"), 7), None);
    }

    #[test]
    fn messages_reach_path_and_abstract_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let (socket, address) = connect(path.to_str().unwrap()).unwrap();
        socket.send_to_addr(b"READY=1", &address).unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");

        let name = format!("inspector-test-{}", std::process::id());
        let listener = UnixDatagram::bind_addr(&abstract_address(&name).unwrap()).unwrap();
        let (socket, address) = connect(&format!("@{name}")).unwrap();
        socket.send_to_addr(b"STOPPING=1", &address).unwrap();
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");

        assert!(connect("relative/path").is_err());
    }
}
