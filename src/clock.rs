//! The one place the service reads the wall clock: naive UTC with microsecond
//! precision, which is what upstream stores and shows. The domain reads it
//! through [`Clock`], so tests can move time with [`FakeClock`].

use std::sync::Mutex;

use time::{OffsetDateTime, PrimitiveDateTime};

pub fn now() -> PrimitiveDateTime {
    let now = OffsetDateTime::now_utc();
    inspector_core::timestamp::truncate_to_micros(PrimitiveDateTime::new(now.date(), now.time()))
}

/// Where the domain reads the time (started_at, finished_at, timeouts).
pub trait Clock: Send + Sync {
    fn now(&self) -> PrimitiveDateTime;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> PrimitiveDateTime {
        now()
    }
}

/// A clock that stands still until a test moves it.
pub struct FakeClock {
    now: Mutex<PrimitiveDateTime>,
}

impl FakeClock {
    /// Starts at the wall clock's time, so that times it gives and times
    /// written by the real clock compare sensibly.
    pub fn new() -> Self {
        Self {
            now: Mutex::new(now()),
        }
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> PrimitiveDateTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}
