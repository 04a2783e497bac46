//! The background work every flow spawns into, and the shutdown that ends it:
//! one tracker and one token, shared by the services and drained by
//! [`super::Inspector::shutdown`].

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone, Default)]
pub(crate) struct Background {
    /// Introspection steps and periodic loops, to drain at shutdown.
    tasks: TaskTracker,
    /// How many of `tasks` are periodic loops (they run until shutdown).
    periodic: Arc<AtomicUsize>,
    shutdown: CancellationToken,
}

impl Background {
    /// Runs one background step (start, processing, abort, reapply).
    pub(crate) fn spawn<F>(&self, step: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(step);
    }

    /// Runs a loop that ends only with the shutdown.
    pub(crate) fn spawn_periodic<F>(&self, job: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.periodic.fetch_add(1, Ordering::Relaxed);
        self.tasks.spawn(job);
    }

    pub(crate) fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Background steps still running, periodic loops not counted.
    pub(crate) fn steps_in_flight(&self) -> usize {
        self.tasks
            .len()
            .saturating_sub(self.periodic.load(Ordering::Relaxed))
    }

    /// Every task still running, periodic loops included.
    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Closes the tracker and waits until every task has ended.
    pub(crate) async fn drain(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }
}
