//! Timestamps as upstream writes them: naive UTC, rendered by Python's
//! `datetime.isoformat()` in the API and by SQLAlchemy in the database.

use time::macros::format_description;
use time::{PrimitiveDateTime, format_description::BorrowedFormatItem};

const DATE_TIME: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
const DB_FORMAT: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]");
const DB_PARSE: &[BorrowedFormatItem<'_>] = format_description!(
    "[year]-[month]-[day][first [ ][T]][hour]:[minute]:[second][optional [.[subsecond]]]"
);

/// Python's `isoformat()`: no offset, microseconds only when non-zero.
pub fn py_isoformat(ts: PrimitiveDateTime) -> String {
    let mut out = ts.format(DATE_TIME).unwrap_or_default();
    let micros = ts.microsecond();
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    out
}

/// SQLAlchemy's SQLite storage format, always with six fraction digits, so
/// that text ordering is time ordering.
pub fn to_db(ts: PrimitiveDateTime) -> String {
    ts.format(DB_FORMAT).unwrap_or_default()
}

/// Reads what SQLAlchemy (or we) stored; tolerant of a missing fraction or a `T`.
pub fn from_db(text: &str) -> Option<PrimitiveDateTime> {
    PrimitiveDateTime::parse(text.trim(), DB_PARSE).ok()
}

/// Drops sub-microsecond precision, which neither Python nor the database keeps.
pub fn truncate_to_micros(ts: PrimitiveDateTime) -> PrimitiveDateTime {
    let micros = ts.microsecond();
    ts.replace_microsecond(micros).unwrap_or(ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn isoformat_omits_zero_microseconds() {
        assert_eq!(
            py_isoformat(datetime!(2017-08-16 12:22:01)),
            "2017-08-16T12:22:01"
        );
        assert_eq!(
            py_isoformat(datetime!(2017-08-16 12:22:01.123456)),
            "2017-08-16T12:22:01.123456"
        );
        assert_eq!(
            py_isoformat(datetime!(2017-08-16 12:22:01.000007)),
            "2017-08-16T12:22:01.000007"
        );
    }

    #[test]
    fn database_format_round_trips() {
        let ts = datetime!(2026-11-26 21:28:53.925784);
        assert_eq!(to_db(ts), "2026-11-26 21:28:53.925784");
        assert_eq!(from_db("2026-11-26 21:28:53.925784"), Some(ts));
        assert_eq!(
            to_db(datetime!(2026-01-02 03:04:05)),
            "2026-01-02 03:04:05.000000"
        );
    }

    #[test]
    fn database_reader_accepts_other_spellings() {
        assert_eq!(
            from_db("2026-11-26 21:28:53"),
            Some(datetime!(2026-11-26 21:28:53))
        );
        assert_eq!(
            from_db("2026-11-26T21:28:53.5"),
            Some(datetime!(2026-11-26 21:28:53.5))
        );
        assert_eq!(from_db("yesterday"), None);
    }

    #[test]
    fn truncation_keeps_microseconds_only() {
        let ts = datetime!(2026-11-26 21:28:53.123456789);
        assert_eq!(
            truncate_to_micros(ts),
            datetime!(2026-11-26 21:28:53.123456)
        );
    }
}
