//! The component's WIT as the canonical ABI sees it, for the typed export glue.
//!
//! The glue in `plugin/src/generated/exports.rs` lifts each typed function's arguments itself
//! (see `tables::exports_file`), so it must know, for every function, whether its parameters
//! arrive flat or spilled to memory, the core types of the flat ones, and the offsets of the
//! spilled ones. Those come from `wit-parser` (the version wit-bindgen uses, pinned in the
//! workspace) over the very WIT the component is built from: the hand-written files in `wit/`
//! and the generated ones as this run writes them, never a stale copy on disk. A change to
//! `call-options` or to the catalog's types then moves the offsets with it, where hand-kept
//! sizes would silently send wrong values.

use std::path::Path;
use wit_parser::abi::{AbiVariant, FlatTypes, WasmType};
use wit_parser::{Function, Record, Resolve, SizeAlign, Type, TypeDefKind};

/// The parsed `dockhand:hub` package with its type layouts.
pub struct Abi {
    resolve: Resolve,
    sizes: SizeAlign,
}

/// How one typed export receives its parameters.
pub enum Params<'a> {
    /// As core values: each field of the argument record's flat types, then the options'.
    Flat {
        fields: Vec<FlatField<'a>>,
        options: Vec<&'static str>,
    },
    /// Through one pointer to the parameters stored as a tuple `(args, options)`.
    Spilled {
        /// Each field of the argument record and its offset from the pointer.
        fields: Vec<(&'a str, usize)>,
        /// Where `options` starts, and the tuple's size and alignment.
        options: usize,
        size: usize,
        align: usize,
    },
}

/// Where `catalog.call` finds its parameters when they are passed in memory (they always are: 18
/// flat values exceed the canonical ABI's 16), and how `call-options` is laid out in them.
pub struct CallLayout {
    /// Size and alignment of the `(operation, args-json, options)` tuple.
    pub size: usize,
    pub align: usize,
    /// Offsets of `operation`, `args-json` and `options` in that tuple.
    pub operation: usize,
    pub args_json: usize,
    pub options: usize,
    /// Size and alignment of `call-options`.
    pub options_size: usize,
    pub options_align: usize,
    /// Each field of `call-options`, in order.
    pub option_fields: Vec<OptionField>,
}

/// One `option<T>` field of `call-options`: where its discriminant and payload lie, and the
/// core values it arrives as when passed flat (the discriminant first).
pub struct OptionField {
    pub name: String,
    pub offset: usize,
    /// The payload's offset from the field's.
    pub payload: usize,
    /// The Rust types of the flat values, discriminant first.
    pub flat: Vec<&'static str>,
    /// How the payload is stored: one `(offset from the payload, Rust type, byte width)` per
    /// flat payload value.
    pub stores: Vec<(usize, &'static str)>,
}

/// One argument-record field passed flat.
pub struct FlatField<'a> {
    pub name: &'a str,
    /// An `option<T>`: the first core value is the discriminant.
    pub optional: bool,
    /// The Rust types of its core values, in order.
    pub types: Vec<&'static str>,
}

impl Abi {
    /// Parses the hand-written `*.wit` files of `dir` (every file not named `gen-*`) together
    /// with `generated`, the generated files' paths and texts.
    ///
    /// Panics with the parser's message when the WIT does not resolve: nothing can be generated
    /// from it, and the message says where it is wrong.
    pub fn parse<'a>(dir: &Path, generated: impl IntoIterator<Item = (&'a Path, &'a str)>) -> Abi {
        let mut sources = wit_parser::SourceMap::new();
        let mut hand_written: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|entry| entry.expect("a readable wit/ entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "wit"))
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with("gen-"))
            .collect();
        hand_written.sort();
        for path in &hand_written {
            let text = std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            sources.push_str(&path.display().to_string(), text);
        }
        for (path, text) in generated {
            sources.push_str(&path.display().to_string(), text);
        }
        let group = sources
            .parse()
            .unwrap_or_else(|(map, e)| panic!("the WIT does not parse: {}", e.render(&map)));
        let map = group.source_map.clone();
        let mut resolve = Resolve::default();
        resolve
            .push_group(group)
            .unwrap_or_else(|e| panic!("the WIT does not resolve: {}", e.render(&map)));
        let mut sizes = SizeAlign::default();
        sizes.fill(&resolve);
        Abi { resolve, sizes }
    }

    /// The function `name` of interface `interface`.
    fn function(&self, interface: &str, name: &str) -> &Function {
        let (_, iface) = self
            .resolve
            .interfaces
            .iter()
            .find(|(_, i)| i.name.as_deref() == Some(interface))
            .unwrap_or_else(|| panic!("no interface `{interface}` in the WIT"));
        iface
            .functions
            .get(name)
            .unwrap_or_else(|| panic!("no function `{interface}.{name}` in the WIT"))
    }

    /// The argument record of a function that takes `(args, options)`, or `None` for one that
    /// takes only `options`.
    fn args_record(&self, func: &Function) -> Option<&Record> {
        match func.params.as_slice() {
            [_options] => None,
            [args, _options] => match &self.resolve.types[self.type_id(&args.ty)].kind {
                TypeDefKind::Record(record) => Some(record),
                other => panic!("{}: args is a {other:?}, not a record", func.name),
            },
            _ => panic!("{}: expected (args, options) or (options)", func.name),
        }
    }

    fn type_id(&self, ty: &Type) -> wit_parser::TypeId {
        match ty {
            Type::Id(id) => *id,
            other => panic!("{other:?} is not a named type"),
        }
    }

    fn is_option(&self, ty: &Type) -> bool {
        matches!(ty, Type::Id(id) if matches!(self.resolve.types[*id].kind, TypeDefKind::Option(_)))
    }

    /// The Rust types of the core values `ty` flattens to.
    fn flat(&self, ty: &Type) -> Vec<&'static str> {
        let mut storage = [WasmType::I32; Resolve::MAX_FLAT_PARAMS];
        let mut flat = FlatTypes::new(&mut storage);
        assert!(
            self.resolve.push_flat(ty, &mut flat),
            "{ty:?} is too large to pass flat"
        );
        flat.to_vec().into_iter().map(rust_core_type).collect()
    }

    /// How the export `interface.name` receives its parameters.
    pub fn params(&self, interface: &str, name: &str) -> Params<'_> {
        let func = self.function(interface, name);
        let options = &func.params.last().expect("every function takes options").ty;
        let fields = self
            .args_record(func)
            .map_or(&[][..], |r| r.fields.as_slice());
        let signature = self.resolve.wasm_signature(AbiVariant::GuestExport, func);
        if signature.indirect_params {
            let types = func.params.iter().map(|p| &p.ty);
            let tuple = self.sizes.params(types.clone());
            let offsets = self.sizes.field_offsets(types);
            let record = offsets.first().map(|(at, _)| at.size_wasm32());
            assert_eq!(record, Some(0), "{name}: the record starts the tuple");
            Params::Spilled {
                fields: self
                    .sizes
                    .field_offsets(fields.iter().map(|f| &f.ty))
                    .into_iter()
                    .zip(fields)
                    .map(|((at, _), f)| (f.name.as_str(), at.size_wasm32()))
                    .collect(),
                options: offsets.last().unwrap().0.size_wasm32(),
                size: tuple.size.size_wasm32(),
                align: tuple.align.align_wasm32(),
            }
        } else {
            let params = Params::Flat {
                fields: fields
                    .iter()
                    .map(|f| FlatField {
                        name: &f.name,
                        optional: self.is_option(&f.ty),
                        types: self.flat(&f.ty),
                    })
                    .collect(),
                options: self.flat(options),
            };
            if let Params::Flat { fields, options } = &params {
                let count = fields.iter().map(|f| f.types.len()).sum::<usize>() + options.len();
                assert_eq!(count, signature.params.len(), "{name}: flat parameters");
            }
            params
        }
    }
}

impl Abi {
    /// The layout of `catalog.call`'s parameters, which the typed exports build by hand.
    pub fn call_layout(&self) -> CallLayout {
        let func = self.function("catalog", "call");
        let signature = self.resolve.wasm_signature(AbiVariant::GuestExport, func);
        assert!(
            signature.indirect_params,
            "catalog.call: parameters in memory"
        );
        let names: Vec<&str> = func.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["operation", "args-json", "options"],
            "catalog.call's parameters"
        );
        for p in &func.params[..2] {
            assert_eq!(p.ty, Type::String, "catalog.call: `{}` is a string", p.name);
        }
        let types = func.params.iter().map(|p| &p.ty);
        let tuple = self.sizes.params(types.clone());
        let offsets: Vec<usize> = self
            .sizes
            .field_offsets(types)
            .into_iter()
            .map(|(at, _)| at.size_wasm32())
            .collect();
        let options = &func.params[2].ty;
        let TypeDefKind::Record(record) = self.kind(options) else {
            panic!("call-options is not a record");
        };
        let option_fields = self
            .sizes
            .field_offsets(record.fields.iter().map(|f| &f.ty))
            .into_iter()
            .zip(&record.fields)
            .map(|((at, _), f)| self.option_field(&f.name, at.size_wasm32(), &f.ty))
            .collect();
        CallLayout {
            size: tuple.size.size_wasm32(),
            align: tuple.align.align_wasm32(),
            operation: offsets[0],
            args_json: offsets[1],
            options: offsets[2],
            options_size: self.sizes.size(options).size_wasm32(),
            options_align: self.sizes.align(options).align_wasm32(),
            option_fields,
        }
    }

    /// What a named type is, through the aliases that `use` makes.
    fn kind(&self, ty: &Type) -> &TypeDefKind {
        match &self.resolve.types[self.type_id(ty)].kind {
            TypeDefKind::Type(aliased) => self.kind(aliased),
            kind => kind,
        }
    }

    fn option_field(&self, name: &str, offset: usize, ty: &Type) -> OptionField {
        let TypeDefKind::Option(inner) = self.kind(ty) else {
            panic!("call-options.{name} is not an option");
        };
        // An option is a variant: a u8 discriminant, then the payload at its own alignment.
        let payload = self
            .sizes
            .field_offsets([&Type::U8, inner])
            .last()
            .unwrap()
            .0
            .size_wasm32();
        let stores = match inner {
            Type::String => vec![(0, "*mut u8"), (4, "usize")],
            Type::Bool | Type::U8 => vec![(0, "u8")],
            Type::U32 | Type::S32 => vec![(0, "u32")],
            Type::U64 | Type::S64 => vec![(0, "u64")],
            other => panic!("call-options.{name}: no memory form for {other:?}"),
        };
        let flat = self.flat(ty);
        assert_eq!(
            flat.len(),
            1 + stores.len(),
            "call-options.{name}: flat values"
        );
        OptionField {
            name: name.to_string(),
            offset,
            payload,
            flat,
            stores,
        }
    }
}

/// The Rust type a core wasm value has in the glue's `extern "C"` signatures (wasm32).
fn rust_core_type(ty: WasmType) -> &'static str {
    match ty {
        WasmType::I32 => "i32",
        WasmType::I64 => "i64",
        WasmType::F32 => "f32",
        WasmType::F64 => "f64",
        WasmType::Pointer => "*mut u8",
        WasmType::Length => "usize",
        WasmType::PointerOrI64 => unreachable!("no variant mixes pointers and i64 in the exports"),
    }
}
