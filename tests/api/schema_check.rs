//! A JSON Schema (2020-12) validator for the subset the OpenAPI document
//! uses: `type` (one or a list, so `null` is spelt as a type), `enum`,
//! `properties`, `required`, `additionalProperties`, `items`, `minItems`,
//! `minimum`, `allOf`/`anyOf`/`oneOf` and local `$ref`s. A keyword outside
//! that subset is an error, never silently ignored, so the document cannot
//! grow a constraint these checks would skip.

use serde_json::Value;

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &["description", "title", "format", "default", "examples"];

/// Validates `value` against `schema`; `$ref`s resolve in `root` (the
/// OpenAPI document). The error says where (a JSON pointer) and what.
pub fn validate(root: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    check(root, schema, value, "")
}

fn check(root: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let keywords = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return Err(format!("{}: nothing is allowed here", here(at))),
        Value::Object(keywords) => keywords,
        other => return Err(format!("not a schema: {other}")),
    };
    for (keyword, arg) in keywords {
        match keyword.as_str() {
            "$ref" => {
                let target = arg.as_str().ok_or("$ref is not a string")?;
                let pointer = target
                    .strip_prefix('#')
                    .ok_or_else(|| format!("only local references: {target}"))?;
                let resolved = root
                    .pointer(pointer)
                    .ok_or_else(|| format!("{target} does not resolve"))?;
                check(root, resolved, value, at)?;
            }
            "type" => check_type(arg, value, at)?,
            "enum" => {
                let allowed = arg.as_array().ok_or("enum is not a list")?;
                if !allowed.contains(value) {
                    return Err(format!("{}: {value} is not one of {arg}", here(at)));
                }
            }
            "properties" => {
                let properties = arg.as_object().ok_or("properties is not an object")?;
                if let Value::Object(fields) = value {
                    for (name, sub) in properties {
                        if let Some(field) = fields.get(name) {
                            check(root, sub, field, &format!("{at}/{name}"))?;
                        }
                    }
                }
            }
            "required" => {
                let names = arg.as_array().ok_or("required is not a list")?;
                if let Value::Object(fields) = value {
                    for name in names {
                        let name = name.as_str().ok_or("a required name is not a string")?;
                        if !fields.contains_key(name) {
                            return Err(format!("{}: {name:?} is missing", here(at)));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Value::Object(fields) = value {
                    let listed = keywords.get("properties").and_then(Value::as_object);
                    for (name, field) in fields {
                        if listed.is_some_and(|p| p.contains_key(name)) {
                            continue;
                        }
                        check(root, arg, field, &format!("{at}/{name}")).map_err(|e| {
                            if arg == &Value::Bool(false) {
                                format!("{}: {name:?} is not an allowed property", here(at))
                            } else {
                                e
                            }
                        })?;
                    }
                }
            }
            "items" => {
                if let Value::Array(items) = value {
                    for (i, item) in items.iter().enumerate() {
                        check(root, arg, item, &format!("{at}/{i}"))?;
                    }
                }
            }
            "minItems" => {
                let min = arg.as_u64().ok_or("minItems is not a count")?;
                if let Value::Array(items) = value
                    && (items.len() as u64) < min
                {
                    return Err(format!("{}: fewer than {min} items", here(at)));
                }
            }
            "minimum" => {
                let min = arg.as_f64().ok_or("minimum is not a number")?;
                if let Some(number) = value.as_f64()
                    && number < min
                {
                    return Err(format!("{}: {value} is below {min}", here(at)));
                }
            }
            "allOf" => {
                for sub in arg.as_array().ok_or("allOf is not a list")? {
                    check(root, sub, value, at)?;
                }
            }
            "anyOf" | "oneOf" => {
                let subs = arg.as_array().ok_or("anyOf/oneOf is not a list")?;
                let failures: Vec<String> = subs
                    .iter()
                    .filter_map(|sub| check(root, sub, value, at).err())
                    .collect();
                let matched = subs.len() - failures.len();
                if matched == 0 {
                    return Err(format!(
                        "{}: matches none of the {keyword} schemas ({})",
                        here(at),
                        failures.join("; ")
                    ));
                }
                if keyword == "oneOf" && matched > 1 {
                    return Err(format!(
                        "{}: matches {matched} of the oneOf schemas, not exactly one",
                        here(at)
                    ));
                }
            }
            annotation if ANNOTATIONS.contains(&annotation) => {}
            unknown => return Err(format!("unsupported schema keyword {unknown:?}")),
        }
    }
    Ok(())
}

fn check_type(arg: &Value, value: &Value, at: &str) -> Result<(), String> {
    let names: Vec<&str> = match arg {
        Value::String(name) => vec![name.as_str()],
        Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
        _ => return Err("type is neither a name nor a list".into()),
    };
    if names.iter().any(|name| has_type(name, value)) {
        Ok(())
    } else {
        Err(format!("{}: {value} is not of type {arg}", here(at)))
    }
}

fn has_type(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn here(at: &str) -> &str {
    if at.is_empty() { "at the top" } else { at }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::validate;

    fn root() -> serde_json::Value {
        json!({"components": {"schemas": {
            "Link": {"type": "object", "required": ["href"], "properties": {"href": {"type": "string"}},
                     "additionalProperties": false},
        }}})
    }

    fn ok(schema: serde_json::Value, value: serde_json::Value) {
        validate(&root(), &schema, &value).unwrap_or_else(|e| panic!("{value} refused: {e}"));
    }

    fn refused(schema: serde_json::Value, value: serde_json::Value) -> String {
        validate(&root(), &schema, &value).expect_err(&format!("{value} accepted"))
    }

    #[test]
    fn types_one_or_several_null_included() {
        ok(json!({"type": "string"}), json!("a"));
        ok(json!({"type": ["string", "null"]}), json!(null));
        ok(json!({"type": "integer"}), json!(3));
        ok(json!({"type": "integer"}), json!(3.0));
        ok(json!({"type": "number"}), json!(3.5));
        let e = refused(json!({"type": "string"}), json!(null));
        assert!(e.contains("not of type"), "{e}");
        refused(json!({"type": "integer"}), json!(3.5));
        refused(json!({"type": "object"}), json!([]));
        refused(json!({"type": ["boolean", "null"]}), json!(0));
    }

    #[test]
    fn objects_required_and_additional_properties() {
        let schema = json!({"type": "object", "required": ["a"],
                            "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
                            "additionalProperties": false});
        ok(schema.clone(), json!({"a": "x", "b": 1}));
        let e = refused(schema.clone(), json!({"b": 1}));
        assert!(e.contains("\"a\" is missing"), "{e}");
        let e = refused(schema.clone(), json!({"a": "x", "c": 1}));
        assert!(e.contains("\"c\" is not an allowed property"), "{e}");
        let e = refused(schema, json!({"a": "x", "b": "1"}));
        assert!(e.starts_with("/b:"), "{e}");
        // Open objects take anything else, checked by its schema when given.
        ok(
            json!({"type": "object", "additionalProperties": {"type": "integer"}}),
            json!({"x": 1}),
        );
        refused(
            json!({"type": "object", "additionalProperties": {"type": "integer"}}),
            json!({"x": "1"}),
        );
        ok(
            json!({"type": "object", "properties": {"a": {"type": "string"}}}),
            json!({"z": []}),
        );
    }

    #[test]
    fn arrays_enums_and_minimums() {
        ok(
            json!({"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 1}),
            json!(["a", "b"]),
        );
        let e = refused(
            json!({"type": "array", "items": {"enum": ["a", "b"]}}),
            json!(["a", "c"]),
        );
        assert!(e.starts_with("/1:"), "{e}");
        refused(json!({"type": "array", "minItems": 1}), json!([]));
        refused(json!({"minimum": 0}), json!(-1));
        ok(json!({"minimum": 0}), json!(0));
    }

    #[test]
    fn references_resolve_in_the_root_document() {
        let schema = json!({"type": "array", "items": {"$ref": "#/components/schemas/Link"}});
        ok(schema.clone(), json!([{"href": "h"}]));
        let e = refused(schema, json!([{"href": "h", "rel": "x"}]));
        assert!(e.contains("\"rel\" is not an allowed property"), "{e}");
        let e = refused(json!({"$ref": "#/components/schemas/Nope"}), json!(1));
        assert!(e.contains("does not resolve"), "{e}");
    }

    #[test]
    fn one_of_means_exactly_one_any_of_at_least_one_all_of_every() {
        let one = json!({"oneOf": [{"type": "string"}, {"enum": ["a", 1]}]});
        ok(one.clone(), json!("b"));
        ok(one.clone(), json!(1));
        let e = refused(one.clone(), json!("a"));
        assert!(e.contains("matches 2"), "{e}");
        refused(one, json!(null));
        ok(
            json!({"anyOf": [{"type": "string"}, {"enum": ["a"]}]}),
            json!("a"),
        );
        refused(
            json!({"allOf": [{"type": "string"}, {"enum": ["a"]}]}),
            json!("b"),
        );
    }

    #[test]
    fn an_unknown_keyword_is_an_error_and_annotations_are_not() {
        let e = refused(json!({"type": "string", "maxLength": 3}), json!("abcd"));
        assert!(
            e.contains("unsupported schema keyword \"maxLength\""),
            "{e}"
        );
        ok(
            json!({"type": "string", "description": "d", "format": "uuid"}),
            json!("x"),
        );
        ok(json!({}), json!({"anything": [1]}));
        refused(json!(false), json!(1));
    }
}
