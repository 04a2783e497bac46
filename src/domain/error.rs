//! The domain's error: a message for the client and what kind of failure it
//! is; the HTTP layer maps the kind to a status code.

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

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match &err {
            StoreError::Unavailable(_) => {
                Error::unavailable(format!("The database is not available: {err}"))
            }
            _ => Error::internal(err.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
