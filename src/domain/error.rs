//! The domain's error: a message for the client and what kind of failure it
//! is; the HTTP layer maps the kind to a status code.

use crate::ironic::IronicError;
use crate::pxe_filter::PxeFilterError;
use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    NotFound,
    Conflict,
    PayloadTooLarge,
    /// A dependency (Ironic, the database) cannot serve the request now.
    Unavailable,
    /// A bug or an unexpected failure; the message is logged, not shown.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

/// The PXE filter could not be brought in line: whatever failed (a command,
/// the hosts directory, the cache) keeps its message.
impl From<PxeFilterError> for Error {
    fn from(err: PxeFilterError) -> Self {
        Error::unavailable(err.to_string())
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match &err {
            StoreError::Unavailable(_) => {
                Error::unavailable(format!("The database is not available: {err}"))
            }
            StoreError::StorageFault { reason, source } => Error::unavailable(format!(
                "The database cannot be written: {reason} ({source})"
            )),
            StoreError::Unstorable { .. } => Error::bad_request(err.to_string()),
            _ => Error::internal(err.to_string()),
        }
    }
}

/// How an Ironic failure reaches the API's caller: Ironic's 404 is ours,
/// a refused request is a bad request, anything else (no answer, 5xx, auth,
/// configuration) means Ironic cannot serve now.
impl From<IronicError> for Error {
    fn from(err: IronicError) -> Self {
        match err {
            IronicError::NotFound { message } => Error::not_found(message),
            IronicError::Rejected { message, .. } | IronicError::Conflict { message } => {
                Error::bad_request(message)
            }
            other => Error::unavailable(other.to_string()),
        }
    }
}

impl Error {
    /// A failure to fetch node `node_id` from Ironic, worded for the caller.
    pub(crate) fn node_fetch(node_id: &str, err: IronicError) -> Self {
        match Error::from(err) {
            Error {
                kind: ErrorKind::NotFound,
                ..
            } => Error::not_found(format!("Node {node_id} was not found in Ironic")),
            Error {
                kind: ErrorKind::BadRequest,
                message,
            } => Error::bad_request(format!("Cannot get node {node_id}: {message}")),
            other => other,
        }
    }

    /// A failure of an Ironic operation on a node being processed: only
    /// Ironic not answering is `unavailable`; anything else fails the node
    /// with a bad request.
    pub(crate) fn node_operation(action: &str, uuid: &str, err: IronicError) -> Self {
        let message = format!("Failed to {action} for node {uuid}: {err}");
        match err {
            IronicError::Unreachable(_)
            | IronicError::OutOfTime { .. }
            | IronicError::ShuttingDown { .. }
            | IronicError::Server { .. } => Error::unavailable(message),
            _ => Error::bad_request(message),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
