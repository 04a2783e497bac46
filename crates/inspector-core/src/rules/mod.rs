//! Introspection rules (upstream-behaviour §rules): their definitions, validation at creation
//! time, and (in `eval`) how they are checked against introspection data.

pub mod eval;
pub mod run;
mod validate;

use serde_json::{Map, Value};

pub use validate::{RuleError, parse_rule};

/// Condition plugins, named as upstream's entry points (their schema order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionOp {
    Contains,
    Eq,
    Ge,
    Gt,
    InNet,
    IsEmpty,
    Le,
    Lt,
    Matches,
    Ne,
}

impl ConditionOp {
    pub const ALL: [ConditionOp; 10] = [
        ConditionOp::Contains,
        ConditionOp::Eq,
        ConditionOp::Ge,
        ConditionOp::Gt,
        ConditionOp::InNet,
        ConditionOp::IsEmpty,
        ConditionOp::Le,
        ConditionOp::Lt,
        ConditionOp::Matches,
        ConditionOp::Ne,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ConditionOp::Contains => "contains",
            ConditionOp::Eq => "eq",
            ConditionOp::Ge => "ge",
            ConditionOp::Gt => "gt",
            ConditionOp::InNet => "in-net",
            ConditionOp::IsEmpty => "is-empty",
            ConditionOp::Le => "le",
            ConditionOp::Lt => "lt",
            ConditionOp::Matches => "matches",
            ConditionOp::Ne => "ne",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Whether a field that matches nothing is checked as `None` rather than
    /// making the rule not apply.
    pub fn allows_missing(self) -> bool {
        self == ConditionOp::IsEmpty
    }
}

/// Action plugins, named as upstream's entry points (their schema order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    AddTrait,
    Example,
    ExtendAttribute,
    Fail,
    RemoveTrait,
    SetAttribute,
    SetCapability,
}

impl ActionKind {
    pub const ALL: [ActionKind; 7] = [
        ActionKind::AddTrait,
        ActionKind::Example,
        ActionKind::ExtendAttribute,
        ActionKind::Fail,
        ActionKind::RemoveTrait,
        ActionKind::SetAttribute,
        ActionKind::SetCapability,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ActionKind::AddTrait => "add-trait",
            ActionKind::Example => "example",
            ActionKind::ExtendAttribute => "extend-attribute",
            ActionKind::Fail => "fail",
            ActionKind::RemoveTrait => "remove-trait",
            ActionKind::SetAttribute => "set-attribute",
            ActionKind::SetCapability => "set-capability",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Parameters formatted with the introspection data before the action runs.
    pub fn formatted_params(self) -> &'static [&'static str] {
        match self {
            ActionKind::SetAttribute | ActionKind::SetCapability | ActionKind::ExtendAttribute => {
                &["value"]
            }
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multiple {
    Any,
    All,
    First,
}

impl Multiple {
    pub fn name(self) -> &'static str {
        match self {
            Multiple::Any => "any",
            Multiple::All => "all",
            Multiple::First => "first",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Multiple::Any, Multiple::All, Multiple::First]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

/// Where a condition's field is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// The processed introspection data.
    Data,
    /// The Ironic node.
    Node,
}

/// Splits `node://path` / `data://path` / `path` as upstream does; the scheme
/// is returned as written so an unknown one can be reported.
pub fn split_field(field: &str) -> (&str, &str) {
    match field.find("://") {
        Some(i) => (&field[..i], &field[i + 3..]),
        None => ("data", field),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConditionDef {
    pub op: ConditionOp,
    pub field: String,
    pub multiple: Multiple,
    pub invert: bool,
    /// Plugin parameters (everything but op, field, multiple and invert).
    pub params: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionDef {
    pub action: ActionKind,
    pub params: Map<String, Value>,
}

/// A validated rule, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDefinition {
    pub uuid: Option<String>,
    pub description: Option<String>,
    pub scope: Option<String>,
    pub conditions: Vec<ConditionDef>,
    pub actions: Vec<ActionDef>,
}
