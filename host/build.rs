//! Builds the dockhand component (plugin/ for wasm32-wasip2, release profile) so that the host
//! library and the `dockhand` CLI can embed it: a plain `cargo build` or `cargo test` gives a
//! working binary with no path to configure.
//!
//! The same nested build makes the environment credentials provider (credentials-env/) and the
//! gateway component (gateway/), which the host does not use: their paths go to the crates that
//! depend on this one as `DEP_DOCKHAND_COMPONENT_PROVIDER` and `..._GATEWAY` (`links` metadata),
//! and the gateway's to the host's own tests (`DOCKHAND_GATEWAY_WASM`), which run it beside
//! `dockhand serve`.
//!
//! The nested cargo uses its own target directory (`<target>/component`), so it never waits on
//! the lock of the build that runs this script.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root");
    // The root manifest holds the profiles the component is built with.
    for watched in [
        "plugin/src",
        "plugin/build.rs",
        "plugin/Cargo.toml",
        "plugin/core/Cargo.toml",
        "credentials-env/src",
        "credentials-env/Cargo.toml",
        "gateway/src",
        "gateway/Cargo.toml",
        "api/src",
        "api/Cargo.toml",
        "vocab/src",
        "vocab/Cargo.toml",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=DOCKHAND_COMPONENT_WASM");

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let out = out_dir.join("dockhand_plugin.wasm");
    // A prebuilt component can be supplied instead (packaging, or a machine without the target);
    // the provider is then not built.
    if let Some(prebuilt) = std::env::var_os("DOCKHAND_COMPONENT_WASM") {
        std::fs::copy(&prebuilt, &out).expect("copy DOCKHAND_COMPONENT_WASM");
        return;
    }

    ensure_wasm_target();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("component");
    // One build: the gateway links the plugin's source as its own package (plugin/core), so
    // the component's features and files are untouched by it.
    build_wasm(
        root,
        &target_dir,
        &[
            "dockhand-plugin",
            "dockhand-credentials-env",
            "dockhand-gateway",
        ],
    );
    let built = target_dir.join("wasm32-wasip2/release");
    copy_if_changed(&built.join("dockhand_plugin.wasm"), &out);
    let provider = out_dir.join("dockhand_credentials_env.wasm");
    copy_if_changed(&built.join("dockhand_credentials_env.wasm"), &provider);
    println!("cargo:provider={}", provider.display());
    let gateway = out_dir.join("dockhand_gateway.wasm");
    copy_if_changed(&built.join("dockhand_gateway.wasm"), &gateway);
    println!("cargo:gateway={}", gateway.display());
    // The host's own tests run the gateway beside `dockhand serve`.
    println!(
        "cargo:rustc-env=DOCKHAND_GATEWAY_WASM={}",
        gateway.display()
    );
}

/// `cargo build --target wasm32-wasip2 --release` of `packages`, into `target_dir`, with none
/// of the outer build's settings.
fn build_wasm(root: &Path, target_dir: &Path, packages: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args(["build", "--quiet"]);
    for package in packages {
        cmd.args(["-p", package]);
    }
    cmd.args(["--target", "wasm32-wasip2", "--release"])
        .arg("--target-dir")
        .arg(target_dir);
    // Settings meant for the outer (native) build must not leak into the wasm build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    for (key, _) in std::env::vars_os() {
        if let Some(key) = key.to_str()
            && (key.starts_with("CARGO_PROFILE_") || key.starts_with("CARGO_CFG_"))
        {
            cmd.env_remove(key);
        }
    }
    let status = cmd.status().expect("run cargo to build the components");
    if !status.success() {
        panic!(
            "building {} for wasm32-wasip2 failed; try `cargo build -p {} --target wasm32-wasip2 --release` \
             (the wasm32-wasip2 target comes with rust-toolchain.toml: `rustup target add wasm32-wasip2`)",
            packages.join(", "),
            packages[0]
        );
    }
}

/// rust-toolchain.toml lists the wasm32-wasip2 target, but rustup adds listed targets only when
/// it installs the toolchain itself; a machine that already had Rust 1.95 lacks it. Adding it
/// here keeps "clone, then cargo run" working.
fn ensure_wasm_target() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let Some(sysroot) = sysroot else { return };
    if sysroot.join("lib/rustlib/wasm32-wasip2").exists() {
        return;
    }
    println!(
        "cargo:warning=installing the wasm32-wasip2 target with rustup (needed to build the component)"
    );
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", "wasm32-wasip2"]);
    if let Some(toolchain) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        cmd.arg("--toolchain").arg(toolchain);
    }
    let _ = cmd.status();
}

fn copy_if_changed(from: &Path, to: &Path) {
    let new = std::fs::read(from).expect("read the built component");
    if std::fs::read(to).ok().as_deref() != Some(new.as_slice()) {
        std::fs::write(to, new).expect("write the component into OUT_DIR");
    }
}
