//! How oslo.config turns parsed files plus registered options into values:
//! the latest file wins, a current name beats a deprecated alias within one
//! file, multi-valued options accumulate over all files, and values (and
//! defaults) are interpolated before they are converted.

use std::cell::RefCell;
use std::collections::HashSet;

use super::ini::Document;
use super::template;
use super::types::{OptType, Value};

/// An older name or group under which an option may still be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// `None` means the option's own group.
    pub group: Option<&'static str>,
    /// `None` means the option's own name.
    pub name: Option<&'static str>,
}

/// A default value, written as it would be in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Default {
    Text(&'static str),
    /// One text per value of a multi-valued option.
    Many(&'static [&'static str]),
}

/// A registered option.
#[derive(Debug, Clone, PartialEq)]
pub struct OptDef {
    /// `DEFAULT` or a lower-case group name.
    pub group: &'static str,
    pub name: &'static str,
    pub ty: OptType,
    pub default: Option<Default>,
    pub aliases: Vec<Alias>,
}

/// One configuration file, parsed.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: String,
    pub doc: Document,
}

/// Section names are matched case-insensitively, except `DEFAULT`, which
/// must be written in capitals.
pub fn normalize_group(name: &str) -> String {
    if name == "DEFAULT" {
        name.to_string()
    } else {
        name.to_lowercase()
    }
}

/// Where a value was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// Index into the files given to the resolver.
    pub file: usize,
    /// The section name as written.
    pub section: String,
    /// The key as written (the option name or one of its aliases).
    pub key: String,
    pub line: usize,
    /// The raw text, before interpolation.
    pub text: String,
    /// Whether the value was found under a deprecated name or group.
    pub via_alias: bool,
}

/// The value of an option and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub value: Value,
    /// Empty when the default was used; several for multi-valued options.
    pub occurrences: Vec<Occurrence>,
}

/// Why an option has no valid value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    /// The offending occurrence; `None` when a default failed.
    pub occurrence: Option<Occurrence>,
    pub message: String,
}

#[derive(Debug, Clone)]
enum State {
    Pending,
    InProgress,
    Done(Result<Resolved, ResolveError>),
}

/// Resolves options lazily and remembers the results.
pub struct Resolver<'a> {
    opts: &'a [OptDef],
    files: &'a [ConfigFile],
    groups: HashSet<&'static str>,
    state: RefCell<Vec<State>>,
}

impl<'a> Resolver<'a> {
    /// `files` in precedence order: later files win.
    pub fn new(opts: &'a [OptDef], files: &'a [ConfigFile]) -> Self {
        let groups = opts
            .iter()
            .map(|o| o.group)
            .filter(|g| *g != "DEFAULT")
            .collect();
        Self {
            opts,
            files,
            groups,
            state: RefCell::new(vec![State::Pending; opts.len()]),
        }
    }

    /// Index of the option `name` of `group`.
    pub fn index_of(&self, group: &str, name: &str) -> Option<usize> {
        self.opts
            .iter()
            .position(|o| o.group == group && o.name == name)
    }

    /// The value of option `index`.
    pub fn resolve(&self, index: usize) -> Result<Resolved, ResolveError> {
        match &self.state.borrow()[index] {
            State::Done(result) => return result.clone(),
            State::InProgress => {
                let opt = &self.opts[index];
                return Err(ResolveError {
                    occurrence: None,
                    message: format!("recursive reference to [{}] {}", opt.group, opt.name),
                });
            }
            State::Pending => {}
        }
        self.state.borrow_mut()[index] = State::InProgress;
        let result = self.compute(index);
        self.state.borrow_mut()[index] = State::Done(result.clone());
        result
    }

    fn compute(&self, index: usize) -> Result<Resolved, ResolveError> {
        let opt = &self.opts[index];
        let occurrences = self.occurrences(opt);
        let convert = |text: &str, occurrence: Option<&Occurrence>| {
            self.substitute(opt.group, text)
                .and_then(|t| opt.ty.convert(&t))
                .map_err(|message| ResolveError {
                    occurrence: occurrence.cloned(),
                    message,
                })
        };
        let value = if occurrences.is_empty() {
            match &opt.default {
                None if opt.ty.is_multi() => Value::List(Vec::new()),
                None => Value::None,
                Some(Default::Text(text)) => convert(text, None)?,
                Some(Default::Many(texts)) => Value::List(
                    texts
                        .iter()
                        .map(|t| convert(t, None))
                        .collect::<Result<_, _>>()?,
                ),
            }
        } else if opt.ty.is_multi() {
            Value::List(
                occurrences
                    .iter()
                    .map(|o| convert(&o.text, Some(o)))
                    .collect::<Result<_, _>>()?,
            )
        } else {
            convert(&occurrences[0].text, Some(&occurrences[0]))?
        };
        Ok(Resolved { value, occurrences })
    }

    /// The occurrences that make up the option's value: the last one of
    /// the latest file that sets it, or all of them for a multi option.
    fn occurrences(&self, opt: &OptDef) -> Vec<Occurrence> {
        let mut names: Vec<(String, &str, bool)> = vec![(opt.group.to_string(), opt.name, false)];
        for alias in &opt.aliases {
            let group = alias
                .group
                .map_or_else(|| opt.group.to_string(), normalize_group);
            names.push((group, alias.name.unwrap_or(opt.name), true));
        }
        let mut collected: Vec<Occurrence> = Vec::new();
        for (file_index, file) in self.files.iter().enumerate().rev() {
            let mut in_file: Vec<Occurrence> = Vec::new();
            // Within a file, the current name is looked at first; for multi
            // options oslo.config puts alias values in front.
            for (group, name, via_alias) in &names {
                let found: Vec<Occurrence> = file
                    .doc
                    .sections
                    .iter()
                    .filter(|s| normalize_group(&s.name) == *group)
                    .flat_map(|s| {
                        s.assignments
                            .iter()
                            .filter(|a| a.key == *name)
                            .map(|a| Occurrence {
                                file: file_index,
                                section: s.name.clone(),
                                key: a.key.clone(),
                                line: a.line,
                                text: a.value.clone(),
                                via_alias: *via_alias,
                            })
                    })
                    .collect();
                if found.is_empty() {
                    continue;
                }
                if !opt.ty.is_multi() {
                    return found.into_iter().last().into_iter().collect();
                }
                in_file.splice(0..0, found);
            }
            in_file.extend(collected);
            collected = in_file;
        }
        collected
    }

    /// Interpolates `$name` references in a value of an option of `group`.
    fn substitute(&self, group: &str, text: &str) -> Result<String, String> {
        template::substitute(text, |key| {
            let index = self
                .lookup(group, key)
                .map_err(|m| format!("cannot substitute ${key}: {m}"))?;
            match self.resolve(index) {
                Ok(resolved) => Ok(resolved.value.interpolated()),
                Err(e) => {
                    let target = &self.opts[index];
                    Err(format!(
                        "cannot substitute ${key}: [{}] {}: {}",
                        target.group, target.name, e.message
                    ))
                }
            }
        })
    }

    /// Finds the option a placeholder names: `group.name`, or `name` in the
    /// current group and then in `DEFAULT`.
    fn lookup(&self, group: &str, key: &str) -> Result<usize, String> {
        if let Some((prefix, name)) = key.split_once('.') {
            if !self.groups.contains(prefix) {
                return Err(format!("no such group [{prefix}]"));
            }
            if let Some(index) = self.find(prefix, name) {
                return Ok(index);
            }
        } else if group != "DEFAULT"
            && let Some(index) = self.find(group, key)
        {
            return Ok(index);
        }
        if self.groups.contains(key) {
            return Err(format!("substituting group {key} not supported"));
        }
        self.find("DEFAULT", key)
            .ok_or_else(|| format!("no such option {key} in group [DEFAULT]"))
    }

    /// An option by current name, or by a deprecated name registered for
    /// that group (the last registration wins, as in oslo.config).
    fn find(&self, group: &str, name: &str) -> Option<usize> {
        self.index_of(group, name).or_else(|| {
            self.opts.iter().enumerate().rev().find_map(|(i, o)| {
                o.aliases
                    .iter()
                    .any(|a| a.group.unwrap_or("DEFAULT") == group && a.name == Some(name))
                    .then_some(i)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oslo::ini;
    use crate::oslo::types::{Bounds, StrType};

    fn file(path: &str, text: &str) -> ConfigFile {
        ConfigFile {
            path: path.into(),
            doc: ini::parse(text).unwrap(),
        }
    }

    fn opt(
        group: &'static str,
        name: &'static str,
        ty: OptType,
        default: Option<&'static str>,
    ) -> OptDef {
        OptDef {
            group,
            name,
            ty,
            default: default.map(Default::Text),
            aliases: Vec::new(),
        }
    }

    fn opts() -> Vec<OptDef> {
        let s = || OptType::Str(StrType::default());
        vec![
            opt("DEFAULT", "host", s(), Some("h")),
            opt(
                "DEFAULT",
                "port",
                OptType::Int(Bounds::default()),
                Some("80"),
            ),
            OptDef {
                aliases: vec![Alias {
                    group: None,
                    name: Some("logfile"),
                }],
                ..opt("DEFAULT", "log_file", s(), None)
            },
            opt("g", "url", s(), Some("http://$host:$port/")),
            opt("g", "host", s(), Some("gh")),
            opt("g", "self_ref", s(), Some("$self_ref")),
            OptDef {
                aliases: vec![Alias {
                    group: Some("old"),
                    name: Some("many_old"),
                }],
                ..opt("g", "many", OptType::MultiStr, None)
            },
            opt(
                "g",
                "list",
                OptType::List(crate::oslo::types::ItemType::Str(StrType::default())),
                Some("a,b"),
            ),
        ]
    }

    fn value(
        opts: &[OptDef],
        files: &[ConfigFile],
        group: &str,
        name: &str,
    ) -> Result<Value, String> {
        let r = Resolver::new(opts, files);
        let i = r.index_of(group, name).unwrap();
        r.resolve(i).map(|v| v.value).map_err(|e| e.message)
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    #[test]
    fn defaults_are_interpolated_in_their_group_first() {
        let o = opts();
        assert_eq!(value(&o, &[], "g", "url"), Ok(s("http://gh:80/")));
        assert_eq!(value(&o, &[], "DEFAULT", "log_file"), Ok(Value::None));
        assert_eq!(value(&o, &[], "g", "many"), Ok(Value::List(vec![])));
    }

    #[test]
    fn later_files_win_and_last_duplicate_wins() {
        let o = opts();
        let files = [
            file("a", "[DEFAULT]\nport = 1\nport = 2\n"),
            file("b", "[DEFAULT]\nhost = b\n"),
        ];
        assert_eq!(value(&o, &files, "DEFAULT", "port"), Ok(Value::Int(2)));
        assert_eq!(value(&o, &files, "DEFAULT", "host"), Ok(s("b")));
        let files = [
            file("a", "[DEFAULT]\nport = 1\n"),
            file("b", "[DEFAULT]\nport = 3\n"),
        ];
        assert_eq!(value(&o, &files, "DEFAULT", "port"), Ok(Value::Int(3)));
    }

    #[test]
    fn current_name_beats_alias_in_the_same_file() {
        let o = opts();
        let files = [file("a", "[DEFAULT]\nlog_file = new\nlogfile = old\n")];
        assert_eq!(value(&o, &files, "DEFAULT", "log_file"), Ok(s("new")));
        let files = [
            file("a", "[DEFAULT]\nlog_file = new\n"),
            file("b", "[DEFAULT]\nlogfile = old\n"),
        ];
        assert_eq!(value(&o, &files, "DEFAULT", "log_file"), Ok(s("old")));
    }

    #[test]
    fn multi_values_accumulate_over_files() {
        let o = opts();
        let files = [
            file("a", "[g]\nmany = 1\nmany = 2\n[old]\nmany_old = 0\n"),
            file("b", "[G]\nmany = 3\n"),
        ];
        assert_eq!(
            value(&o, &files, "g", "many"),
            Ok(Value::List(vec![s("0"), s("1"), s("2"), s("3")]))
        );
    }

    #[test]
    fn references() {
        let o = opts();
        let files = [file(
            "a",
            "[DEFAULT]\nhost = x\nlog_file = $g\n[g]\nhost = ${DEFAULT.host}\nurl = $list $nope\n",
        )];
        assert_eq!(
            value(&o, &files, "DEFAULT", "log_file"),
            Err("cannot substitute $g: substituting group g not supported".into())
        );
        assert_eq!(
            value(&o, &files, "g", "host"),
            Err("cannot substitute $DEFAULT.host: no such group [DEFAULT]".into())
        );
        assert_eq!(
            value(&o, &files, "g", "url"),
            Err("cannot substitute $nope: no such option nope in group [DEFAULT]".into())
        );
        let files = [file(
            "a",
            "[g]\nurl = $list-$logfile-${g.host}\n[DEFAULT]\nlogfile=L\n",
        )];
        assert_eq!(value(&o, &files, "g", "url"), Ok(s("['a', 'b']-L-gh")));
        assert!(
            value(&o, &[], "g", "self_ref")
                .unwrap_err()
                .contains("recursive reference to [g] self_ref")
        );
    }

    #[test]
    fn errors_name_their_occurrence() {
        let o = opts();
        let files = [file("a", "[DEFAULT]\nport = x\n")];
        let r = Resolver::new(&o, &files);
        let e = r
            .resolve(r.index_of("DEFAULT", "port").unwrap())
            .unwrap_err();
        assert_eq!(e.message, "invalid literal for int() with base 10: 'x'");
        assert_eq!(e.occurrence.map(|o| o.line), Some(2));
    }
}
