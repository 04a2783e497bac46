//! Checks on raw JSON bytes, run before parsing so that a hostile document
//! (deeply nested arrays, millions of tiny values) is refused or made to
//! wait without building any of it.

/// The bytes of `bytes` outside strings, with each string's opening quote
/// standing for the whole string.
fn outside_strings(bytes: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut in_string = false;
    let mut escaped = false;
    bytes.iter().copied().filter(move |&b| {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            return false;
        }
        in_string = b == b'"';
        true
    })
}

/// Whether arrays/objects in `bytes` nest deeper than `max_depth`. Brackets
/// inside strings do not count. Malformed JSON is left for the parser.
pub fn exceeds_depth(bytes: &[u8], max_depth: usize) -> bool {
    let mut depth = 0usize;
    for b in outside_strings(bytes) {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// How many JSON values (keys included) and objects `bytes` holds, counted
/// without parsing: what a parsed document costs in memory depends on them
/// far more than on its length (`[1,1,...]` takes ~70 times its size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    pub values: u64,
    pub objects: u64,
}

/// Counts the values and objects of `bytes`; malformed JSON is counted as
/// far as it goes and left for the parser to refuse.
pub fn shape(bytes: &[u8]) -> Shape {
    let mut shape = Shape::default();
    let mut expect_value = true;
    for b in outside_strings(bytes) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b',' | b':' => expect_value = true,
            b']' | b'}' => expect_value = false,
            _ if !expect_value => {}
            b'{' | b'[' => {
                shape.values += 1;
                shape.objects += u64::from(b == b'{');
                expect_value = true;
            }
            _ => {
                shape.values += 1;
                expect_value = false;
            }
        }
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_counts_values_keys_and_objects() {
        let count = |text: &str| {
            let s = shape(text.as_bytes());
            (s.values, s.objects)
        };
        assert_eq!(count("42"), (1, 0));
        assert_eq!(count("[]"), (1, 0));
        assert_eq!(count("{}"), (1, 1));
        assert_eq!(count("[1, 22, -3.5e2, true, null]"), (6, 0));
        assert_eq!(count(r#"{"a": [1, {"b": "x,:[{"}], "c\"": false}"#), (9, 2));
        assert_eq!(count(" [ [ ] , [ 1 ] ] "), (4, 0));
    }

    #[test]
    fn counts_container_nesting() {
        assert!(!exceeds_depth(b"{}", 1));
        assert!(exceeds_depth(b"{\"a\":[]}", 1));
        assert!(!exceeds_depth(b"{\"a\":[]}", 2));
        assert!(!exceeds_depth(b"42", 0));
    }

    #[test]
    fn brackets_in_strings_do_not_count() {
        assert!(!exceeds_depth(br#"{"a":"[[[[{{{{"}"#, 1));
        assert!(!exceeds_depth(br#"{"a":"\"[[[["}"#, 1));
        assert!(exceeds_depth(br#"{"a\\":[[1]]}"#, 2));
    }

    #[test]
    fn deep_nesting_is_detected_without_recursion() {
        let deep = "[".repeat(1_000_000);
        assert!(exceeds_depth(deep.as_bytes(), 25));
        let ok = format!("{}{}", "[".repeat(25), "]".repeat(25));
        assert!(!exceeds_depth(ok.as_bytes(), 25));
        let over = format!("{}{}", "[".repeat(26), "]".repeat(26));
        assert!(exceeds_depth(over.as_bytes(), 25));
    }
}
