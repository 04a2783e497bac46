//! Policy files (`[oslo_policy] policy_file` and the files of
//! `policy_dirs`): a YAML (or JSON, which YAML reads too) mapping of rule
//! names to check strings, or to rules in the old list syntax.

use serde_json::Value;

/// How a rule is written in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSpec {
    /// A check string; empty (or YAML null) allows everything.
    Text(String),
    /// The list syntax: alternatives, each a conjunction of single checks.
    List(Vec<Vec<String>>),
}

/// The rules of one policy file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    /// Where the rules come from, for messages.
    pub source: String,
    pub rules: Vec<(String, RuleSpec)>,
}

/// Parses the text of a policy file; an empty file has no rules.
pub fn parse_policy_file(source: &str, text: &str) -> Result<PolicyFile, String> {
    let document = crate::hooks::yaml::load(text).map_err(|e| format!("{source}: {e}"))?;
    let entries = match document {
        Value::Null => serde_json::Map::new(),
        Value::Object(map) => map,
        other => {
            return Err(format!(
                "{source}: expected a mapping of rule names to check strings, found a {}",
                crate::py::value::type_name(&other)
            ));
        }
    };
    let mut rules = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        let spec = rule_spec(&value)
            .ok_or_else(|| format!("{source}: rule {name:?}: expected a check string or a list"))?;
        rules.push((name, spec));
    }
    Ok(PolicyFile {
        source: source.to_string(),
        rules,
    })
}

fn rule_spec(value: &Value) -> Option<RuleSpec> {
    match value {
        Value::String(s) => Some(RuleSpec::Text(s.clone())),
        // oslo.policy treats every empty rule, null included, as "allow".
        Value::Null => Some(RuleSpec::Text(String::new())),
        Value::Array(alternatives) => {
            let mut list = Vec::with_capacity(alternatives.len());
            for alternative in alternatives {
                list.push(match alternative {
                    Value::String(s) if s.is_empty() => Vec::new(),
                    Value::String(s) => vec![s.clone()],
                    Value::Array(checks) => checks
                        .iter()
                        .map(|c| c.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()?,
                    _ => return None,
                });
            }
            Some(RuleSpec::List(list))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_json_and_list_forms() {
        let file = parse_policy_file(
            "p.yaml",
            "\"a\": \"role:x\"\nb: [[\"role:y\", \"role:z\"], \"role:w\", \"\"]\nc:\n",
        )
        .unwrap();
        assert_eq!(
            file.rules,
            vec![
                ("a".into(), RuleSpec::Text("role:x".into())),
                (
                    "b".into(),
                    RuleSpec::List(vec![
                        vec!["role:y".into(), "role:z".into()],
                        vec!["role:w".into()],
                        vec![],
                    ])
                ),
                ("c".into(), RuleSpec::Text(String::new())),
            ]
        );
        let json = parse_policy_file("p.json", "{\"a\": \"@\"}").unwrap();
        assert_eq!(json.rules.len(), 1);
        assert!(parse_policy_file("e", "").unwrap().rules.is_empty());
    }

    #[test]
    fn malformed_files_are_errors() {
        for text in [
            "- a\n- b\n",
            "a: 5\n",
            "a: {b: c}\n",
            "a: [[1]]\n",
            "a: [\n",
        ] {
            assert!(parse_policy_file("p", text).is_err(), "{text}");
        }
    }
}
