//! Why a PXE filter driver failed, by kind, so that a caller can tell a bad
//! setting from a hosts directory it cannot use, a command that failed, or
//! inputs it could not read. Each message is the text the logs have always
//! shown; wrapped errors are part of the message, not a separate cause, so
//! that a logged chain does not repeat them.

use std::io;
use std::path::PathBuf;

use super::runner::CommandError;

#[derive(Debug, thiserror::Error)]
pub enum PxeFilterError {
    /// A setting of the driver cannot be used.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    HostsDir(#[from] HostsDirError),
    /// `[dnsmasq_pxe_filter] dnsmasq_start_command` failed.
    #[error("dnsmasq_start_command failed: {0}")]
    StartCommand(CommandError),
    /// A filter command (iptables) failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// What the sync reads from the service (the node cache) failed; shown
    /// by its outermost message, as before.
    #[error("{0}")]
    Inputs(anyhow::Error),
}

/// Ironic's ports could not be listed for a sync, shown as the cause says;
/// the sync is skipped rather than failed.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PortsUnavailable(pub Box<dyn std::error::Error + Send + Sync>);

/// The dnsmasq hosts directory (`[dnsmasq_pxe_filter] dhcp_hostsdir`) could
/// not be used.
#[derive(Debug, thiserror::Error)]
pub enum HostsDirError {
    #[error("cannot read [dnsmasq_pxe_filter] dhcp_hostsdir {}: {error}", dir.display())]
    List { dir: PathBuf, error: io::Error },
    #[error("cannot read {}: {error}", dir.display())]
    ReadEntry { dir: PathBuf, error: io::Error },
    #[error("cannot write {}: {error}", path.display())]
    Write { path: PathBuf, error: io::Error },
    #[error("cannot remove {}: {error}", path.display())]
    Remove { path: PathBuf, error: io::Error },
    #[error("cannot purge {}: {error}", path.display())]
    Purge { path: PathBuf, error: io::Error },
    /// The blocking task doing the directory's I/O panicked or was cancelled.
    #[error("hosts directory task failed: {0}")]
    Task(tokio::task::JoinError),
}

impl HostsDirError {
    /// The I/O error behind it, if any.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            Self::List { error, .. }
            | Self::ReadEntry { error, .. }
            | Self::Write { error, .. }
            | Self::Remove { error, .. }
            | Self::Purge { error, .. } => Some(error),
            Self::Task(_) => None,
        }
    }
}
