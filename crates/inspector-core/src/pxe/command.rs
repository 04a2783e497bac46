//! Command lines from the configuration (`dnsmasq_start_command`,
//! `dnsmasq_stop_command`, `[pxe_filter] command_prefix`) become argument
//! lists the way Python's `shlex.split` does it (POSIX rules: blanks
//! separate words, `'...'` is literal, `"..."` keeps blanks and lets `\`
//! escape `"` and `\`, `\` outside quotes escapes any character). No shell
//! ever runs them: `$VAR`, `$(...)`, `|`, `;`, `>` are plain characters. An
//! operator who needs a shell writes `sh -c '...'`.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SplitError {
    #[error("no closing quotation")]
    UnclosedQuote,
    #[error("no escaped character after a final backslash")]
    DanglingEscape,
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// The words of a command line.
pub fn split(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word is started by any character, including an empty quoted string.
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if is_blank(c) => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                word.push(chars.next().ok_or(SplitError::DanglingEscape)?);
                in_word = true;
            }
            '\'' => {
                loop {
                    match chars.next() {
                        None => return Err(SplitError::UnclosedQuote),
                        Some('\'') => break,
                        Some(c) => word.push(c),
                    }
                }
                in_word = true;
            }
            '"' => {
                loop {
                    match chars.next() {
                        None => return Err(SplitError::UnclosedQuote),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            None => return Err(SplitError::DanglingEscape),
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        Some(c) => word.push(c),
                    }
                }
                in_word = true;
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// A word as `shlex.quote` writes it: bare when it only holds safe
/// characters, single-quoted otherwise.
pub fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\"'\"'"))
}

/// An argument list as one readable line (for logs), which [`split`] turns
/// back into the same list.
pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a command line uses shell syntax that has no effect without a
/// shell, so that the service can warn about it. Words of a command run by
/// `sh -c`, `bash -c`, ... are the shell's business and are not checked.
pub fn looks_like_shell_syntax(words: &[String]) -> bool {
    let runs_shell = words.first().is_some_and(|w| {
        let name = w.rsplit('/').next().unwrap_or(w);
        matches!(name, "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh")
    });
    !runs_shell
        && words.iter().any(|w| {
            w.contains("$(")
                || w.contains("${")
                || w.contains('`')
                || matches!(w.as_str(), "|" | "||" | "&&" | ";" | ">" | ">>" | "<" | "&")
                || (w.starts_with('$') && w.len() > 1)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(text: &str) -> Vec<String> {
        split(text).unwrap()
    }

    #[test]
    fn posix_splitting() {
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("  \t\n "), Vec::<String>::new());
        assert_eq!(words("a  b\tc"), ["a", "b", "c"]);
        assert_eq!(
            words("sh -c 'kill $(cat /run/x.pid)'"),
            ["sh", "-c", "kill $(cat /run/x.pid)"]
        );
        assert_eq!(words(r#"a "b c" d"#), ["a", "b c", "d"]);
        assert_eq!(words(r#""a\"b\\c\d""#), [r#"a"b\c\d"#]);
        assert_eq!(words(r"a\ b \'c"), ["a b", "'c"]);
        assert_eq!(words("a '' \"\" b"), ["a", "", "", "b"]);
        assert_eq!(words("a'b'\"c\"d"), ["abcd"]);
        assert_eq!(words("#not a comment"), ["#not", "a", "comment"]);
        assert_eq!(split("'open"), Err(SplitError::UnclosedQuote));
        assert_eq!(split("\"open"), Err(SplitError::UnclosedQuote));
        assert_eq!(split("\"open\\"), Err(SplitError::DanglingEscape));
        assert_eq!(split("end\\"), Err(SplitError::DanglingEscape));
    }

    #[test]
    fn quoting_for_logs() {
        assert_eq!(quote("iptables"), "iptables");
        assert_eq!(quote("52:54:00:00:00:01"), "52:54:00:00:00:01");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\"'\"'s'");
        assert_eq!(
            join(&["sh", "-c", "kill $(cat x)"]),
            "sh -c 'kill $(cat x)'"
        );
    }

    #[test]
    fn shell_syntax_is_noticed() {
        let check = |text: &str| looks_like_shell_syntax(&words(text));
        assert!(check("/bin/kill $(cat /var/run/dnsmasq.pid)"));
        assert!(check("kill `cat pid`"));
        assert!(check("systemctl start dnsmasq && true"));
        assert!(check("echo $HOME"));
        assert!(!check("sh -c 'kill $(cat /var/run/dnsmasq.pid)'"));
        assert!(!check("/bin/bash -c 'a | b'"));
        assert!(!check(
            "systemctl start openstack-ironic-inspector-dnsmasq.service"
        ));
        assert!(!check("echo $"));
    }

    proptest! {
        #[test]
        fn join_then_split_round_trips(list in proptest::collection::vec("\\PC{0,12}", 0..6)) {
            prop_assert_eq!(split(&join(&list)).unwrap(), list);
        }

        #[test]
        fn never_panics(text in "\\PC{0,60}") {
            let _ = split(&text);
        }
    }
}
