//! What every flow shares about a node's introspection: the node cache,
//! Ironic, the clock, the per-node locks and the PXE filter, and applying
//! state machine events to cached nodes. Every write is a compare-and-set on
//! the state the event was computed from, so two concurrent writers cannot
//! both win.

use std::sync::Arc;

use inspector_core::state::{Event, InvalidTransition, State};

use super::locks::{NodeLock, NodeLocks};
use super::stored_data::DataStore;
use super::{API_IRONIC_PATIENCE, Error, Result};
use crate::clock::Clock;
use crate::ironic::IronicApi;
use crate::pxe_filter::{PxeFilter, PxeFilterError};
use crate::store::{KeepRun, NodeRecord, Store, StoreError, StoreFuture};

/// The component every flow holds (behind an `Arc`) for what they share.
pub(crate) struct Lifecycle {
    store: Store,
    /// Ironic for background work; see [`Lifecycle::ironic_for_request`].
    ironic: Arc<dyn IronicApi>,
    clock: Arc<dyn Clock>,
    locks: NodeLocks,
    pxe: PxeFilter,
    /// `[processing] store_data`.
    data: DataStore,
    /// `[processing] history_depth`.
    history_depth: u32,
    /// The introspection rules as last compiled.
    compiled_rules: super::rules::CompiledRules,
}

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

impl Lifecycle {
    pub(crate) fn new(
        store: Store,
        ironic: Arc<dyn IronicApi>,
        clock: Arc<dyn Clock>,
        locks: NodeLocks,
        pxe: PxeFilter,
        data: DataStore,
        history_depth: u32,
    ) -> Self {
        Self {
            store,
            ironic,
            clock,
            locks,
            pxe,
            data,
            history_depth,
            compiled_rules: Default::default(),
        }
    }

    pub(crate) fn compiled_rules(&self) -> &super::rules::CompiledRules {
        &self.compiled_rules
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Ironic for background work: upstream's retry budget, until shutdown.
    pub(crate) fn ironic(&self) -> &Arc<dyn IronicApi> {
        &self.ironic
    }

    /// Ironic for one API request: all its calls together wait at most
    /// [`API_IRONIC_PATIENCE`]. Call once per request and pass it along.
    pub(crate) fn ironic_for_request(&self) -> Arc<dyn IronicApi> {
        self.ironic.within(API_IRONIC_PATIENCE)
    }

    pub(crate) fn locks(&self) -> &NodeLocks {
        &self.locks
    }

    pub(crate) fn pxe(&self) -> &PxeFilter {
        &self.pxe
    }

    /// Where introspection data is stored.
    pub(crate) fn data(&self) -> &DataStore {
        &self.data
    }

    /// The time now, as the domain records it.
    pub(crate) fn now(&self) -> time::PrimitiveDateTime {
        self.clock.now()
    }

    /// Brings the PXE filter in line with Ironic's ports and the nodes under
    /// introspection.
    pub(crate) async fn sync_pxe_filter(&self) -> std::result::Result<(), PxeFilterError> {
        self.pxe.sync(&super::pxe_inputs::PxeInputs(self)).await
    }

    /// Sets the PXE filter up and applies a first sync (service start).
    pub(crate) async fn init_pxe_filter(&self) -> anyhow::Result<()> {
        self.pxe.init(&super::pxe_inputs::PxeInputs(self)).await
    }

    /// The node's UUID: a UUID-like id as it is (canonical form), anything
    /// else is a node name that Ironic resolves.
    pub(crate) async fn resolve_node(&self, node_id: &str) -> Result<String> {
        if let Some(uuid) = inspector_core::ids::canonical_uuid(node_id) {
            return Ok(uuid);
        }
        let node = self
            .ironic_for_request()
            .get_node(node_id)
            .await
            .map_err(|e| Error::node_fetch(node_id, e))?;
        Ok(node.uuid().to_string())
    }

    /// The cached node, or 404 in upstream's words.
    pub(crate) async fn cached_node(&self, uuid: &str) -> Result<NodeRecord> {
        self.store
            .get_node(uuid)
            .await?
            .ok_or_else(|| Error::not_found(format!("Could not find node {uuid} in cache")))
    }

    /// The node's lock if it becomes free within [`super::BUSY_PATIENCE`],
    /// else 409 with `busy_message` (upstream's wording differs per call).
    pub(crate) async fn lock_or_conflict(
        &self,
        uuid: &str,
        busy_message: &str,
    ) -> Result<NodeLock> {
        self.locks
            .lock_within(uuid, super::BUSY_PATIENCE)
            .await?
            .ok_or_else(|| Error::conflict(busy_message))
    }

    async fn current(&self, uuid: &str) -> std::result::Result<NodeRecord, TransitionError> {
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
    ) -> std::result::Result<State, TransitionError> {
        self.transition_from(uuid, None, event).await
    }

    /// [`Self::transition`] starting from `known`, the state the caller read
    /// under the node's lock, instead of reading the row again.
    pub(crate) async fn transition_from(
        &self,
        uuid: &str,
        known: Option<State>,
        event: Event,
    ) -> std::result::Result<State, TransitionError> {
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
    ) -> std::result::Result<State, TransitionError> {
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
    ) -> std::result::Result<State, TransitionError> {
        let run = uuid::Uuid::new_v4().to_string();
        let write = |from: State, to: State| {
            let keep = self.run_to_keep(&run, from);
            self.store()
                .finish_keeping(uuid, from, to, self.now(), error, keep)
        };
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

    /// How the introspection ending from `from` is kept in the node's
    /// history (`[processing] history_depth`): with its processed data when
    /// the database stores it. A reapply reprocesses data already taken, so
    /// it is no new introspection and keeps nothing.
    fn run_to_keep<'r>(&self, run: &'r str, from: State) -> Option<KeepRun<'r>> {
        (self.history_depth > 0 && from != State::Reapplying).then_some(KeepRun {
            id: run,
            with_data: matches!(self.data, DataStore::Database(_)),
            depth: self.history_depth,
        })
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
    ) -> std::result::Result<(State, State), TransitionError>
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
