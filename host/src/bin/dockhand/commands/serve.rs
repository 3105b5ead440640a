//! `dockhand serve`: the MCP tools over Streamable HTTP at `/mcp` and the JSON API at `/v1/...`,
//! for the clients in config.yaml's `serve.clients` (or, with none, for this machine only),
//! until SIGTERM or Ctrl-C, which let in-flight calls finish first.

use super::Outcome;
use super::host::{accounts, open_with, paths};
use crate::cli::{Global, ServeArgs};
use crate::output::{Failure, usage};
use dockhand_host::credentials::serve_clients;
use dockhand_host::policy::Timeouts;
use dockhand_host::serve::{ServeOptions, Server, check_addr, tls_config};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(g: &Global, args: &ServeArgs) -> Outcome {
    let c = &g.credentials;
    if c.token_stdin || c.bearer_stdin || c.scim_token_stdin {
        return Err(usage(
            "`dockhand serve` runs unattended: give Hub credentials by the environment, the \
             config file or `docker login`, not on standard input",
        ));
    }
    let paths = paths(g);
    let clients = match &paths.config_file {
        Some(path) => serve_clients(path, paths.home.as_deref())
            .map_err(|e| usage(format!("serve clients: {e}")))?,
        None => Vec::new(),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls_config(cert, key).map_err(|e| usage(e.to_string()))?),
        (None, None) => None,
        _ => return Err(usage("--tls-cert and --tls-key go together")),
    };
    check_addr(args.addr, clients.len(), tls.is_some(), args.insecure_http)
        .map_err(|e| usage(e.to_string()))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let writers = if clients.is_empty() {
        args.allow_write
    } else {
        clients.iter().any(|c| c.allow_write)
    };
    if !clients.is_empty() && args.allow_write {
        return Err(usage(
            "--allow-write is for a server without clients; with serve.clients, allow_write is \
             set per client in config.yaml",
        ));
    }
    // The host policy refuses writes too when no client may write.
    let hub = Arc::new(open_with(
        g,
        g.base_url.clone(),
        accounts(g)?,
        Timeouts::default(),
        g.read_only || !writers,
    )?);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| Failure::Host(format!("binding {}: {e}", args.addr)))?;
    let options = ServeOptions {
        local_allow_write: args.allow_write && !g.read_only,
        max_in_flight: args.max_in_flight,
        max_queued: args.max_queued,
        max_connections: args.max_connections,
        grace: Duration::from_secs(args.grace),
        tls,
        clients,
        ..ServeOptions::default()
    };
    let who = if options.clients.is_empty() {
        format!(
            "no clients configured, so loopback only and every local caller may call ({})",
            if options.local_allow_write {
                "writes allowed"
            } else {
                "read-only"
            }
        )
    } else {
        let names: Vec<String> = options
            .clients
            .iter()
            .map(|c| {
                format!(
                    "{} ({})",
                    c.name,
                    if c.allow_write { "writes" } else { "read-only" }
                )
            })
            .collect();
        format!("clients: {}", names.join(", "))
    };
    let server = Server::start(hub, options, listener)
        .await
        .map_err(|e| Failure::Host(e.to_string()))?;
    eprintln!(
        "dockhand serve: listening on {scheme}://{} (MCP at /mcp, JSON API at /v1); {who}",
        server.addr()
    );
    shutdown_signal().await;
    eprintln!(
        "dockhand serve: shutting down; finishing calls in flight (up to {} s)",
        args.grace
    );
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM (how service managers stop a server) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
