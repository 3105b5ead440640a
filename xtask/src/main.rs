//! `cargo xtask <command>`: the project's own commands.
//!
//! - `gen [--check]`: regenerate wit/ and the plugin's tables from spec/ (or check they are fresh).
//! - `import <openapi.yaml> [--skeleton] [--write-shapes]`: compare an OpenAPI description with
//!   the catalog; print entries for operations it lacks; start the shapes files it lacks.
//! - `standalone`: build the plugin and the environment credentials provider for wasm32-wasip2
//!   and compose them into `dockhand-standalone.wasm`, beside the plugin's `.wasm`.
//! - `test`: every test: the Rust workspace, then the Node and Python bindings.

#![deny(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("gen") => generate(args.iter().any(|a| a == "--check")),
        Some("import") => import(&args[1..]),
        Some("standalone") => standalone(),
        Some("gateway") => gateway(),
        Some("test") => test_everything(),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

const USAGE: &str = "usage: cargo xtask gen [--check]\n       cargo xtask import <openapi.yaml> [--skeleton] [--write-shapes]\n       cargo xtask standalone\n       cargo xtask gateway\n       cargo xtask test";

fn catalog() -> Result<dockhand_spec::Catalog, String> {
    dockhand_spec::Catalog::load_default().map_err(|e| e.to_string())
}

fn generate(check: bool) -> Result<ExitCode, String> {
    let catalog = catalog()?;
    let root = xtask::repo_root();
    let files = xtask::generate(&catalog);
    let stale = xtask::stale_files(&root, &files);
    if check {
        if stale.is_empty() {
            println!("generated files are up to date ({} files)", files.len());
            return Ok(ExitCode::SUCCESS);
        }
        for f in &stale {
            eprintln!("stale: {}", f.display());
        }
        eprintln!("run `cargo xtask gen` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    xtask::write_files(&root, &files).map_err(|e| e.to_string())?;
    for f in &stale {
        println!("wrote {}", f.display());
    }
    println!("{} generated files, {} changed", files.len(), stale.len());
    Ok(ExitCode::SUCCESS)
}

/// Starts `spec/shapes/<area>.yaml` for every area that has none, from upstream's response
/// schemas as shapes (structure only: the descriptions are then written in our own words, and
/// corrections recorded as fixes). An existing file is never overwritten.
fn write_shapes(
    catalog: &dockhand_spec::Catalog,
    upstream: &[dockhand_spec::import::UpstreamOperation],
) -> Result<(), String> {
    let dir = dockhand_spec::Catalog::shapes_dir(&dockhand_spec::Catalog::default_dir());
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let errors = dir.join("errors.yaml");
    if errors.exists() {
        println!("kept {}", errors.display());
    } else {
        let mut shapes = dockhand_spec::ErrorShapes::new();
        for up in upstream {
            for (_, shape) in &up.errors {
                if !shapes.values().any(|e| &e.shape == shape) {
                    let scim = up.path.contains("/scim/");
                    shapes.insert(
                        format!("error-{}", shapes.len() + 1),
                        dockhand_spec::ErrorShape {
                            scim,
                            status: None,
                            shape: shape.clone(),
                            fixes: Vec::new(),
                        },
                    );
                }
            }
        }
        let yaml = serde_yaml::to_string(&shapes).map_err(|e| e.to_string())?;
        std::fs::write(&errors, yaml).map_err(|e| format!("{}: {e}", errors.display()))?;
        println!("wrote {}", errors.display());
    }
    for area in &catalog.areas {
        let file = dir.join(format!("{}.yaml", area.area));
        if file.exists() {
            println!("kept {}", file.display());
            continue;
        }
        let mut shapes = dockhand_spec::ShapesFile::new();
        for op in &area.operations {
            let Some(up) = upstream
                .iter()
                .find(|u| u.method == op.method && u.path == op.path)
            else {
                continue;
            };
            for r in &up.responses {
                if let Some(shape) = &r.shape {
                    shapes.entry(op.name.clone()).or_default().insert(
                        r.status,
                        dockhand_spec::ShapeEntry {
                            shape: shape.clone(),
                            fixes: Vec::new(),
                        },
                    );
                }
            }
        }
        let yaml = serde_yaml::to_string(&shapes).map_err(|e| e.to_string())?;
        std::fs::write(&file, yaml).map_err(|e| format!("{}: {e}", file.display()))?;
        println!("wrote {}", file.display());
    }
    Ok(())
}

/// `cargo build --target wasm32-wasip2 --release` of `packages`; the directory the components
/// are in, or `None` when the build failed (cargo has said why).
fn build_components(packages: &[&str]) -> Result<Option<PathBuf>, String> {
    let root = xtask::repo_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command.arg("build");
    for package in packages {
        command.args(["-p", package]);
    }
    let built = command
        .args(["--target", "wasm32-wasip2", "--release"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("running cargo build: {e}"))?;
    if !built.success() {
        return Ok(None);
    }
    // cargo reads a relative CARGO_TARGET_DIR from the directory it runs in: the root here.
    Ok(Some(
        root.join(
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from),
        )
        .join("wasm32-wasip2/release"),
    ))
}

/// Builds the gateway component and copies it to
/// `target/wasm32-wasip2/release/dockhand-gateway.wasm`, the name the docs and spin.toml use.
fn gateway() -> Result<ExitCode, String> {
    let Some(dir) = build_components(&["dockhand-gateway"])? else {
        return Ok(ExitCode::FAILURE);
    };
    let from = dir.join("dockhand_gateway.wasm");
    let out = dir.join("dockhand-gateway.wasm");
    let bytes = std::fs::copy(&from, &out).map_err(|e| format!("{}: {e}", from.display()))?;
    println!("wrote {} ({bytes} bytes)", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Builds the plugin and the provider (release, wasm32-wasip2) and writes their composition
/// beside them.
fn standalone() -> Result<ExitCode, String> {
    let Some(dir) = build_components(&["dockhand-plugin", "dockhand-credentials-env"])? else {
        return Ok(ExitCode::FAILURE);
    };
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let plugin = read("dockhand_plugin.wasm")?;
    let provider = read("dockhand_credentials_env.wasm")?;
    let composed = xtask::standalone::compose(&plugin, &provider)?;
    let out = dir.join(xtask::standalone::FILE_NAME);
    std::fs::write(&out, &composed).map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "wrote {} ({} bytes: the plugin's {} and the provider's {})",
        out.display(),
        composed.len(),
        plugin.len(),
        provider.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs both suites even when the first fails, so one run reports everything.
fn test_everything() -> Result<ExitCode, String> {
    use std::process::Command;
    let root = xtask::repo_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let rust = Command::new(cargo)
        .args(["test", "--workspace"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("running cargo test: {e}"))?;
    let bindings = Command::new("bash")
        .arg("bindings/run-tests.sh")
        .current_dir(&root)
        .status()
        .map_err(|e| format!("running bindings/run-tests.sh: {e}"))?;
    Ok(if rust.success() && bindings.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn import(args: &[String]) -> Result<ExitCode, String> {
    let file = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .ok_or_else(|| USAGE.to_string())?;
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let upstream = dockhand_spec::import::read_openapi(&text).map_err(|e| e.to_string())?;
    let catalog = catalog()?;
    let report = dockhand_spec::import::compare(&catalog, &upstream);
    print!("{report}");
    if args.iter().any(|a| a == "--write-shapes") {
        write_shapes(&catalog, &upstream)?;
    }
    if args.iter().any(|a| a == "--skeleton") {
        for op in &report.added {
            let entry = dockhand_spec::import::skeleton(op);
            let yaml = serde_yaml::to_string(&vec![entry]).map_err(|e| e.to_string())?;
            println!("# tag: {}\n{yaml}", op.tag.as_deref().unwrap_or("-"));
        }
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
