//! The shared state handed to every request.

use std::sync::Arc;

use crate::api::auth::Authenticator;
use crate::api::body::DocumentBudget;
use crate::domain::Inspector;

#[derive(Clone)]
pub struct AppState {
    inspector: Arc<Inspector>,
    authenticator: Arc<Authenticator>,
    documents: DocumentBudget,
}

impl AppState {
    pub fn new(inspector: Arc<Inspector>, authenticator: Authenticator) -> Self {
        let documents = DocumentBudget::new(inspector.config().processing.max_documents_memory);
        Self {
            inspector,
            authenticator: Arc::new(authenticator),
            documents,
        }
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
