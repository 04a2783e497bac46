//! A nesting-depth check on raw JSON bytes, run before parsing so a hostile
//! document (deeply nested arrays) is refused without building any of it.

/// Whether arrays/objects in `bytes` nest deeper than `max_depth`. Brackets
/// inside strings do not count. Malformed JSON is left for the parser.
pub fn exceeds_depth(bytes: &[u8], max_depth: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
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

#[cfg(test)]
mod tests {
    use super::*;

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
