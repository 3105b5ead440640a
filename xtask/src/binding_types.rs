//! The bindings' result types, from the catalog's result shapes
//! ([`dockhand_spec::shape::result_shape`]): TypeScript declarations for the Node binding
//! ([`TYPESCRIPT_PATH`]) and a Python module of `TypedDict`s and typed call signatures
//! ([`PYTHON_PATH`]).
//!
//! Both are written from one lowering of every shape into [`Ty`], in which each object with
//! properties is a named type: the result `ListRepositoryTagsResult`, a tag in its `results`
//! `ListRepositoryTagsResultResultsItem`. The two bindings therefore name the same things alike.

use crate::GENERATED_HEADER;
use dockhand_spec::shape::result_shape;
use dockhand_spec::{Catalog, Operation};
use dockhand_vocab::names;
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;
use std::fmt::Write;

/// The Node binding's result types (re-exported by `index.d.ts`).
pub const TYPESCRIPT_PATH: &str = "bindings/node/src/results.d.ts";
/// The Python binding's result types (`dockhand.results`).
pub const PYTHON_PATH: &str = "bindings/python/dockhand/results.py";

/// A value's type, as both languages can say it.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    /// No `type` in the shape: anything.
    Unknown,
    String,
    Integer,
    Number,
    Boolean,
    Null,
    /// An `enum`: one of these values (never `null`; a nullable enum is a union with `Null`).
    Literal(Vec<Json>),
    Array(Box<Ty>),
    /// An object of any keys whose values all have one type (`additionalProperties`).
    Map(Box<Ty>),
    /// An object with properties, rendered as a type of its own.
    Named(String),
    /// Two or more of the above, none of them a union.
    Union(Vec<Ty>),
}

struct Field {
    name: String,
    ty: Ty,
    required: bool,
    doc: String,
}

/// An object with properties.
struct Object {
    name: String,
    doc: String,
    fields: Vec<Field>,
    /// The type of the keys beyond `fields`, when the shape names one (`additionalProperties`).
    extra: Option<Ty>,
    /// Where the object's name was given, walking the shape depth first: the order in which a
    /// reader meets the types (TypeScript). `objects` itself is in the order the types can be
    /// defined in, each after the ones it uses (Python).
    preorder: usize,
}

/// One operation's result.
struct OpResult<'a> {
    op: &'a Operation,
    /// The WIT function name (`login2fa-token`): jco and the Python binding name functions after it.
    wit: String,
    /// `ListRepositoryTagsResult`.
    name: String,
    /// The result: `Named(name)` when it is an object with properties, else what `name` aliases.
    ty: Ty,
    /// The named objects of this result, each after the objects it uses.
    objects: Vec<Object>,
}

struct AreaResults<'a> {
    area: &'a str,
    results: Vec<OpResult<'a>>,
}

fn lower_catalog(catalog: &Catalog) -> Vec<AreaResults<'_>> {
    let mut taken = BTreeSet::new();
    catalog
        .areas
        .iter()
        .map(|area| AreaResults {
            area: &area.area,
            results: area
                .operations
                .iter()
                .map(|op| lower_operation(op, &mut taken))
                .collect(),
        })
        .collect()
}

fn lower_operation<'a>(op: &'a Operation, taken: &mut BTreeSet<String>) -> OpResult<'a> {
    let wit = names::wit_ident(&op.name);
    let name = unique(taken, &format!("{}Result", names::rust_type(&wit)));
    // An operation without a shape (the catalog's test says there is none) returns anything.
    let shape = result_shape(op).unwrap_or_else(|| Json::Object(Map::new()));
    let mut lowering = Lowering {
        taken,
        objects: Vec::new(),
        next: 0,
    };
    let ty = lowering.lower(&shape, &name, true);
    let mut objects = lowering.objects;
    let what = what_it_returns(op);
    if let Some(top) = objects.iter_mut().find(|o| o.name == name) {
        top.doc = join_paragraphs(&what, &top.doc);
    }
    OpResult {
        op,
        wit,
        name,
        ty,
        objects,
    }
}

/// The first sentence of a result type's comment.
fn what_it_returns(op: &Operation) -> String {
    format!(
        "What `{}` returns (`{} {}`).",
        op.name,
        op.method.as_str(),
        op.path
    )
}

impl OpResult<'_> {
    /// What the result type's comment says when the result is not an object with properties.
    fn alias_doc(&self) -> String {
        let shape = result_shape(self.op).unwrap_or(Json::Null);
        join_paragraphs(
            &what_it_returns(self.op),
            &description(&shape).unwrap_or_default(),
        )
    }

    fn is_object(&self) -> bool {
        self.ty == Ty::Named(self.name.clone())
    }
}

fn join_paragraphs(a: &str, b: &str) -> String {
    match (a.trim().is_empty(), b.trim().is_empty()) {
        (_, true) => a.trim().to_string(),
        (true, false) => b.trim().to_string(),
        (false, false) => format!("{}\n\n{}", a.trim(), b.trim()),
    }
}

/// `hint`, or `hint2`, `hint3`, ... when a type of that name exists already.
fn unique(taken: &mut BTreeSet<String>, hint: &str) -> String {
    let mut name = hint.to_string();
    let mut n = 1;
    while taken.contains(&name) {
        n += 1;
        name = format!("{hint}{n}");
    }
    taken.insert(name.clone());
    name
}

fn description(shape: &Json) -> Option<String> {
    shape
        .get("description")
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string)
}

/// A property's comment: its description, and its format unless the description names it.
fn field_doc(shape: &Json) -> String {
    let mut doc = description(shape).unwrap_or_default();
    if let Some(format) = shape.get("format").and_then(Json::as_str)
        && !doc.contains(format)
    {
        doc = join_paragraphs(&doc, &format!("Format: `{format}`."));
    }
    doc
}

/// `is_private` -> `IsPrivate`, `userName` -> `UserName`: a part of a type name.
fn pascal(name: &str) -> String {
    let mut out = String::new();
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Field");
    }
    out
}

/// `access-tokens` -> `accessTokens`: the name jco gives a WIT interface or function.
fn camel(kebab: &str) -> String {
    let mut out = String::new();
    for (i, word) in kebab.split('-').enumerate() {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if i == 0 {
                out.push(first);
            } else {
                out.push(first.to_ascii_uppercase());
            }
            out.push_str(chars.as_str());
        }
    }
    out
}

struct Lowering<'t> {
    taken: &'t mut BTreeSet<String>,
    objects: Vec<Object>,
    next: usize,
}

impl Lowering<'_> {
    /// The type of `shape`; an object with properties becomes a named type, called `hint` when
    /// `exact` (the name is already reserved) or else `hint` made unique.
    fn lower(&mut self, shape: &Json, hint: &str, exact: bool) -> Ty {
        let Json::Object(map) = shape else {
            return Ty::Unknown;
        };
        let mut types: Vec<&str> = match map.get("type") {
            Some(Json::String(t)) => vec![t.as_str()],
            Some(Json::Array(list)) => list.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        if types.is_empty() {
            if map.contains_key("properties") || map.contains_key("additionalProperties") {
                types.push("object");
            } else if map.contains_key("items") {
                types.push("array");
            }
        }
        let values = map.get("enum").and_then(Json::as_array);
        let literal = values.map(|v| {
            let v: Vec<Json> = v.iter().filter(|v| !v.is_null()).cloned().collect();
            Ty::Literal(v)
        });
        let mut nullable = values.is_some_and(|v| v.iter().any(Json::is_null));
        let mut parts: Vec<Ty> = Vec::new();
        for t in &types {
            let ty = match *t {
                "null" => {
                    nullable = true;
                    continue;
                }
                "object" => self.object(map, hint, exact),
                "array" => Ty::Array(Box::new(match map.get("items") {
                    Some(items) => self.lower(items, &format!("{hint}Item"), false),
                    None => Ty::Unknown,
                })),
                _ if literal.is_some() => literal.clone().unwrap_or(Ty::Unknown),
                "string" => Ty::String,
                "integer" => Ty::Integer,
                "number" => Ty::Number,
                "boolean" => Ty::Boolean,
                _ => Ty::Unknown,
            };
            if !parts.contains(&ty) {
                parts.push(ty);
            }
        }
        if types.is_empty()
            && let Some(literal) = literal
        {
            parts.push(literal);
        }
        if parts.is_empty() {
            return if nullable { Ty::Null } else { Ty::Unknown };
        }
        if nullable {
            parts.push(Ty::Null);
        }
        if parts.len() == 1 {
            parts.pop().unwrap_or(Ty::Unknown)
        } else {
            Ty::Union(parts)
        }
    }

    fn object(&mut self, map: &Map<String, Json>, hint: &str, exact: bool) -> Ty {
        let extra_shape = map
            .get("additionalProperties")
            .filter(|extra| extra.is_object());
        let properties = map
            .get("properties")
            .and_then(Json::as_object)
            .filter(|p| !p.is_empty());
        let Some(properties) = properties else {
            let value = match extra_shape {
                Some(extra) => self.lower(extra, &format!("{hint}Value"), false),
                None => Ty::Unknown,
            };
            return Ty::Map(Box::new(value));
        };
        let name = if exact {
            hint.to_string()
        } else {
            unique(self.taken, hint)
        };
        let preorder = self.next;
        self.next += 1;
        let required: Vec<&str> = map
            .get("required")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        let fields = properties
            .iter()
            .map(|(field, shape)| Field {
                name: field.clone(),
                ty: self.lower(shape, &format!("{name}{}", pascal(field)), false),
                required: required.contains(&field.as_str()),
                doc: field_doc(shape),
            })
            .collect();
        let extra = extra_shape.map(|extra| self.lower(extra, &format!("{name}Value"), false));
        self.objects.push(Object {
            name: name.clone(),
            doc: description(&Json::Object(map.clone())).unwrap_or_default(),
            fields,
            extra,
            preorder,
        });
        Ty::Named(name)
    }
}

/// Text wrapped at `width` columns, paragraphs separated by an empty line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, paragraph) in text.trim().split("\n\n").enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        // A `code span` is not broken across lines.
        let mut words: Vec<String> = Vec::new();
        let mut open = false;
        for word in paragraph.split_whitespace() {
            match words.last_mut() {
                Some(last) if open => {
                    last.push(' ');
                    last.push_str(word);
                }
                _ => words.push(word.to_string()),
            }
            if word.matches('`').count() % 2 == 1 {
                open = !open;
            }
        }
        let mut line = String::new();
        for word in &words {
            if !line.is_empty() && line.len() + 1 + word.len() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// TypeScript

/// `bindings/node/src/results.d.ts`.
pub fn typescript_file(catalog: &Catalog) -> String {
    let areas = lower_catalog(catalog);
    let mut w = GENERATED_HEADER.replace("{}", "//");
    w.push_str(
        "//\n\
         // What every operation returns as its result, from the catalog's result shapes\n\
         // (spec/shapes/*.yaml): the Hub's JSON; `{ exists }` for a HEAD check; `{ body, content_type }`\n\
         // for a document that is not JSON; `null` for an answer without a body. `Hub.call` returns it\n\
         // parsed; a typed function's `Response.body` carries it as JSON text (`parseResult` reads it).\n\
         // A property the Hub may leave out is optional (`?`).\n",
    );
    for area in &areas {
        write!(w, "\n// ---- {}\n", area.area).unwrap();
        for result in &area.results {
            let mut objects: Vec<&Object> = result.objects.iter().collect();
            objects.sort_by_key(|o| o.preorder);
            if !result.is_object() {
                w.push('\n');
                w.push_str(&jsdoc(&result.alias_doc(), ""));
                writeln!(w, "export type {} = {};", result.name, ts_type(&result.ty)).unwrap();
            }
            for object in objects {
                w.push('\n');
                ts_object(&mut w, object);
            }
        }
    }

    w.push_str(
        "\n/** Every operation's result type, by each name `Hub.call` and `catalog.call` accept. */\n\
         export interface ResultOf {\n",
    );
    let mut seen = BTreeSet::new();
    for result in areas.iter().flat_map(|a| &a.results) {
        if seen.insert(result.op.name.as_str()) {
            writeln!(w, "  {}: {};", ts_key(&result.op.name), result.name).unwrap();
        }
        for alias in result.op.aliases() {
            if seen.insert(alias) {
                writeln!(
                    w,
                    "  /** Another name of `{}`. */\n  {}: {};",
                    result.op.name,
                    ts_key(alias),
                    result.name
                )
                .unwrap();
            }
        }
    }
    w.push_str("}\n");

    w.push_str(
        "\n/** The typed functions' result types, by area and function as jco names them\n \
         * (`AreaResults['repositories']['listRepositoryTags']`). */\n\
         export interface AreaResults {\n",
    );
    for area in &areas {
        writeln!(w, "  {}: {{", ts_key(&camel(area.area))).unwrap();
        for result in &area.results {
            writeln!(w, "    {}: {};", ts_key(&camel(&result.wit)), result.name).unwrap();
        }
        w.push_str("  };\n");
    }
    w.push_str("}\n");
    w
}

fn jsdoc(text: &str, indent: &str) -> String {
    let text = text.replace("*/", "*\\/");
    let lines = wrap(&text, 100 - indent.len() - 3);
    match lines.as_slice() {
        [] => String::new(),
        [one] if indent.len() + one.len() + 7 <= 100 => format!("{indent}/** {one} */\n"),
        _ => {
            let mut out = format!("{indent}/**\n");
            for line in lines {
                if line.is_empty() {
                    writeln!(out, "{indent} *").unwrap();
                } else {
                    writeln!(out, "{indent} * {line}").unwrap();
                }
            }
            writeln!(out, "{indent} */").unwrap();
            out
        }
    }
}

fn ts_object(w: &mut String, object: &Object) {
    w.push_str(&jsdoc(&object.doc, ""));
    writeln!(w, "export interface {} {{", object.name).unwrap();
    for field in &object.fields {
        w.push_str(&jsdoc(&field.doc, "  "));
        let optional = if field.required { "" } else { "?" };
        writeln!(
            w,
            "  {}{optional}: {};",
            ts_key(&field.name),
            ts_type(&field.ty)
        )
        .unwrap();
    }
    if let Some(extra) = &object.extra {
        // An index signature must admit every property's type; the other keys' type is noted.
        w.push_str(&jsdoc(
            &format!("Other keys hold `{}`.", ts_type(extra)),
            "  ",
        ));
        w.push_str("  [key: string]: unknown;\n");
    }
    w.push_str("}\n");
}

fn ts_type(ty: &Ty) -> String {
    match ty {
        Ty::Unknown => "unknown".into(),
        Ty::String => "string".into(),
        Ty::Integer | Ty::Number => "number".into(),
        Ty::Boolean => "boolean".into(),
        Ty::Null => "null".into(),
        Ty::Literal(values) => values
            .iter()
            .map(ts_literal)
            .collect::<Vec<_>>()
            .join(" | "),
        Ty::Array(item) => format!("Array<{}>", ts_type(item)),
        Ty::Map(value) => format!("Record<string, {}>", ts_type(value)),
        Ty::Named(name) => name.clone(),
        Ty::Union(parts) => parts.iter().map(ts_type).collect::<Vec<_>>().join(" | "),
    }
}

fn ts_literal(value: &Json) -> String {
    match value {
        Json::String(s) => ts_string(s),
        other => other.to_string(),
    }
}

fn ts_string(s: &str) -> String {
    // JSON's escapes are JavaScript's; only the quotes differ.
    let json = Json::String(s.to_string()).to_string();
    let inner = &json[1..json.len() - 1];
    format!("'{}'", inner.replace("\\\"", "\"").replace('\'', "\\'"))
}

fn ts_key(name: &str) -> String {
    let mut chars = name.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ident {
        name.to_string()
    } else {
        ts_string(name)
    }
}

// ---------------------------------------------------------------------------------------------
// Python

/// `bindings/python/dockhand/results.py`.
pub fn python_file(catalog: &Catalog) -> String {
    let areas = lower_catalog(catalog);
    let mut w = GENERATED_HEADER.replace("{}", "#");
    w.push_str(
        "\"\"\"What every operation returns as its result, from the catalog's result shapes\n\
         (spec/shapes/*.yaml): the Hub's JSON; `{\"exists\": ...}` for a HEAD check; `{\"body\",\n\
         \"content_type\"}` for a document that is not JSON; `None` for an answer without a body.\n\
         \n\
         One `TypedDict` per object: `ListRepositoryTagsResult`, and a tag in its `results`\n\
         `ListRepositoryTagsResultResultsItem`. A key the Hub may leave out is not required.\n\
         `Hub.call` and the typed functions are typed with these through `HubTypes`; nothing here\n\
         changes what they do. `RESULT_TYPES` maps each operation to its result type.\n\
         \"\"\"\n\
         \n\
         {imports}\n\
         if TYPE_CHECKING:\n    \
             from ._hub import Response\n\
         \n\
         _Args = Optional[Mapping[str, Any]]\n",
    );
    for area in &areas {
        write!(w, "\n\n# ---- {}\n", area.area).unwrap();
        for result in &area.results {
            for object in &result.objects {
                w.push_str("\n\n");
                py_object(&mut w, object);
            }
            if !result.is_object() {
                w.push('\n');
                for line in wrap(&result.alias_doc(), 96) {
                    writeln!(w, "#: {line}").unwrap();
                }
                // `X = None` is a variable to a type checker; `Literal[None]` is the same type
                // and makes `X` an alias (Python 3.9 has no `TypeAlias`).
                let ty = match &result.ty {
                    Ty::Null => "Literal[None]".to_string(),
                    ty => py_type(ty),
                };
                writeln!(w, "{} = {ty}", result.name).unwrap();
            }
        }
    }

    w.push_str(
        "\n\n#: Each operation's result type, by its catalog name.\n\
         RESULT_TYPES: Dict[str, Any] = {\n",
    );
    for result in areas.iter().flat_map(|a| &a.results) {
        writeln!(w, "    {}: {},", py_string(&result.op.name), result.name).unwrap();
    }
    w.push_str("}\n");

    w.push_str(
        "\n\nclass Call(Protocol):\n    \
         \"\"\"`Hub.call`: the parsed result, typed by the operation's name (any of its names).\"\"\"\n",
    );
    let mut seen = BTreeSet::new();
    for result in areas.iter().flat_map(|a| &a.results) {
        let names: Vec<String> = std::iter::once(result.op.name.as_str())
            .chain(result.op.aliases())
            .filter(|n| seen.insert(n.to_string()))
            .map(py_string)
            .collect();
        if names.is_empty() {
            continue;
        }
        write!(
            w,
            "\n    @overload\n    \
             def __call__(\n        \
             self,\n        \
             operation: Literal[{}],\n        \
             args: _Args = None,\n        \
             /,\n        \
             **kwargs: Any,\n    \
             ) -> {}: ...\n",
            names.join(", "),
            result.name
        )
        .unwrap();
    }
    w.push_str(
        "\n    @overload\n    \
         def __call__(self, operation: str, args: _Args = None, /, **kwargs: Any) -> Any: ...\n\
         \n    \
         def __call__(self, operation: str, args: _Args = None, /, **kwargs: Any) -> Any: ...\n",
    );

    for area in &areas {
        let attribute = area.area.replace('-', "_");
        write!(
            w,
            "\n\nclass {}(Protocol):\n    \
             \"\"\"`Hub.{attribute}`: its typed functions return the parsed result, or with\n    \
             `raw=True` the whole `Response`.\"\"\"\n",
            area_class(area.area)
        )
        .unwrap();
        for result in &area.results {
            let function = result.wit.replace('-', "_");
            let name = &result.name;
            write!(
                w,
                "\n    @overload\n    \
                 def {function}(self, *, raw: Literal[False] = False, **kwargs: Any) -> {name}: ...\n\
                 \n    \
                 @overload\n    \
                 def {function}(self, *, raw: Literal[True], **kwargs: Any) -> \"Response\": ...\n\
                 \n    \
                 def {function}(self, *, raw: bool = False, **kwargs: Any) -> Any: ...\n",
            )
            .unwrap();
        }
    }

    w.push_str(
        "\n\nclass HubTypes:\n    \
         \"\"\"The types of `Hub.call` and of the areas' typed functions (`Hub` derives from this\n    \
         class for type checkers only).\"\"\"\n\n    \
         call: Call\n",
    );
    for area in &areas {
        writeln!(
            w,
            "    {}: {}",
            area.area.replace('-', "_"),
            area_class(area.area)
        )
        .unwrap();
    }
    let generic = ["Dict", "List", "Literal", "Mapping", "Optional", "Union"];
    let mut imports = vec!["TYPE_CHECKING", "Any"];
    imports.extend(generic.iter().filter(|g| w.contains(&format!("{g}["))));
    imports.extend(["Protocol", "TypedDict", "overload"]);
    // isort's order: constants, classes, functions.
    imports.sort_by_key(|name| {
        let kind = if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            0
        } else if name.starts_with(char::is_uppercase) {
            1
        } else {
            2
        };
        (kind, *name)
    });
    let line = format!("from typing import {}\n", imports.join(", "));
    let line = if line.len() <= 101 {
        line
    } else {
        format!(
            "from typing import (\n    {},\n)\n",
            imports.join(",\n    ")
        )
    };
    w.replacen("{imports}", &line, 1)
}

fn area_class(area: &str) -> String {
    format!("{}Functions", names::rust_type(area))
}

const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

fn py_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !PYTHON_KEYWORDS.contains(&name)
}

fn py_docstring(text: &str, indent: &str) -> String {
    let text = text.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
    let lines = wrap(&text, 100 - indent.len());
    match lines.as_slice() {
        [] => String::new(),
        [one] if indent.len() + one.len() + 6 <= 100 => format!("{indent}\"\"\"{one}\"\"\"\n"),
        [first, rest @ ..] => {
            let mut out = format!("{indent}\"\"\"{first}\n");
            for line in rest {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    writeln!(out, "{indent}{line}").unwrap();
                }
            }
            writeln!(out, "{indent}\"\"\"").unwrap();
            out
        }
    }
}

fn py_comment(text: &str, indent: &str) -> String {
    wrap(text, 100 - indent.len() - 3)
        .iter()
        .map(|line| {
            if line.is_empty() {
                format!("{indent}#:\n")
            } else {
                format!("{indent}#: {line}\n")
            }
        })
        .collect()
}

/// One `TypedDict`. Python 3.9 has no `NotRequired`: an object with required and optional keys
/// is a class with the optional ones (`total=False`) over a base class with the required ones.
/// Keys that are not identifiers take the functional form.
fn py_object(w: &mut String, object: &Object) {
    let required: Vec<&Field> = object.fields.iter().filter(|f| f.required).collect();
    let optional: Vec<&Field> = object.fields.iter().filter(|f| !f.required).collect();
    let mut doc = object.doc.clone();
    if let Some(extra) = &object.extra {
        doc = join_paragraphs(&doc, &format!("Other keys hold `{}`.", py_type(extra)));
    }
    let name = &object.name;
    if object.fields.iter().all(|f| py_identifier(&f.name)) {
        let body = |w: &mut String, fields: &[&Field]| {
            for (i, field) in fields.iter().enumerate() {
                // A blank line around a field with a comment.
                if i > 0 && !(field.doc.is_empty() && fields[i - 1].doc.is_empty()) {
                    w.push('\n');
                }
                w.push_str(&py_comment(&field.doc, "    "));
                writeln!(w, "    {}: {}", field.name, py_type(&field.ty)).unwrap();
            }
        };
        if !required.is_empty() && !optional.is_empty() {
            writeln!(w, "class _{name}Required(TypedDict):").unwrap();
            w.push_str(&py_docstring(
                &format!("The keys of `{name}` that are always there."),
                "    ",
            ));
            w.push('\n');
            body(w, &required);
            w.push_str("\n\n");
            writeln!(w, "class {name}(_{name}Required, total=False):").unwrap();
        } else if optional.is_empty() {
            writeln!(w, "class {name}(TypedDict):").unwrap();
        } else {
            writeln!(w, "class {name}(TypedDict, total=False):").unwrap();
        }
        if !doc.is_empty() {
            w.push_str(&py_docstring(&doc, "    "));
            w.push('\n');
        }
        body(
            w,
            if optional.is_empty() {
                &required
            } else {
                &optional
            },
        );
        return;
    }
    let functional = |w: &mut String, type_name: &str, fields: &[&Field], total: bool| {
        writeln!(w, "{type_name} = TypedDict(").unwrap();
        writeln!(w, "    {},", py_string(type_name)).unwrap();
        w.push_str("    {\n");
        for field in fields {
            w.push_str(&py_comment(&field.doc, "        "));
            writeln!(
                w,
                "        {}: {},",
                py_string(&field.name),
                py_type(&field.ty)
            )
            .unwrap();
        }
        w.push_str("    },\n");
        if !total {
            w.push_str("    total=False,\n");
        }
        w.push_str(")\n");
    };
    if !required.is_empty() && !optional.is_empty() {
        functional(w, &format!("_{name}Required"), &required, true);
        functional(w, &format!("_{name}Optional"), &optional, false);
        writeln!(w, "\n\nclass {name}(_{name}Required, _{name}Optional):").unwrap();
        if doc.is_empty() {
            w.push_str("    pass\n");
        } else {
            w.push_str(&py_docstring(&doc, "    "));
        }
    } else {
        w.push_str(&py_comment(&doc, ""));
        functional(
            w,
            name,
            &object.fields.iter().collect::<Vec<_>>(),
            optional.is_empty(),
        );
    }
}

fn py_type(ty: &Ty) -> String {
    match ty {
        Ty::Unknown => "Any".into(),
        Ty::String => "str".into(),
        Ty::Integer => "int".into(),
        Ty::Number => "float".into(),
        Ty::Boolean => "bool".into(),
        Ty::Null => "None".into(),
        Ty::Literal(values) => format!(
            "Literal[{}]",
            values.iter().map(py_literal).collect::<Vec<_>>().join(", ")
        ),
        Ty::Array(item) => format!("List[{}]", py_type(item)),
        Ty::Map(value) => format!("Dict[str, {}]", py_type(value)),
        Ty::Named(name) => name.clone(),
        Ty::Union(parts) => {
            let others: Vec<String> = parts
                .iter()
                .filter(|p| **p != Ty::Null)
                .map(py_type)
                .collect();
            let inner = match others.as_slice() {
                [one] => one.clone(),
                _ => format!("Union[{}]", others.join(", ")),
            };
            if others.len() < parts.len() {
                format!("Optional[{inner}]")
            } else {
                inner
            }
        }
    }
}

fn py_literal(value: &Json) -> String {
    match value {
        Json::String(s) => py_string(s),
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

fn py_string(s: &str) -> String {
    // JSON's string escapes are Python's too.
    Json::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lowered(shape: Json) -> (Ty, Vec<Object>) {
        let mut taken = BTreeSet::new();
        taken.insert("XResult".to_string());
        let mut lowering = Lowering {
            taken: &mut taken,
            objects: Vec::new(),
            next: 0,
        };
        let ty = lowering.lower(&shape, "XResult", true);
        (ty, lowering.objects)
    }

    #[test]
    fn shapes_lower_to_types() {
        let (ty, objects) = lowered(json!({
            "type": "object",
            "required": ["count"],
            "properties": {
                "count": {"type": "integer"},
                "next": {"type": ["string", "null"]},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "description": "A tag.",
                    "properties": {"status": {"type": "string", "enum": ["active", null]}},
                }},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }));
        assert_eq!(ty, Ty::Named("XResult".into()));
        let names: Vec<&str> = objects.iter().map(|o| o.name.as_str()).collect();
        // Each object after the ones it uses.
        assert_eq!(names, ["XResultResultsItem", "XResult"]);
        assert_eq!(objects[1].preorder, 0);
        let fields: Vec<(&str, String, bool)> = objects[1]
            .fields
            .iter()
            .map(|f| (f.name.as_str(), ts_type(&f.ty), f.required))
            .collect();
        assert_eq!(
            fields,
            [
                ("count", "number".into(), true),
                ("labels", "Record<string, string>".into(), false),
                ("next", "string | null".into(), false),
                ("results", "Array<XResultResultsItem>".into(), false),
            ]
        );
        assert_eq!(
            py_type(&objects[0].fields[0].ty),
            "Optional[Literal[\"active\"]]"
        );
        assert_eq!(ts_type(&objects[0].fields[0].ty), "'active' | null");
    }

    #[test]
    fn mixed_objects_are_two_typed_dicts_in_python() {
        let (_, objects) = lowered(json!({
            "type": "object",
            "required": ["a"],
            "properties": {"a": {"type": "boolean"}, "b": {"type": "number", "format": "double"}},
        }));
        let mut w = String::new();
        py_object(&mut w, &objects[0]);
        assert!(w.contains("class _XResultRequired(TypedDict):"), "{w}");
        assert!(
            w.contains("class XResult(_XResultRequired, total=False):"),
            "{w}"
        );
        assert!(
            w.contains("    #: Format: `double`.\n    b: float\n"),
            "{w}"
        );
    }

    #[test]
    fn keys_that_are_not_identifiers_are_quoted() {
        let (_, objects) = lowered(json!({
            "type": "object",
            "properties": {"urn:x": {"type": "string"}, "class": {"type": "string"}},
        }));
        let mut py = String::new();
        py_object(&mut py, &objects[0]);
        assert!(py.starts_with("XResult = TypedDict(\n"), "{py}");
        assert!(py.contains("        \"class\": str,\n"), "{py}");
        let mut ts = String::new();
        ts_object(&mut ts, &objects[0]);
        assert!(ts.contains("  'urn:x'?: string;\n"), "{ts}");
        assert!(ts.contains("  class?: string;\n"), "{ts}");
    }

    #[test]
    fn names_follow_jco() {
        assert_eq!(camel("org-access-tokens"), "orgAccessTokens");
        assert_eq!(camel("login2fa-token"), "login2faToken");
        assert_eq!(pascal("is_private"), "IsPrivate");
        assert_eq!(pascal("userName"), "UserName");
    }
}
