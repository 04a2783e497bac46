//! Node identifiers: which strings count as UUIDs (upstream-behaviour §node-ids).

/// The canonical (lower-case, hyphenated) form of a UUID-like string, or None
/// when the value must be treated as an Ironic node name. Accepts what oslo's
/// `is_uuid_like` accepts: any case, optional `urn:`/`uuid:` prefixes,
/// braces, and dashes anywhere.
pub fn canonical_uuid(value: &str) -> Option<String> {
    let hex = uuid_hex(value)?;
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// The 32 lower-case hex digits of a UUID-like string (as
/// [`canonical_uuid`] accepts it): the same for every form of one UUID.
pub fn uuid_hex(value: &str) -> Option<String> {
    let lowered = value.to_ascii_lowercase();
    let stripped = lowered.replace("urn:", "").replace("uuid:", "");
    let hex: String = stripped
        .trim_matches(|c| c == '{' || c == '}')
        .chars()
        .filter(|c| *c != '-')
        .collect();
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

pub fn is_uuid_like(value: &str) -> bool {
    canonical_uuid(value).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_oslo_accepts() {
        let canonical = "c244557e-899f-46fa-a1ff-5b2c6718616b";
        for form in [
            canonical,
            "C244557E-899F-46FA-A1FF-5B2C6718616B",
            "c244557e899f46faa1ff5b2c6718616b",
            "{c244557e-899f-46fa-a1ff-5b2c6718616b}",
            "urn:uuid:c244557e-899f-46fa-a1ff-5b2c6718616b",
        ] {
            assert_eq!(canonical_uuid(form).as_deref(), Some(canonical), "{form}");
            assert_eq!(
                uuid_hex(form).as_deref(),
                Some("c244557e899f46faa1ff5b2c6718616b"),
                "{form}"
            );
        }
    }

    #[test]
    fn rejects_names_and_near_misses() {
        for name in [
            "",
            "node-1",
            "c244557e-899f-46fa-a1ff-5b2c6718616",
            "c244557e-899f-46fa-a1ff-5b2c6718616bb",
            "g244557e-899f-46fa-a1ff-5b2c6718616b",
            "' OR 1=1 --",
            "c244557e-899f-46fa-a1ff-5b2c6718616b\u{0}",
        ] {
            assert!(!is_uuid_like(name), "{name:?}");
            assert_eq!(uuid_hex(name), None, "{name:?}");
        }
    }
}
