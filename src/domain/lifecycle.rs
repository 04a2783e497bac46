//! Applying state machine events to cached nodes. Every write is a
//! compare-and-set on the state the event was computed from, so two
//! concurrent writers cannot both win.

use inspector_core::state::{Event, InvalidTransition, State};

use super::{Error, Inspector};
use crate::store::{NodeRecord, StoreError, StoreFuture};

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
        self.transition_from(uuid, None, event).await
    }

    /// [`Self::transition`] starting from `known`, the state the caller read
    /// under the node's lock, instead of reading the row again.
    pub(crate) async fn transition_from(
        &self,
        uuid: &str,
        known: Option<State>,
        event: Event,
    ) -> Result<State, TransitionError> {
        let write = |from: State, to: State| self.store().update_state(uuid, from, to);
        let (from, next) = self
            .compare_and_set(uuid, known, event, false, write)
            .await?;
        if next != from {
            tracing::debug!(node = uuid, from = %from, to = %next, %event, "state changed");
        }
        Ok(next)
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
        self.finish_from(uuid, None, event, error).await
    }

    /// [`Self::finish`] starting from `known`, the state the caller read (or
    /// wrote) under the node's lock, instead of reading the row again.
    pub(crate) async fn finish_from(
        &self,
        uuid: &str,
        known: Option<State>,
        event: Event,
        error: Option<&str>,
    ) -> Result<State, TransitionError> {
        let write = |from: State, to: State| self.store().finish(uuid, from, to, self.now(), error);
        let (from, next) = self
            .compare_and_set(uuid, known, event, true, write)
            .await?;
        crate::metrics::introspection_ended(next.as_str());
        match error {
            Some(e) => {
                tracing::error!(node = uuid, from = %from, to = %next, error = %e, "introspection failed")
            }
            None => {
                tracing::info!(node = uuid, from = %from, to = %next, "introspection finished")
            }
        }
        Ok(next)
    }

    /// Computes the state `event` leads to and writes it with `write`, a
    /// compare-and-set on the state it was computed from; retries on a lost
    /// race. The first attempt starts from `known` when given: only a
    /// successful write confirms it, any other outcome is decided on a fresh
    /// read. Returns `(from, to)`; when the event leaves the state as it is
    /// and `write_unchanged` is false, nothing is written.
    async fn compare_and_set<'a, W>(
        &self,
        uuid: &str,
        mut known: Option<State>,
        event: Event,
        write_unchanged: bool,
        write: W,
    ) -> Result<(State, State), TransitionError>
    where
        W: Fn(State, State) -> StoreFuture<'a, ()>,
    {
        let attempts = CAS_ATTEMPTS + usize::from(known.is_some());
        for _ in 0..attempts {
            let (state, guessed) = match known.take() {
                Some(state) => (state, true),
                None => (self.current(uuid).await?.state, false),
            };
            let next = match state.on(event) {
                Ok(next) => next,
                Err(_) if guessed => continue,
                Err(e) => return Err(TransitionError::Invalid(e)),
            };
            if next == state && !write_unchanged {
                if guessed {
                    continue;
                }
                return Ok((state, next));
            }
            match write(state, next).await {
                Ok(()) => return Ok((state, next)),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(TransitionError::Store(e)),
            }
        }
        Err(TransitionError::Store(StoreError::node_conflict(uuid)))
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
