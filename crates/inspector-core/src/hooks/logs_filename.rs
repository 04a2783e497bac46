//! `[processing]ramdisk_logs_filename_format`: Python's `str.format` with the
//! fields `uuid`, `mac`, `bmc` (strings) and `dt` (a naive UTC datetime whose
//! format spec is a glibc `strftime` pattern in the C locale).

use time::PrimitiveDateTime;

use crate::py::value::str_repr;

/// File name for stored ramdisk logs per [processing] ramdisk_logs_filename_format (Python str.format with uuid, mac, bmc, dt incl. strftime specs like {dt:%Y%m%d-%H%M%S.%f}); the result must be a plain file name: reject/sanitise anything that could escape the directory (/, .., NUL) — data comes from the ramdisk.
///
/// `uuid` is the node's (None: `unknown`), `mac` the PXE MAC (its colons are
/// dropped; None: `unknown`), `bmc` the BMC IPv4 address (None: `unknown`).
/// `/` and NUL in these values become `_`; a result that is still not a plain
/// file name (empty, `.`, `..`, or with `/` from the format itself) is an
/// error, as is any format upstream could not apply.
pub fn ramdisk_logs_filename(
    format: &str,
    uuid: Option<&str>,
    mac: Option<&str>,
    bmc: Option<&str>,
    now: PrimitiveDateTime,
) -> Result<String, String> {
    let clean = |value: &str| value.replace(['/', '\0'], "_");
    let fields = Fields {
        uuid: clean(uuid.unwrap_or("unknown")),
        mac: clean(&mac.unwrap_or("unknown").replace(':', "")),
        bmc: clean(bmc.unwrap_or("unknown")),
        dt: now,
    };
    let name = format_fields(format, &fields, 2)?;
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(format!(
            "Ramdisk logs file name {} is not a plain file name",
            str_repr(&name)
        ));
    }
    Ok(name)
}

struct Fields {
    uuid: String,
    mac: String,
    bmc: String,
    dt: PrimitiveDateTime,
}

/// A value a replacement field can refer to.
enum Arg {
    Str(String),
    Int(i64),
    DateTime(PrimitiveDateTime),
}

/// `format_string.format(**fields)`; `depth` limits nested fields in specs
/// (Python allows one level).
fn format_fields(format: &str, fields: &Fields, depth: u8) -> Result<String, String> {
    if depth == 0 {
        return Err("Max string recursion exceeded".into());
    }
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err("Single '}' encountered in format string".into()),
            '{' => {
                // The field runs to the matching brace (specs may nest fields).
                let mut field = String::new();
                let mut level = 1;
                loop {
                    let c = chars.next().ok_or("expected '}' before end of string")?;
                    match c {
                        '{' => level += 1,
                        '}' if level == 1 => break,
                        '}' => level -= 1,
                        _ => {}
                    }
                    field.push(c);
                }
                out.push_str(&replace_field(&field, fields, depth)?);
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

fn replace_field(field: &str, fields: &Fields, depth: u8) -> Result<String, String> {
    let (name_part, rest) = split_field_name(field);
    let (conversion, spec) = match rest.strip_prefix('!') {
        Some(after) => {
            let mut it = after.chars();
            let conv = it
                .next()
                .ok_or("end of string while looking for conversion specifier")?;
            let remainder = it.as_str();
            let spec = match remainder.strip_prefix(':') {
                Some(spec) => spec,
                None if remainder.is_empty() => "",
                None => return Err("expected ':' after conversion specifier".into()),
            };
            (Some(conv), spec)
        }
        None => (None, rest.strip_prefix(':').unwrap_or_default()),
    };
    let spec = if spec.contains('{') {
        format_fields(spec, fields, depth - 1)?
    } else {
        spec.to_string()
    };
    let mut value = lookup(name_part, fields)?;
    if let Some(conv) = conversion {
        value = Arg::Str(match conv {
            's' => arg_str(&value),
            'r' => arg_repr(&value),
            'a' => crate::py::value::escape_non_ascii(&arg_repr(&value)),
            other => return Err(format!("Unknown conversion specifier {other}")),
        });
    }
    match value {
        Arg::Str(s) => crate::py::format::format_str(&s, &spec).map_err(|e| e.to_string()),
        Arg::Int(i) => {
            crate::py::format::format_int(i128::from(i), &spec).map_err(|e| e.to_string())
        }
        Arg::DateTime(dt) if spec.is_empty() => Ok(datetime_str(dt)),
        Arg::DateTime(dt) => Ok(strftime(dt, &spec)),
    }
}

/// Splits `name.attr[key]!r:spec` after the field name (brackets may hold
/// `!` and `:`).
fn split_field_name(field: &str) -> (&str, &str) {
    let mut in_brackets = false;
    for (i, c) in field.char_indices() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            '!' | ':' if !in_brackets => return (&field[..i], &field[i..]),
            _ => {}
        }
    }
    (field, "")
}

fn lookup(name: &str, fields: &Fields) -> Result<Arg, String> {
    let end = name.find(['.', '[']).unwrap_or(name.len());
    let (first, mut rest) = name.split_at(end);
    let mut value = match first {
        "uuid" => Arg::Str(fields.uuid.clone()),
        "mac" => Arg::Str(fields.mac.clone()),
        "bmc" => Arg::Str(fields.bmc.clone()),
        "dt" => Arg::DateTime(fields.dt),
        "" => return Err("Format string contains positional fields".into()),
        other if other.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(format!(
                "Replacement index {other} out of range for positional args tuple"
            ));
        }
        other => return Err(format!("KeyError: {}", str_repr(other))),
    };
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let (attr, tail) = after.split_at(end);
            value = attribute(&value, attr)?;
            rest = tail;
        } else if let Some(after) = rest.strip_prefix('[') {
            let (key, tail) = after
                .split_once(']')
                .ok_or("Missing ']' in format string")?;
            value = index(&value, key)?;
            rest = tail;
        } else {
            return Err("Only '.' or '[' may follow ']' in format field specifier".into());
        }
    }
    Ok(value)
}

fn attribute(value: &Arg, attr: &str) -> Result<Arg, String> {
    let Arg::DateTime(dt) = value else {
        return Err(format!(
            "Unsupported attribute {attr} in ramdisk logs file name format"
        ));
    };
    Ok(Arg::Int(match attr {
        "year" => i64::from(dt.year()),
        "month" => i64::from(u8::from(dt.month())),
        "day" => i64::from(dt.day()),
        "hour" => i64::from(dt.hour()),
        "minute" => i64::from(dt.minute()),
        "second" => i64::from(dt.second()),
        "microsecond" => i64::from(dt.microsecond()),
        other => {
            return Err(format!(
                "Unsupported attribute {other} in ramdisk logs file name format"
            ));
        }
    }))
}

fn index(value: &Arg, key: &str) -> Result<Arg, String> {
    match value {
        Arg::Str(s) if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) => {
            let i: usize = key
                .parse()
                .map_err(|_| "string index out of range".to_string())?;
            s.chars()
                .nth(i)
                .map(|c| Arg::Str(c.to_string()))
                .ok_or_else(|| "string index out of range".into())
        }
        Arg::Str(_) => Err("string indices must be integers".into()),
        _ => Err(format!(
            "Unsupported index [{key}] in ramdisk logs file name format"
        )),
    }
}

fn arg_str(value: &Arg) -> String {
    match value {
        Arg::Str(s) => s.clone(),
        Arg::Int(i) => i.to_string(),
        Arg::DateTime(dt) => datetime_str(*dt),
    }
}

fn arg_repr(value: &Arg) -> String {
    match value {
        Arg::Str(s) => str_repr(s),
        Arg::Int(i) => i.to_string(),
        Arg::DateTime(dt) => {
            let mut parts = vec![
                dt.year().to_string(),
                u8::from(dt.month()).to_string(),
                dt.day().to_string(),
                dt.hour().to_string(),
                dt.minute().to_string(),
            ];
            if dt.second() != 0 || dt.microsecond() != 0 {
                parts.push(dt.second().to_string());
            }
            if dt.microsecond() != 0 {
                parts.push(dt.microsecond().to_string());
            }
            format!("datetime.datetime({})", parts.join(", "))
        }
    }
}

/// `str(datetime)`: ISO with a space, microseconds only when non-zero.
fn datetime_str(dt: PrimitiveDateTime) -> String {
    let mut s = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if dt.microsecond() != 0 {
        s.push_str(&format!(".{:06}", dt.microsecond()));
    }
    s
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `datetime.strftime` on Linux: Python substitutes `%f`, `%z`, `%Z` itself
/// (naive: empty zone) and leaves the rest to glibc (C locale), flags
/// (`-_0^#`), widths and `E`/`O` modifiers included; unknown conversions are
/// copied as written.
fn strftime(dt: PrimitiveDateTime, pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('f') => {
                out.push_str(&format!("{:06}", dt.microsecond()));
                i += 2;
                continue;
            }
            Some('z' | 'Z') => {
                i += 2;
                continue;
            }
            _ => {}
        }
        let start = i;
        i += 1;
        let mut flags = Vec::new();
        while let Some(&c @ ('-' | '_' | '0' | '^' | '#')) = chars.get(i) {
            flags.push(c);
            i += 1;
        }
        let width_start = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        let width: usize = chars[width_start..i]
            .iter()
            .collect::<String>()
            .parse()
            .unwrap_or(0);
        if matches!(chars.get(i), Some('E' | 'O')) {
            i += 1;
        }
        let Some(&conversion) = chars.get(i) else {
            out.extend(&chars[start..]);
            break;
        };
        i += 1;
        let written: String = chars[start..i].iter().collect();
        out.push_str(&conversion_text(dt, conversion, &flags, width, &written));
    }
    out
}

fn conversion_text(
    dt: PrimitiveDateTime,
    conversion: char,
    flags: &[char],
    width: usize,
    written: &str,
) -> String {
    let year = dt.year();
    let month = u8::from(dt.month());
    let weekday = dt.weekday().number_days_from_sunday();
    let yday = dt.ordinal() - 1;
    let hour12 = if dt.hour().is_multiple_of(12) {
        12
    } else {
        dt.hour() % 12
    };
    let (iso_year, iso_week, _) = dt.to_iso_week_date();
    let number = |value: i64, digits: usize, pad: char| Field::Number { value, digits, pad };
    let text = |s: String| Field::Text(s);
    let field = match conversion {
        'a' => text(WEEKDAYS[weekday as usize][..3].to_string()),
        'A' => text(WEEKDAYS[weekday as usize].to_string()),
        'b' | 'h' => text(MONTHS[usize::from(month) - 1][..3].to_string()),
        'B' => text(MONTHS[usize::from(month) - 1].to_string()),
        'c' => text(strftime(dt, "%a %b %e %H:%M:%S %Y")),
        'C' => number(i64::from(year).div_euclid(100), 2, '0'),
        'd' => number(i64::from(dt.day()), 2, '0'),
        'D' | 'x' => text(strftime(dt, "%m/%d/%y")),
        'e' => number(i64::from(dt.day()), 2, ' '),
        'F' => text(strftime(dt, "%Y-%m-%d")),
        'g' => number(i64::from(iso_year).rem_euclid(100), 2, '0'),
        'G' => number(i64::from(iso_year), 1, '0'),
        'H' => number(i64::from(dt.hour()), 2, '0'),
        'I' => number(i64::from(hour12), 2, '0'),
        'j' => number(i64::from(yday) + 1, 3, '0'),
        'k' => number(i64::from(dt.hour()), 2, ' '),
        'l' => number(i64::from(hour12), 2, ' '),
        'm' => number(i64::from(month), 2, '0'),
        'M' => number(i64::from(dt.minute()), 2, '0'),
        'n' => text("\n".into()),
        'p' => text(if dt.hour() < 12 { "AM" } else { "PM" }.into()),
        'P' => text(if dt.hour() < 12 { "am" } else { "pm" }.into()),
        'r' => text(strftime(dt, "%I:%M:%S %p")),
        'R' => text(strftime(dt, "%H:%M")),
        's' => number(dt.assume_utc().unix_timestamp(), 1, '0'),
        'S' => number(i64::from(dt.second()), 2, '0'),
        't' => text("\t".into()),
        'T' | 'X' => text(strftime(dt, "%H:%M:%S")),
        'u' => number(if weekday == 0 { 7 } else { i64::from(weekday) }, 1, '0'),
        'U' => number((i64::from(yday) + 7 - i64::from(weekday)) / 7, 2, '0'),
        'V' => number(i64::from(iso_week), 2, '0'),
        'w' => number(i64::from(weekday), 1, '0'),
        'W' => number(
            (i64::from(yday) + 7 - (i64::from(weekday) + 6) % 7) / 7,
            2,
            '0',
        ),
        'y' => number(i64::from(year).rem_euclid(100), 2, '0'),
        'Y' => number(i64::from(year), 1, '0'),
        // A naive datetime has no zone: glibc prints nothing for %z.
        'z' => return String::new(),
        'Z' => text(String::new()),
        '%' => text("%".into()),
        _ => return pad_left(written, width, ' '),
    };
    match field {
        Field::Number { value, digits, pad } => {
            let pad = if flags.contains(&'_') {
                ' '
            } else if flags.contains(&'0') {
                '0'
            } else {
                pad
            };
            let magnitude = value.unsigned_abs().to_string();
            let (min, pad) = if flags.contains(&'-') {
                (width, ' ')
            } else {
                (width.max(digits), pad)
            };
            let sign = if value < 0 { "-" } else { "" };
            if pad == '0' {
                format!(
                    "{sign}{}",
                    pad_left(&magnitude, min.saturating_sub(sign.len()), '0')
                )
            } else {
                pad_left(&format!("{sign}{magnitude}"), min, ' ')
            }
        }
        Field::Text(s) => {
            let s = if flags.contains(&'^') {
                s.to_uppercase()
            } else if flags.contains(&'#') {
                match conversion {
                    'p' | 'Z' => s.to_lowercase(),
                    'a' | 'A' | 'b' | 'B' | 'h' => s.to_uppercase(),
                    _ => s,
                }
            } else {
                s
            };
            let pad = if flags.contains(&'0') { '0' } else { ' ' };
            pad_left(&s, width, pad)
        }
    }
}

enum Field {
    Number {
        value: i64,
        digits: usize,
        pad: char,
    },
    Text(String),
}

fn pad_left(s: &str, width: usize, pad: char) -> String {
    let len = s.chars().count();
    if len >= width {
        s.to_string()
    } else {
        format!(
            "{}{s}",
            std::iter::repeat_n(pad, width - len).collect::<String>()
        )
    }
}
