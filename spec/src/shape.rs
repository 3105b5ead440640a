//! Result shapes: what an operation's answer looks like, as a small JSON Schema.
//!
//! A shape uses only the keywords a client needs to read an answer: `type` (a name, or a list
//! with `"null"` for a nullable value), `properties`, `required`, `items`,
//! `additionalProperties`, `enum`, `format` and `description`. The same subset comes out of
//! Docker's OpenAPI schemas ([`from_openapi`]), so the drift test compares like with like, and
//! goes into MCP's `outputSchema`, the docs and the bindings' types.
//!
//! The catalog keeps its shapes in `spec/shapes/<area>.yaml`, one entry per operation and
//! status. Where the catalog corrects Docker's description, the entry records what upstream
//! says at that place ([`ShapeFix`]); [`upstream_view`] puts it back, so the comparison with a
//! new upstream file still notices a change there.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use serde_yaml::Value as Yaml;

/// One place where the catalog's shape departs from Docker's description.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShapeFix {
    /// JSON Pointer into the shape (`""` is the whole shape).
    pub at: String,
    /// What Docker's description has there, as a shape; absent when it has nothing there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Json>,
    /// Why the catalog says otherwise, in a sentence.
    pub why: String,
}

/// What a call of `op` returns as its result (the WIT `response.body`), as a shape: the Hub's
/// JSON as its response's shape says; `{exists}` for a HEAD check; `{body, content_type}` for
/// other content types (the CSV export); `null` for an answer without a body. `None` when a
/// JSON answer has no shape in the catalog.
pub fn result_shape(op: &crate::Operation) -> Option<Json> {
    if op.method == crate::Method::Head {
        return Some(serde_json::json!({
            "type": "object",
            "description": "Whether the thing asked about exists.",
            "required": ["exists"],
            "properties": {"exists": {"type": "boolean"}},
        }));
    }
    let mut shapes = Vec::new();
    for r in &op.responses {
        let shape = match r.content_type.as_deref() {
            None => serde_json::json!({"type": "null"}),
            Some(ct) if is_json(ct) => r.shape.clone()?,
            Some(_) => {
                let mut body = serde_json::json!({"type": "string"});
                if let Some(rows) = &r.shape {
                    body["description"] = Json::String(format!(
                        "The document as sent; its rows have the columns {}.",
                        columns(rows)
                    ));
                }
                serde_json::json!({
                    "type": "object",
                    "required": ["body", "content_type"],
                    "properties": {
                        "body": body,
                        "content_type": {"type": "string"},
                    },
                })
            }
        };
        if !shapes.contains(&shape) {
            shapes.push(shape);
        }
    }
    match shapes.len() {
        0 => None,
        1 => shapes.pop(),
        // No operation answers two different shapes; the subset has no `anyOf` for it.
        _ => None,
    }
}

/// Whether a content type carries JSON (`application/json`, `application/scim+json`).
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence == "application/json" || essence.ends_with("+json")
}

/// The property names of the rows a shape describes (`A, B and C`).
fn columns(rows: &Json) -> String {
    let names: Vec<&str> = rows
        .pointer("/items/properties")
        .and_then(Json::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    match names.split_last() {
        None => "the export defines".into(),
        Some((last, [])) => (*last).into(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// The keywords a shape may use.
pub const KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "enum",
    "format",
    "description",
];

/// The shape of an OpenAPI 3.0 schema: `$ref`s followed (keys beside one are ignored, as
/// OpenAPI 3.0 says), `allOf` merged, `nullable` written as a `"null"` type, `required: true` on
/// a property counted as the property being required, and every keyword outside [`KEYWORDS`]
/// (and every description: upstream prose is not ours) left out.
pub fn from_openapi(root: &Yaml, schema: &Yaml) -> Json {
    convert(root, schema, 0)
}

/// Deep enough for any answer the Hub gives; a self-referencing schema stops here.
const MAX_DEPTH: usize = 24;

fn convert(root: &Yaml, schema: &Yaml, depth: usize) -> Json {
    let schema = crate::import::resolve(root, schema);
    let mut out = Map::new();
    if depth > MAX_DEPTH {
        return Json::Object(out);
    }
    let mut properties = Map::new();
    let mut required: Vec<Json> = Vec::new();
    for part in schema
        .get("allOf")
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
    {
        if let Json::Object(part) = convert(root, part, depth + 1) {
            for (key, value) in part {
                match (key.as_str(), value) {
                    ("properties", Json::Object(p)) => {
                        for (name, prop) in p {
                            merge(properties.entry(name).or_insert(Json::Null), prop);
                        }
                    }
                    ("required", Json::Array(r)) => required.extend(r),
                    (_, value) => {
                        out.entry(key).or_insert(value);
                    }
                }
            }
        }
    }
    let mut ty = schema
        .get("type")
        .and_then(Yaml::as_str)
        .map(str::to_string);
    if ty.is_none() && schema.get("properties").is_some() {
        ty = Some("object".into());
    }
    if let Some(ty) = ty {
        let nullable = schema.get("nullable").and_then(Yaml::as_bool) == Some(true);
        out.insert(
            "type".into(),
            if nullable {
                Json::Array(vec![Json::String(ty), Json::String("null".into())])
            } else {
                Json::String(ty)
            },
        );
    }
    if let Some(format) = schema.get("format").and_then(Yaml::as_str) {
        out.insert("format".into(), Json::String(format.into()));
    }
    if let Some(values) = schema.get("enum").and_then(Yaml::as_sequence) {
        out.insert(
            "enum".into(),
            Json::Array(values.iter().map(scalar).collect()),
        );
    }
    for (name, prop) in schema
        .get("properties")
        .and_then(Yaml::as_mapping)
        .into_iter()
        .flatten()
    {
        let Some(name) = name.as_str() else { continue };
        if prop.get("required").and_then(Yaml::as_bool) == Some(true) {
            required.push(Json::String(name.into()));
        }
        properties.insert(name.into(), convert(root, prop, depth + 1));
    }
    for name in schema
        .get("required")
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
    {
        if let Some(name) = name.as_str() {
            required.push(Json::String(name.into()));
        }
    }
    if !properties.is_empty() {
        out.insert("properties".into(), Json::Object(properties));
    }
    let mut seen = std::collections::BTreeSet::new();
    required.retain(|r| seen.insert(r.as_str().unwrap_or_default().to_string()));
    if !required.is_empty() {
        out.insert("required".into(), Json::Array(required));
    }
    if let Some(items) = schema.get("items") {
        out.insert("items".into(), convert(root, items, depth + 1));
    }
    match schema.get("additionalProperties") {
        Some(Yaml::Bool(b)) => {
            out.insert("additionalProperties".into(), Json::Bool(*b));
        }
        Some(other @ Yaml::Mapping(_)) => {
            out.insert(
                "additionalProperties".into(),
                convert(root, other, depth + 1),
            );
        }
        _ => {}
    }
    Json::Object(out)
}

/// Merges `extra` into `into`: keywords `into` lacks are added (a later `allOf` part that only
/// adds an example to a property keeps the property's type).
fn merge(into: &mut Json, extra: Json) {
    match (into, extra) {
        (Json::Object(into), Json::Object(extra)) => {
            for (key, value) in extra {
                into.entry(key).or_insert(value);
            }
        }
        (into @ Json::Null, extra) => *into = extra,
        _ => {}
    }
}

fn scalar(v: &Yaml) -> Json {
    match v {
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64().map_or(Json::Null, Json::from)
            }
        }
        _ => Json::Null,
    }
}

/// A shape without its descriptions (the comparison is about structure, and the catalog's
/// descriptions are its own words).
pub fn without_descriptions(shape: &Json) -> Json {
    let Json::Object(map) = shape else {
        return shape.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let value = match key.as_str() {
            "description" => continue,
            "properties" => match value {
                Json::Object(props) => Json::Object(
                    props
                        .iter()
                        .map(|(name, p)| (name.clone(), without_descriptions(p)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" => without_descriptions(value),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Json::Object(out)
}

/// The catalog's shape as Docker's description has it: descriptions dropped and every fix
/// undone, the last first (a later fix may sit inside what an earlier one replaced). `Err`
/// names a fix whose place does not exist in the shape.
pub fn upstream_view(shape: &Json, fixes: &[ShapeFix]) -> Result<Json, String> {
    let mut view = without_descriptions(shape);
    for fix in fixes.iter().rev() {
        let upstream = fix.upstream.as_ref().map(without_descriptions);
        if fix.at.is_empty() {
            view = upstream.unwrap_or(Json::Null);
            continue;
        }
        let (parent, last) = fix
            .at
            .rsplit_once('/')
            .ok_or_else(|| format!("fix at `{}`: not a JSON Pointer", fix.at))?;
        let last = last.replace("~1", "/").replace("~0", "~");
        let Some(Json::Object(parent)) = view.pointer_mut(parent) else {
            return Err(format!("fix at `{}`: no object at `{parent}`", fix.at));
        };
        match upstream {
            Some(value) => {
                parent.insert(last, value);
            }
            None => {
                parent.remove(&last);
            }
        }
    }
    Ok(view)
}

/// The problems of a shape: keywords outside the subset, a `type` that is not a JSON type,
/// `required` names that are not properties. Each names the JSON Pointer where it is.
pub fn check(shape: &Json) -> Vec<String> {
    let mut problems = Vec::new();
    check_at(shape, "", &mut problems);
    problems
}

fn check_at(shape: &Json, at: &str, problems: &mut Vec<String>) {
    let Json::Object(map) = shape else {
        problems.push(format!("`{at}`: a shape is an object"));
        return;
    };
    for key in map.keys() {
        if !KEYWORDS.contains(&key.as_str()) {
            problems.push(format!("`{at}`: `{key}` is not a shape keyword"));
        }
    }
    const TYPES: &[&str] = &[
        "object", "array", "string", "integer", "number", "boolean", "null",
    ];
    let types: Vec<&Json> = match map.get("type") {
        Some(Json::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for t in types {
        if !t.as_str().is_some_and(|t| TYPES.contains(&t)) {
            problems.push(format!("`{at}/type`: {t} is not a JSON type"));
        }
    }
    let properties = map.get("properties").and_then(Json::as_object);
    for name in map
        .get("required")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let known = name
            .as_str()
            .is_some_and(|n| properties.is_some_and(|p| p.contains_key(n)));
        if !known {
            problems.push(format!("`{at}/required`: {name} is not a property"));
        }
    }
    for (name, p) in properties.into_iter().flatten() {
        let name = name.replace('~', "~0").replace('/', "~1");
        check_at(p, &format!("{at}/properties/{name}"), problems);
    }
    for key in ["items", "additionalProperties"] {
        match map.get(key) {
            None | Some(Json::Bool(_)) => {}
            Some(inner) => check_at(inner, &format!("{at}/{key}"), problems),
        }
    }
}

/// Where `value` does not fit `shape`, as `pointer: problem` lines (empty when it fits). Checks
/// types (an integer is a number too), required properties, enums and nested items; properties
/// the shape does not list are allowed unless `additionalProperties` is `false`.
pub fn mismatches(shape: &Json, value: &Json) -> Vec<String> {
    let mut out = Vec::new();
    mismatch_at(shape, value, "", false, &mut out);
    out
}

/// [`mismatches`], and also every member of an object whose shape lists properties but not
/// that one (unless `additionalProperties` allows it): for answers of our own making, such as
/// the mock's, which should say nothing the catalog does not.
pub fn mismatches_strict(shape: &Json, value: &Json) -> Vec<String> {
    let mut out = Vec::new();
    mismatch_at(shape, value, "", true, &mut out);
    out
}

fn type_fits(ty: &str, value: &Json) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}

fn mismatch_at(shape: &Json, value: &Json, at: &str, strict: bool, out: &mut Vec<String>) {
    let Json::Object(map) = shape else { return };
    let types: Vec<&str> = match map.get("type") {
        Some(Json::Array(list)) => list.iter().filter_map(Json::as_str).collect(),
        Some(Json::String(one)) => vec![one.as_str()],
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| type_fits(t, value)) {
        out.push(format!(
            "{at}: expected {}, got {value}",
            types.join(" or ")
        ));
        return;
    }
    if let Some(Json::Array(values)) = map.get("enum")
        && !value.is_null()
        && !values.contains(value)
    {
        out.push(format!(
            "{at}: {value} is not one of {}",
            Json::Array(values.clone())
        ));
    }
    match value {
        Json::Object(fields) => {
            for name in map
                .get("required")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
            {
                if !fields.contains_key(name) {
                    out.push(format!("{at}: required `{name}` is missing"));
                }
            }
            let properties = map.get("properties").and_then(Json::as_object);
            for (name, field) in fields {
                let inner = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
                match properties.and_then(|p| p.get(name)) {
                    Some(p) => mismatch_at(p, field, &inner, strict, out),
                    None => match map.get("additionalProperties") {
                        Some(extra @ Json::Object(_)) => {
                            mismatch_at(extra, field, &inner, strict, out)
                        }
                        Some(Json::Bool(false)) => {
                            out.push(format!("{inner}: not a property of this shape"))
                        }
                        None if strict && properties.is_some() => {
                            out.push(format!("{inner}: not a property of this shape"))
                        }
                        _ => {}
                    },
                }
            }
        }
        Json::Array(items) => {
            if let Some(item) = map.get("items") {
                for (i, v) in items.iter().enumerate() {
                    mismatch_at(item, v, &format!("{at}/{i}"), strict, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DOC: &str = r#"
components:
  schemas:
    page:
      type: object
      required: [count]
      properties:
        count: {type: integer, description: upstream prose}
        next: {type: string, nullable: true, example: "x"}
        results:
          type: array
          items: {$ref: '#/components/schemas/tag'}
    tag:
      allOf:
        - properties:
            name: {type: string, required: true}
        - properties:
            status: {type: string, enum: [active, inactive]}
            images:
              $ref: '#/components/schemas/image'
              type: array
    image:
      type: object
      properties:
        digest: {type: string, pattern: '^sha256:'}
"#;

    fn page() -> Json {
        let root: Yaml = serde_yaml::from_str(DOC).unwrap();
        let schema: Yaml = serde_yaml::from_str("$ref: '#/components/schemas/page'").unwrap();
        from_openapi(&root, &schema)
    }

    #[test]
    fn openapi_schemas_become_shapes() {
        let image = json!({"type": "object", "properties": {"digest": {"type": "string"}}});
        assert_eq!(
            page(),
            json!({
                "type": "object",
                "required": ["count"],
                "properties": {
                    "count": {"type": "integer"},
                    "next": {"type": ["string", "null"]},
                    "results": {"type": "array", "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "status": {"type": "string", "enum": ["active", "inactive"]},
                            // The `type: array` beside the $ref is ignored, as OpenAPI says.
                            "images": image,
                        },
                    }},
                },
            })
        );
        assert!(check(&page()).is_empty(), "{:?}", check(&page()));
    }

    #[test]
    fn fixes_are_undone_for_the_comparison() {
        let mut ours = page();
        ours["properties"]["results"]["items"]["properties"]["images"] = json!({
            "type": "array", "description": "ours", "items": {"type": "object"}
        });
        ours["properties"]["count"]["description"] = json!("How many in all.");
        let fix = ShapeFix {
            at: "/properties/results/items/properties/images".into(),
            upstream: Some(
                page()["properties"]["results"]["items"]["properties"]["images"].clone(),
            ),
            why: "a list upstream too, by its type".into(),
        };
        assert_eq!(upstream_view(&ours, &[fix]).unwrap(), page());
        assert_ne!(upstream_view(&ours, &[]).unwrap(), page());
        let nowhere = ShapeFix {
            at: "/properties/nothing/here".into(),
            upstream: None,
            why: String::new(),
        };
        assert!(upstream_view(&ours, &[nowhere]).is_err());
    }

    #[test]
    fn values_are_checked_against_shapes() {
        let shape = page();
        let good =
            json!({"count": 1, "next": null, "results": [{"name": "v1", "status": "active"}]});
        assert_eq!(mismatches(&shape, &good), Vec::<String>::new());
        let bad = json!({"next": 3, "results": [{"status": "gone"}, "text"]});
        assert_eq!(
            mismatches(&shape, &bad),
            [
                ": required `count` is missing",
                "/next: expected string or null, got 3",
                "/results/0: required `name` is missing",
                "/results/0/status: \"gone\" is not one of [\"active\",\"inactive\"]",
                "/results/1: expected object, got \"text\"",
            ]
        );
    }

    #[test]
    fn shapes_outside_the_subset_are_named() {
        let shape = json!({"type": "object", "required": ["a"], "properties": {"b": {"type": "text", "pattern": "x"}}});
        assert_eq!(
            check(&shape),
            [
                "`/required`: \"a\" is not a property",
                "`/properties/b`: `pattern` is not a shape keyword",
                "`/properties/b/type`: \"text\" is not a JSON type",
            ]
        );
    }
}
