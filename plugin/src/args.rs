//! Binds a JSON arguments object to an operation and validates it, before any I/O.
//!
//! Rules: path, query and header parameters go by their OpenAPI name or snake_case alias; the
//! request body is `body` or, when `body` is absent, every remaining argument; a body field that
//! shares a path parameter's name is filled from it; numbers and booleans given as strings are
//! accepted where the expected type makes them unambiguous.

use crate::catalog::{Field, Location, Operation, Param, Type};
use crate::error::HubError;
use serde_json::{Map, Value};

/// Validated arguments, ready to become a request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bound {
    /// Path parameters by name, as text (not yet encoded).
    pub path: Vec<(&'static str, String)>,
    /// Query parameters in catalog order, as text (not yet encoded).
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
}

pub fn bind(op: &'static Operation, args: &Value) -> Result<Bound, HubError> {
    let empty = Map::new();
    let args = match args {
        Value::Object(map) => map,
        Value::Null => &empty,
        other => {
            return Err(HubError::invalid(
                "args",
                format!(
                    "expected a JSON object of arguments, got {}",
                    json_kind(other)
                ),
            ));
        }
    };

    let mut given: Vec<(&'static Param, &str, &Value)> = Vec::new();
    let mut explicit_body: Option<&Value> = None;
    let mut rest: Vec<(&str, &Value)> = Vec::new();
    for (key, value) in args {
        if key == "body" {
            explicit_body = Some(value);
        } else if let Some(param) = op.params.iter().find(|p| p.answers_to(key)) {
            if let Some((_, first, _)) = given.iter().find(|(p, _, _)| p.name == param.name) {
                return Err(HubError::invalid(
                    key,
                    format!("given twice, as `{first}` and as `{key}`"),
                ));
            }
            given.push((param, key, value));
        } else {
            rest.push((key, value));
        }
    }

    let mut bound = Bound::default();
    for param in op.params {
        let value = given
            .iter()
            .find(|(p, _, v)| p.name == param.name && !v.is_null())
            .map(|(_, key, v)| (*key, *v));
        let Some((key, value)) = value else {
            if param.required {
                return Err(HubError::invalid(
                    param.name,
                    format!("required {} parameter is missing", param.location.as_str()),
                ));
            }
            continue;
        };
        let text = param_text(param, key, value)?;
        let slot = match param.location {
            Location::Path => &mut bound.path,
            Location::Query => &mut bound.query,
            Location::Header => &mut bound.headers,
        };
        slot.push((param.name, text));
    }

    bound.body = bind_body(op, explicit_body, &rest, &bound.path)?;
    Ok(bound)
}

fn param_text(param: &Param, key: &str, value: &Value) -> Result<String, HubError> {
    let text = match (param.ty, value) {
        (Type::String, Value::String(s)) => s.clone(),
        (Type::String, Value::Number(n)) => n.to_string(),
        (Type::Integer, _) => integer(value)
            .map(|i| i.to_string())
            .ok_or_else(|| expected(key, "an integer", value))?,
        (Type::Number, _) => number(value)
            .map(number_text)
            .ok_or_else(|| expected(key, "a number", value))?,
        (Type::Boolean, _) => boolean(value)
            .map(|b| b.to_string())
            .ok_or_else(|| expected(key, "true or false", value))?,
        (_, Value::String(s)) => s.clone(),
        _ => return Err(expected(key, "a string", value)),
    };
    if param.location == Location::Path {
        if text.is_empty() {
            return Err(HubError::invalid(key, "must not be empty"));
        }
        // Dot segments would be resolved away by URL normalisation and change the route.
        if text == "." || text == ".." {
            return Err(HubError::invalid(key, "`.` and `..` are not valid names"));
        }
    }
    check_enum(key, &text, param.enum_values)?;
    Ok(text)
}

fn bind_body(
    op: &'static Operation,
    explicit: Option<&Value>,
    rest: &[(&str, &Value)],
    path: &[(&'static str, String)],
) -> Result<Option<Value>, HubError> {
    let Some(spec) = &op.body else {
        if let Some((key, _)) = rest.first() {
            return Err(unknown_argument(op, key));
        }
        if explicit.is_some_and(|b| !b.is_null()) {
            return Err(HubError::invalid(
                "body",
                format!("`{}` takes no request body", op.name),
            ));
        }
        return Ok(None);
    };

    let mut body = match explicit {
        Some(value) if !value.is_null() => {
            if let Some((key, _)) = rest.first() {
                return Err(HubError::invalid(
                    *key,
                    format!(
                        "not a parameter of `{}`; when `body` is given, body fields go inside it",
                        op.name
                    ),
                ));
            }
            let value = match value {
                // JSON text is accepted for callers that can only pass strings.
                Value::String(text) => serde_json::from_str(text)
                    .map_err(|e| HubError::invalid("body", format!("not valid JSON text: {e}")))?,
                other => other.clone(),
            };
            match value {
                Value::Object(map) => map,
                other => {
                    return Err(HubError::invalid(
                        "body",
                        format!("expected a JSON object, got {}", json_kind(&other)),
                    ));
                }
            }
        }
        _ => {
            let mut map = Map::new();
            for (key, value) in rest {
                let field = spec
                    .fields
                    .iter()
                    .find(|f| f.answers_to(key))
                    .ok_or_else(|| unknown_argument(op, key))?;
                if map.contains_key(field.name) {
                    return Err(HubError::invalid(
                        *key,
                        "given twice under different spellings",
                    ));
                }
                if !value.is_null() {
                    map.insert(field.name.to_string(), (*value).clone());
                }
            }
            if map.is_empty()
                && !spec.required
                && !path
                    .iter()
                    .any(|(p, _)| spec.fields.iter().any(|f| f.name == *p))
            {
                return Ok(None);
            }
            map
        }
    };

    for (name, value) in path {
        if spec.fields.iter().any(|f| f.name == *name) && !body.contains_key(*name) {
            body.insert(name.to_string(), Value::String(value.clone()));
        }
    }

    for field in spec.fields {
        match body.get_mut(field.name) {
            None | Some(Value::Null) if field.required => {
                return Err(HubError::invalid(
                    field.name,
                    "required body field is missing",
                ));
            }
            None | Some(Value::Null) => {}
            Some(value) => *value = field_value(field, value)?,
        }
    }
    Ok(Some(Value::Object(body)))
}

/// Checks a body field and normalises string-typed numbers and booleans.
fn field_value(field: &Field, value: &Value) -> Result<Value, HubError> {
    let name = field.name;
    let out = match field.ty {
        Type::String => match value {
            Value::String(_) => value.clone(),
            Value::Number(n) => Value::String(n.to_string()),
            _ => return Err(expected(name, "a string", value)),
        },
        Type::Integer => integer(value)
            .map(Value::from)
            .ok_or_else(|| expected(name, "an integer", value))?,
        Type::Number => number(value)
            .map(Value::from)
            .ok_or_else(|| expected(name, "a number", value))?,
        Type::Boolean => boolean(value)
            .map(Value::Bool)
            .ok_or_else(|| expected(name, "true or false", value))?,
        Type::Object => match value {
            Value::Object(_) => value.clone(),
            _ => return Err(expected(name, "a JSON object", value)),
        },
        Type::Array => {
            let Value::Array(items) = value else {
                return Err(expected(name, "a JSON array", value));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let at = format!("{name}[{i}]");
                let item = match (field.items, item) {
                    (Some(Type::String), Value::String(_)) => item.clone(),
                    (Some(Type::String), Value::Number(n)) => Value::String(n.to_string()),
                    (Some(Type::String), _) => return Err(expected(&at, "a string", item)),
                    (Some(Type::Integer), _) => integer(item)
                        .map(Value::from)
                        .ok_or_else(|| expected(&at, "an integer", item))?,
                    (Some(Type::Object), Value::Object(_)) => item.clone(),
                    (Some(Type::Object), _) => return Err(expected(&at, "a JSON object", item)),
                    _ => item.clone(),
                };
                if let Value::String(s) = &item {
                    check_enum(&at, s, field.enum_values)?;
                }
                out.push(item);
            }
            return Ok(Value::Array(out));
        }
    };
    if let Value::String(s) = &out {
        check_enum(name, s, field.enum_values)?;
    }
    Ok(out)
}

fn check_enum(name: &str, value: &str, allowed: &[&str]) -> Result<(), HubError> {
    if allowed.is_empty() || allowed.contains(&value) {
        return Ok(());
    }
    let list: Vec<String> = allowed.iter().map(|v| format!("`{v}`")).collect();
    Err(HubError::invalid(
        name,
        format!("`{value}` is not one of {}", list.join(", ")),
    ))
}

fn unknown_argument(op: &Operation, key: &str) -> HubError {
    let mut known: Vec<&str> = op.params.iter().map(|p| p.name).collect();
    if let Some(body) = &op.body {
        known.extend(body.fields.iter().map(|f| f.name));
        known.push("body");
    }
    let reason = if known.is_empty() {
        format!("`{}` takes no arguments", op.name)
    } else {
        format!(
            "not an argument of `{}`; it takes {}",
            op.name,
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    HubError::invalid(key, reason)
}

fn expected(name: &str, what: &str, got: &Value) -> HubError {
    HubError::invalid(name, format!("expected {what}, got {}", describe(got)))
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() <= 40 => format!("the string {s:?}"),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("{b}"),
        other => json_kind(other).to_string(),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// Whole numbers print without a fraction: the Hub rejects `page=2.0`.
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        (f as i64).to_string()
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::find;
    use serde_json::json;

    fn op(name: &str) -> &'static Operation {
        find(name).unwrap()
    }

    fn invalid_name(r: Result<Bound, HubError>) -> String {
        match r {
            Err(HubError::InvalidArgument { name, .. }) => name,
            other => panic!("expected invalid-argument, got {other:?}"),
        }
    }

    #[test]
    fn path_and_query_parameters_bind_by_name() {
        let b = bind(
            op("list_repository_tags"),
            &json!({"namespace": "library", "repository": "alpine", "page_size": 50}),
        )
        .unwrap();
        assert_eq!(
            b.path,
            vec![
                ("namespace", "library".into()),
                ("repository", "alpine".into())
            ]
        );
        assert_eq!(b.query, vec![("page_size", "50".into())]);
        assert_eq!(b.body, None);
    }

    #[test]
    fn camel_case_parameters_accept_snake_case_aliases() {
        let b = bind(
            op("scim_list_users"),
            &json!({"start_index": 3, "count": 5, "sort_order": "ascending"}),
        )
        .unwrap();
        assert!(b.query.contains(&("startIndex", "3".into())));
        assert!(b.query.contains(&("sortOrder", "ascending".into())));
        let b = bind(op("scim_list_users"), &json!({"startIndex": 3})).unwrap();
        assert_eq!(b.query, vec![("startIndex", "3".into())]);
    }

    #[test]
    fn the_same_parameter_under_two_spellings_is_refused() {
        let r = bind(
            op("scim_list_users"),
            &json!({"startIndex": 1, "start_index": 2}),
        );
        let name = invalid_name(r);
        assert!(name == "startIndex" || name == "start_index");
    }

    #[test]
    fn missing_required_path_parameter_is_named() {
        let r = bind(op("get_repository"), &json!({"namespace": "library"}));
        assert_eq!(invalid_name(r), "repository");
    }

    #[test]
    fn wrong_types_are_refused_with_the_expected_type() {
        let r = bind(
            op("list_repository_tags"),
            &json!({"namespace": "a", "repository": "b", "page": "two"}),
        );
        match r {
            Err(HubError::InvalidArgument { name, reason }) => {
                assert_eq!(name, "page");
                assert!(reason.contains("integer"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let r = bind(
            op("get_repository"),
            &json!({"namespace": {"x": 1}, "repository": "b"}),
        );
        assert_eq!(invalid_name(r), "namespace");
    }

    #[test]
    fn numbers_and_booleans_as_strings_are_accepted() {
        let b = bind(
            op("list_repository_tags"),
            &json!({"namespace": "a", "repository": "b", "page": "2"}),
        )
        .unwrap();
        assert_eq!(b.query, vec![("page", "2".into())]);
        let b = bind(
            op("list_org_members"),
            &json!({"org_name": "acme", "invites": "true"}),
        )
        .unwrap();
        assert!(b.query.contains(&("invites", "true".into())));
        let b = bind(
            op("assign_repository_group"),
            &json!({"namespace": "acme", "repository": "r", "group_id": "42", "permission": "read"}),
        )
        .unwrap();
        assert_eq!(b.body.unwrap()["group_id"], json!(42));
    }

    #[test]
    fn whole_numbers_print_without_fraction() {
        let b = bind(
            op("list_personal_access_tokens"),
            &json!({"page": 2.0, "page_size": 25}),
        )
        .unwrap();
        assert_eq!(
            b.query,
            vec![("page", "2".into()), ("page_size", "25".into())]
        );
    }

    #[test]
    fn enum_values_are_checked_for_parameters_and_body_fields() {
        let r = bind(
            op("list_repositories"),
            &json!({"namespace": "a", "ordering": "size"}),
        );
        match r {
            Err(HubError::InvalidArgument { name, reason }) => {
                assert_eq!(name, "ordering");
                assert!(reason.contains("-last_updated"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let r = bind(
            op("update_org_member_role"),
            &json!({"org_name": "a", "username": "u", "role": "boss"}),
        );
        assert_eq!(invalid_name(r), "role");
    }

    #[test]
    fn unknown_arguments_are_refused_and_the_known_ones_listed() {
        let r = bind(
            op("get_repository"),
            &json!({"namespace": "a", "repository": "b", "colour": "red"}),
        );
        match r {
            Err(HubError::InvalidArgument { name, reason }) => {
                assert_eq!(name, "colour");
                assert!(reason.contains("`namespace`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let r = bind(
            op("create_repository"),
            &json!({"namespace": "a", "name": "n", "colour": "red"}),
        );
        assert_eq!(invalid_name(r), "colour");
    }

    #[test]
    fn remaining_arguments_become_the_body() {
        let b = bind(
            op("create_repository"),
            &json!({"namespace": "acme", "name": "api", "is_private": true}),
        )
        .unwrap();
        // `namespace` is both a path parameter and a required body field: filled from the path.
        assert_eq!(
            b.body,
            Some(json!({"name": "api", "is_private": true, "namespace": "acme"}))
        );
    }

    #[test]
    fn an_explicit_body_is_used_as_given() {
        let b = bind(
            op("create_repository"),
            &json!({"namespace": "acme", "body": {"name": "api", "namespace": "acme", "extra": 1}}),
        )
        .unwrap();
        assert_eq!(b.body.unwrap()["extra"], json!(1));
        // JSON text works too, for callers that only pass strings.
        let b = bind(
            op("verify_repository_immutable_tags"),
            &json!({"namespace": "a", "repository": "b", "body": "{\"regex\": \"v.*\"}"}),
        )
        .unwrap();
        assert_eq!(b.body, Some(json!({"regex": "v.*"})));
    }

    #[test]
    fn explicit_body_and_loose_fields_together_are_refused() {
        let r = bind(
            op("create_repository"),
            &json!({"namespace": "acme", "name": "x", "body": {"name": "api"}}),
        );
        assert_eq!(invalid_name(r), "name");
    }

    #[test]
    fn missing_required_body_field_is_named() {
        let r = bind(
            op("create_personal_access_token"),
            &json!({"token_label": "ci"}),
        );
        assert_eq!(invalid_name(r), "scopes");
        let r = bind(
            op("create_personal_access_token"),
            &json!({"body": {"scopes": ["repo:read"]}}),
        );
        assert_eq!(invalid_name(r), "token_label");
    }

    #[test]
    fn body_field_types_are_checked() {
        let r = bind(
            op("create_personal_access_token"),
            &json!({"token_label": "ci", "scopes": "repo:read"}),
        );
        assert_eq!(invalid_name(r), "scopes");
        let r = bind(
            op("create_personal_access_token"),
            &json!({"token_label": "ci", "scopes": [{"a": 1}]}),
        );
        assert_eq!(invalid_name(r), "scopes[0]");
        let r = bind(
            op("update_personal_access_token"),
            &json!({"uuid": "u", "is_active": "yes"}),
        );
        assert_eq!(invalid_name(r), "is_active");
    }

    #[test]
    fn body_field_aliases_map_to_the_canonical_name() {
        let b = bind(
            op("scim_create_user"),
            &json!({"schemas": ["urn:x"], "user_name": "jo@example.com"}),
        )
        .unwrap();
        assert_eq!(b.body.unwrap()["userName"], json!("jo@example.com"));
    }

    #[test]
    fn operations_without_a_body_refuse_one() {
        let r = bind(
            op("get_repository"),
            &json!({"namespace": "a", "repository": "b", "body": {}}),
        );
        assert_eq!(invalid_name(r), "body");
    }

    #[test]
    fn dot_segments_and_empty_path_values_are_refused() {
        for bad in [".", "..", ""] {
            let r = bind(
                op("get_repository"),
                &json!({"namespace": bad, "repository": "b"}),
            );
            assert_eq!(invalid_name(r), "namespace", "{bad:?}");
        }
    }

    #[test]
    fn args_must_be_an_object() {
        assert_eq!(
            invalid_name(bind(op("get_repository"), &json!([1]))),
            "args"
        );
        // null means no arguments.
        assert!(bind(op("scim_list_schemas"), &Value::Null).is_ok());
    }

    #[test]
    fn header_parameters_bind_by_alias() {
        let b = bind(
            op("bulk_create_invites"),
            &json!({"x_analytics_client_feature": "cli", "org": "acme", "invitees": ["a@b.c"], "dry_run": true}),
        )
        .unwrap();
        assert_eq!(
            b.headers,
            vec![("X-Analytics-Client-Feature", "cli".into())]
        );
        assert_eq!(b.body.unwrap()["dry_run"], json!(true));
    }

    #[test]
    fn null_values_count_as_absent() {
        let b = bind(
            op("list_repositories"),
            &json!({"namespace": "a", "page": null}),
        )
        .unwrap();
        assert!(b.query.is_empty());
    }
}
