//! The one place the service reads the wall clock: naive UTC with microsecond
//! precision, which is what upstream stores and shows.

use time::{OffsetDateTime, PrimitiveDateTime};

pub fn now() -> PrimitiveDateTime {
    let now = OffsetDateTime::now_utc();
    inspector_core::timestamp::truncate_to_micros(PrimitiveDateTime::new(now.date(), now.time()))
}
