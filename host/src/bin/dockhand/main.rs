//! `dockhand`: the command-line face of the dockhand host.

mod cli;
mod output;

use clap::Parser;
use cli::{CallArgs, Cli, Command, Global, LuaArgs, McpArgs};
use dockhand_host::credentials::{Accounts, FlagCredentials, Paths, ProcessEnv, read_secret};
use dockhand_host::engine::LoadedFrom;
use dockhand_host::policy::{BaseUrl, Policy, Timeouts};
use dockhand_host::{CallError, CallOptions, Dockhand, HostConfig, HubError};
use output::{exit, print_json, report, say, usage};
use serde_json::{Map, Value, json};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::HOST);
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let g = &cli.global;
    match &cli.command {
        Command::Mock { addr, data, public } => mock(addr, data.as_deref(), *public).await,
        Command::Accounts => match accounts(g).and_then(|accounts| {
            let base = BaseUrl::parse(&g.base_url)
                .map_err(|e| usage(format!("--base-url: {e}"), g.json))?;
            Ok(accounts.for_base_url(&base))
        }) {
            Ok(accounts) => {
                let listing = accounts.listing();
                if g.json {
                    print_json(&serde_json::to_value(&listing).unwrap_or(Value::Null), true);
                } else {
                    for a in &listing {
                        say!("{a}");
                    }
                }
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Demo { offline } => demo(g, *offline).await,
        Command::Call(args) => {
            let hub = match open(g, g.base_url.clone()) {
                Ok(hub) => hub,
                Err(code) => return code,
            };
            call(&hub, g, args).await
        }
        Command::Ops => {
            let hub = match open(g, g.base_url.clone()) {
                Ok(hub) => hub,
                Err(code) => return code,
            };
            ops(&hub, g.json).await
        }
        Command::Docs { topic } => {
            let hub = match open(g, g.base_url.clone()) {
                Ok(hub) => hub,
                Err(code) => return code,
            };
            match hub.docs(topic.as_deref()).await {
                Ok(md) => {
                    say!("{md}");
                    ExitCode::SUCCESS
                }
                Err(e) => report(&e, g.json),
            }
        }
        Command::Mcp(args) => mcp(g, args).await,
        Command::Lua(args) => lua(g, args).await,
        Command::Precompile => {
            let hub = match open(g, g.base_url.clone()) {
                Ok(hub) => hub,
                Err(code) => return code,
            };
            match hub.loaded_from() {
                LoadedFrom::Cache(path) => say!("already precompiled: {}", path.display()),
                LoadedFrom::Compiled => match cache_dir(g) {
                    Some(dir) => say!("precompiled into {}", dir.display()),
                    None => say!("compiled in memory (no cache directory)"),
                },
            }
            if hub.runtime().pooling {
                say!("instances: pooling allocator");
            } else {
                say!(
                    "instances: on demand (the pooling allocator could not be set up here, \
                     usually for want of address space; calls work, instantiation is slower)"
                );
            }
            ExitCode::SUCCESS
        }
    }
}

fn cache_dir(g: &Global) -> Option<std::path::PathBuf> {
    if g.no_cache {
        None
    } else {
        g.cache_dir
            .clone()
            .or_else(dockhand_host::engine::default_cache_dir)
    }
}

/// Accounts from flags (secrets only from stdin), environment, config file and Docker's login.
fn accounts(g: &Global) -> Result<Accounts, ExitCode> {
    let c = &g.credentials;
    let mut flags = FlagCredentials {
        account: g.account.clone(),
        username: c.username.clone(),
        org: c.org.clone(),
        anonymous: c.anonymous,
        ..FlagCredentials::default()
    };
    if c.token_stdin || c.bearer_stdin || c.scim_token_stdin {
        let secret = read_secret(std::io::stdin().lock()).map_err(|e| {
            usage(
                format!("reading the secret from standard input: {e}"),
                g.json,
            )
        })?;
        if c.token_stdin {
            flags.token = Some(secret);
        } else if c.bearer_stdin {
            flags.bearer = Some(secret);
        } else {
            flags.scim_token = Some(secret);
        }
    }
    let mut paths = Paths::from_env(&ProcessEnv);
    if let Some(config) = &c.config {
        paths.config_file = Some(config.clone());
    }
    let accounts = Accounts::discover(&flags, &ProcessEnv, &paths)
        .map_err(|e| usage(format!("credentials: {e}"), g.json))?;
    for w in accounts.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(accounts)
}

fn open(g: &Global, base_url: String) -> Result<Dockhand, ExitCode> {
    let accounts = accounts(g)?;
    open_with(g, base_url, accounts, Timeouts::default(), g.read_only)
}

fn open_with(
    g: &Global,
    base_url: String,
    accounts: Accounts,
    timeouts: Timeouts,
    read_only: bool,
) -> Result<Dockhand, ExitCode> {
    let component = match &g.component {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            usage(
                format!("reading the component {}: {e}", path.display()),
                g.json,
            )
        })?),
        None => None,
    };
    let config = HostConfig {
        base_url,
        policy: Policy {
            allowed: Vec::new(),
            read_only,
            timeouts: Timeouts {
                call: Duration::from_secs(g.timeout.max(1)),
                ..timeouts
            },
            ..Policy::default()
        },
        sealed: true,
        cache_dir: cache_dir(g),
        component,
        wasmtime_sender: false,
    };
    Dockhand::new(config, accounts).map_err(|e| report(&e, g.json))
}

/// `name=value` pairs merged over `--args-json`.
fn call_arguments(args: &CallArgs) -> Result<Value, String> {
    let mut map = match args.args_json.as_deref() {
        None => Map::new(),
        Some(text) => {
            let text = if text == "-" {
                std::io::read_to_string(std::io::stdin().lock())
                    .map_err(|e| format!("reading --args-json from standard input: {e}"))?
            } else {
                text.to_string()
            };
            match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err("--args-json must be a JSON object".into()),
                Err(e) => return Err(format!("--args-json is not valid JSON: {e}")),
            }
        }
    };
    for pair in &args.args {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("`{pair}`: arguments are written name=value"))?;
        if name.is_empty() {
            return Err(format!("`{pair}`: the argument name is missing"));
        }
        let value = if value.starts_with(['[', '{']) {
            serde_json::from_str(value).map_err(|e| {
                format!("`{name}`: the value looks like JSON but does not parse: {e}")
            })?
        } else {
            Value::String(value.to_string())
        };
        map.insert(name.to_string(), value);
    }
    Ok(Value::Object(map))
}

async fn call(hub: &Dockhand, g: &Global, args: &CallArgs) -> ExitCode {
    let arguments = match call_arguments(args) {
        Ok(v) => v,
        Err(message) => return usage(message, g.json),
    };
    let options = CallOptions {
        account: g.account.clone(),
        all_pages: args.all_pages,
        max_pages: args.max_pages,
        max_retries: args.retries,
        max_retry_wait: args.retry_wait.map(std::time::Duration::from_secs),
    };
    match hub.call(&args.operation, &arguments, &options).await {
        Ok(result) => {
            print_json(&result.body, g.json);
            ExitCode::SUCCESS
        }
        Err(e) => report(&e, g.json),
    }
}

async fn ops(hub: &Dockhand, as_json: bool) -> ExitCode {
    let ops = match hub.operations().await {
        Ok(ops) => ops,
        Err(e) => return report(&e, as_json),
    };
    if as_json {
        let list: Vec<Value> = ops
            .iter()
            .map(|op| {
                json!({
                    "name": op.name,
                    "aliases": op.aliases,
                    "area": op.area,
                    "method": op.method,
                    "path": op.path,
                    "access": match op.access {
                        dockhand_host::bindings::exports::dockhand::hub::catalog::Access::Read => "read",
                        dockhand_host::bindings::exports::dockhand::hub::catalog::Access::Write => "write",
                    },
                    "destructive": op.destructive,
                    "deprecated": op.deprecated,
                    "summary": op.summary,
                })
            })
            .collect();
        print_json(&Value::Array(list), true);
    } else {
        let width = ops.iter().map(|op| op.name.len()).max().unwrap_or(0);
        for op in ops {
            let access = match op.access {
                dockhand_host::bindings::exports::dockhand::hub::catalog::Access::Read => "read ",
                dockhand_host::bindings::exports::dockhand::hub::catalog::Access::Write => "write",
            };
            say!("{:width$}  {access}  {:6} {}", op.name, op.method, op.path);
        }
    }
    ExitCode::SUCCESS
}

async fn mock(addr: &str, data: Option<&std::path::Path>, public: bool) -> ExitCode {
    let mut config = match data {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| dockhand_mock::MockConfig::from_seed_yaml(&text))
        {
            Ok(config) => config,
            Err(e) => return usage(format!("--data {}: {e}", path.display()), false),
        },
        None => dockhand_mock::MockConfig::default(),
    };
    config.addr = match dockhand_mock::parse_listen_addr(addr) {
        Ok(a) => a,
        Err(e) => return usage(format!("--addr {e}"), false),
    };
    // Checked here as well as in start, so that a refusal is a usage error (exit 2).
    if let Err(e) = dockhand_mock::check_listen_addr(config.addr, public) {
        return usage(e, false);
    }
    config.public = public;
    let hub = match dockhand_mock::MockHub::start(config).await {
        Ok(hub) => hub,
        Err(e) => {
            eprintln!("error: starting the mock Hub: {e}");
            return ExitCode::from(exit::HOST);
        }
    };
    say!("mock Docker Hub listening on {}", hub.base_url());
    say!(
        "try: dockhand --base-url {} call list_repository_tags namespace=library repository=alpine",
        hub.base_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    hub.shutdown().await;
    ExitCode::SUCCESS
}

/// Lists a few tags of library/alpine anonymously: from Docker Hub when reachable, else from the
/// built-in mock Hub, saying which.
async fn demo(g: &Global, offline: bool) -> ExitCode {
    let args = json!({"namespace": "library", "repository": "alpine", "page_size": 5});
    let quick = Timeouts {
        connect: Duration::from_secs(5),
        first_byte: Duration::from_secs(10),
        ..Timeouts::default()
    };
    if !offline {
        let hub = match open_with(
            g,
            g.base_url.clone(),
            Accounts::anonymous(),
            quick,
            g.read_only,
        ) {
            Ok(hub) => hub,
            Err(code) => return code,
        };
        match hub
            .call("list_repository_tags", &args, &CallOptions::default())
            .await
        {
            Ok(result) => return show_tags(hub.base_url(), &result.body, g.json),
            Err(CallError::Hub(HubError::Transport(t))) => {
                eprintln!(
                    "{} is not reachable ({}); using the built-in mock Hub",
                    g.base_url, t.kind
                );
            }
            Err(CallError::Deadline(_)) => {
                eprintln!(
                    "{} did not answer in time; using the built-in mock Hub",
                    g.base_url
                );
            }
            Err(e) => return report(&e, g.json),
        }
    }
    let mock = match dockhand_mock::MockHub::start(dockhand_mock::MockConfig::default()).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: starting the mock Hub: {e}");
            return ExitCode::from(exit::HOST);
        }
    };
    let hub = match open_with(
        g,
        mock.base_url(),
        Accounts::anonymous(),
        quick,
        g.read_only,
    ) {
        Ok(hub) => hub,
        Err(code) => return code,
    };
    let code = match hub
        .call("list_repository_tags", &args, &CallOptions::default())
        .await
    {
        Ok(result) => show_tags(
            &format!("{} (mock Hub)", hub.base_url()),
            &result.body,
            g.json,
        ),
        Err(e) => report(&e, g.json),
    };
    mock.shutdown().await;
    code
}

fn show_tags(source: &str, body: &Value, as_json: bool) -> ExitCode {
    if as_json {
        print_json(body, true);
        return ExitCode::SUCCESS;
    }
    say!("library/alpine tags from {source}, through the dockhand component:");
    for tag in body["results"].as_array().into_iter().flatten() {
        say!(
            "  {:12} {}",
            tag["name"].as_str().unwrap_or("?"),
            tag["last_updated"].as_str().unwrap_or("")
        );
    }
    ExitCode::SUCCESS
}

/// `dockhand mcp`: the protocol owns stdin and stdout, so secrets must come from the
/// environment or files, and only the server's own errors reach stderr.
async fn mcp(g: &Global, args: &McpArgs) -> ExitCode {
    let c = &g.credentials;
    if c.token_stdin || c.bearer_stdin || c.scim_token_stdin {
        return usage(
            "`dockhand mcp` speaks MCP on standard input, so it cannot read a secret there; \
             use DOCKHAND_USERNAME/DOCKHAND_TOKEN, the config file or `docker login`",
            g.json,
        );
    }
    let accounts = match accounts(g) {
        Ok(a) => a,
        Err(code) => return code,
    };
    // Writes are also refused by the host policy, not only by the server's own check.
    let read_only = g.read_only || !args.allow_write;
    let hub = match open_with(
        g,
        g.base_url.clone(),
        accounts,
        Timeouts::default(),
        read_only,
    ) {
        Ok(hub) => std::sync::Arc::new(hub),
        Err(code) => return code,
    };
    let options = dockhand_host::mcp::McpOptions {
        allow_write: args.allow_write && !g.read_only,
        account: g.account.clone(),
    };
    let server = match dockhand_host::mcp::McpServer::new(hub, options).await {
        Ok(s) => s,
        Err(e) => return report(&e, g.json),
    };
    match server.serve_stdio().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(exit::HOST)
        }
    }
}

/// `dockhand lua`: runs a workflow file and/or `--eval` code.
async fn lua(g: &Global, args: &LuaArgs) -> ExitCode {
    use dockhand_host::lua::{Chunk, LuaOptions};
    let mut chunks = Vec::new();
    if let Some(path) = &args.file {
        let (name, code) = if path.as_os_str() == "-" {
            (
                "stdin".to_string(),
                std::io::read_to_string(std::io::stdin().lock()),
            )
        } else {
            (path.display().to_string(), std::fs::read_to_string(path))
        };
        match code {
            Ok(code) => chunks.push(Chunk { name, code }),
            Err(e) => return usage(format!("reading {name}: {e}"), g.json),
        }
    }
    if let Some(code) = &args.eval {
        chunks.push(Chunk {
            name: "--eval".into(),
            code: code.clone(),
        });
    }
    if chunks.is_empty() {
        return usage("give a workflow file or --eval CODE", g.json);
    }
    let read_only = g.read_only || !args.force;
    let accounts = match accounts(g) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let hub = match open_with(
        g,
        g.base_url.clone(),
        accounts,
        Timeouts::default(),
        read_only,
    ) {
        Ok(hub) => std::sync::Arc::new(hub),
        Err(code) => return code,
    };
    let options = LuaOptions {
        force: args.force && !g.read_only,
        account: g.account.clone(),
        time_limit: Duration::from_secs(args.time_limit.max(1)),
        capture_output: g.json,
        ..LuaOptions::default()
    };
    let outcome = dockhand_host::lua::run(hub, &chunks, &options).await;
    if g.json {
        print_json(&outcome.to_json(), true);
    } else {
        match &outcome.result {
            Value::Null => {}
            Value::String(s) => say!("{s}"),
            other => print_json(other, false),
        }
        if let Some(error) = &outcome.error {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error");
            eprintln!("error: {message}");
        }
    }
    match outcome.error_kind() {
        None => ExitCode::SUCCESS,
        Some(kind) => ExitCode::from(dockhand_host::report::exit_code(kind)),
    }
}
