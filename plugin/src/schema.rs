//! JSON Schema of an operation's arguments, for agent tool definitions.
//!
//! The schema describes the flat form that `call` accepts: parameters and body fields side by
//! side. (`call` also takes the body whole as `body`; tool schemas leave that form out so that a
//! model sees one clear way.)

use crate::prelude::*;

use crate::catalog::{Field, Operation, Param, Type};
use serde_json::{Map, Value, json};

pub fn args_schema(op: &Operation) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in op.params {
        properties.insert(p.name.to_string(), param_schema(p));
        if p.required {
            required.push(Value::from(p.name));
        }
    }
    if let Some(body) = &op.body {
        for f in body.fields {
            if properties.contains_key(f.name) {
                continue; // filled from the path parameter of the same name
            }
            properties.insert(f.name.to_string(), field_schema(f));
            if f.required {
                required.push(Value::from(f.name));
            }
        }
    }
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema
}

fn scalar(ty: Type) -> &'static str {
    ty.as_str()
}

fn param_schema(p: &Param) -> Value {
    let mut s = json!({"type": scalar(p.ty), "description": describe(p.description, p.aliases)});
    if !p.enum_values.is_empty() {
        s["enum"] = json!(p.enum_values);
    }
    if let Some(min) = p.minimum {
        s["minimum"] = json!(min);
    }
    if let Some(max) = p.maximum {
        s["maximum"] = json!(max);
    }
    if let Some(d) = p.default {
        s["default"] = match p.ty {
            Type::Integer => d.parse::<i64>().map(Value::from).unwrap_or(Value::from(d)),
            Type::Number => crate::args::parse_f64(d)
                .map(Value::from)
                .unwrap_or(Value::from(d)),
            Type::Boolean => Value::Bool(d == "true"),
            _ => Value::from(d),
        };
    }
    s
}

fn field_schema(f: &Field) -> Value {
    let mut s = json!({"type": scalar(f.ty), "description": describe(f.description, f.aliases)});
    if f.ty == Type::Array {
        let mut items = json!({"type": scalar(f.items.unwrap_or(Type::Object))});
        if !f.enum_values.is_empty() {
            items["enum"] = json!(f.enum_values);
        }
        s["items"] = items;
    } else if !f.enum_values.is_empty() {
        s["enum"] = json!(f.enum_values);
    }
    if let Some(format) = f.format {
        s["format"] = Value::from(format);
    }
    if let Some(max) = f.max_length {
        s["maxLength"] = Value::from(max);
    }
    s
}

fn describe(text: &str, aliases: &[&str]) -> String {
    if aliases.is_empty() {
        text.to_string()
    } else {
        format!("{text} (also accepted as: {})", aliases.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{OPERATIONS, find};

    #[test]
    fn schema_lists_params_and_body_fields_with_required() {
        let s = args_schema(find("create_repository").unwrap());
        assert_eq!(s["type"], "object");
        assert_eq!(s["properties"]["namespace"]["type"], "string");
        assert_eq!(s["properties"]["is_private"]["type"], "boolean");
        let required: Vec<&str> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(required, vec!["namespace", "name"]);
        assert_eq!(s["additionalProperties"], false);
    }

    #[test]
    fn enums_items_and_aliases_appear() {
        let s = args_schema(find("list_repositories").unwrap());
        assert!(
            s["properties"]["ordering"]["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("-last_updated"))
        );
        let s = args_schema(find("create_personal_access_token").unwrap());
        assert_eq!(s["properties"]["scopes"]["items"]["type"], "string");
        let s = args_schema(find("scim_list_users").unwrap());
        assert!(
            s["properties"]["startIndex"]["description"]
                .as_str()
                .unwrap()
                .contains("start_index")
        );
    }

    #[test]
    fn every_operation_has_an_object_schema() {
        for op in OPERATIONS {
            let s = args_schema(op);
            assert_eq!(s["type"], "object", "{}", op.name);
            for (name, prop) in s["properties"].as_object().unwrap() {
                assert!(prop["type"].is_string(), "{}.{name}", op.name);
                assert!(
                    !prop["description"].as_str().unwrap().is_empty(),
                    "{}.{name}",
                    op.name
                );
            }
        }
    }
}
