//! The effective rule set (registered defaults overridden by policy files)
//! and the authorization decision, as oslo.policy's `Enforcer` makes them.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::check::{Check, EvalError, RuleLookup};
use super::defaults::RuleDefault;
use super::file::{PolicyFile, RuleSpec};
use super::parse::{Parsed, parse_list_rule, parse_rule};

/// `[oslo_policy]` options that shape the rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOptions {
    /// When false, each rule's legacy default is OR-ed into its default.
    pub enforce_new_defaults: bool,
    /// The rule used for `rule:<name>` references to undefined rules.
    pub default_rule: String,
}

/// Why no decision could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy rule {0} is not registered")]
    NotRegistered(String),
    #[error("policy rule {rule} cannot be evaluated: {error}")]
    Evaluation { rule: String, error: EvalError },
}

/// The effective rules: what `enforce` decides with.
#[derive(Debug, Clone)]
pub struct Policy {
    rules: HashMap<String, Check>,
    registered: HashSet<String>,
    default_rule: String,
}

impl RuleLookup for Policy {
    fn lookup(&self, name: &str) -> Option<&Check> {
        self.rules
            .get(name)
            .or_else(|| self.rules.get(&self.default_rule))
    }
}

fn parse_spec(spec: &RuleSpec) -> Parsed {
    match spec {
        RuleSpec::Text(text) => parse_rule(text),
        RuleSpec::List(list) => parse_list_rule(list),
    }
}

impl Policy {
    /// The defaults overridden by `files` (later files win), and the
    /// problems found: rules that do not parse (they deny), references to
    /// undefined rules, cycles, and file rules that merely repeat a default.
    pub fn build(
        defaults: &[RuleDefault],
        files: &[PolicyFile],
        options: &PolicyOptions,
    ) -> (Policy, Vec<String>) {
        let mut warnings = Vec::new();
        let mut rules: HashMap<String, Check> = HashMap::new();
        for file in files {
            for (name, spec) in &file.rules {
                let parsed = parse_spec(spec);
                for problem in parsed.problems {
                    warnings.push(format!("{}: rule {name:?}: {problem}", file.source));
                }
                rules.insert(name.clone(), parsed.check);
            }
        }
        let mut redundant = Vec::new();
        for default in defaults {
            let parsed = parse_rule(&default.check_str);
            warnings.extend(
                parsed
                    .problems
                    .into_iter()
                    .map(|p| format!("default of rule {:?}: {p}", default.name)),
            );
            if let Some(overridden) = rules.get(&default.name) {
                if *overridden == parsed.check {
                    redundant.push(default.name.clone());
                }
                continue;
            }
            let check = match &default.deprecated_rule {
                // The legacy default still applies, unless asked not to.
                Some(old)
                    if !options.enforce_new_defaults && old.check_str != default.check_str =>
                {
                    Check::Or(vec![parsed.check, parse_rule(&old.check_str).check])
                }
                _ => parsed.check,
            };
            rules.insert(default.name.clone(), check);
        }
        if !redundant.is_empty() {
            redundant.sort();
            warnings.push(format!(
                "policy rules {} in the policy files repeat the defaults and can be removed",
                redundant.join(", ")
            ));
        }
        let policy = Policy {
            rules,
            registered: defaults.iter().map(|d| d.name.clone()).collect(),
            default_rule: options.default_rule.clone(),
        };
        warnings.extend(policy.reference_problems());
        (policy, warnings)
    }

    /// Whether the rule allows an operation on `target` by a caller with
    /// `creds` (oslo.context policy values). Only registered rules may be
    /// asked for, as upstream's `authorize` requires.
    pub fn enforce(
        &self,
        rule: &str,
        target: &Map<String, Value>,
        creds: &Map<String, Value>,
    ) -> Result<bool, PolicyError> {
        if !self.registered.contains(rule) {
            return Err(PolicyError::NotRegistered(rule.to_string()));
        }
        let Some(check) = self.lookup(rule) else {
            return Ok(false);
        };
        self.evaluate(check, target, creds)
            .map_err(|error| PolicyError::Evaluation {
                rule: rule.to_string(),
                error,
            })
    }

    /// Evaluates any check tree with these rules (for `rule:` references).
    pub fn evaluate(
        &self,
        check: &Check,
        target: &Map<String, Value>,
        creds: &Map<String, Value>,
    ) -> Result<bool, EvalError> {
        // oslo.policy mirrors `system_scope` as `system` for older rules.
        let mut creds = creds.clone();
        if let Some(scope) = creds
            .get("system_scope")
            .filter(|v| crate::py::value::truthy(v))
            .cloned()
        {
            creds.insert("system".into(), scope);
        }
        check.evaluate(target, &creds, self, 0)
    }

    /// The effective check of a rule, if defined.
    pub fn rule(&self, name: &str) -> Option<&Check> {
        self.rules.get(name)
    }

    /// Undefined references and cycles, as oslo.policy reports them.
    fn reference_problems(&self) -> Vec<String> {
        let mut names: Vec<&String> = self.rules.keys().collect();
        names.sort();
        let mut undefined = Vec::new();
        let mut cyclic = Vec::new();
        for name in names {
            let check = &self.rules[name];
            let mut refs = Vec::new();
            check.rule_references(&mut refs);
            if refs.iter().any(|r| !self.rules.contains_key(*r)) {
                undefined.push(name.as_str());
            }
            if self.has_cycle(check, &mut Vec::new()) {
                cyclic.push(name.as_str());
            }
        }
        let mut problems = Vec::new();
        if !undefined.is_empty() {
            problems.push(format!(
                "policy rules {} reference undefined rules (the default rule {:?} applies to \
                 those references)",
                undefined.join(", "),
                self.default_rule
            ));
        }
        if !cyclic.is_empty() {
            problems.push(format!(
                "policy rules {} are part of a cycle of rule references",
                cyclic.join(", ")
            ));
        }
        problems
    }

    fn has_cycle<'a>(&'a self, check: &'a Check, seen: &mut Vec<&'a str>) -> bool {
        match check {
            Check::Rule(name) => {
                if seen.contains(&name.as_str()) {
                    return true;
                }
                seen.push(name);
                let cycle = self
                    .rules
                    .get(name)
                    .is_some_and(|next| self.has_cycle(next, seen));
                seen.pop();
                cycle
            }
            Check::Not(inner) => self.has_cycle(inner, seen),
            Check::And(items) | Check::Or(items) => items.iter().any(|i| self.has_cycle(i, seen)),
            _ => false,
        }
    }
}
