//! The rules inspector registers, with their defaults (upstream-behaviour §auth-policy).

/// An API operation a rule protects, for the sample file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub method: String,
    pub path: String,
}

/// The check string a rule had before its current default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeprecatedRule {
    pub name: String,
    pub check_str: String,
    pub reason: Option<String>,
    pub since: Option<String>,
}

/// A registered rule and its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDefault {
    pub name: String,
    pub check_str: String,
    pub description: Option<String>,
    pub operations: Vec<Operation>,
    /// The rule itself is going away (only its name stays valid meanwhile).
    pub deprecated_for_removal: bool,
    pub deprecated_reason: Option<String>,
    pub deprecated_since: Option<String>,
    /// The legacy default, OR-ed in when `enforce_new_defaults = false`.
    pub deprecated_rule: Option<DeprecatedRule>,
}

const ADMIN: &str = "(role:admin and system_scope:all) or (role:admin) or (role:service)";
const READER: &str = "(role:reader and system_scope:all) or (role:admin) or (role:service)";
const LEGACY_REASON: &str =
    "Replaced by rules that understand system scope and the reader, member and admin roles.";
/// Upstream deprecated the legacy rules in the Wallaby cycle.
const LEGACY_SINCE: &str = "W";

fn rule(
    name: &str,
    check_str: &str,
    description: &str,
    operations: &[(&str, &str)],
) -> RuleDefault {
    RuleDefault {
        name: name.into(),
        check_str: check_str.into(),
        description: Some(description.into()),
        operations: operations
            .iter()
            .map(|(method, path)| Operation {
                method: (*method).into(),
                path: (*path).into(),
            })
            .collect(),
        deprecated_for_removal: false,
        deprecated_reason: None,
        deprecated_since: None,
        deprecated_rule: None,
    }
}

fn legacy(mut default: RuleDefault, legacy_check: &str) -> RuleDefault {
    default.deprecated_rule = Some(DeprecatedRule {
        name: default.name.clone(),
        check_str: legacy_check.into(),
        reason: Some(LEGACY_REASON.into()),
        since: Some(LEGACY_SINCE.into()),
    });
    default
}

fn going_away(mut default: RuleDefault) -> RuleDefault {
    default.deprecated_for_removal = true;
    default.deprecated_reason = Some(LEGACY_REASON.into());
    default.deprecated_since = Some(LEGACY_SINCE.into());
    default
}

/// Every rule inspector checks, in upstream's registration order.
pub fn inspector_defaults() -> Vec<RuleDefault> {
    vec![
        going_away(rule(
            "is_admin",
            "role:admin or role:administrator or role:baremetal_admin",
            "Legacy roles with full API access",
            &[],
        )),
        going_away(rule(
            "is_observer",
            "role:baremetal_observer",
            "Legacy role with read-only API access",
            &[],
        )),
        rule(
            "public_api",
            "is_public_api:True",
            "True on the API routes that need no authentication",
            &[],
        ),
        rule(
            "default",
            "!",
            "Applies to an API route that names no rule",
            &[],
        ),
        rule(
            "introspection",
            "rule:public_api",
            "List the API versions (the API root)",
            &[("GET", "/")],
        ),
        rule(
            "introspection:version",
            "rule:public_api",
            "Show the resources of one API version",
            &[("GET", "/{version}")],
        ),
        rule(
            "introspection:continue",
            "rule:public_api",
            "Post introspection data from the ramdisk",
            &[("POST", "/continue")],
        ),
        legacy(
            rule(
                "introspection:status",
                READER,
                "Show the status of one introspection or list them all",
                &[
                    ("GET", "/introspection"),
                    ("GET", "/introspection/{node_id}"),
                ],
            ),
            "rule:is_admin or rule:is_observer",
        ),
        legacy(
            rule(
                "introspection:start",
                ADMIN,
                "Start introspecting a node",
                &[("POST", "/introspection/{node_id}")],
            ),
            "rule:is_admin",
        ),
        legacy(
            rule(
                "introspection:abort",
                ADMIN,
                "Abort a running introspection",
                &[("POST", "/introspection/{node_id}/abort")],
            ),
            "rule:is_admin",
        ),
        legacy(
            rule(
                "introspection:data",
                ADMIN,
                "Show the stored introspection data, processed or not",
                &[("GET", "/introspection/{node_id}/data")],
            ),
            "rule:is_admin",
        ),
        legacy(
            rule(
                "introspection:reapply",
                ADMIN,
                "Process the stored unprocessed data again",
                &[("POST", "/introspection/{node_id}/data/unprocessed")],
            ),
            "rule:is_admin",
        ),
        legacy(
            rule(
                "introspection:rule:get",
                ADMIN,
                "List the introspection rules or show one",
                &[("GET", "/rules"), ("GET", "/rules/{rule_id}")],
            ),
            "rule:is_admin",
        ),
        legacy(
            rule(
                "introspection:rule:delete",
                ADMIN,
                "Delete one introspection rule or all of them",
                &[("DELETE", "/rules"), ("DELETE", "/rules/{rule_id}")],
            ),
            "rule:is_admin",
        ),
        legacy(
            rule(
                "introspection:rule:create",
                ADMIN,
                "Create an introspection rule",
                &[("POST", "/rules")],
            ),
            "rule:is_admin",
        ),
        // Beyond upstream (API 1.19); the legacy default keeps it usable by
        // whoever may create rules when the new defaults are not enforced.
        legacy(
            rule(
                "introspection:rule:evaluate",
                ADMIN,
                "Evaluate introspection rules against a node's data without applying them",
                &[("POST", "/rules/evaluate")],
            ),
            "rule:is_admin",
        ),
    ]
}
