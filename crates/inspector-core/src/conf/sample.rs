//! `inspector.conf.sample`, written from the option registry the way
//! oslo-config-generator writes upstream's.

use super::registry::{REGISTRY, Status};
use crate::oslo::resolve::Default;
use crate::oslo::types::OptType;
use crate::py;

const WIDTH: usize = 70;

/// A commented-out sample configuration: every group and option inspector
/// knows, with its help text and default value.
pub fn sample() -> String {
    let mut out = String::from(
        "# Sample configuration of inspector, a reimplementation of\n\
         # ironic-inspector. Every option is shown commented out, with its\n\
         # default value.\n",
    );
    for group in &REGISTRY.groups {
        out.push_str(&format!("\n[{}]\n\n", group.name));
        comment(&mut out, group.help);
        if group.accept_any {
            comment(
                &mut out,
                "Options of this section are accepted and ignored.",
            );
        }
        for entry in REGISTRY
            .entries
            .iter()
            .filter(|e| e.opt.group == group.name)
        {
            let opt = &entry.opt;
            out.push('\n');
            comment(
                &mut out,
                &format!("{} ({})", entry.help, opt.ty.type_name()),
            );
            let bounds = match &opt.ty {
                OptType::Int(b) | OptType::Port(b) | OptType::Float(b) => Some(b),
                _ => None,
            };
            if let Some(b) = bounds {
                if let Some(min) = b.min {
                    out.push_str(&format!("# Minimum value: {min}\n"));
                }
                if let Some(max) = b.max {
                    out.push_str(&format!("# Maximum value: {max}\n"));
                }
            }
            if let OptType::Str(t) = &opt.ty
                && let Some(choices) = &t.choices
            {
                out.push_str("# Possible values:\n");
                for choice in choices {
                    let value = choice.value.unwrap_or("<None>");
                    match choice.help {
                        Some(help) => comment(&mut out, &format!("{value} - {help}")),
                        None => out.push_str(&format!("# {value}\n")),
                    }
                }
            }
            for alias in &opt.aliases {
                out.push_str(&format!(
                    "# Deprecated group/name - [{}]/{}\n",
                    alias.group.unwrap_or(opt.group),
                    alias.name.unwrap_or(opt.name)
                ));
            }
            match entry.status {
                Status::Implemented => {}
                Status::Ignored => comment(
                    &mut out,
                    "Accepted for compatibility; inspector ignores it.",
                ),
                Status::Unsupported => comment(
                    &mut out,
                    "Not supported by inspector: a value other than the default is ignored.",
                ),
            }
            let shown: Vec<&str> = match (entry.sample_default, &opt.default) {
                (Some(sample), _) => vec![sample],
                (None, Some(Default::Text(text))) => vec![text],
                (None, Some(Default::Many(texts))) if !texts.is_empty() => texts.to_vec(),
                (None, Some(Default::Many(_))) => vec![""],
                (None, None) => vec!["<None>"],
            };
            for value in shown {
                let value = if py::text::strip(value) != value {
                    format!("\"{value}\"")
                } else {
                    value.to_string()
                };
                if value.is_empty() {
                    out.push_str(&format!("#{} =\n", opt.name));
                } else {
                    out.push_str(&format!("#{} = {}\n", opt.name, value));
                }
            }
        }
    }
    out
}

/// Appends `text` as `# `-prefixed lines of at most WIDTH columns.
fn comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::{Source, load};

    #[test]
    fn sample_lists_every_option_and_loads_as_defaults() {
        let text = sample();
        for entry in &REGISTRY.entries {
            assert!(
                text.contains(&format!("\n#{} =", entry.opt.name)),
                "[{}] {} missing",
                entry.opt.group,
                entry.opt.name
            );
        }
        for line in text.lines() {
            assert!(
                line.len() <= WIDTH + 40 || !line.starts_with("# "),
                "long line: {line}"
            );
        }
        let loaded = load(&[Source {
            path: "sample".into(),
            text: text.clone(),
        }])
        .unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.config, load(&[]).unwrap().config);
    }

    #[test]
    fn uncommented_sample_is_valid() {
        // Every default written out must load back to the same values
        // (options shown with a placeholder or an example are left out, as
        // is the empty multi-valued alias, which would be one empty value).
        let text: String = sample()
            .lines()
            .filter(|l| {
                !l.contains("= <")
                    && !l.starts_with("#host ")
                    && !l.starts_with("#cidr_map ")
                    && *l != "#alias ="
            })
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if !rest.starts_with(' ') && rest.contains(" =") => format!("{rest}\n"),
                _ => format!("{l}\n"),
            })
            .collect();
        let loaded = load(&[Source {
            path: "sample".into(),
            text,
        }])
        .unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let defaults = load(&[]).unwrap().values;
        for (got, want) in loaded.values.iter().zip(&defaults) {
            assert_eq!(got, want);
        }
    }
}
