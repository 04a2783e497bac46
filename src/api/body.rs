//! Request bodies: read whatever the Content-Type says (the ramdisk sends
//! none, and upstream parsed bodies "forcibly"), refuse oversized or too
//! deeply nested documents before parsing them.

use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::StatusCode;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;

/// Limits applied to one endpoint's body.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub max_depth: usize,
}

pub async fn read_bytes(body: Body, limits: BodyLimits) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limits.max_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "Request body is larger than the limit of {} bytes",
                    limits.max_bytes
                ),
            )
        })
}

/// Parses a JSON document within the limits; the error message is the
/// caller's to choose, since upstream words them differently per endpoint.
pub fn parse_json(bytes: &[u8], limits: BodyLimits) -> Result<Value, ParseFailure> {
    if inspector_core::json_depth::exceeds_depth(bytes, limits.max_depth) {
        return Err(ParseFailure::TooDeep(limits.max_depth));
    }
    serde_json::from_slice(bytes).map_err(|e| ParseFailure::Invalid(e.to_string()))
}

#[derive(Debug)]
pub enum ParseFailure {
    TooDeep(usize),
    Invalid(String),
    /// Its values alone would take more than the whole budget.
    TooCostly {
        values: u64,
        mib: u64,
        budget_mib: u64,
    },
}

/// The memory that posted documents being read and processed may take
/// together (`[processing] max_documents_memory`). Anyone on the
/// provisioning network may post to `/v1/continue`: without this, eight
/// bodies at the size limit took hundreds of MiB, and one of tiny values
/// (`[1,1,...]`) over a GiB.
#[derive(Debug, Clone)]
pub struct DocumentBudget {
    kib: Arc<Semaphore>,
    total_kib: u32,
}

/// Memory a parsed document takes while it is processed, per byte of body
/// (the body, the parsed strings, the unprocessed and the processed data
/// serialised for storage, and SQLite's copies of both as it writes them:
/// about 8 MB for a 1 MiB document under valgrind's massif), per JSON value
/// and per object (serde_json's map). Measured on bodies of one kind of
/// value each; an estimate, on the safe side.
const COST_PER_BYTE: u64 = 8;
const COST_PER_VALUE: u64 = 150;
const COST_PER_OBJECT: u64 = 500;
/// Real ramdisk documents hold a JSON value per 25 bytes or more.
const BYTES_PER_VALUE: u64 = 15;

impl DocumentBudget {
    pub fn new(mib: u64) -> Self {
        let total_kib = u32::try_from(mib.saturating_mul(1024)).unwrap_or(u32::MAX >> 3);
        let total_kib = total_kib.clamp(1, Semaphore::MAX_PERMITS as u32);
        Self {
            kib: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
        }
    }

    /// KiB of the budget for `bytes`: all of it at most, since a document
    /// larger than the budget is processed alone.
    fn kib_for(&self, bytes: u64) -> usize {
        let kib = usize::try_from(bytes.div_ceil(1024)).unwrap_or(usize::MAX);
        kib.clamp(1, self.total_kib as usize)
    }

    async fn take(&self, kib: usize) -> OwnedSemaphorePermit {
        let kib = u32::try_from(kib).expect("at most the budget");
        self.kib
            .clone()
            .acquire_many_owned(kib)
            .await
            .expect("the budget's semaphore is never closed")
    }
}

/// A share of the [`DocumentBudget`], held while the document is read and
/// processed.
#[derive(Debug)]
pub struct Admission {
    budget: DocumentBudget,
    share: Option<OwnedSemaphorePermit>,
}

impl Admission {
    /// Resizes the share to `bytes`, in place when the budget has room: a
    /// share given back while the body is in memory would let the next
    /// document in beside it. Only when the budget has no room is it given
    /// back before waiting for the whole (waiting for more while holding
    /// some could deadlock two growing documents).
    async fn resize(&mut self, bytes: u64) {
        let want = self.budget.kib_for(bytes);
        let Some(share) = self.share.as_mut() else {
            self.share = Some(self.budget.take(want).await);
            return;
        };
        let have = share.num_permits();
        if want < have {
            drop(share.split(have - want));
            return;
        }
        if want == have {
            return;
        }
        let extra = u32::try_from(want - have).expect("at most the budget");
        match self.budget.kib.clone().try_acquire_many_owned(extra) {
            Ok(extra) => share.merge(extra),
            Err(_) => {
                self.share = None;
                self.share = Some(self.budget.take(want).await);
            }
        }
    }
}

/// Reads a body once the budget has room for it (its Content-Length, or
/// the size limit when it has none), within the size limit.
pub async fn read_admitted(
    budget: &DocumentBudget,
    body: Body,
    limits: BodyLimits,
) -> Result<(Bytes, Admission), ApiError> {
    let declared = body.size_hint().exact().unwrap_or(limits.max_bytes as u64);
    let declared = declared.min(limits.max_bytes as u64);
    let mut admission = Admission {
        budget: budget.clone(),
        share: None,
    };
    // Room for the values too, as dense as real inventories get, so that
    // the share rarely has to grow once the body is read.
    let expected = declared.saturating_mul(COST_PER_BYTE + COST_PER_VALUE / BYTES_PER_VALUE);
    admission.resize(expected).await;
    let bytes = read_bytes(body, limits).await?;
    Ok((bytes, admission))
}

/// [`parse_json`] once the budget has room for what the document will take
/// parsed; refuses one whose values alone exceed the whole budget.
pub async fn parse_admitted(
    bytes: &[u8],
    limits: BodyLimits,
    admission: &mut Admission,
) -> Result<Value, ParseFailure> {
    if inspector_core::json_depth::exceeds_depth(bytes, limits.max_depth) {
        return Err(ParseFailure::TooDeep(limits.max_depth));
    }
    let shape = inspector_core::json_depth::shape(bytes);
    let values_cost = shape
        .values
        .saturating_mul(COST_PER_VALUE)
        .saturating_add(shape.objects.saturating_mul(COST_PER_OBJECT));
    let total = u64::from(admission.budget.total_kib) * 1024;
    if values_cost > total {
        return Err(ParseFailure::TooCostly {
            values: shape.values,
            mib: values_cost.div_ceil(1 << 20),
            budget_mib: total >> 20,
        });
    }
    let bytes_cost = (bytes.len() as u64).saturating_mul(COST_PER_BYTE);
    admission
        .resize(bytes_cost.saturating_add(values_cost))
        .await;
    parse_json(bytes, limits)
}

impl From<ParseFailure> for ApiError {
    fn from(failure: ParseFailure) -> Self {
        match failure {
            ParseFailure::TooDeep(max) => ApiError::bad_request(format!(
                "Invalid JSON: documents may nest at most {max} levels deep"
            )),
            ParseFailure::Invalid(detail) => {
                ApiError::bad_request(format!("Invalid JSON in request body: {detail}"))
            }
            ParseFailure::TooCostly {
                values,
                mib,
                budget_mib,
            } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The document has {values} JSON values, which would take about {mib} MiB \
                     of memory to process, more than [processing] max_documents_memory \
                     ({budget_mib} MiB)"
                ),
            ),
        }
    }
}
