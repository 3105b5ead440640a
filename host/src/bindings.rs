//! Bindings for the dockhand WIT world, confined to this module.

// `bindgen!` writes the world's types and functions without doc comments (the WIT is their
// documentation), so missing docs are allowed in its output, and only there.
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "dockhand:hub/plugin",
        imports: { default: async },
        exports: { default: async },
        additional_derives: [PartialEq],
    });
}

pub use generated::*;

use exports::dockhand::hub::types::TransportKind;

impl TransportKind {
    /// The WIT spelling (`connection-reset`), which every JSON rendering of an error uses.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Dns => "dns",
            TransportKind::ConnectionRefused => "connection-refused",
            TransportKind::ConnectionReset => "connection-reset",
            TransportKind::Timeout => "timeout",
            TransportKind::Tls => "tls",
            TransportKind::Protocol => "protocol",
            TransportKind::BodyTooLarge => "body-too-large",
            TransportKind::Other => "other",
        }
    }
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
