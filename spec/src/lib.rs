//! dockhand's catalog of Docker Hub operations.
//!
//! The catalog (`spec/areas/*.yaml`) is the single source of truth: the WIT contract, the plugin's
//! dispatch tables, the docs and the tool schemas are generated from it, and the importer checks
//! it against Docker's OpenAPI description.

#![deny(unsafe_code)]

pub mod import;
mod model;
pub mod shape;
mod validate;

/// The naming rules, kept with the vocabulary so the generator and the tests share them.
pub use dockhand_vocab::names;
pub use model::*;
pub use validate::CatalogError;

use std::path::{Path, PathBuf};

/// The root of the checkout being built or tested.
///
/// Found at run time from the folder cargo names for the running package (`cargo run`,
/// `cargo test`): a path baked in at compile time goes stale when one build cache serves
/// several checkouts, and then names a checkout that may be gone. Outside cargo, the
/// compile-time path serves.
pub fn checkout_root() -> PathBuf {
    let holds_catalog = |dir: &Path| dir.join("spec").join("areas").is_dir();
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .and_then(|dir| {
            dir.ancestors()
                .find(|a| holds_catalog(a))
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("spec/ sits in the checkout root")
                .to_path_buf()
        })
}

/// All areas, in a stable order (by file name), with their operations.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub areas: Vec<Area>,
    /// The shapes of error answers (`spec/shapes/errors.yaml`; empty without that file).
    pub errors: ErrorShapes,
}

impl Catalog {
    /// The catalog folder of this checkout.
    pub fn default_dir() -> PathBuf {
        checkout_root().join("spec").join("areas")
    }

    /// Loads the checkout's catalog; the catalog is part of the build, so failure is a bug.
    pub fn load_default() -> Result<Catalog, CatalogError> {
        Catalog::load(&Catalog::default_dir())
    }

    /// Loads every `*.yaml` file of `dir` and validates the whole.
    pub fn load(dir: &Path) -> Result<Catalog, CatalogError> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| CatalogError::new(format!("reading {}: {e}", dir.display())))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        files.sort();
        let mut areas = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CatalogError::new(format!("reading {}: {e}", file.display())))?;
            let mut area: Area = serde_yaml::from_str(&text)
                .map_err(|e| CatalogError::new(format!("{}: {e}", file.display())))?;
            let shapes = Catalog::shapes_dir(dir).join(format!("{}.yaml", area.area));
            if shapes.exists() {
                add_shapes(&mut area, &shapes)?;
            }
            areas.push(area);
        }
        let errors_file = Catalog::shapes_dir(dir).join("errors.yaml");
        let errors = if errors_file.exists() {
            read_errors(&errors_file)?
        } else {
            ErrorShapes::new()
        };
        let catalog = Catalog { areas, errors };
        catalog.validate()?;
        Ok(catalog)
    }

    /// Where the result shapes of the catalog in `dir` live: `shapes/` beside `areas/`.
    pub fn shapes_dir(dir: &Path) -> PathBuf {
        dir.parent().unwrap_or(dir).join("shapes")
    }

    pub fn operations(&self) -> impl Iterator<Item = (&Area, &Operation)> {
        self.areas
            .iter()
            .flat_map(|area| area.operations.iter().map(move |op| (area, op)))
    }

    pub fn find(&self, name: &str) -> Option<&Operation> {
        self.operations()
            .map(|(_, op)| op)
            .find(|op| op.all_names().any(|n| n == name))
    }
}

fn read_errors(file: &Path) -> Result<ErrorShapes, CatalogError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CatalogError::new(format!("reading {}: {e}", file.display())))?;
    let errors: ErrorShapes = serde_yaml::from_str(&text)
        .map_err(|e| CatalogError::new(format!("{}: {e}", file.display())))?;
    let problems: Vec<String> = errors
        .iter()
        .flat_map(|(name, e)| {
            shape::check(&e.shape)
                .into_iter()
                .map(move |p| format!("{}: `{name}`: {p}", file.display()))
        })
        .collect();
    if problems.is_empty() {
        Ok(errors)
    } else {
        Err(CatalogError { problems })
    }
}

/// Puts the shapes of `file` on the responses of `area`; an entry for an operation or status the
/// area does not have, or a shape outside the subset, is an error naming it.
fn add_shapes(area: &mut Area, file: &Path) -> Result<(), CatalogError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CatalogError::new(format!("reading {}: {e}", file.display())))?;
    let shapes: ShapesFile = serde_yaml::from_str(&text)
        .map_err(|e| CatalogError::new(format!("{}: {e}", file.display())))?;
    let mut problems = Vec::new();
    for (name, statuses) in shapes {
        let Some(op) = area.operations.iter_mut().find(|op| op.name == name) else {
            problems.push(format!(
                "{}: no operation `{name}` in this area",
                file.display()
            ));
            continue;
        };
        for (status, entry) in statuses {
            let Some(response) = op.responses.iter_mut().find(|r| r.status == status) else {
                problems.push(format!(
                    "{}: `{name}` has no {status} response",
                    file.display()
                ));
                continue;
            };
            for p in shape::check(&entry.shape) {
                problems.push(format!("{}: `{name}` {status}: {p}", file.display()));
            }
            response.shape = Some(entry.shape);
            response.shape_fixes = entry.fixes;
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CatalogError { problems })
    }
}

impl Operation {
    /// Every name this operation answers to: its own, the OpenAPI operationId, the seed's names.
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.operation_id.as_deref())
            .chain(self.seed_names.iter().map(String::as_str))
    }

    /// The aliases: every name but the friendly one, without repeats.
    pub fn aliases(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for n in self.all_names().skip(1) {
            if n != self.name && !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }

    /// Names of the path parameters in template order.
    pub fn path_placeholders(&self) -> Vec<&str> {
        names::placeholders(&self.path)
    }
}

impl Param {
    /// Spellings accepted besides the OpenAPI name (`pageSize` -> `page_size`).
    pub fn aliases(&self) -> Vec<String> {
        let snake = names::snake_case(&self.name);
        if snake == self.name {
            Vec::new()
        } else {
            vec![snake]
        }
    }
}

impl Field {
    pub fn aliases(&self) -> Vec<String> {
        let snake = names::snake_case(&self.name);
        if snake == self.name {
            Vec::new()
        } else {
            vec![snake]
        }
    }
}
