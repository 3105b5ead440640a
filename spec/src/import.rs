//! The importer: reads an OpenAPI description of the Hub API, reduces it to the facts the catalog
//! records, and reports every difference from the catalog.
//!
//! Docker's description has known defects (listed in the project's docs). Each is tolerated
//! here in one place, named where it happens, so that a new upstream file is compared on facts
//! rather than on its mistakes:
//! - path parameters used in a template but not declared are taken from the template;
//! - security scheme names are matched without regard to case (`BearerAuth`);
//! - `$ref`s that lead nowhere are reported only if something in use needs them, and keys beside
//!   a `$ref` are ignored as OpenAPI 3.0 says;
//! - response codes written as YAML integers are read as codes;
//! - HEAD responses have no body, whatever the description declares;
//! - `required: true` on a property counts as the property being required;
//! - a type the catalog corrects, or a body the catalog marks required, is compared against the
//!   upstream value that the catalog records beside its correction.

use crate::{Auth, Body, Catalog, Field, Location, Method, Operation, Param, Response, Type};
use serde_json::Value as Json;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::fmt;

/// One operation as the upstream description states it, defects tolerated.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamOperation {
    pub method: Method,
    pub path: String,
    pub tag: Option<String>,
    pub operation_id: Option<String>,
    pub auth: Auth,
    pub deprecated: bool,
    pub params: Vec<UpstreamParam>,
    pub body: Option<UpstreamBody>,
    pub responses: Vec<Response>,
    /// The shapes of its error answers (4xx and 5xx with a JSON schema), by status.
    pub errors: Vec<(u16, Json)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamParam {
    pub name: String,
    pub location: Location,
    pub ty: Type,
    pub required: bool,
    pub enum_values: Vec<String>,
    pub default: Option<String>,
    /// Taken from the path template because the description does not declare it.
    pub undeclared: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamBody {
    pub content_type: String,
    pub required: bool,
    pub fields: Vec<UpstreamField>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamField {
    pub name: String,
    pub ty: Type,
    pub items: Option<Type>,
    pub required: bool,
    pub enum_values: Vec<String>,
    pub format: Option<String>,
}

#[derive(Debug)]
pub struct ImportError(pub String);

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImportError {}

/// Reads an OpenAPI 3.0 document (YAML or JSON text).
pub fn read_openapi(text: &str) -> Result<Vec<UpstreamOperation>, ImportError> {
    let root: Value =
        serde_yaml::from_str(text).map_err(|e| ImportError(format!("not YAML: {e}")))?;
    let paths = root
        .get("paths")
        .and_then(Value::as_mapping)
        .ok_or_else(|| ImportError("the document has no `paths`".into()))?;
    let mut ops = Vec::new();
    for (path, item) in paths {
        let path = path
            .as_str()
            .ok_or_else(|| ImportError("a path key is not a string".into()))?;
        let item = resolve(&root, item);
        let shared_params = item.get("parameters");
        for (key, op) in item.as_mapping().into_iter().flatten() {
            let Some(method) = key.as_str().and_then(Method::parse_any_case) else {
                continue;
            };
            let at = format!("{} {path}", method.as_str());
            ops.push(
                read_operation(&root, method, path, shared_params, op)
                    .map_err(|e| ImportError(format!("{at}: {}", e.0)))?,
            );
        }
    }
    ops.sort_by(|a, b| (a.path.as_str(), a.method).cmp(&(b.path.as_str(), b.method)));
    Ok(ops)
}

fn read_operation(
    root: &Value,
    method: Method,
    path: &str,
    shared_params: Option<&Value>,
    op: &Value,
) -> Result<UpstreamOperation, ImportError> {
    let mut params: Vec<UpstreamParam> = Vec::new();
    // Operation-level parameters override path-level ones with the same name and location.
    for list in [shared_params, op.get("parameters")].into_iter().flatten() {
        for p in list.as_sequence().into_iter().flatten() {
            let p = read_param(resolve(root, p), root)?;
            params.retain(|q| !(q.name == p.name && q.location == p.location));
            params.push(p);
        }
    }
    for name in crate::names::placeholders(path) {
        let declared = params
            .iter()
            .any(|p| p.location == Location::Path && p.name == name);
        if !declared {
            params.push(UpstreamParam {
                name: name.to_string(),
                location: Location::Path,
                ty: Type::String,
                required: true,
                enum_values: Vec::new(),
                default: None,
                undeclared: true,
            });
        }
    }

    let body = match op.get("requestBody") {
        Some(rb) => Some(read_body(root, resolve(root, rb))?),
        None => None,
    };

    let mut responses = Vec::new();
    let mut errors = Vec::new();
    for (code, resp) in op
        .get("responses")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
    {
        let status = match code {
            Value::Number(n) => n.as_u64().map(|n| n as u16),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let Some(status) = status else { continue };
        if status >= 400 {
            let schema = resolve(root, resp)
                .get("content")
                .and_then(Value::as_mapping)
                .and_then(|m| m.values().next())
                .and_then(|media| media.get("schema"));
            if let Some(schema) = schema {
                errors.push((status, crate::shape::from_openapi(root, schema)));
            }
            continue;
        }
        if !(200..300).contains(&status) {
            continue;
        }
        let resp = resolve(root, resp);
        let media = if method == Method::Head {
            None
        } else {
            resp.get("content")
                .and_then(Value::as_mapping)
                .and_then(|m| m.iter().next())
        };
        let content_type = media.and_then(|(ct, _)| ct.as_str()).map(str::to_string);
        let shape = media
            .and_then(|(_, m)| m.get("schema"))
            .map(|schema| crate::shape::from_openapi(root, schema));
        responses.push(Response {
            status,
            content_type,
            shape,
            shape_fixes: Vec::new(),
        });
    }
    responses.sort_by_key(|r| r.status);

    Ok(UpstreamOperation {
        method,
        path: path.to_string(),
        tag: op
            .get("tags")
            .and_then(Value::as_sequence)
            .and_then(|t| t.first())
            .and_then(Value::as_str)
            .map(str::to_string),
        operation_id: op
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string),
        auth: read_auth(op.get("security")),
        deprecated: op
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        params,
        body,
        responses,
        errors,
    })
}

fn read_auth(security: Option<&Value>) -> Auth {
    let Some(list) = security.and_then(Value::as_sequence) else {
        return Auth::None;
    };
    let mut schemes = Vec::new();
    let mut anonymous = false;
    for req in list {
        match req.as_mapping() {
            Some(m) if m.is_empty() => anonymous = true,
            Some(m) => schemes.extend(
                m.keys()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase),
            ),
            None => {}
        }
    }
    if schemes.iter().any(|s| s.contains("scim")) {
        Auth::Scim
    } else if schemes.is_empty() {
        Auth::None
    } else if anonymous {
        Auth::Optional
    } else {
        Auth::Bearer
    }
}

fn read_param(p: &Value, root: &Value) -> Result<UpstreamParam, ImportError> {
    let name = p
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ImportError("a parameter has no name".into()))?;
    let place = p.get("in").and_then(Value::as_str);
    let Some(location) = place.and_then(Location::parse) else {
        return Err(ImportError(format!("parameter `{name}` is in {place:?}")));
    };
    let schema = p
        .get("schema")
        .map(|s| resolve(root, s))
        .unwrap_or(&Value::Null);
    Ok(UpstreamParam {
        name: name.to_string(),
        location,
        ty: schema_type(root, schema).unwrap_or(Type::String),
        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
        enum_values: enum_values(schema),
        default: schema.get("default").map(scalar_text),
        undeclared: false,
    })
}

fn read_body(root: &Value, rb: &Value) -> Result<UpstreamBody, ImportError> {
    let (content_type, media) = rb
        .get("content")
        .and_then(Value::as_mapping)
        .and_then(|m| m.iter().next())
        .ok_or_else(|| ImportError("request body without content".into()))?;
    let content_type = content_type.as_str().unwrap_or_default().to_string();
    let schema = media
        .get("schema")
        .map(|s| resolve(root, s))
        .unwrap_or(&Value::Null);
    let mut fields = Vec::new();
    let mut required_names = Vec::new();
    collect_properties(root, schema, &mut fields, &mut required_names);
    for f in &mut fields {
        if required_names.contains(&f.name) {
            f.required = true;
        }
    }
    Ok(UpstreamBody {
        content_type,
        required: rb.get("required").and_then(Value::as_bool).unwrap_or(false),
        fields,
    })
}

/// Gathers the properties of an object schema, following `allOf`.
fn collect_properties(
    root: &Value,
    schema: &Value,
    fields: &mut Vec<UpstreamField>,
    required: &mut Vec<String>,
) {
    for part in schema
        .get("allOf")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        collect_properties(root, resolve(root, part), fields, required);
    }
    for r in schema
        .get("required")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        if let Some(r) = r.as_str() {
            required.push(r.to_string());
        }
    }
    for (name, prop) in schema
        .get("properties")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
    {
        let Some(name) = name.as_str() else { continue };
        // `required: true` on a property is not OpenAPI 3.0, but it is what the author meant.
        let inline_required = prop.get("required").and_then(Value::as_bool) == Some(true);
        let prop = resolve(root, prop);
        let ty = schema_type(root, prop).unwrap_or(Type::Object);
        let items = if ty == Type::Array {
            prop.get("items")
                .map(|i| schema_type(root, resolve(root, i)).unwrap_or(Type::Object))
        } else {
            None
        };
        let mut enum_values = enum_values(prop);
        if enum_values.is_empty()
            && ty == Type::Array
            && let Some(i) = prop.get("items")
        {
            enum_values = self::enum_values(resolve(root, i));
        }
        fields.retain(|f| f.name != name);
        fields.push(UpstreamField {
            name: name.to_string(),
            ty,
            items,
            required: inline_required,
            enum_values,
            format: prop
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
}

fn schema_type(root: &Value, schema: &Value) -> Option<Type> {
    match schema
        .get("type")
        .and_then(Value::as_str)
        .and_then(Type::parse)
    {
        Some(ty) => Some(ty),
        None => {
            if let Some(first) = schema
                .get("allOf")
                .and_then(Value::as_sequence)
                .and_then(|s| s.first())
            {
                return schema_type(root, resolve(root, first));
            }
            if schema.get("properties").is_some() {
                Some(Type::Object)
            } else {
                None
            }
        }
    }
}

fn enum_values(schema: &Value) -> Vec<String> {
    schema
        .get("enum")
        .and_then(Value::as_sequence)
        .map(|vals| vals.iter().map(scalar_text).collect())
        .unwrap_or_default()
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// Follows local `$ref`s; a reference that leads nowhere resolves to `null` (it is reported
/// through whatever fact it was needed for, not on its own).
pub(crate) fn resolve<'a>(root: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..32 {
        let Some(reference) = v.get("$ref").and_then(Value::as_str) else {
            return v;
        };
        let Some(pointer) = reference.strip_prefix("#/") else {
            return &Value::Null;
        };
        let mut cur = root;
        for token in pointer.split('/') {
            let token = token.replace("~1", "/").replace("~0", "~");
            match cur.get(token.as_str()) {
                Some(next) => cur = next,
                None => return &Value::Null,
            }
        }
        v = cur;
    }
    &Value::Null
}

/// What the comparison found.
#[derive(Debug, Default)]
pub struct Report {
    /// Upstream operations the catalog does not have.
    pub added: Vec<UpstreamOperation>,
    /// Catalog operations upstream no longer has: (name, method, path).
    pub removed: Vec<(String, Method, String)>,
    /// Catalog operations Docker does not publish (`published: false`), absent upstream as
    /// expected: (name, method, path). Not drift.
    pub unpublished: Vec<(String, Method, String)>,
    /// Operations present on both sides whose facts differ: (name, differences).
    pub changed: Vec<(String, Vec<String>)>,
    pub matched: usize,
    /// Error answers upstream describes in a shape none of the catalog's error shapes has:
    /// (where, shape).
    pub unknown_errors: Vec<(String, Json)>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.unknown_errors.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.matched + self.changed.len();
        writeln!(
            f,
            "{} of {} catalog operations match upstream; {} added, {} removed, {} changed; \
             {} unpublished as expected",
            self.matched,
            total + self.removed.len(),
            self.added.len(),
            self.removed.len(),
            self.changed.len(),
            self.unpublished.len()
        )?;
        for op in &self.added {
            writeln!(f, "added: {} {}", op.method.as_str(), op.path)?;
        }
        for (name, method, path) in &self.removed {
            writeln!(f, "removed: {name} ({} {path})", method.as_str())?;
        }
        for (name, diffs) in &self.changed {
            writeln!(f, "changed: {name}")?;
            for d in diffs {
                writeln!(f, "    {d}")?;
            }
        }
        for (at, shape) in &self.unknown_errors {
            writeln!(f, "error shape not in the catalog: {at}: {shape}")?;
        }
        Ok(())
    }
}

/// Compares upstream facts with the catalog.
pub fn compare(catalog: &Catalog, upstream: &[UpstreamOperation]) -> Report {
    let mut report = Report::default();
    let mut by_route: BTreeMap<(Method, &str), &Operation> = BTreeMap::new();
    for (_, op) in catalog.operations() {
        by_route.insert((op.method, op.path.as_str()), op);
    }
    for up in upstream {
        match by_route.remove(&(up.method, up.path.as_str())) {
            None => report.added.push(up.clone()),
            Some(op) if !op.published => report.changed.push((
                op.name.clone(),
                vec![
                    "the catalog marks it unpublished (`published: false`), but upstream now \
                     describes it: compare the facts and drop the mark"
                        .to_string(),
                ],
            )),
            Some(op) => {
                let diffs = differences(op, up);
                if diffs.is_empty() {
                    report.matched += 1;
                } else {
                    report.changed.push((op.name.clone(), diffs));
                }
            }
        }
    }
    report.unknown_errors = unknown_errors(catalog, upstream);
    for ((method, path), op) in by_route {
        let entry = (op.name.clone(), method, path.to_string());
        if op.published {
            report.removed.push(entry);
        } else {
            report.unpublished.push(entry);
        }
    }
    report
}

/// Each error shape upstream uses that is not, with its fixes undone, one of the catalog's.
fn unknown_errors(catalog: &Catalog, upstream: &[UpstreamOperation]) -> Vec<(String, Json)> {
    let known: Vec<Json> = catalog
        .errors
        .values()
        .filter_map(|e| crate::shape::upstream_view(&e.shape, &e.fixes).ok())
        .collect();
    let mut unknown: Vec<(String, Json)> = Vec::new();
    for up in upstream {
        for (status, shape) in &up.errors {
            if !known.contains(shape) && !unknown.iter().any(|(_, s)| s == shape) {
                let at = format!("{status} of {} {}", up.method.as_str(), up.path);
                unknown.push((at, shape.clone()));
            }
        }
    }
    unknown
}

fn differences(op: &Operation, up: &UpstreamOperation) -> Vec<String> {
    let mut d = Vec::new();
    if op.operation_id != up.operation_id {
        d.push(format!(
            "operationId: catalog {:?}, upstream {:?}",
            op.operation_id, up.operation_id
        ));
    }
    if op.auth != up.auth {
        d.push(format!(
            "auth: catalog {:?}, upstream {:?}",
            op.auth, up.auth
        ));
    }
    if op.deprecated != up.deprecated {
        d.push(format!(
            "deprecated: catalog {}, upstream {}",
            op.deprecated, up.deprecated
        ));
    }
    for p in &op.params {
        match up
            .params
            .iter()
            .find(|u| u.name == p.name && u.location == p.location)
        {
            None => d.push(format!(
                "parameter `{}` ({:?}): not upstream",
                p.name, p.location
            )),
            Some(u) => {
                let ty = p.upstream_type.unwrap_or(p.ty);
                if ty != u.ty {
                    d.push(format!(
                        "parameter `{}`: type catalog {:?}, upstream {:?}",
                        p.name, ty, u.ty
                    ));
                }
                if p.required != u.required {
                    d.push(format!(
                        "parameter `{}`: required catalog {}, upstream {}",
                        p.name, p.required, u.required
                    ));
                }
                if p.enum_values != u.enum_values {
                    d.push(format!(
                        "parameter `{}`: enum catalog {:?}, upstream {:?}",
                        p.name, p.enum_values, u.enum_values
                    ));
                }
                if p.default != u.default {
                    d.push(format!(
                        "parameter `{}`: default catalog {:?}, upstream {:?}",
                        p.name, p.default, u.default
                    ));
                }
                if p.upstream_undeclared != u.undeclared {
                    d.push(format!(
                        "parameter `{}`: declared upstream is now {}",
                        p.name, !u.undeclared
                    ));
                }
            }
        }
    }
    for u in &up.params {
        if !op
            .params
            .iter()
            .any(|p| p.name == u.name && p.location == u.location)
        {
            d.push(format!(
                "parameter `{}` ({:?}): new upstream",
                u.name, u.location
            ));
        }
    }
    match (&op.body, &up.body) {
        (None, None) => {}
        (Some(_), None) => d.push("request body: upstream has none".into()),
        (None, Some(_)) => d.push("request body: new upstream".into()),
        (Some(b), Some(u)) => body_differences(b, u, &mut d),
    }
    let statuses = |rs: &[Response]| -> Vec<(u16, Option<String>)> {
        rs.iter()
            .map(|r| (r.status, r.content_type.clone()))
            .collect()
    };
    if statuses(&op.responses) != statuses(&up.responses) {
        d.push(format!(
            "success responses: catalog {:?}, upstream {:?}",
            statuses(&op.responses),
            statuses(&up.responses)
        ));
    }
    for (ours, theirs) in op.responses.iter().zip(&up.responses) {
        shape_differences(ours, theirs, &mut d);
    }
    d
}

/// Compares a response's shape, with the catalog's fixes undone, against upstream's.
fn shape_differences(ours: &Response, theirs: &Response, d: &mut Vec<String>) {
    let status = ours.status;
    let ours = match &ours.shape {
        None => None,
        Some(shape) => match crate::shape::upstream_view(shape, &ours.shape_fixes) {
            Ok(Json::Null) => None,
            Ok(view) => Some(view),
            Err(e) => {
                d.push(format!("response {status} shape: {e}"));
                return;
            }
        },
    };
    match (ours, &theirs.shape) {
        (None, None) => {}
        (None, Some(_)) => d.push(format!(
            "response {status} shape: upstream describes one, the catalog has none"
        )),
        (Some(_), None) => d.push(format!(
            "response {status} shape: upstream describes none (record it as a fix at \"\")"
        )),
        (Some(ours), Some(theirs)) => {
            let mut places = Vec::new();
            differing_places(&ours, theirs, "", &mut places);
            for place in places.iter().take(8) {
                d.push(format!("response {status} shape: {place}"));
            }
            if places.len() > 8 {
                d.push(format!(
                    "response {status} shape: and {} more places",
                    places.len() - 8
                ));
            }
        }
    }
}

/// The JSON Pointers where two shapes differ, each with both sides.
fn differing_places(ours: &Json, theirs: &Json, at: &str, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Json::Object(a), Json::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let inner = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => differing_places(x, y, &inner, out),
                    (x, y) => out.push(format!(
                        "`{inner}`: catalog {}, upstream {}",
                        x.map_or("nothing".into(), |v| v.to_string()),
                        y.map_or("nothing".into(), |v| v.to_string())
                    )),
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("`{at}`: catalog {a}, upstream {b}")),
    }
}

fn body_differences(b: &Body, u: &UpstreamBody, d: &mut Vec<String>) {
    if b.content_type != u.content_type {
        d.push(format!(
            "body content type: catalog {}, upstream {}",
            b.content_type, u.content_type
        ));
    }
    let upstream_view = b.required && !b.upstream_optional;
    if upstream_view != u.required {
        d.push(format!(
            "body required: catalog {}, upstream {}",
            upstream_view, u.required
        ));
    }
    for f in &b.fields {
        match u.fields.iter().find(|x| x.name == f.name) {
            None => d.push(format!("body field `{}`: not upstream", f.name)),
            Some(x) => {
                if (f.ty, f.items) != (x.ty, x.items) {
                    d.push(format!(
                        "body field `{}`: type catalog {:?}/{:?}, upstream {:?}/{:?}",
                        f.name, f.ty, f.items, x.ty, x.items
                    ));
                }
                if f.required != x.required {
                    d.push(format!(
                        "body field `{}`: required catalog {}, upstream {}",
                        f.name, f.required, x.required
                    ));
                }
                if f.enum_values != x.enum_values {
                    d.push(format!(
                        "body field `{}`: enum catalog {:?}, upstream {:?}",
                        f.name, f.enum_values, x.enum_values
                    ));
                }
                if f.format != x.format {
                    d.push(format!(
                        "body field `{}`: format catalog {:?}, upstream {:?}",
                        f.name, f.format, x.format
                    ));
                }
            }
        }
    }
    for x in &u.fields {
        if !b.fields.iter().any(|f| f.name == x.name) {
            d.push(format!("body field `{}`: new upstream", x.name));
        }
    }
}

/// A catalog entry holding the upstream facts, with placeholders where the catalog needs our own
/// words and judgement. Used to start an entry for an operation upstream added.
pub fn skeleton(up: &UpstreamOperation) -> Operation {
    const TODO: &str = "TODO: describe in our own words";
    let read = matches!(up.method, Method::Get | Method::Head);
    Operation {
        name: crate::names::snake_case(&format!(
            "{}_{}",
            up.method.as_str().to_ascii_lowercase(),
            up.path
                .trim_start_matches("/v2/")
                .replace(['/', '{', '}', '.'], "_")
        ))
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_"),
        method: up.method,
        path: up.path.clone(),
        operation_id: up.operation_id.clone(),
        seed_names: Vec::new(),
        access: if read {
            crate::Access::Read
        } else {
            crate::Access::Write
        },
        destructive: up.method == Method::Delete,
        idempotent: !matches!(up.method, Method::Post | Method::Patch),
        auth: up.auth,
        deprecated: up.deprecated,
        pagination: crate::Pagination::None,
        table: None,
        summary: TODO.into(),
        params: up
            .params
            .iter()
            .map(|p| Param {
                name: p.name.clone(),
                location: p.location,
                ty: p.ty,
                required: p.required,
                enum_values: p.enum_values.clone(),
                default: p.default.clone(),
                minimum: None,
                maximum: None,
                upstream_type: None,
                upstream_undeclared: p.undeclared,
                description: TODO.into(),
            })
            .collect(),
        body: up.body.as_ref().map(|b| Body {
            content_type: b.content_type.clone(),
            required: b.required,
            upstream_optional: false,
            fields: b
                .fields
                .iter()
                .map(|f| Field {
                    name: f.name.clone(),
                    ty: f.ty,
                    items: f.items,
                    required: f.required,
                    enum_values: f.enum_values.clone(),
                    format: f.format.clone(),
                    max_length: None,
                    description: TODO.into(),
                })
                .collect(),
        }),
        responses: up.responses.clone(),
        fixes: Vec::new(),
        published: true,
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"
openapi: 3.0.3
paths:
  /v2/orgs/{name}/things:
    get:
      operationId: ListThings
      security:
        - BearerAuth: []
      parameters:
        - in: query
          name: search
          schema: {type: integer}
      responses:
        200:
          description: ok
          content:
            application/json: {}
    head:
      security:
        - bearerAuth: []
        - {}
      responses:
        "200":
          description: ok
          content:
            application/json: {}
    post:
      security: []
      requestBody:
        content:
          application/json:
            schema:
              properties:
                label: {type: string, required: true}
                scopes: {type: array, items: {type: string, enum: [a, b]}}
                nested: {$ref: '#/components/schemas/missing'}
      responses:
        "201": {description: made}
components:
  schemas:
    broken:
      allOf:
        - $ref: '#/components/responses/nowhere'
"#;

    #[test]
    fn known_defects_are_tolerated() {
        let ops = read_openapi(MINI).unwrap();
        assert_eq!(ops.len(), 3);
        let get = ops.iter().find(|o| o.method == Method::Get).unwrap();
        // Undeclared path parameter taken from the template.
        let name = get.params.iter().find(|p| p.name == "name").unwrap();
        assert!(name.undeclared && name.required);
        // Scheme names compared without case; integer response codes read.
        assert_eq!(get.auth, Auth::Bearer);
        assert_eq!(get.responses[0].status, 200);
        let head = ops.iter().find(|o| o.method == Method::Head).unwrap();
        assert_eq!(head.auth, Auth::Optional);
        assert_eq!(
            head.responses[0].content_type, None,
            "HEAD responses have no body"
        );
        let post = ops.iter().find(|o| o.method == Method::Post).unwrap();
        assert_eq!(post.auth, Auth::None);
        let body = post.body.as_ref().unwrap();
        assert!(!body.required);
        let label = body.fields.iter().find(|f| f.name == "label").unwrap();
        assert!(label.required, "required: true on a property counts");
        let scopes = body.fields.iter().find(|f| f.name == "scopes").unwrap();
        assert_eq!((scopes.ty, scopes.items), (Type::Array, Some(Type::String)));
        assert_eq!(scopes.enum_values, vec!["a", "b"]);
        let nested = body.fields.iter().find(|f| f.name == "nested").unwrap();
        assert_eq!(
            nested.ty,
            Type::Object,
            "a dangling $ref does not stop the import"
        );
    }

    #[test]
    fn a_document_without_paths_is_an_error() {
        assert!(read_openapi("openapi: 3.0.3\n").is_err());
        assert!(read_openapi(": not yaml :").is_err());
    }
}
