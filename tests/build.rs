//! The credentials provider's path, from the host's build (see host/build.rs), for the tests of
//! the self-contained component.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_DOCKHAND_COMPONENT_PROVIDER");
    match std::env::var("DEP_DOCKHAND_COMPONENT_PROVIDER") {
        Ok(path) => println!("cargo:rustc-env=DOCKHAND_PROVIDER_WASM={path}"),
        Err(_) => panic!(
            "the host's build made no credentials provider (DOCKHAND_COMPONENT_WASM was set, so it \
             built nothing); the tests need both"
        ),
    }
}
