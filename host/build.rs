//! Builds the dockhand component (plugin/ for wasm32-wasip2, release profile) so that the host
//! library and the `dockhand` CLI can embed it: a plain `cargo build` or `cargo test` gives a
//! working binary with no path to configure.
//!
//! The same nested build makes the environment credentials provider (credentials-env/), which
//! the host does not use: its path goes to the crates that depend on this one as
//! `DEP_DOCKHAND_COMPONENT_PROVIDER` (`links` metadata), for the tests of the self-contained
//! component.
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
        "credentials-env/src",
        "credentials-env/Cargo.toml",
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
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--quiet",
            "-p",
            "dockhand-plugin",
            "-p",
            "dockhand-credentials-env",
            "--target",
            "wasm32-wasip2",
            "--release",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
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
    let status = cmd.status().expect("run cargo to build the component");
    if !status.success() {
        panic!(
            "building the dockhand component failed; try `cargo build -p dockhand-plugin --target wasm32-wasip2 --release` \
             (the wasm32-wasip2 target comes with rust-toolchain.toml: `rustup target add wasm32-wasip2`)"
        );
    }
    let built = target_dir.join("wasm32-wasip2/release");
    copy_if_changed(&built.join("dockhand_plugin.wasm"), &out);
    let provider = out_dir.join("dockhand_credentials_env.wasm");
    copy_if_changed(&built.join("dockhand_credentials_env.wasm"), &provider);
    println!("cargo:provider={}", provider.display());
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
