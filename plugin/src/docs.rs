//! Markdown reference for agents and people: the whole API, one area, or one operation.

use crate::prelude::*;

use crate::catalog::{self, AREAS, Access, Auth, OPERATIONS, Operation, Pagination};
use crate::error::HubError;
use core::fmt::Write;
use serde_json::Value;

/// The reference for `topic` (an operation's name or alias, or an area), or for everything.
pub fn docs(topic: Option<&str>) -> Result<String, HubError> {
    let topic = topic.map(str::trim).filter(|t| !t.is_empty());
    // `docker.list_repository_tags` is how the seed integration's docs.read names a topic.
    let topic = topic.map(|t| t.strip_prefix("docker.").unwrap_or(t));
    match topic {
        None | Some("docker") => Ok(overview()),
        Some(t) => {
            if let Some(op) = catalog::find(t) {
                return Ok(operation(op));
            }
            if let Some(area) = AREAS
                .iter()
                .find(|a| a.name == t || a.name.replace('-', "_") == t)
            {
                return Ok(area_docs(area.name, area.summary));
            }
            let hints = catalog::suggestions(t);
            Err(HubError::UnknownOperation(if hints.is_empty() {
                format!("no operation or area is called `{t}`")
            } else {
                format!(
                    "no operation or area is called `{t}`; did you mean {}?",
                    hints.join(", ")
                )
            }))
        }
    }
}

fn overview() -> String {
    let mut out = String::new();
    out.push_str("# Docker Hub API (dockhand)\n\n");
    writeln!(
        out,
        "{} operations in {} areas. Call any of them by its name or one of its aliases.\n",
        OPERATIONS.len(),
        AREAS.len()
    )
    .unwrap();
    out.push_str(
        "## Arguments\n\n\
         Arguments are one JSON object. Path, query and header parameters use Docker's names; \
         camelCase names also accept snake_case (`startIndex` or `start_index`). The request \
         body goes in `body`, or, when `body` is absent, every argument that is not a parameter \
         becomes a body field. Missing, unknown or mistyped arguments are refused before any \
         request is sent. Numbers and booleans may be given as strings.\n\n\
         ## Results\n\n\
         JSON responses come back as parsed JSON; paginated listings have `count`, `next`, \
         `previous` and `results` (SCIM: `totalResults`, `startIndex`, `itemsPerPage`, \
         `Resources`). With the `all-pages` option every page is fetched and merged. Other \
         content types come back as `{\"body\": \"...\", \"content_type\": \"...\"}`; HEAD checks \
         as `{\"exists\": true|false}`; empty (204) responses as `null`.\n\n\
         ## Names\n\n\
         Names from an earlier integration keep working. One of them, `create_access_token`, \
         named two operations there; here it means `create_org_access_token` (as it resolved \
         there, beside `list_access_tokens`, `get_access_token` and the other organization token \
         calls). The token exchange is `create_auth_token` (also `AuthCreateAccessToken`).\n\n",
    );
    for area in AREAS {
        writeln!(out, "## {}\n\n{}\n", area.name, area.summary).unwrap();
        op_table(&mut out, area.name);
    }
    out
}

fn area_docs(name: &str, summary: &str) -> String {
    let mut out = format!("# {name}\n\n{summary}\n\n");
    op_table(&mut out, name);
    out
}

fn op_table(out: &mut String, area: &str) {
    out.push_str("| operation | request | access | summary |\n|---|---|---|---|\n");
    for op in OPERATIONS.iter().filter(|o| o.area == area) {
        writeln!(
            out,
            "| `{}` | `{} {}` | {} | {} |",
            op.name,
            op.method.as_str(),
            op.path,
            access_label(op),
            cell(op.summary)
        )
        .unwrap();
    }
    out.push('\n');
}

fn access_label(op: &Operation) -> String {
    let mut label = op.access.as_str().to_string();
    if op.destructive {
        label.push_str(", destructive");
    }
    if op.deprecated {
        label.push_str(", deprecated");
    }
    if op.source.is_some() {
        label.push_str(", extended");
    }
    label
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn operation(op: &Operation) -> String {
    let mut out = String::new();
    writeln!(out, "# {}\n\n{}\n", op.name, op.summary).unwrap();
    writeln!(out, "- Request: `{} {}`", op.method.as_str(), op.path).unwrap();
    writeln!(out, "- Area: {}", op.area).unwrap();
    writeln!(
        out,
        "- Access: {}{}",
        access_label(op),
        if op.idempotent { ", idempotent" } else { "" }
    )
    .unwrap();
    let auth = match op.auth {
        Auth::Bearer => "Hub bearer token",
        Auth::Optional => "Hub bearer token when available; public data works anonymously",
        Auth::Scim => "the organization's SCIM token",
        Auth::None => "none (this call is how a token is obtained)",
    };
    writeln!(out, "- Authentication: {auth}").unwrap();
    match op.pagination {
        Pagination::Page => {
            out.push_str("- Paginated: `page`/`page_size`; `all-pages` merges every page\n")
        }
        Pagination::Scim => {
            out.push_str("- Paginated: `startIndex`/`count`; `all-pages` merges every page\n")
        }
        Pagination::None => {}
    }
    if !op.aliases.is_empty() {
        let aliases: Vec<String> = op.aliases.iter().map(|a| format!("`{a}`")).collect();
        writeln!(out, "- Also known as: {}", aliases.join(", ")).unwrap();
    }
    if op.access == Access::Write && op.destructive {
        out.push_str("- Destructive: confirm with the user before calling.\n");
    }
    if let Some(source) = op.source {
        writeln!(
            out,
            "- Extended: not in Docker's published OpenAPI description; the Hub serves it and \
             Docker's own tools use it ({source})."
        )
        .unwrap();
    }
    out.push('\n');

    if op.params.is_empty() {
        out.push_str("## Parameters\n\nNone.\n\n");
    } else {
        out.push_str("## Parameters\n\n| name | in | type | required | description |\n|---|---|---|---|---|\n");
        for p in op.params {
            let mut desc = cell(p.description);
            if !p.enum_values.is_empty() {
                let values: Vec<String> = p.enum_values.iter().map(|v| format!("`{v}`")).collect();
                write!(desc, " One of {}.", values.join(", ")).unwrap();
            }
            if let Some(d) = p.default {
                write!(desc, " Default `{d}`.").unwrap();
            }
            if !p.aliases.is_empty() {
                write!(desc, " Alias: `{}`.", p.aliases.join("`, `")).unwrap();
            }
            writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                p.name,
                p.location.as_str(),
                p.ty.as_str(),
                if p.required { "yes" } else { "no" },
                desc
            )
            .unwrap();
        }
        out.push('\n');
    }

    if let Some(body) = &op.body {
        writeln!(
            out,
            "## Body ({}{})\n\nGive these as `body`, or as arguments beside the parameters.\n\n| field | type | required | description |\n|---|---|---|---|",
            body.content_type,
            if body.required { ", required" } else { "" }
        )
        .unwrap();
        for f in body.fields {
            let ty = match f.items {
                Some(items) => format!("array of {}", items.as_str()),
                None => f.ty.as_str().to_string(),
            };
            let mut desc = cell(f.description);
            if !f.enum_values.is_empty() {
                let values: Vec<String> = f.enum_values.iter().map(|v| format!("`{v}`")).collect();
                write!(desc, " One of {}.", values.join(", ")).unwrap();
            }
            if let Some(max) = f.max_length {
                write!(desc, " At most {max} characters.").unwrap();
            }
            if let Some(format) = f.format {
                write!(desc, " Format: {format}.").unwrap();
            }
            if op.params.iter().any(|p| p.name == f.name) {
                desc.push_str(" Filled from the path parameter of the same name.");
            }
            if !f.aliases.is_empty() {
                write!(desc, " Alias: `{}`.", f.aliases.join("`, `")).unwrap();
            }
            writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                f.name,
                ty,
                if f.required { "yes" } else { "no" },
                desc
            )
            .unwrap();
        }
        out.push('\n');
    }

    returns(&mut out, op);

    out.push_str("## Example\n\n```json\n");
    let mut example = serde_json::Map::new();
    for p in op.params.iter().filter(|p| p.required) {
        example.insert(p.name.to_string(), example_value(p.ty));
    }
    if let Some(body) = &op.body {
        for f in body.fields.iter().filter(|f| f.required) {
            if !example.contains_key(f.name) {
                example.insert(f.name.to_string(), example_value(f.ty));
            }
        }
    }
    writeln!(out, "{}\n```", serde_json::Value::Object(example)).unwrap();
    out
}

/// The "Returns" section: the form of the result, then its fields from the operation's result
/// schema, and the fields of the objects inside it (the items of a page, nested lists).
fn returns(out: &mut String, op: &Operation) {
    out.push_str("## Returns\n\n");
    let form = match (op.method, op.response_content_type()) {
        (crate::catalog::Method::Head, _) => {
            "`{\"exists\": true}` or `{\"exists\": false}`.".to_string()
        }
        (_, None) => "`null` (no content).".to_string(),
        (_, Some(ct)) if crate::response::is_json(ct) => format!("The Hub's JSON ({ct})."),
        (_, Some(ct)) => format!("`{{\"body\": \"...\", \"content_type\": \"{ct}\"}}`."),
    };
    writeln!(out, "{form}").unwrap();
    // The table is generated from the catalog; a schema that does not parse is a generator bug
    // that the tests catch, and the docs still say what form the result has.
    let Ok(schema) = serde_json::from_str::<Value>(op.result_schema(&catalog::result_schemas()))
    else {
        out.push('\n');
        return;
    };
    if let Some(d) = schema.get("description").and_then(Value::as_str) {
        writeln!(out, "{}", d.trim()).unwrap();
    }
    out.push('\n');
    let page_items = match op.pagination {
        Pagination::None => None,
        _ => page_items_key(&schema),
    };
    if let Some(item) = object_items(&schema) {
        // A list at the root: the fields of its items.
        out.push_str("A list; each item has:\n\n");
        fields(out, item, "[]", page_items, 0);
    } else if properties(&schema).is_some() {
        fields(out, &schema, "", page_items, 0);
    }
}

/// Below this depth nested objects are named, not spelled out.
const MAX_DOC_DEPTH: usize = 4;

/// The property of a page that holds its items: `results` (SCIM: `Resources`), else a page's
/// only list of objects (the audit log's `logs`).
fn page_items_key(page: &Value) -> Option<&str> {
    let props = properties(page)?;
    for key in ["results", "Resources", "resources"] {
        if props.contains_key(key) {
            return Some(key);
        }
    }
    let mut lists = props
        .iter()
        .filter(|(_, p)| object_items(p).is_some())
        .map(|(k, _)| k.as_str());
    match (lists.next(), lists.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

fn properties(schema: &Value) -> Option<&serde_json::Map<String, Value>> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty())
}

/// The item schema of a list of objects that lists their properties.
fn object_items(schema: &Value) -> Option<&Value> {
    let items = schema.get("items")?;
    properties(items).map(|_| items)
}

/// One table of an object's fields, then a table for each object with fields inside it. `path`
/// is where the object sits (`results[].images[]`); `page_items` names the page's item list.
fn fields(out: &mut String, schema: &Value, path: &str, page_items: Option<&str>, depth: usize) {
    let Some(props) = properties(schema) else {
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("| field | type | required | nullable | description |\n|---|---|---|---|---|\n");
    for (name, p) in props {
        let (ty, nullable) = type_label(p);
        let mut desc = cell(p.get("description").and_then(Value::as_str).unwrap_or(""));
        if let Some(Value::Array(values)) = p.get("enum") {
            let values: Vec<String> = values
                .iter()
                .map(|v| match v {
                    Value::String(text) => format!("`{text}`"),
                    other => format!("`{other}`"),
                })
                .collect();
            if !desc.is_empty() {
                desc.push(' ');
            }
            write!(desc, "One of {}.", values.join(", ")).unwrap();
        }
        writeln!(
            out,
            "| `{name}` | {ty} | {} | {} | {desc} |",
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                "no"
            },
            if nullable { "yes" } else { "no" },
        )
        .unwrap();
    }
    out.push('\n');
    for (name, p) in props {
        let (inner, at, heading) = if let Some(item) = object_items(p) {
            let at = format!("{path}{}{name}[]", if path.is_empty() { "" } else { "." });
            let heading = if depth == 0 && page_items == Some(name.as_str()) {
                format!("Each result (an item of `{name}`) has:")
            } else {
                format!("Each item of `{}` has:", &at[..at.len() - 2])
            };
            (item, at, heading)
        } else if properties(p).is_some() {
            let at = format!("{path}{}{name}", if path.is_empty() { "" } else { "." });
            let heading = format!("`{at}` has:");
            (p, at, heading)
        } else {
            continue;
        };
        if depth + 1 >= MAX_DOC_DEPTH {
            continue;
        }
        writeln!(out, "{heading}\n").unwrap();
        fields(out, inner, &at, page_items, depth + 1);
    }
}

/// `string (date-time)`, `array of object`, `integer or string`, and whether `null` is allowed.
fn type_label(schema: &Value) -> (String, bool) {
    let names: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let nullable = names.contains(&"null");
    let names: Vec<&str> = names.into_iter().filter(|t| *t != "null").collect();
    let mut label = match names.as_slice() {
        [] if nullable => "null".to_string(),
        [] => "any".to_string(),
        names => names.join(" or "),
    };
    if names == ["array"]
        && let Some(items) = schema.get("items")
    {
        let (inner, _) = type_label(items);
        write!(label, " of {inner}").unwrap();
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        write!(label, " ({format})").unwrap();
    }
    (label, nullable)
}

fn example_value(ty: crate::catalog::Type) -> serde_json::Value {
    use crate::catalog::Type;
    match ty {
        Type::String => "...".into(),
        Type::Integer | Type::Number => 1.into(),
        Type::Boolean => true.into(),
        Type::Array => serde_json::json!(["..."]),
        Type::Object => serde_json::json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overview_lists_every_operation_and_the_name_resolution() {
        let md = docs(None).unwrap();
        for op in OPERATIONS {
            assert!(md.contains(&format!("`{}`", op.name)), "{}", op.name);
        }
        assert!(md.contains("create_access_token"));
        assert_eq!(docs(Some("docker")).unwrap(), md);
    }

    #[test]
    fn operation_page_lists_every_parameter_with_type_required_and_aliases() {
        let md = docs(Some("docker.scim_list_users")).unwrap();
        assert!(md.starts_with("# scim_list_users"));
        assert!(md.contains("| `startIndex` | query | integer | no |"));
        assert!(md.contains("Alias: `start_index`"));
        let md = docs(Some("docker_create_repository")).unwrap();
        assert!(md.contains("| `name` | string | yes |"));
        assert!(md.contains("Filled from the path parameter"));
    }

    #[test]
    fn operation_pages_list_the_fields_of_the_result_and_of_each_item() {
        let md = docs(Some("list_repository_tags")).unwrap();
        let returns = &md[md.find("## Returns").unwrap()..md.find("## Example").unwrap()];
        assert!(returns.contains("| `count` | integer |"), "{returns}");
        assert!(
            returns.contains("| `next` | string | no | yes |"),
            "{returns}"
        );
        let tag = &returns[returns
            .find("Each result (an item of `results`) has:")
            .unwrap()..];
        for field in ["name", "digest", "last_updated", "images", "status"] {
            assert!(tag.contains(&format!("| `{field}` |")), "{field}: {tag}");
        }
        assert!(tag.contains("| `images` | array of object |"), "{tag}");
        assert!(tag.contains("One of `active`, `inactive`."), "{tag}");
        let image = &tag[tag.find("Each item of `results[].images` has:").unwrap()..];
        assert!(image.contains("| `digest` |"), "{image}");
        assert!(image.contains("Each item of `results[].images[].layers` has:"));

        let md = docs(Some("check_repository")).unwrap();
        assert!(md.contains("| `exists` | boolean | yes | no |"), "{md}");
        let md = docs(Some("delete_personal_access_token")).unwrap();
        assert!(md.contains("`null` (no content)."), "{md}");
        let md = docs(Some("export_org_members")).unwrap();
        assert!(md.contains("| `body` | string | yes | no |"), "{md}");
    }

    #[test]
    fn every_result_schema_parses_and_every_operation_page_has_its_returns() {
        let schemas = catalog::result_schemas();
        for op in OPERATIONS {
            let schema: Value = serde_json::from_str(op.result_schema(&schemas)).expect(op.name);
            assert!(schema.is_object(), "{}", op.name);
            let md = docs(Some(op.name)).unwrap();
            assert!(md.contains("## Returns"), "{}", op.name);
        }
    }

    #[test]
    fn area_topics_and_unknown_topics() {
        assert!(
            docs(Some("org-access-tokens"))
                .unwrap()
                .contains("create_org_access_token")
        );
        assert!(matches!(
            docs(Some("nothing_like_this")),
            Err(HubError::UnknownOperation(_))
        ));
    }
}
