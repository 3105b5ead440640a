//! Generates the plugin's Rust tables (`plugin/src/generated/operations.rs`), the typed WIT
//! export glue (`plugin/src/generated/exports.rs`, with the layouts [`crate::abi`] computes) and
//! the host's route table (`host/src/generated/routes.rs`).

use crate::abi::{Abi, CallLayout, Params};
use crate::{GENERATED_HEADER, wit};
use dockhand_spec::{Access, Auth, Catalog, Operation, Type};
use dockhand_vocab::names;
use std::fmt::Write;

/// How a vocabulary value is written in the plugin's table: `Method::Get`. The table holds the
/// same `dockhand-vocab` enums this generator reads from the catalog, and a vocabulary enum's
/// derived `Debug` is its variant's name, so no translation between two copies is needed.
fn variant<T: std::fmt::Debug>(ty: &str, value: T) -> String {
    format!("{ty}::{value:?}")
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

/// The host's route table (`host/src/generated/routes.rs`): what the send hook needs to tell a
/// write from a read by a request's method and path alone, whichever entry point sent it,
/// whether an operation uses the account's credential at all, where an operation Docker does
/// not publish comes from (for the descriptions the host writes, such as MCP's), and the names
/// an operation answers to (for the CLI's completions, without loading the component).
pub fn routes_file(catalog: &Catalog) -> String {
    let mut w = String::new();
    w.push_str(&GENERATED_HEADER.replace("{}", "//"));
    w.push_str("\nuse super::Route;\n\n");
    w.push_str(
        "/// Every catalog operation's method, path template and access, in catalog order.\n\
         pub(super) static ROUTES: &[Route] = &[\n",
    );
    for area in &catalog.areas {
        for op in &area.operations {
            let m = op.method.as_str();
            writeln!(
                w,
                "    Route {{ name: {:?}, aliases: {}, method: {m:?}, path: {:?}, writes: {}, credential: {}, source: {} }},",
                op.name,
                strs(&op.aliases()),
                op.path,
                op.access == Access::Write,
                op.auth != Auth::None,
                opt_str(op.source.as_deref())
            )
            .unwrap();
        }
    }
    w.push_str("];\n");
    w
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

    // The result schemas, side by side in one text (an operation's is a range of it), packed:
    // with their descriptions they are the largest part of the table, and mostly repeats.
    let mut schemas = String::new();
    let mut ranges: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    for (_, op) in catalog.operations() {
        let text = result_schema(op);
        let range = match ranges.iter().find(|(t, _)| *t == text) {
            Some((_, r)) => r.clone(),
            None => {
                schemas.push_str(&text);
                schemas.len() - text.len()..schemas.len()
            }
        };
        ranges.push((text, range));
    }
    let packed = pack(schemas.as_bytes());
    writeln!(
        w,
        "/// Every operation's result schema (compact JSON), side by side: {} bytes packed into {} by\n\
         /// xtask's `tables::pack`, for `result_schemas`.\npub static RESULT_SCHEMAS: &[u8] = {};\n",
        schemas.len(),
        packed.len(),
        byte_string(&packed)
    )
    .unwrap();

    w.push_str(
        "/// Every operation, in catalog order.\npub static OPERATIONS: &[Operation] = &[\n",
    );
    for ((area, op), (_, range)) in catalog.operations().zip(&ranges) {
        operation(&mut w, &area.area, op, range);
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

/// The operation's result schema as compact JSON text.
fn result_schema(op: &Operation) -> String {
    let shape = dockhand_spec::shape::result_shape(op)
        .unwrap_or_else(|| panic!("`{}` has no result shape in spec/shapes/", op.name));
    // MCP passes an object result through and wraps anything else, and its output schema says
    // which by the root's type: a root that may be an object or not would be neither.
    if let Some(serde_json::Value::Array(types)) = shape.get("type") {
        assert!(
            !types.iter().any(|t| t == "object"),
            "`{}`: a result that may be an object or not",
            op.name
        );
    }
    shape.to_string()
}

/// The shortest copy worth a token: a copy costs one byte and the distance's one to three.
const MIN_COPY: usize = 4;

/// Packs `data` for the plugin's `catalog::unpack`, a plain LZ77 without entropy coding: a byte
/// below 0x80 is a run of that many plus one literal bytes, which follow; a byte `0x80 | n` copies
/// `n + MIN_COPY` bytes from earlier output, as far back as the LEB128 distance after it says.
/// (The copy may overlap what it writes.) Greedy, longest match among the last 256 places with
/// the same four bytes.
pub fn pack(data: &[u8]) -> Vec<u8> {
    const MAX_COPY: usize = MIN_COPY + 0x7f;
    let mut out = Vec::new();
    let mut literals: Vec<u8> = Vec::new();
    let flush = |out: &mut Vec<u8>, literals: &mut Vec<u8>| {
        for run in literals.chunks(0x80) {
            out.push((run.len() - 1) as u8);
            out.extend_from_slice(run);
        }
        literals.clear();
    };
    let mut seen: std::collections::HashMap<&[u8], Vec<usize>> = Default::default();
    let mut i = 0;
    while i < data.len() {
        let mut best = (0, 0);
        if let Some(key) = data.get(i..i + MIN_COPY) {
            for &at in seen.get(key).into_iter().flatten().rev().take(256) {
                let len = data[at..]
                    .iter()
                    .zip(&data[i..])
                    .take(MAX_COPY)
                    .take_while(|(a, b)| a == b)
                    .count();
                if len > best.0 {
                    best = (len, i - at);
                }
            }
        }
        let (len, distance) = best;
        let step = if len >= MIN_COPY && len > leb128(distance).len() + 1 {
            flush(&mut out, &mut literals);
            out.push(0x80 | (len - MIN_COPY) as u8);
            out.extend(leb128(distance));
            len
        } else {
            literals.push(data[i]);
            1
        };
        for at in i..i + step {
            if let Some(key) = data.get(at..at + MIN_COPY) {
                seen.entry(key).or_default().push(at);
            }
        }
        i += step;
    }
    flush(&mut out, &mut literals);
    out
}

fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// Bytes as a Rust byte-string literal, in lines of about 90 columns.
fn byte_string(bytes: &[u8]) -> String {
    let mut out = String::from("b\"");
    let mut column = 0;
    for &b in bytes {
        if column >= 90 {
            // A `\` at the end of a line skips the newline and the next line's leading
            // whitespace, so a space opening a line is written escaped (below).
            out.push_str("\\\n");
            column = 0;
        }
        let piece = match b {
            b' ' if column == 0 => "\\x20".to_string(),
            b'"' | b'\\' => format!("\\{}", b as char),
            0x20..=0x7e => (b as char).to_string(),
            _ => format!("\\x{b:02x}"),
        };
        column += piece.len();
        out.push_str(&piece);
    }
    out.push('"');
    out
}

fn operation(w: &mut String, area: &str, op: &Operation, result_schema: &std::ops::Range<usize>) {
    w.push_str("    Operation {\n");
    writeln!(w, "        name: {:?},", op.name).unwrap();
    writeln!(w, "        aliases: {},", strs(&op.aliases())).unwrap();
    writeln!(w, "        area: {area:?},").unwrap();
    writeln!(w, "        method: {},", variant("Method", op.method)).unwrap();
    writeln!(w, "        path: {:?},", op.path).unwrap();
    writeln!(w, "        access: {},", variant("Access", op.access)).unwrap();
    writeln!(w, "        destructive: {},", op.destructive).unwrap();
    writeln!(w, "        idempotent: {},", op.idempotent).unwrap();
    writeln!(w, "        auth: {},", variant("Auth", op.auth)).unwrap();
    writeln!(w, "        deprecated: {},", op.deprecated).unwrap();
    writeln!(w, "        source: {},", opt_str(op.source.as_deref())).unwrap();
    writeln!(
        w,
        "        pagination: {},",
        variant("Pagination", op.pagination)
    )
    .unwrap();
    writeln!(w, "        summary: {:?},", op.summary.trim()).unwrap();
    w.push_str("        params: &[\n");
    for p in &op.params {
        writeln!(
            w,
            "            Param {{ name: {:?}, aliases: {}, location: {}, ty: {}, required: {}, enum_values: {}, default: {}, minimum: {:?}, maximum: {:?}, description: {:?} }},",
            p.name,
            strs(&p.aliases()),
            variant("Location", p.location),
            variant("Type", p.ty),
            p.required,
            strs(&p.enum_values),
            opt_str(p.default.as_deref()),
            p.minimum,
            p.maximum,
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
                    "                Field {{ name: {:?}, aliases: {}, ty: {}, items: {}, required: {}, enum_values: {}, format: {}, max_length: {:?}, description: {:?} }},",
                    f.name,
                    strs(&f.aliases()),
                    variant("Type", f.ty),
                    f.items.map(|t| format!("Some({})", variant("Type", t))).unwrap_or_else(|| "None".into()),
                    f.required,
                    strs(&f.enum_values),
                    opt_str(f.format.as_deref()),
                    f.max_length,
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
    w.push_str("],\n");
    writeln!(
        w,
        "        result_schema: {}..{},",
        result_schema.start, result_schema.end
    )
    .unwrap();
    match &op.table {
        None => w.push_str("        table: None,\n"),
        Some(t) => writeln!(
            w,
            "        table: Some(Table {{ rows: {:?}, columns: {} }}),",
            t.rows,
            strs(&t.columns)
        )
        .unwrap(),
    }
    w.push_str("    },\n");
}

/// What a record field of a typed export lifts to in the plugin (see `wit::wit_type`); where
/// it sits and how it is passed is the canonical ABI's business (`abi`).
#[derive(Clone, Copy)]
enum AbiType {
    String,
    JsonText,
    S64,
    F64,
    Bool,
    Strings,
    Integers,
}

impl AbiType {
    fn of(m: &wit::Member) -> AbiType {
        let ty = if wit::is_json_text(m.ty, m.items) {
            AbiType::JsonText
        } else {
            match (m.ty, m.items) {
                (Type::String, _) => AbiType::String,
                (Type::Integer, _) => AbiType::S64,
                (Type::Number, _) => AbiType::F64,
                (Type::Boolean, _) => AbiType::Bool,
                (Type::Array, Some(Type::String)) => AbiType::Strings,
                (Type::Array, Some(Type::Integer)) => AbiType::Integers,
                (Type::Array | Type::Object, _) => unreachable!("JSON text"),
            }
        };
        // The hand-written lifting must follow the WIT that `wit.rs` generates.
        assert_eq!(ty.wit(), wit::wit_type(m.ty, m.items), "field `{}`", m.name);
        ty
    }

    fn wit(self) -> &'static str {
        match self {
            AbiType::String | AbiType::JsonText => "string",
            AbiType::S64 => "s64",
            AbiType::F64 => "f64",
            AbiType::Bool => "bool",
            AbiType::Strings => "list<string>",
            AbiType::Integers => "list<s64>",
        }
    }

    /// The type implementing the plugin's `typed::Lift`.
    fn rust(self) -> &'static str {
        match self {
            AbiType::String => "String",
            AbiType::JsonText => "JsonText",
            AbiType::S64 => "i64",
            AbiType::F64 => "f64",
            AbiType::Bool => "bool",
            AbiType::Strings => "Vec<String>",
            AbiType::Integers => "Vec<i64>",
        }
    }
}

/// The Rust type a field lifts as: `Option<T>` when the WIT field is an `option<T>`.
fn lift_type(m: &wit::Member) -> String {
    let ty = AbiType::of(m).rust();
    if m.required {
        ty.to_string()
    } else {
        format!("Option<{ty}>")
    }
}

/// The typed exports. Each WIT function turns its record into named JSON arguments and runs the
/// same path as the dynamic `call`, so both surfaces behave identically.
///
/// wit-bindgen is told to skip these functions (it would lower `result<response, hub-error>` in
/// each of them): the file defines `generate_bindings!`, the bindings with that skip list, and
/// exports each function itself, lifting the record's fields from the canonical ABI through the
/// plugin's `component::typed` and handing the call to the `catalog.call` glue.
pub fn exports_file(catalog: &Catalog, abi: &Abi) -> String {
    let mut w = String::new();
    w.push_str(&GENERATED_HEADER.replace("{}", "//"));
    w.push_str(
        "\n/// wit-bindgen's bindings for the world, less the typed functions, which this file \
         exports.\nmacro_rules! generate_bindings {\n    () => {\n        wit_bindgen::generate!({\n            \
         path: \"../wit\",\n            world: \"dockhand:hub/plugin\",\n            skip: [\n",
    );
    for (_, op) in catalog.operations() {
        writeln!(w, "                {:?},", names::wit_ident(&op.name)).unwrap();
    }
    w.push_str("            ],\n        });\n    };\n}\n\n");
    w.push_str(
        "use super::ArgsBuilder;\nuse super::typed::{JsonText, post_return};\nuse crate::prelude::*;\n",
    );
    call_layout(&mut w, &abi.call_layout());
    for area in &catalog.areas {
        writeln!(w, "\n// {}", area.area).unwrap();
        for op in &area.operations {
            export_fn(&mut w, abi, &area.area, op);
        }
    }
    w
}

/// The layout of `catalog.call`'s parameter block, which `typed.rs` fills for every typed call,
/// and the store of flat `call-options` into it.
fn call_layout(w: &mut String, l: &CallLayout) {
    writeln!(
        w,
        "\n/// `catalog.call`'s parameters in memory, `(operation, args-json, options)`: size and \
         alignment.\npub(super) const CALL_PARAMS_SIZE: usize = {};\npub(super) const CALL_PARAMS_ALIGN: usize = {};\n\
         /// Offsets of `operation`, `args-json` and `options` in that block.\n\
         pub(super) const CALL_PARAMS_AT: [usize; 3] = [{}, {}, {}];\n\
         /// `call-options` in memory: size and alignment.\npub(super) const OPTIONS_SIZE: usize = {};\n\
         pub(super) const OPTIONS_ALIGN: usize = {};",
        l.size, l.align, l.operation, l.args_json, l.options, l.options_size, l.options_align
    )
    .unwrap();
    let mut params = vec!["dst: *mut u8".to_string()];
    let mut body = String::new();
    let mut n = 0;
    for f in &l.option_fields {
        let disc = n;
        params.push(format!("o{n}: {}", f.flat[0]));
        n += 1;
        writeln!(
            body,
            "        // {}\n        dst.add({}).write(o{disc} as u8);",
            f.name, f.offset
        )
        .unwrap();
        for ((at, ty), flat) in f.stores.iter().zip(&f.flat[1..]) {
            params.push(format!("o{n}: {flat}"));
            let value = if ty == flat {
                format!("o{n}")
            } else {
                format!("o{n} as {ty}")
            };
            writeln!(
                body,
                "        dst.add({}).cast::<{ty}>().write({value});",
                f.offset + f.payload + at
            )
            .unwrap();
            n += 1;
        }
    }
    writeln!(
        w,
        "\n/// Stores `call-options`, flat as an export receives them, in memory form at `dst`. A \
         payload is\n/// stored whatever its discriminant says; it counts only when that is set.\n///\n\
         /// # Safety\n/// `dst` points to `OPTIONS_SIZE` writable bytes aligned to `OPTIONS_ALIGN`.\n\
         #[inline(always)]\n#[allow(clippy::too_many_arguments)]\n\
         pub(super) unsafe fn store_options({}) {{\n    unsafe {{\n{body}    }}\n}}",
        params.join(", ")
    )
    .unwrap();
}

fn export_fn(w: &mut String, abi: &Abi, area: &str, op: &Operation) {
    let wit_name = format!(
        "dockhand:hub/{area}@{}#{}",
        wit::WIT_VERSION,
        names::wit_ident(&op.name)
    );
    let func = names::rust_ident(&names::wit_ident(&op.name));
    let members = wit::members(op);
    // The parsed WIT's record fields are the catalog's members, in order.
    let member = |wit_name: &str, i: usize| {
        let m = &members[i];
        assert_eq!(m.wit_name, wit_name, "{}: field {i}", op.name);
        m
    };

    writeln!(w, "\n#[unsafe(export_name = {wit_name:?})]").unwrap();
    let mut params = Vec::new();
    let mut body = String::new();
    let fields = match abi.params(area, &names::wit_ident(&op.name)) {
        Params::Spilled {
            fields,
            options,
            size,
            align,
        } => {
            params.push("p: *mut u8".to_string());
            for (i, (name, offset)) in fields.iter().enumerate() {
                let m = member(name, i);
                let at = if *offset == 0 {
                    "p".to_string()
                } else {
                    format!("p.add({offset})")
                };
                writeln!(
                    body,
                    "        a.load::<{}>({:?}, {at});",
                    lift_type(m),
                    m.name
                )
                .unwrap();
            }
            writeln!(
                body,
                "        a.call_spilled({:?}, p, {options}, {size}, {align})",
                op.name
            )
            .unwrap();
            fields.len()
        }
        Params::Flat { fields, options } => {
            let mut n = 0;
            for (i, f) in fields.iter().enumerate() {
                let m = member(f.name, i);
                assert_eq!(f.optional, !m.required, "{}: `{}`", op.name, m.name);
                let mut values = Vec::new();
                for ty in &f.types {
                    params.push(format!("a{n}: {ty}"));
                    values.push(format!("a{n}"));
                    n += 1;
                }
                // The flat form's shape: `(discriminant, payload)` for an option, a pair for a
                // string or list.
                let payload = if f.optional {
                    &values[1..]
                } else {
                    &values[..]
                };
                let payload = if payload.len() == 1 {
                    payload[0].clone()
                } else {
                    format!("({})", payload.join(", "))
                };
                let flat = if f.optional {
                    format!("({}, {payload})", values[0])
                } else {
                    payload
                };
                writeln!(
                    body,
                    "        a.put::<{}>({:?}, {flat});",
                    lift_type(m),
                    m.name
                )
                .unwrap();
            }
            let values: Vec<String> = (0..options.len()).map(|i| format!("o{i}")).collect();
            for (o, ty) in values.iter().zip(&options) {
                params.push(format!("{o}: {ty}"));
            }
            writeln!(body, "        a.call({:?}, {})", op.name, values.join(", ")).unwrap();
            fields.len()
        }
    };
    assert_eq!(fields, members.len(), "{}: record fields", op.name);
    let mutable = if fields == 0 { "" } else { "mut " };
    writeln!(
        w,
        "unsafe extern \"C\" fn export_{func}({}) -> *mut u8 {{\n    unsafe {{\n        let {mutable}a = ArgsBuilder::start();\n{body}    }}\n}}",
        params.join(", ")
    )
    .unwrap();
    writeln!(
        w,
        "\n#[unsafe(export_name = {:?})]\nunsafe extern \"C\" fn post_return_{func}(ret: *mut u8) {{\n    unsafe {{ post_return(ret) }}\n}}",
        format!("cabi_post_{wit_name}")
    )
    .unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plugin's `catalog::unpack`, without its checks for a corrupt table.
    fn unpack(packed: &[u8]) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        let mut i = 0;
        while i < packed.len() {
            let token = packed[i];
            i += 1;
            if token < 0x80 {
                let n = usize::from(token) + 1;
                out.extend_from_slice(&packed[i..i + n]);
                i += n;
                continue;
            }
            let (mut distance, mut shift) = (0, 0);
            loop {
                let byte = packed[i];
                i += 1;
                distance |= usize::from(byte & 0x7f) << shift;
                shift += 7;
                if byte < 0x80 {
                    break;
                }
            }
            let start = out.len() - distance;
            for k in 0..usize::from(token & 0x7f) + MIN_COPY {
                out.push(out[start + k]);
            }
        }
        out
    }

    #[test]
    fn packing_round_trips_and_shrinks_repeats() {
        let catalog = Catalog::load_default().unwrap();
        let schemas: String = catalog
            .operations()
            .map(|(_, op)| result_schema(op))
            .collect();
        let packed = pack(schemas.as_bytes());
        assert_eq!(unpack(&packed), schemas.as_bytes());
        assert!(
            packed.len() * 4 < schemas.len(),
            "{} of {}",
            packed.len(),
            schemas.len()
        );
        for data in [
            &b""[..],
            b"a",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            &(0..=255).cycle().take(1000).collect::<Vec<u8>>(),
        ] {
            assert_eq!(unpack(&pack(data)), data);
        }
    }

    #[test]
    fn byte_strings_survive_line_breaks() {
        let data: Vec<u8> = b" \"\\ x\n\t\x80".repeat(40);
        let literal = byte_string(&data);
        assert!(literal.lines().count() > 2);
        // Undo the escapes the way rustc does.
        let inner = &literal[2..literal.len() - 1];
        let mut out = Vec::new();
        let mut chars = inner.bytes().peekable();
        while let Some(c) = chars.next() {
            if c != b'\\' {
                out.push(c);
                continue;
            }
            match chars.next().unwrap() {
                b'\n' => {
                    while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                        chars.next();
                    }
                }
                b'x' => {
                    let hex = [chars.next().unwrap(), chars.next().unwrap()];
                    out.push(u8::from_str_radix(std::str::from_utf8(&hex).unwrap(), 16).unwrap());
                }
                other => out.push(other),
            }
        }
        assert_eq!(out, data);
    }
}
