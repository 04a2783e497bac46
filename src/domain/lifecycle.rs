//! Applying state machine events to cached nodes. Every write is a
//! compare-and-set on the state the event was computed from, so two
//! concurrent writers cannot both win.

use inspector_core::state::{Event, InvalidTransition, State};

use super::{Error, Inspector};
use crate::store::{NodeRecord, StoreError};

/// Why an event could not be applied.
#[derive(Debug)]
pub enum TransitionError {
    Invalid(InvalidTransition),
    Gone(String),
    Store(StoreError),
}

impl From<TransitionError> for Error {
    fn from(err: TransitionError) -> Self {
        match err {
            TransitionError::Invalid(e) => Error::bad_request(e.to_string()),
            TransitionError::Gone(uuid) => {
                Error::not_found(format!("Could not find node {uuid} in cache"))
            }
            TransitionError::Store(e) => e.into(),
        }
    }
}

/// Concurrent writers are rare and short; a few re-reads settle them.
const CAS_ATTEMPTS: usize = 5;

impl Inspector {
    async fn current(&self, uuid: &str) -> Result<NodeRecord, TransitionError> {
        self.store()
            .get_node(uuid)
            .await
            .map_err(TransitionError::Store)?
            .ok_or_else(|| TransitionError::Gone(uuid.to_string()))
    }

    /// Moves the node along `event` and returns its new state.
    pub(crate) async fn transition(
        &self,
        uuid: &str,
        event: Event,
    ) -> Result<State, TransitionError> {
        for _ in 0..CAS_ATTEMPTS {
            let node = self.current(uuid).await?;
            let next = node.state.on(event).map_err(TransitionError::Invalid)?;
            if next == node.state {
                return Ok(next);
            }
            match self.store().update_state(uuid, node.state, next).await {
                Ok(()) => {
                    tracing::debug!(node = uuid, from = %node.state, to = %next, %event, "state changed");
                    return Ok(next);
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(TransitionError::Store(e)),
            }
        }
        Err(TransitionError::Store(StoreError::Conflict(
            uuid.to_string(),
        )))
    }

    /// Ends the node's introspection with `event` (`finish`, `error`,
    /// `timeout` or `abort_end`): lookup attributes go, and the new state,
    /// `finished_at` and `error` are written in one transaction.
    pub(crate) async fn finish(
        &self,
        uuid: &str,
        event: Event,
        error: Option<&str>,
    ) -> Result<State, TransitionError> {
        for _ in 0..CAS_ATTEMPTS {
            let node = self.current(uuid).await?;
            let next = node.state.on(event).map_err(TransitionError::Invalid)?;
            match self
                .store()
                .finish(uuid, node.state, next, self.now(), error)
                .await
            {
                Ok(()) => {
                    crate::metrics::introspection_ended(next.as_str());
                    match error {
                        Some(e) => {
                            tracing::error!(node = uuid, from = %node.state, to = %next, error = %e, "introspection failed")
                        }
                        None => {
                            tracing::info!(node = uuid, from = %node.state, to = %next, "introspection finished")
                        }
                    }
                    return Ok(next);
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(TransitionError::Store(e)),
            }
        }
        Err(TransitionError::Store(StoreError::Conflict(
            uuid.to_string(),
        )))
    }

    /// Marks a node failed after a step went wrong; a failure to do so is
    /// only logged, since the original error is what matters to the caller.
    pub(crate) async fn fail(&self, uuid: &str, message: &str) {
        if let Err(e) = self.finish(uuid, Event::Error, Some(message)).await {
            tracing::warn!(node = uuid, error = ?e, original = message, "could not record the failure");
            return;
        }
        // The node's MACs may no longer boot the ramdisk.
        if let Err(e) = self.sync_pxe_filter().await {
            tracing::warn!(node = uuid, error = %e, "PXE filter sync after a failure failed; the periodic sync will retry");
        }
    }
}
