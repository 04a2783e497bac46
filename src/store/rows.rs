//! Row assembly shared by the backends: what a stored value means does not
//! depend on which database stored it.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{ActionRecord, ConditionRecord, Result, RuleRecord, StoreError};

/// The order upstream lists and applies rules in. Its query joins each
/// rule's conditions and actions and sorts by (created_at, condition id,
/// action id), so among rules with one `created_at` (common where the
/// column keeps whole seconds, as on MySQL) the one whose first condition
/// came first wins, and a rule without conditions sorts where the server
/// puts NULL: first on SQLite and MySQL, last on PostgreSQL.
pub(super) const RULE_ORDER: &str = "created_at, \
     (SELECT MIN(id) FROM rule_conditions WHERE rule_conditions.rule = rules.uuid), \
     (SELECT MIN(id) FROM rule_actions WHERE rule_actions.rule = rules.uuid), uuid";

/// The fingerprint of the stored rules (`StoreBackend::rules_version`):
/// the write counter (NULL when its row is missing), the number of rules
/// and the newest creation time, in one statement.
pub(super) const RULES_VERSION: &str = "SELECT \
     (SELECT MAX(generation) FROM inspector_rules_version), \
     (SELECT COUNT(*) FROM rules), \
     (SELECT MAX(created_at) FROM rules)";

/// A rule's parameters column: a JSON object, or NULL for none.
pub(super) fn params_from_text(text: Option<String>) -> Result<Map<String, Value>> {
    match text {
        None => Ok(Map::new()),
        Some(t) => match serde_json::from_str::<Value>(&t) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(Value::Null) => Ok(Map::new()),
            _ => Err(StoreError::Corrupt(format!(
                "rule parameters are not a JSON object: {t:?}"
            ))),
        },
    }
}

/// Gives each rule its conditions and actions (each list in stored
/// order), by the rule UUID each row names; rows of other rules are left
/// out.
pub(super) fn attach_to_rules(
    rules: &mut [RuleRecord],
    conditions: Vec<(Option<String>, ConditionRecord)>,
    actions: Vec<(Option<String>, ActionRecord)>,
) {
    let index: HashMap<String, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.uuid.clone(), i))
        .collect();
    let owner = |rule: Option<String>| rule.and_then(|r| index.get(&r).copied());
    for (rule, condition) in conditions {
        if let Some(i) = owner(rule) {
            rules[i].conditions.push(condition);
        }
    }
    for (rule, action) in actions {
        if let Some(i) = owner(rule) {
            rules[i].actions.push(action);
        }
    }
}
