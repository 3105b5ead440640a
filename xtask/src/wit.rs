//! Generates the per-area WIT interfaces and the world from the catalog.
//!
//! The shared types, the credentials import and the catalog interface are hand-written in
//! `wit/`; what depends on the list of operations is generated here.

use crate::{GENERATED_HEADER, doc_comment};
use dockhand_spec::{Area, Catalog, Field, Operation, Param, Type};
use dockhand_vocab::names;
use std::fmt::Write;

/// The version of the `dockhand:hub` package; hand-written WIT files state the same (a test
/// checks), and so do the bindings. 0.2.0: `transport-error.kind` became an enum. 0.3.0:
/// `operation-info` carries `result-schema`. 0.4.0: and `table`, how a table for people shows a
/// listing.
pub const WIT_VERSION: &str = "0.4.0";

/// The WIT type of a parameter or body field. Enums stay strings: Hub enum values such as
/// `-last_updated` are not WIT identifiers, and the plugin validates them anyway.
pub fn wit_type(ty: Type, items: Option<Type>) -> &'static str {
    match (ty, items) {
        (Type::String, _) => "string",
        (Type::Integer, _) => "s64",
        (Type::Number, _) => "f64",
        (Type::Boolean, _) => "bool",
        (Type::Array, Some(Type::String)) => "list<string>",
        (Type::Array, Some(Type::Integer)) => "list<s64>",
        // Nested objects travel as JSON text: their shapes are Docker's, not ours to freeze.
        (Type::Array, _) | (Type::Object, _) => "string",
    }
}

/// True when a field is carried as JSON text in WIT.
pub fn is_json_text(ty: Type, items: Option<Type>) -> bool {
    matches!(
        (ty, items),
        (Type::Object, _)
            | (
                Type::Array,
                None | Some(Type::Object | Type::Array | Type::Number | Type::Boolean)
            )
    )
}

/// One member of an operation's argument record.
pub struct Member<'a> {
    /// The name the plugin binds (OpenAPI name).
    pub name: &'a str,
    pub wit_name: String,
    pub ty: Type,
    pub items: Option<Type>,
    pub required: bool,
    pub description: String,
}

/// The members of an operation's argument record: parameters, then body fields that are not
/// filled from a path parameter of the same name.
pub fn members(op: &Operation) -> Vec<Member<'_>> {
    let mut out: Vec<Member> = op.params.iter().map(param_member).collect();
    if let Some(body) = &op.body {
        for f in &body.fields {
            if op.params.iter().any(|p| p.name == f.name) {
                continue;
            }
            out.push(field_member(f));
        }
    }
    out
}

fn param_member(p: &Param) -> Member<'_> {
    let mut description = p.description.trim().to_string();
    write!(description, " ({} parameter `{}`", p.location, p.name).unwrap();
    if !p.enum_values.is_empty() {
        write!(description, "; one of {}", quoted_list(&p.enum_values)).unwrap();
    }
    if let Some(d) = &p.default {
        write!(description, "; default `{d}`").unwrap();
    }
    description.push(')');
    Member {
        name: &p.name,
        wit_name: names::wit_ident(&p.name),
        ty: p.ty,
        items: None,
        required: p.required,
        description,
    }
}

fn field_member(f: &Field) -> Member<'_> {
    let mut description = f.description.trim().to_string();
    write!(description, " (body field `{}`", f.name).unwrap();
    if is_json_text(f.ty, f.items) {
        description.push_str("; JSON text");
    }
    if !f.enum_values.is_empty() {
        write!(description, "; one of {}", quoted_list(&f.enum_values)).unwrap();
    }
    description.push(')');
    Member {
        name: &f.name,
        wit_name: names::wit_ident(&f.name),
        ty: f.ty,
        items: f.items,
        required: f.required,
        description,
    }
}

fn quoted_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn args_record_name(op: &Operation) -> String {
    format!("{}-args", names::wit_ident(&op.name))
}

pub fn interface_file(area: &Area) -> String {
    let mut w = format!("package dockhand:hub@{WIT_VERSION};\n\n");
    w.push_str(&doc_comment(&area.summary, ""));
    writeln!(w, "interface {} {{", area.area).unwrap();
    w.push_str("    use types.{call-options, response, hub-error};\n");
    for op in &area.operations {
        w.push('\n');
        let members = members(op);
        if !members.is_empty() {
            w.push_str(&doc_comment(
                &format!("Arguments of `{}`.", names::wit_ident(&op.name)),
                "    ",
            ));
            writeln!(w, "    record {} {{", args_record_name(op)).unwrap();
            for m in &members {
                w.push_str(&doc_comment(&m.description, "        "));
                let ty = wit_type(m.ty, m.items);
                let ty = if m.required {
                    ty.to_string()
                } else {
                    format!("option<{ty}>")
                };
                writeln!(w, "        {}: {ty},", names::wit_escape(&m.wit_name)).unwrap();
            }
            w.push_str("    }\n\n");
        }
        w.push_str(&doc_comment(&operation_doc(op), "    "));
        let params = if members.is_empty() {
            "options: call-options".to_string()
        } else {
            format!("args: {}, options: call-options", args_record_name(op))
        };
        writeln!(
            w,
            "    {}: func({params}) -> result<response, hub-error>;",
            names::wit_ident(&op.name)
        )
        .unwrap();
    }
    w.push_str("}\n");
    w.push_str(&generated_trailer());
    w
}

/// WIT attaches every comment before an item to it as documentation (a comment before `package`
/// becomes the package's docs), so the generated marker goes after the last item.
fn generated_trailer() -> String {
    format!("\n{}", GENERATED_HEADER.replace("{}", "//"))
}

fn operation_doc(op: &Operation) -> String {
    let mut doc = op.summary.trim().to_string();
    write!(
        doc,
        "\n\n`{} {}` · {} · catalog name `{}`",
        op.method.as_str(),
        op.path,
        op.access,
        op.name
    )
    .unwrap();
    if op.deprecated {
        doc.push_str(" · deprecated");
    }
    if let Some(source) = &op.source {
        write!(
            doc,
            " · not in Docker's published description (used by {source})"
        )
        .unwrap();
    }
    let aliases = op.aliases();
    if !aliases.is_empty() {
        write!(doc, " · also known as {}", quoted_list_str(&aliases)).unwrap();
    }
    doc
}

fn quoted_list_str(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn world_file(catalog: &Catalog) -> String {
    let mut w = format!("package dockhand:hub@{WIT_VERSION};\n\n");
    w.push_str(&doc_comment(
        "The dockhand component: every Docker Hub operation as a typed function, a catalog for \
         agents, and a dynamic `call`. It imports only `credentials` from the host (plus \
         `wasi:http/outgoing-handler` and the `wasi:io`, `wasi:clocks` and `wasi:random` \
         interfaces its transport and retries use) and never holds a long-lived secret.",
        "",
    ));
    w.push_str("world plugin {\n");
    w.push_str("    import credentials;\n\n");
    w.push_str("    export types;\n");
    w.push_str("    export catalog;\n");
    for area in &catalog.areas {
        writeln!(w, "    export {};", area.area).unwrap();
    }
    w.push_str("}\n");
    w.push_str(&generated_trailer());
    w
}
