//! The sample policy file, laid out as `oslopolicy-sample-generator` lays
//! it out: every rule commented out, preceded by its description and the
//! operations it protects, and followed by its deprecation notes.

use super::defaults::RuleDefault;

/// Comment lines are wrapped at this width, as upstream's generator does.
const WIDTH: usize = 70;

/// The commented YAML sample of `defaults`.
pub fn sample(defaults: &[RuleDefault]) -> String {
    defaults.iter().map(format_rule).collect()
}

fn format_rule(rule: &RuleDefault) -> String {
    let mut text = String::new();
    if let Some(description) = rule.description.as_deref().filter(|d| !d.is_empty()) {
        text.push_str(&comment(description));
        text.push('\n');
    }
    for op in &rule.operations {
        if !op.method.is_empty() && !op.path.is_empty() {
            text.push_str(&format!("# {}  {}\n", op.method, op.path));
        }
    }
    text.push_str(&format!("#\"{}\": \"{}\"\n\n", rule.name, rule.check_str));

    if rule.deprecated_for_removal {
        let since = rule.deprecated_since.as_deref().unwrap_or("None");
        text = format!(
            "# DEPRECATED\n# \"{}\" has been deprecated since {since}.\n{}\n{text}",
            rule.name,
            comment_or_empty(rule.deprecated_reason.as_deref()),
        );
    } else if let Some(old) = &rule.deprecated_rule {
        let reason = old.reason.as_deref().or(rule.deprecated_reason.as_deref());
        let since = old
            .since
            .as_deref()
            .or(rule.deprecated_since.as_deref())
            .unwrap_or("None");
        let notice = format!(
            "\"{}\":\"{}\" has been deprecated since {since} in favor of \"{}\":\"{}\".",
            old.name, old.check_str, rule.name, rule.check_str
        );
        text.push_str(&format!(
            "# DEPRECATED\n{}\n{}\n\n",
            comment(&notice),
            comment_or_empty(reason)
        ));
    }
    text
}

fn comment_or_empty(text: Option<&str>) -> String {
    match text.filter(|t| !t.is_empty()) {
        Some(t) => comment(t),
        None => "#".into(),
    }
}

/// A description as `# ` comment lines: paragraphs (separated by blank
/// lines) are wrapped, indented lines are kept as they are.
fn comment(description: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    for line in description.trim().lines() {
        if line.trim().is_empty() {
            lines.extend(wrap(&paragraph.join(" ")));
            lines.push("#".into());
            paragraph.clear();
        } else if !line.starts_with(char::is_whitespace) {
            paragraph.push(line.trim_end());
        } else {
            if !paragraph.is_empty() {
                lines.extend(wrap(&paragraph.join(" ")));
                lines.push("#".into());
                paragraph.clear();
            }
            lines.push(format!("# {}", line.trim_end()));
        }
    }
    if !paragraph.is_empty() {
        lines.extend(wrap(&paragraph.join(" ")));
    }
    lines.join("\n")
}

/// Greedy wrapping of words into `# `-prefixed lines of at most [`WIDTH`]
/// characters; a word longer than a line is cut, filling the line first.
fn wrap(text: &str) -> Vec<String> {
    const PREFIX: &str = "# ";
    let width = WIDTH - PREFIX.len();
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        let separator = usize::from(!line.is_empty());
        let line_len = line.chars().count();
        if line_len + separator + word.len() <= width {
            if separator == 1 {
                line.push(' ');
            }
            line.extend(word);
            continue;
        }
        if word.len() <= width {
            lines.push(format!("{PREFIX}{line}"));
            line = word.into_iter().collect();
            continue;
        }
        // Longer than a whole line: fill what is left, then cut the rest.
        if separator == 1 {
            if line_len + 1 < width {
                line.push(' ');
            } else {
                lines.push(format!("{PREFIX}{line}"));
                line.clear();
            }
        }
        loop {
            let room = width.saturating_sub(line.chars().count()).max(1);
            let cut = room.min(word.len());
            line.extend(word.drain(..cut));
            if word.is_empty() {
                break;
            }
            lines.push(format!("{PREFIX}{line}"));
            line.clear();
        }
    }
    if !line.is_empty() {
        lines.push(format!("{PREFIX}{line}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_seventy_columns() {
        let text = "word ".repeat(30);
        let lines = wrap(&text);
        assert!(lines.iter().all(|l| l.len() <= WIDTH), "{lines:?}");
        assert_eq!(lines[0].len(), 2 + 13 * 5 - 1);
        let long = wrap(&"x".repeat(100));
        assert_eq!(
            long,
            vec![
                format!("# {}", "x".repeat(68)),
                format!("# {}", "x".repeat(32))
            ]
        );
    }
}
