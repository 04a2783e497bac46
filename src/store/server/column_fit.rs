//! Making text fit columns narrower than Unicode: upstream's MySQL tables
//! are `utf8` (utf8mb3, at most three bytes a character, so nothing outside
//! the Basic Multilingual Plane), `TEXT` holds 65,535 bytes and
//! `VARCHAR(255)` 255 characters. Under the strict `sql_mode` the store
//! sets, MySQL refuses such a write instead of mangling it, which would
//! fail the whole request. PostgreSQL's `VARCHAR(255)` is as strict; its
//! `TEXT` has no such limits. What to do instead depends on the column:
//!
//! * JSON documents keep their meaning: a character outside the BMP is
//!   written as its `\uXXXX\uXXXX` surrogate-pair escape, which every JSON
//!   reader turns back into the same character (upstream's `json.dumps`
//!   escapes every non-ASCII character this way).
//! * Text the service writes itself (a node's error, lookup attributes)
//!   is made to fit: such characters become U+FFFD and an overlong text is
//!   cut on a character boundary, ending with [`TRUNCATED`].
//! * Text a client asked to store as it is (a rule) is refused with
//!   [`StoreError::Unstorable`], naming the field.

use std::borrow::Cow;

use crate::store::StoreError;

/// What a column holds at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Capacity {
    /// `TEXT`: bytes, in the column's encoding (UTF-8 for BMP characters).
    Bytes(usize),
    /// `VARCHAR(n)`: characters.
    Chars(usize),
}

/// MySQL's `TEXT`.
pub(in crate::store) const TEXT: Capacity = Capacity::Bytes(65_535);
/// `VARCHAR(255)`, on every server.
pub(in crate::store) const VARCHAR_255: Capacity = Capacity::Chars(255);

/// Ends a text that was cut to fit its column.
pub(in crate::store) const TRUNCATED: &str = "… (truncated)";

impl Capacity {
    fn fits(self, text: &str) -> bool {
        match self {
            Capacity::Bytes(n) => text.len() <= n,
            Capacity::Chars(n) => text.len() <= n || text.chars().count() <= n,
        }
    }

    fn size(self, text: &str) -> usize {
        match self {
            Capacity::Bytes(_) => text.len(),
            Capacity::Chars(_) => text.chars().count(),
        }
    }

    fn limit(self) -> usize {
        match self {
            Capacity::Bytes(n) | Capacity::Chars(n) => n,
        }
    }

    /// `n` in this capacity's unit.
    fn amount(self, n: usize) -> String {
        match self {
            Capacity::Bytes(_) => format!("{n} bytes"),
            Capacity::Chars(_) => format!("{n} characters"),
        }
    }
}

fn outside_bmp(c: char) -> bool {
    u32::from(c) > 0xFFFF
}

/// `json` (serialised JSON) with every character outside the BMP written
/// as a surrogate-pair escape. Such characters can only occur inside
/// strings, where the escape means the same.
pub(in crate::store) fn escape_astral_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(outside_bmp) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    let mut units = [0u16; 2];
    for c in json.chars() {
        if outside_bmp(c) {
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text of ours made to fit: characters outside the BMP become U+FFFD
/// when `bmp_only`, and a text still too long keeps the longest prefix
/// that fits with [`TRUNCATED`] after it.
pub(in crate::store) fn fit_text(text: &str, capacity: Capacity, bmp_only: bool) -> Cow<'_, str> {
    let text: Cow<'_, str> = if bmp_only && text.chars().any(outside_bmp) {
        Cow::Owned(
            text.chars()
                .map(|c| if outside_bmp(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    };
    if capacity.fits(&text) {
        return text;
    }
    let room = capacity.limit().saturating_sub(capacity.size(TRUNCATED));
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        let size = match capacity {
            Capacity::Bytes(_) => c.len_utf8(),
            Capacity::Chars(_) => 1,
        };
        if used + size > room {
            break;
        }
        used += size;
        end = at + c.len_utf8();
    }
    Cow::Owned(format!("{}{TRUNCATED}", &text[..end]))
}

/// Refuses, naming `field`, a client's text the column cannot hold as it
/// is (characters outside the BMP too, when `bmp_only`).
pub(in crate::store) fn check_storable(
    field: &str,
    text: &str,
    capacity: Capacity,
    bmp_only: bool,
) -> Result<(), StoreError> {
    let reason = if bmp_only && text.chars().any(outside_bmp) {
        "it contains characters outside the Basic Multilingual Plane (such as emoji), \
         which this MySQL database's utf8 columns cannot hold"
            .to_string()
    } else if !capacity.fits(text) {
        format!(
            "it is {} long, more than the {} its column holds",
            capacity.amount(capacity.size(text)),
            capacity.amount(capacity.limit())
        )
    } else {
        return Ok(());
    };
    Err(StoreError::Unstorable {
        field: field.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn astral_characters_in_json_become_surrogate_escapes() {
        let value = serde_json::json!({"vendor 😀": "a😀b𠀀", "plain": "é中"});
        let text = value.to_string();
        let escaped = escape_astral_json(&text);
        assert!(escaped.chars().all(|c| !outside_bmp(c)), "{escaped}");
        assert!(escaped.contains(r"\ud83d\ude00"), "{escaped}");
        assert!(escaped.contains("é中"), "BMP characters stay: {escaped}");
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, value);
        assert!(matches!(escape_astral_json("{\"a\":1}"), Cow::Borrowed(_)));
    }

    #[test]
    fn our_text_is_replaced_and_cut_on_a_character_boundary() {
        assert_eq!(fit_text("boom 💥!", TEXT, true), "boom \u{FFFD}!");
        assert!(matches!(fit_text("fine", TEXT, true), Cow::Borrowed(_)));
        assert_eq!(fit_text("boom 💥!", TEXT, false), "boom 💥!");
        // Three-byte characters: the cut may not split one.
        let long = "中".repeat(30_000);
        let fitted = fit_text(&long, TEXT, true);
        assert!(fitted.len() <= 65_535, "{}", fitted.len());
        assert!(fitted.len() > 65_535 - 3 - TRUNCATED.len());
        assert!(fitted.ends_with(TRUNCATED));
        assert!(long.starts_with(fitted.strip_suffix(TRUNCATED).unwrap()));
        let long = "é".repeat(300);
        let chars = fit_text(&long, VARCHAR_255, false);
        assert_eq!(chars.chars().count(), 255);
        assert!(chars.ends_with(TRUNCATED));
        assert_eq!(
            fit_text(&"é".repeat(255), VARCHAR_255, true)
                .chars()
                .count(),
            255
        );
    }

    #[test]
    fn a_clients_text_is_refused_naming_the_field() {
        check_storable("description", "ok", TEXT, true).unwrap();
        let err = check_storable("description", "party 🎉", TEXT, true).unwrap_err();
        assert!(err.to_string().contains("description"), "{err}");
        check_storable("description", "party 🎉", TEXT, false).unwrap();
        let err = check_storable("scope", &"s".repeat(256), VARCHAR_255, false).unwrap_err();
        assert!(err.to_string().contains("256 characters"), "{err}");
    }
}
