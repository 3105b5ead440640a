//! Generates the plugin's Rust tables (`plugin/src/generated/operations.rs`) and the typed WIT
//! export glue (`plugin/src/generated/exports.rs`).

use crate::{GENERATED_HEADER, naming, wit};
use dockhand_spec::{Access, Auth, Catalog, Location, Method, Operation, Pagination, Type};
use std::fmt::Write;

fn method(m: Method) -> &'static str {
    match m {
        Method::Get => "Method::Get",
        Method::Head => "Method::Head",
        Method::Post => "Method::Post",
        Method::Put => "Method::Put",
        Method::Patch => "Method::Patch",
        Method::Delete => "Method::Delete",
    }
}

fn ty(t: Type) -> &'static str {
    match t {
        Type::String => "Type::String",
        Type::Integer => "Type::Integer",
        Type::Number => "Type::Number",
        Type::Boolean => "Type::Boolean",
        Type::Array => "Type::Array",
        Type::Object => "Type::Object",
    }
}

fn strs<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|s| format!("{:?}", s.as_ref())).collect();
    format!("&[{}]", inner.join(", "))
}

fn opt_str(s: Option<&str>) -> String {
    match s {
        Some(s) => format!("Some({s:?})"),
        None => "None".into(),
    }
}

pub fn operations_file(catalog: &Catalog) -> String {
    let mut w = String::new();
    w.push_str(&GENERATED_HEADER.replace("{}", "//"));
    w.push_str("\nuse crate::catalog::*;\n\n");

    w.push_str("/// Every API area, in catalog order.\npub static AREAS: &[Area] = &[\n");
    for area in &catalog.areas {
        writeln!(
            w,
            "    Area {{ name: {:?}, summary: {:?} }},",
            area.area,
            area.summary.trim()
        )
        .unwrap();
    }
    w.push_str("];\n\n");

    w.push_str(
        "/// Every operation, in catalog order.\npub static OPERATIONS: &[Operation] = &[\n",
    );
    for (area, op) in catalog.operations() {
        operation(&mut w, &area.area, op);
    }
    w.push_str("];\n\n");

    // Sorted so that lookup by any name is a binary search.
    let mut index: Vec<(&str, usize)> = Vec::new();
    for (i, (_, op)) in catalog.operations().enumerate() {
        for name in op.all_names() {
            if !index.iter().any(|(n, _)| *n == name) {
                index.push((name, i));
            }
        }
    }
    index.sort();
    w.push_str(
        "/// Every name and alias of every operation, sorted, with the operation's index.\n",
    );
    w.push_str("pub static NAME_INDEX: &[(&str, usize)] = &[\n");
    for (name, i) in index {
        writeln!(w, "    ({name:?}, {i}),").unwrap();
    }
    w.push_str("];\n");
    w
}

fn operation(w: &mut String, area: &str, op: &Operation) {
    w.push_str("    Operation {\n");
    writeln!(w, "        name: {:?},", op.name).unwrap();
    writeln!(w, "        aliases: {},", strs(&op.aliases())).unwrap();
    writeln!(w, "        area: {area:?},").unwrap();
    writeln!(w, "        method: {},", method(op.method)).unwrap();
    writeln!(w, "        path: {:?},", op.path).unwrap();
    let access = match op.access {
        Access::Read => "Access::Read",
        Access::Write => "Access::Write",
    };
    writeln!(w, "        access: {access},").unwrap();
    writeln!(w, "        destructive: {},", op.destructive).unwrap();
    writeln!(w, "        idempotent: {},", op.idempotent).unwrap();
    let auth = match op.auth {
        Auth::Bearer => "Auth::Bearer",
        Auth::Optional => "Auth::Optional",
        Auth::Scim => "Auth::Scim",
        Auth::None => "Auth::None",
    };
    writeln!(w, "        auth: {auth},").unwrap();
    writeln!(w, "        deprecated: {},", op.deprecated).unwrap();
    let pagination = match op.pagination {
        Pagination::None => "Pagination::None",
        Pagination::Page => "Pagination::Page",
        Pagination::Scim => "Pagination::Scim",
    };
    writeln!(w, "        pagination: {pagination},").unwrap();
    writeln!(w, "        summary: {:?},", op.summary.trim()).unwrap();
    w.push_str("        params: &[\n");
    for p in &op.params {
        let location = match p.location {
            Location::Path => "Location::Path",
            Location::Query => "Location::Query",
            Location::Header => "Location::Header",
        };
        writeln!(
            w,
            "            Param {{ name: {:?}, aliases: {}, location: {location}, ty: {}, required: {}, enum_values: {}, default: {}, description: {:?} }},",
            p.name,
            strs(&p.aliases()),
            ty(p.ty),
            p.required,
            strs(&p.enum_values),
            opt_str(p.default.as_deref()),
            p.description.trim()
        )
        .unwrap();
    }
    w.push_str("        ],\n");
    match &op.body {
        None => w.push_str("        body: None,\n"),
        Some(b) => {
            w.push_str("        body: Some(Body {\n");
            writeln!(w, "            content_type: {:?},", b.content_type).unwrap();
            writeln!(w, "            required: {},", b.required).unwrap();
            w.push_str("            fields: &[\n");
            for f in &b.fields {
                writeln!(
                    w,
                    "                Field {{ name: {:?}, aliases: {}, ty: {}, items: {}, required: {}, enum_values: {}, format: {}, description: {:?} }},",
                    f.name,
                    strs(&f.aliases()),
                    ty(f.ty),
                    f.items.map(|t| format!("Some({})", ty(t))).unwrap_or_else(|| "None".into()),
                    f.required,
                    strs(&f.enum_values),
                    opt_str(f.format.as_deref()),
                    f.description.trim()
                )
                .unwrap();
            }
            w.push_str("            ],\n        }),\n");
        }
    }
    w.push_str("        responses: &[");
    let responses: Vec<String> = op
        .responses
        .iter()
        .map(|r| format!("({}, {})", r.status, opt_str(r.content_type.as_deref())))
        .collect();
    w.push_str(&responses.join(", "));
    w.push_str("],\n    },\n");
}

/// The typed exports: each WIT function turns its record into named JSON arguments and runs the
/// same path as the dynamic `call`, so both surfaces behave identically.
pub fn exports_file(catalog: &Catalog) -> String {
    let mut w = String::new();
    w.push_str(&GENERATED_HEADER.replace("{}", "//"));
    w.push_str(
        "\nuse super::bindings::exports::dockhand::hub;\n\
         use super::bindings::exports::dockhand::hub::types::{CallOptions, HubError, Response};\n\
         use super::{ArgsBuilder, Component, invoke};\n",
    );
    for area in &catalog.areas {
        let module = naming::rust_ident(&area.area);
        writeln!(w, "\nimpl hub::{module}::Guest for Component {{").unwrap();
        for op in &area.operations {
            let func = naming::rust_ident(&naming::wit_ident(&op.name));
            let members = wit::members(op);
            if members.is_empty() {
                writeln!(
                    w,
                    "    fn {func}(options: CallOptions) -> Result<Response, HubError> {{\n        invoke({:?}, ArgsBuilder::default(), options)\n    }}",
                    op.name
                )
                .unwrap();
                continue;
            }
            let record = naming::rust_type(&wit::args_record_name(op));
            writeln!(
                w,
                "    fn {func}(args: hub::{module}::{record}, options: CallOptions) -> Result<Response, HubError> {{"
            )
            .unwrap();
            w.push_str("        let mut a = ArgsBuilder::default();\n");
            for m in &members {
                let field = naming::rust_ident(&naming::wit_escape(&m.wit_name).replace('%', ""));
                let put = if wit::is_json_text(m.ty, m.items) {
                    "json"
                } else {
                    "put"
                };
                writeln!(w, "        a.{put}({:?}, args.{field});", m.name).unwrap();
            }
            writeln!(w, "        invoke({:?}, a, options)\n    }}", op.name).unwrap();
        }
        w.push_str("}\n");
    }
    w
}
