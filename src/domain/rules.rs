//! Introspection rules: creation (validated by the pure core), listing,
//! deletion, and [`apply`], which processing and reapply call.

use std::sync::Arc;

use inspector_core::rules::{self, RuleDefinition};
use serde_json::Value;

use super::{Error, Result, RuleSummaryView, RuleView};
use crate::clock::Clock;
use crate::store::{ActionRecord, ConditionRecord, RuleRecord, Store, StoreError};

/// The rules API: the stored rules and the time a new one is created at.
#[derive(Clone)]
pub struct Rules {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Rules {
    pub(crate) fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub async fn create(&self, body: &Value) -> Result<RuleView> {
        let definition = rules::parse_rule(body).map_err(|e| Error::bad_request(e.0))?;
        let record = to_record(definition, self.clock.now());
        match self.store.create_rule(&record).await {
            Err(StoreError::Duplicate { id: uuid, .. }) => Err(Error::conflict(format!(
                "Rule with UUID {uuid} already exists"
            ))),
            other => other.map(|()| record.into()).map_err(Error::from),
        }
    }

    pub async fn list(&self) -> Result<Vec<RuleSummaryView>> {
        let rules = self.store.list_rules().await?;
        Ok(rules.into_iter().map(RuleSummaryView::from).collect())
    }

    pub async fn get(&self, uuid: &str) -> Result<RuleView> {
        self.store
            .get_rule(uuid)
            .await?
            .map(RuleView::from)
            .ok_or_else(|| Error::not_found(format!("Rule {uuid} was not found")))
    }

    pub async fn delete(&self, uuid: &str) -> Result<()> {
        if self.store.delete_rule(uuid).await? {
            Ok(())
        } else {
            Err(Error::not_found(format!("Rule {uuid} was not found")))
        }
    }

    pub async fn delete_all(&self) -> Result<()> {
        Ok(self.store.delete_all_rules().await?)
    }
}

fn to_record(definition: RuleDefinition, created_at: time::PrimitiveDateTime) -> RuleRecord {
    RuleRecord {
        uuid: definition
            .uuid
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        created_at,
        description: definition.description,
        scope: definition.scope,
        conditions: definition
            .conditions
            .into_iter()
            .map(|c| ConditionRecord {
                op: c.op.name().to_string(),
                field: c.field,
                multiple: c.multiple.name().to_string(),
                invert: c.invert,
                params: c.params,
            })
            .collect(),
        actions: definition
            .actions
            .into_iter()
            .map(|a| ActionRecord {
                action: a.action.name().to_string(),
                params: a.params,
            })
            .collect(),
    }
}

/// Converts a stored rule into the core's definitions; a row upstream could
/// not have written (unknown operator) fails the rule rather than the service.
fn definition(rule: &RuleRecord) -> Result<RuleDefinition> {
    use inspector_core::rules::{ActionDef, ActionKind, ConditionDef, ConditionOp, Multiple};
    let conditions = rule
        .conditions
        .iter()
        .map(|c| {
            Ok(ConditionDef {
                op: ConditionOp::from_name(&c.op)
                    .ok_or_else(|| Error::internal(format!("unknown condition {:?}", c.op)))?,
                field: c.field.clone(),
                multiple: Multiple::from_name(&c.multiple)
                    .ok_or_else(|| Error::internal(format!("unknown multiple {:?}", c.multiple)))?,
                invert: c.invert,
                params: c.params.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let actions = rule
        .actions
        .iter()
        .map(|a| {
            Ok(ActionDef {
                action: ActionKind::from_name(&a.action)
                    .ok_or_else(|| Error::internal(format!("unknown action {:?}", a.action)))?,
                params: a.params.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RuleDefinition {
        uuid: Some(rule.uuid.clone()),
        description: rule.description.clone(),
        scope: rule.scope.clone(),
        conditions,
        actions,
    })
}

/// Evaluates every rule's scope and conditions against the same node
/// snapshot, then runs the actions of the matching ones in order (upstream-behaviour §rules).
pub(crate) async fn apply(
    node_info: &mut super::node_info::NodeInfo<'_>,
    data: &inspector_core::hooks::Data,
    rules: &[RuleRecord],
) -> Result<()> {
    use inspector_core::rules::eval::{self, ActionOutcome};
    let data = Value::Object(data.clone());
    let snapshot = node_info.node.0.clone();
    let mut matched = Vec::new();
    for rule in rules {
        let definition = match definition(rule) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(rule = %rule.uuid, error = %e, "skipping an invalid stored rule");
                continue;
            }
        };
        if !eval::scope_matches(definition.scope.as_deref(), &snapshot) {
            continue;
        }
        // The error text is upstream's, as operators know it from there.
        let matches = eval::conditions_match(&definition.conditions, &data, &snapshot).map_err(|e| {
            tracing::warn!(node = %node_info.uuid, rule = %rule.uuid, error = %e, "rule conditions failed");
            Error::bad_request(e.0)
        })?;
        if matches {
            tracing::info!(node = %node_info.uuid, rule = %rule.uuid, "rule matches");
            matched.push(definition);
        }
    }
    for rule in matched {
        for action in &rule.actions {
            let outcome = eval::action_outcome(action, &data, &node_info.node.0)
                .map_err(|e| Error::bad_request(e.to_string()))?;
            match outcome {
                ActionOutcome::Fail(message) => return Err(Error::bad_request(message)),
                ActionOutcome::Ops(ops) => node_info.execute(ops).await?,
                ActionOutcome::Patch {
                    patch,
                    reset_interfaces,
                    explicit_reset,
                } => {
                    if let Err(err) = node_info.patch(&patch, reset_interfaces).await {
                        let rejected = matches!(err, crate::ironic::IronicError::Rejected { .. });
                        if explicit_reset && rejected {
                            return Err(Error::bad_request(
                                "Cannot pass reset_interfaces to set-attribute, requires API 1.46 and ironicclient >= 2.5.0",
                            ));
                        }
                        if reset_interfaces && rejected {
                            tracing::warn!(node = %node_info.uuid, "Ironic refused reset_interfaces; patching without it");
                            node_info.patch(&patch, false).await.map_err(Error::from)?;
                        } else {
                            return Err(Error::bad_request(format!(
                                "Failed to apply rule actions to node {}: {err}",
                                node_info.uuid
                            )));
                        }
                    }
                }
                ActionOutcome::Nothing => {}
            }
        }
    }
    Ok(())
}
