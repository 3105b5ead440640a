//! The built component itself: its size budget and what it asks of a host.

use dockhand_host::engine::EMBEDDED_COMPONENT;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// Raised from 400 KiB on 2026-12-06 for the tag cleanup's regular expressions (11 KB) and its
/// apply (12 KB); BENCHMARKS.md keeps the size history.
const MAX_COMPONENT_BYTES: usize = 420 * 1024;

#[test]
fn component_is_under_its_size_budget() {
    let size = EMBEDDED_COMPONENT.len();
    eprintln!("component size: {size} bytes");
    assert!(
        size < MAX_COMPONENT_BYTES,
        "the component is {size} bytes; the budget is {MAX_COMPONENT_BYTES}"
    );
}

/// The interface names a component imports, without their versions.
fn imports() -> Vec<String> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).unwrap();
    let component = Component::new(&engine, EMBEDDED_COMPONENT).unwrap();
    component
        .component_type()
        .imports(&engine)
        .map(|(name, _)| name.split('@').next().unwrap().to_string())
        .collect()
}

#[test]
fn component_imports_only_http_io_clocks_random_and_credentials() {
    let imports = imports();
    assert!(
        imports.iter().any(|i| i == "wasi:http/outgoing-handler"),
        "{imports:?}"
    );
    assert!(
        imports.iter().any(|i| i == "dockhand:hub/credentials"),
        "{imports:?}"
    );
    for import in &imports {
        let allowed = import.starts_with("wasi:http/")
            || import.starts_with("wasi:io/")
            // The wall clock for the older X-Retry-After (an instant), the monotonic one to
            // wait before a retry.
            || import.starts_with("wasi:clocks/")
            || import.starts_with("wasi:random/")
            || import == "dockhand:hub/credentials";
        assert!(
            allowed,
            "unexpected import {import}; all imports: {imports:?}"
        );
        // No std, so no wasi-libc: no stdio, environment or exit for a host to provide.
        assert!(!import.starts_with("wasi:cli/"), "{import}");
        assert!(!import.starts_with("wasi:sockets/"), "{import}");
        assert!(!import.starts_with("wasi:filesystem/"), "{import}");
    }
}
