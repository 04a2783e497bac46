//! The Python built-ins root device hint matching needs that no other part of
//! the crate does: `urllib.parse.quote` and `str.expandtabs` (the rest is in
//! [`crate::py`]).

/// `urllib.parse.quote(s)` with its default `safe='/'`.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Python `str.expandtabs()` (tab size 8; columns restart after `\n`/`\r`).
pub(super) fn expand_tabs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut column = 0usize;
    for c in s.chars() {
        match c {
            '\t' => {
                let spaces = 8 - column % 8;
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            _ => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_tabs() {
        assert_eq!(quote("big disk/é~"), "big%20disk/%C3%A9~");
        assert_eq!(expand_tabs("<=\t\t="), format!("<={}=", " ".repeat(14)));
    }
}
