//! Introspection rules: creation (validated by the pure core), listing,
//! deletion, and [`apply`], which processing and reapply call.

use std::sync::{Arc, Mutex};

use inspector_core::rules::{self, RuleDefinition, run};
use serde_json::Value;

use super::lifecycle::Lifecycle;
use super::{Error, Result, RuleSummaryView, RuleView};
use crate::clock::Clock;
use crate::store::{ActionRecord, ConditionRecord, RuleRecord, RulesVersion, Store, StoreError};

/// The rules API: the stored rules and the time a new one is created at.
#[derive(Clone)]
pub struct Rules {
    store: Store,
    clock: Arc<dyn Clock>,
    /// Ironic and the stored data, read (never written) by the dry run.
    lifecycle: Arc<Lifecycle>,
}

impl Rules {
    pub(crate) fn new(store: Store, clock: Arc<dyn Clock>, lifecycle: Arc<Lifecycle>) -> Self {
        Self {
            store,
            clock,
            lifecycle,
        }
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

    /// The dry run: what the rules would do to a node, reported and not
    /// done. `body` names a node (`node_id`: its Ironic node, read only,
    /// and its latest stored processed data) and/or gives the `data`, and
    /// optionally the `rules` (creation format, validated as at creation,
    /// not stored); the stored rules otherwise. Without a node, the rules
    /// see a null node: only the rules without a scope apply.
    pub async fn evaluate(&self, body: &Value) -> Result<Value> {
        let request = EvaluateRequest::parse(body)?;
        let definitions = match request.rules {
            Some(given) => Arc::new(
                given
                    .iter()
                    .map(|rule| {
                        rules::parse_rule(rule)
                            .map(run::CompiledRule::new)
                            .map_err(|e| Error::bad_request(e.0))
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            None => self.lifecycle.compiled_rules().current(&self.store).await?,
        };
        let (node, data) = match request.node_id {
            Some(node_id) => {
                let node = self
                    .lifecycle
                    .ironic_for_request()
                    .get_node(node_id)
                    .await
                    .map_err(|e| Error::node_fetch(node_id, e))?;
                let data = match request.data {
                    Some(data) => data.clone(),
                    None => self.stored_data(node.uuid()).await?,
                };
                (node.0, data)
            }
            None => (Value::Null, request.data.cloned().unwrap_or_default()),
        };
        let evaluation = run::dry_run(&definitions, &data, &node);
        let uuid = node.get("uuid").and_then(Value::as_str);
        let mut report = run::report(&definitions, &evaluation, uuid.unwrap_or("{node_id}"));
        report["node_id"] = uuid.map_or(Value::Null, |u| Value::String(u.to_string()));
        Ok(report)
    }

    /// The node's latest processed data, read as the data API reads it
    /// (a node without any gets that API's 404).
    async fn stored_data(&self, uuid: &str) -> Result<Value> {
        let text = self
            .lifecycle
            .data()
            .load(uuid, true)
            .await?
            .ok_or_else(|| {
                Error::not_found(
                    "Inspector is not configured to store data, so a node's data cannot be \
                 evaluated; pass \"data\" instead.",
                )
            })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::internal(format!("stored data of node {uuid} is not JSON: {e}")))
    }
}

/// A dry-run request, checked.
struct EvaluateRequest<'a> {
    node_id: Option<&'a str>,
    data: Option<&'a Value>,
    rules: Option<&'a [Value]>,
}

impl<'a> EvaluateRequest<'a> {
    fn parse(body: &'a Value) -> Result<Self> {
        let Value::Object(fields) = body else {
            return Err(Error::bad_request("The request body must be a JSON object"));
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !["node_id", "data", "rules"].contains(&k.as_str()))
        {
            return Err(Error::bad_request(format!(
                "Unknown field {unknown}: expected node_id, data and rules"
            )));
        }
        let node_id = match fields.get("node_id") {
            None => None,
            Some(Value::String(id)) if !id.is_empty() => Some(id.as_str()),
            Some(_) => return Err(Error::bad_request("node_id must be a non-empty string")),
        };
        let data = match fields.get("data") {
            None => None,
            Some(data @ Value::Object(_)) => Some(data),
            Some(_) => return Err(Error::bad_request("data must be a JSON object")),
        };
        if node_id.is_none() && data.is_none() {
            return Err(Error::bad_request(
                "Either node_id or data is required to evaluate rules",
            ));
        }
        let rules = match fields.get("rules") {
            None => None,
            Some(Value::Array(rules)) => Some(rules.as_slice()),
            Some(_) => return Err(Error::bad_request("rules must be a list of rules")),
        };
        Ok(Self {
            node_id,
            data,
            rules,
        })
    }
}

pub(super) fn to_record(
    definition: RuleDefinition,
    created_at: time::PrimitiveDateTime,
) -> RuleRecord {
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

/// The stored rules compiled, kept from one run to the next: compiling a
/// rule (its regular expressions above all), and even reading it, costs far
/// more than checking it. Every run still asks the database for the rules'
/// version (one small read), since another instance may have changed them,
/// and reads and compiles them again only when it differs from the version
/// they were compiled at.
#[derive(Default)]
pub(crate) struct CompiledRules {
    last: Mutex<Option<Compiled>>,
}

/// The rules' version and what the rules read at that version compiled to.
type Compiled = (RulesVersion, Arc<Vec<run::CompiledRule>>);

impl CompiledRules {
    /// The stored rules, compiled, in the order they run.
    pub(crate) async fn current(&self, store: &Store) -> Result<Arc<Vec<run::CompiledRule>>> {
        // Read before the rules: a write landing between the two reads
        // leaves newer rules under an older version, which the next run
        // sees as a change, never the other way round.
        let version = store.rules_version().await?;
        if version.count == 0 {
            return Ok(Arc::default());
        }
        if let Some((compiled_at, compiled)) = self.lock().as_ref()
            && *compiled_at == version
        {
            return Ok(Arc::clone(compiled));
        }
        let rules = store.all_rules().await?;
        // A thousand rules take about half a second to compile: off the
        // runtime's workers, which may be only one (see main.rs).
        let compiled = tokio::task::spawn_blocking(move || definitions(&rules))
            .await
            .map_err(|e| Error::internal(format!("compiling the rules did not complete: {e}")))?;
        let compiled = Arc::new(compiled);
        *self.lock() = Some((version, Arc::clone(&compiled)));
        Ok(compiled)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Compiled>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The stored rules as the core's definitions, compiled, in the order they
/// run; a row that cannot be converted is skipped with an error in the log.
fn definitions(rules: &[RuleRecord]) -> Vec<run::CompiledRule> {
    rules
        .iter()
        .filter_map(|rule| match definition(rule) {
            Ok(d) => Some(run::CompiledRule::new(d)),
            Err(e) => {
                tracing::error!(rule = %rule.uuid, error = %e, "skipping an invalid stored rule");
                None
            }
        })
        .collect()
}

/// Evaluates every rule's scope and conditions against the same node
/// snapshot, then runs the actions of the matching ones in order (upstream-behaviour §rules).
/// The decisions are the core's, shared with the dry run ([`Rules::evaluate`]).
pub(crate) async fn apply(
    node_info: &mut super::node_info::NodeInfo<'_>,
    data: &Value,
    definitions: &[run::CompiledRule],
) -> Result<()> {
    use inspector_core::rules::eval::{self, ActionOutcome};
    let evaluation = run::select_rules(definitions, data, &node_info.node.0);
    if let Some((index, e)) = &evaluation.error {
        let uuid = definitions[*index]
            .definition
            .uuid
            .as_deref()
            .unwrap_or_default();
        tracing::warn!(node = %node_info.uuid, rule = %uuid, error = %e, "rule conditions failed");
        // The error text is upstream's, as operators know it from there.
        return Err(Error::bad_request(e.0.clone()));
    }
    let matched: Vec<&RuleDefinition> = evaluation
        .matched()
        .map(|index| &definitions[index].definition)
        .collect();
    for rule in &matched {
        let uuid = rule.uuid.as_deref().unwrap_or_default();
        tracing::info!(node = %node_info.uuid, rule = %uuid, "rule matches");
    }
    for rule in matched {
        for action in &rule.actions {
            let outcome = eval::action_outcome(action, data, &node_info.node.0)
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
