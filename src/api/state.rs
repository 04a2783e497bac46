//! The shared state handed to every request.

use std::sync::Arc;

use crate::api::auth::Authenticator;
use crate::api::body::DocumentBudget;
use crate::api::error::ApiError;
use crate::domain::Inspector;
use crate::metrics::CallbackGauge;
use tokio::sync::{Semaphore, SemaphorePermit};

#[derive(Clone)]
pub struct AppState {
    inspector: Arc<Inspector>,
    authenticator: Arc<Authenticator>,
    documents: DocumentBudget,
    /// Turns of `[processing] max_concurrent_callbacks`.
    callbacks: Arc<Semaphore>,
}

impl AppState {
    pub fn new(inspector: Arc<Inspector>, authenticator: Authenticator) -> Self {
        let documents = DocumentBudget::new(inspector.config().processing.max_documents_memory);
        let callbacks = Arc::new(Semaphore::new(
            inspector
                .config()
                .processing
                .max_concurrent_callbacks
                .max(1) as usize,
        ));
        Self {
            inspector,
            authenticator: Arc::new(authenticator),
            documents,
            callbacks,
        }
    }

    /// Waits, first come first served, until this ramdisk callback may be
    /// read and processed; it keeps its turn until both returned values
    /// are dropped.
    pub async fn callback_turn(&self) -> Result<(SemaphorePermit<'_>, CallbackGauge), ApiError> {
        let waiting = CallbackGauge::waiting();
        // Only a closed semaphore fails, and this one is never closed.
        let permit = self.callbacks.acquire().await.map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "The service is shutting down",
            )
        })?;
        drop(waiting);
        Ok((permit, CallbackGauge::processing()))
    }

    /// Memory for the posted documents being processed.
    pub fn documents(&self) -> &DocumentBudget {
        &self.documents
    }

    pub fn inspector(&self) -> &Inspector {
        &self.inspector
    }

    /// Shared with each route's authentication layer, which needs nothing
    /// else of the state.
    pub fn authenticator(&self) -> &Arc<Authenticator> {
        &self.authenticator
    }

    pub fn debug(&self) -> bool {
        self.inspector.config().default.debug
    }
}
