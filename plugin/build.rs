//! Link settings for the component.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        // Start the guest with 2 MiB of memory (its 1 MiB stack, its data, and heap) rather
        // than the least that fits. A fresh instance otherwise grows its heap on its first
        // call, and the pooling allocator pays an `mprotect` to open the pages and another to
        // close them when the slot is reset, each a TLB flush on every core. Pages never
        // touched cost nothing: the host keeps only written pages resident.
        println!("cargo:rustc-link-arg-cdylib=--initial-memory=2097152");
    }
}
