//! The self-contained component, `dockhand-standalone.wasm`: the plugin with the environment
//! credentials provider (credentials-env/) plugged into its `dockhand:hub/credentials` import,
//! composed with `wac-graph`. What is left to import is WASI alone; the exports are the plugin's.

use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// The file name the build writes, beside the plugin's.
pub const FILE_NAME: &str = "dockhand-standalone.wasm";

/// Plugs `provider`'s export into `plugin`'s import of the same interface and encodes the
/// result as one component (both are embedded in it, not imported).
pub fn compose(plugin: &[u8], provider: &[u8]) -> Result<Vec<u8>, String> {
    let failed = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e:#}");
    let mut graph = CompositionGraph::new();
    let socket = Package::from_bytes("dockhand:plugin", None, plugin, graph.types_mut())
        .map_err(|e| failed("reading the plugin", &e))?;
    let socket = graph
        .register_package(socket)
        .map_err(|e| failed("registering the plugin", &e))?;
    let plug = Package::from_bytes(
        "dockhand:credentials-env",
        None,
        provider,
        graph.types_mut(),
    )
    .map_err(|e| failed("reading the credentials provider", &e))?;
    let plug = graph
        .register_package(plug)
        .map_err(|e| failed("registering the credentials provider", &e))?;
    wac_graph::plug(&mut graph, vec![plug], socket)
        .map_err(|e| failed("plugging the provider into the plugin", &e))?;
    graph
        .encode(EncodeOptions::default())
        .map_err(|e| failed("encoding the composition", &e))
}
