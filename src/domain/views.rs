//! What the domain hands back to its callers (the API): plain data shaped
//! for reading, so that callers never depend on how the store keeps it.

use inspector_core::state::State;
use serde_json::{Map, Value};
use time::PrimitiveDateTime;

use crate::store::{ActionRecord, ConditionRecord, NodeRecord, RuleRecord, RuleSummary};

/// The status of a node's latest introspection.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusView {
    pub uuid: String,
    pub state: State,
    pub started_at: Option<PrimitiveDateTime>,
    pub finished_at: Option<PrimitiveDateTime>,
    pub error: Option<String>,
}

impl From<NodeRecord> for StatusView {
    fn from(node: NodeRecord) -> Self {
        Self {
            uuid: node.uuid,
            state: node.state,
            started_at: node.started_at,
            finished_at: node.finished_at,
            error: node.error,
        }
    }
}

/// A rule as listed: no conditions or actions.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSummaryView {
    pub uuid: String,
    pub description: Option<String>,
    pub scope: Option<String>,
}

impl From<RuleSummary> for RuleSummaryView {
    fn from(rule: RuleSummary) -> Self {
        Self {
            uuid: rule.uuid,
            description: rule.description,
            scope: rule.scope,
        }
    }
}

/// A whole rule, its conditions and actions in order.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleView {
    pub uuid: String,
    pub description: Option<String>,
    pub scope: Option<String>,
    pub conditions: Vec<ConditionView>,
    pub actions: Vec<ActionView>,
}

/// A condition with the operator and multiple mode by name, and the
/// operator's own parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionView {
    pub op: String,
    pub field: String,
    pub multiple: String,
    pub invert: bool,
    pub params: Map<String, Value>,
}

/// An action by name, with its own parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionView {
    pub action: String,
    pub params: Map<String, Value>,
}

impl From<RuleRecord> for RuleView {
    fn from(rule: RuleRecord) -> Self {
        Self {
            uuid: rule.uuid,
            description: rule.description,
            scope: rule.scope,
            conditions: rule.conditions.into_iter().map(Into::into).collect(),
            actions: rule.actions.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<ConditionRecord> for ConditionView {
    fn from(condition: ConditionRecord) -> Self {
        Self {
            op: condition.op,
            field: condition.field,
            multiple: condition.multiple,
            invert: condition.invert,
            params: condition.params,
        }
    }
}

impl From<ActionRecord> for ActionView {
    fn from(action: ActionRecord) -> Self {
        Self {
            action: action.action,
            params: action.params,
        }
    }
}
