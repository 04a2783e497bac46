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
    // List pages render two per status: the digits are written by hand, the
    // general formatter serves only years outside 0000-9999.
    let Ok(year) = u32::try_from(ts.year()) else {
        return slow_isoformat(ts);
    };
    if year > 9999 {
        return slow_isoformat(ts);
    }
    let mut text = String::with_capacity(26);
    let mut push = |value: u32, width: u32, after: Option<char>| {
        for i in (0..width).rev() {
            text.push(char::from(b'0' + (value / 10u32.pow(i) % 10) as u8));
        }
        if let Some(c) = after {
            text.push(c);
        }
    };
    push(year, 4, Some('-'));
    push(u32::from(u8::from(ts.month())), 2, Some('-'));
    push(u32::from(ts.day()), 2, Some('T'));
    push(u32::from(ts.hour()), 2, Some(':'));
    push(u32::from(ts.minute()), 2, Some(':'));
    push(u32::from(ts.second()), 2, None);
    let micros = ts.microsecond();
    if micros != 0 {
        text.push('.');
        for i in (0..6).rev() {
            text.push(char::from(b'0' + (micros / 10u32.pow(i) % 10) as u8));
        }
    }
    text
}

fn slow_isoformat(ts: PrimitiveDateTime) -> String {
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
    canonical_from_db(text).or_else(|| PrimitiveDateTime::parse(text.trim(), DB_PARSE).ok())
}

/// The form every row we and SQLAlchemy write has,
/// `YYYY-MM-DD HH:MM:SS.ffffff`, read without the general parser (a list
/// page reads two per status); `None` for anything else.
fn canonical_from_db(text: &str) -> Option<PrimitiveDateTime> {
    let b = text.as_bytes();
    if b.len() != 26 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[19] != b'.' {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let month = time::Month::try_from(u8::try_from(number(5, 7)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(number(0, 4)?).ok()?,
        month,
        u8::try_from(number(8, 10)?).ok()?,
    )
    .ok()?;
    let clock = time::Time::from_hms_micro(
        u8::try_from(number(11, 13)?).ok()?,
        u8::try_from(number(14, 16)?).ok()?,
        u8::try_from(number(17, 19)?).ok()?,
        number(20, 26)?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, clock))
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
    fn the_quick_paths_agree_with_the_general_ones() {
        let samples = [
            "2026-11-26 21:28:53.925784",
            "2026-11-26 21:28:53.000000",
            "0001-01-01 00:00:00.000001",
            "9999-12-31 23:59:59.999999",
            "2024-02-29 12:00:00.500000",
        ];
        for text in samples {
            let general = PrimitiveDateTime::parse(text, DB_PARSE).expect("parses");
            assert_eq!(canonical_from_db(text), Some(general), "{text}");
            assert_eq!(py_isoformat(general), slow_isoformat(general), "{text}");
        }
        // Not a date, or not the canonical form: left to the general parser.
        for text in [
            "2023-02-29 12:00:00.000000",
            "2026-13-01 00:00:00.000000",
            "2026-11-26 24:00:00.000000",
            "2026-11-26T21:28:53.925784",
            "2026-11-26 21:28:53.92578x",
            "2026-11-26 21:28:53",
        ] {
            assert_eq!(canonical_from_db(text), None, "{text}");
        }
        let before_year_one = PrimitiveDateTime::new(
            time::Date::from_calendar_date(-1, time::Month::March, 4).unwrap(),
            time::Time::from_hms_micro(5, 6, 7, 8).unwrap(),
        );
        assert_eq!(
            py_isoformat(before_year_one),
            slow_isoformat(before_year_one)
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
