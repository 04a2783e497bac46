//! Authorization as oslo.policy decides it (upstream-behaviour §auth-policy): the policy language
//! (`role:`, `rule:`, generic `kind:match` checks with `%(key)s` target
//! fields, `@`, `!`, `and`, `or`, `not`, parentheses), inspector's default
//! rules, overrides from policy files, and the sample file.
//!
//! Where upstream raises while evaluating (a malformed match, a credential
//! path through a non-mapping, a cycle of rule references), and so answers
//! HTTP 500, [`Policy::enforce`] returns an error and the caller denies.

mod check;
mod defaults;
mod enforcer;
mod file;
mod parse;
mod sample;

pub use check::{Check, EvalError};
pub use defaults::{DeprecatedRule, Operation, RuleDefault, inspector_defaults};
pub use enforcer::{Policy, PolicyError, PolicyOptions};
pub use file::{PolicyFile, RuleSpec, parse_policy_file};
pub use parse::{Parsed, parse_list_rule, parse_rule};
pub use sample::sample;
