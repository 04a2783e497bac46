//! Finding the node a ramdisk's data belongs to in the node cache, and
//! taking its lock: the callback and discovery both start here.

use std::time::Duration;

use super::error::Error;
use super::lifecycle::Lifecycle;
use super::locks::NodeLock;
use crate::store::{NodeRecord, StoreError};

/// How long a callback waits for a node another callback is processing.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// `find_node` of upstream-behaviour §find-node: the node owning most of the attributes,
/// locked, with its row as read under the lock; ties and finished nodes
/// are failures.
pub(crate) async fn find_node(
    lifecycle: &Lifecycle,
    bmc: &[String],
    macs: &[String],
) -> std::result::Result<(NodeRecord, NodeLock), LookupFailure> {
    let pairs: Vec<(String, String)> = bmc
        .iter()
        .map(|b| ("bmc_address".to_string(), b.clone()))
        .chain(macs.iter().map(|m| ("mac".to_string(), m.clone())))
        .collect();
    let scores = lifecycle
        .store()
        .find_by_attributes(&pairs)
        .await
        .map_err(LookupFailure::store)?;
    let best = scores
        .iter()
        .map(|(_, s)| *s)
        .max()
        .ok_or(LookupFailure::NotFound)?;
    let winners: Vec<&String> = scores
        .iter()
        .filter(|(_, s)| *s == best)
        .map(|(u, _)| u)
        .collect();
    if winners.len() > 1 {
        tracing::warn!(nodes = ?winners, bmc = ?bmc, macs = ?macs, "several nodes match the ramdisk's data equally");
        return Err(LookupFailure::Ambiguous);
    }
    let uuid = winners[0].clone();
    let lock = tokio::time::timeout(LOCK_WAIT, lifecycle.locks().lock(&uuid))
        .await
        .map_err(|_| LookupFailure::Busy)?
        .map_err(LookupFailure::store)?;
    // Read under the lock: another callback may have finished the node
    // while this one waited.
    match lifecycle.store().get_node(&uuid).await {
        Ok(Some(node)) if node.finished_at.is_none() => Ok((node, lock)),
        Ok(Some(node)) => {
            tracing::warn!(node = %uuid, finished_at = ?node.finished_at, "data posted for a node whose introspection already finished");
            Err(LookupFailure::NotFound)
        }
        Ok(None) => Err(LookupFailure::NotFound),
        Err(e) => Err(LookupFailure::store(e)),
    }
}

/// Why lookup failed. The texts are deliberately generic: the callback is
/// unauthenticated, and naming nodes or attributes would help an attacker
/// (upstream-behaviour §lookup-errors); details go to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LookupFailure {
    NotFound,
    Ambiguous,
    Busy,
    /// The database cannot serve now; the ramdisk may post again later.
    Unavailable(String),
    Internal(String),
}

impl LookupFailure {
    fn store(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => LookupFailure::Unavailable(err.to_string()),
            other => LookupFailure::Internal(other.to_string()),
        }
    }

    /// The caller's error: 503 when the database cannot serve now (not
    /// the data's fault, so no 400 that tells the ramdisk to give up),
    /// else a 400 whose message starts with `prefix`.
    pub(crate) fn into_error(self, prefix: &str) -> Error {
        match self {
            LookupFailure::Unavailable(_) => Error::unavailable(self.message()),
            _ => Error::bad_request(format!("{prefix}{}", self.message())),
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            LookupFailure::NotFound => {
                "Could not find a node under introspection for the data posted".into()
            }
            LookupFailure::Ambiguous => "The data posted matches several nodes equally".into(),
            LookupFailure::Busy => "The node is being processed, please retry later".into(),
            LookupFailure::Unavailable(e) => {
                tracing::warn!(error = %e, "lookup failed: the database is not available");
                "Lookup is not possible now: the database is not available, please retry later"
                    .into()
            }
            LookupFailure::Internal(e) => {
                tracing::error!(error = %e, "lookup failed");
                "Lookup failed because of an internal error".into()
            }
        }
    }
}
