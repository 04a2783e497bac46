//! `$name` / `${name}` / `${group.name}` interpolation in option values, as
//! oslo.config does it with Python's `string.Template.safe_substitute`:
//! `$$` and `\$` give a literal `$`, and a `$` that starts no valid name is
//! kept as it is.

/// Replaces every placeholder by what `lookup` returns for its name.
/// Names are `[_a-zA-Z][._a-zA-Z0-9]*` (so `$host.` names `host.`).
pub fn substitute<E>(
    text: &str,
    mut lookup: impl FnMut(&str) -> Result<String, E>,
) -> Result<String, E> {
    // oslo.config treats `\$` exactly like the `$$` escape.
    let text = text.replace("\\$", "$$");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(len) = name_len(after) {
            out.push_str(&lookup(&after[..len])?);
            rest = &after[len..];
        } else if let Some(inner) = after.strip_prefix('{')
            && let Some(len) = name_len(inner)
            && inner[len..].starts_with('}')
        {
            out.push_str(&lookup(&inner[..len])?);
            rest = &inner[len + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Length of the placeholder name at the start of `s`, if any.
fn name_len(s: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, c)) if c == '_' || c.is_ascii_alphabetic() => {}
        _ => return None,
    }
    let end = chars
        .find(|(_, c)| !(*c == '_' || *c == '.' || c.is_ascii_alphanumeric()))
        .map_or(s.len(), |(i, _)| i);
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(text: &str) -> String {
        substitute::<()>(text, |name| Ok(format!("<{name}>"))).unwrap()
    }

    #[test]
    fn placeholders() {
        assert_eq!(sub("$a,${b.c}x,$d_1-"), "<a>,<b.c>x,<d_1>-");
        assert_eq!(sub("$host.example"), "<host.example>");
        assert_eq!(sub("$Upper"), "<Upper>");
    }

    #[test]
    fn escapes_and_invalid_placeholders() {
        assert_eq!(sub("a$ b $1 ${ x} $$ \\$t $"), "a$ b $1 ${ x} $ $t $");
        assert_eq!(sub("${unclosed"), "${unclosed");
        assert_eq!(sub("${a}}"), "<a>}");
        assert_eq!(sub("$$$a"), "$<a>");
    }

    #[test]
    fn lookup_errors_propagate() {
        assert_eq!(substitute("x $y", |_| Err("nope")), Err("nope"));
        assert_eq!(
            substitute("x $$y", |_| Err::<String, _>("nope")),
            Ok("x $y".into())
        );
    }
}
