//! Bindings for the dockhand WIT world, confined to this module.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "dockhand:hub/plugin",
    imports: { default: async },
    exports: { default: async },
    additional_derives: [PartialEq],
});
