//! The command line, as clap sees it.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The Docker Hub API through a sandboxed WebAssembly component.
///
/// Every call runs in a fresh instance of the dockhand component. The component never sees your
/// password or access token: dockhand exchanges it for a short-lived token and swaps it into
/// requests to the Hub only.
#[derive(Debug, Parser)]
#[command(name = "dockhand", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 ok, 1 host error, 2 usage or invalid argument, 3 unauthorized or \
forbidden, 4 not found, 5 rate limited, 6 denied by policy, 7 other Hub error, 8 network or timeout."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: Global,
}

/// What `--output` chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Table,
    Yaml,
    Raw,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Docker Hub's base URL (a trailing /v2 is fine). Only this origin is reachable.
    #[arg(
        long,
        global = true,
        env = "DOCKHAND_BASE_URL",
        default_value = "https://hub.docker.com",
        value_parser = parse_base_url
    )]
    pub base_url: String,

    /// The configured account to use (see `dockhand accounts`).
    #[arg(long, global = true, env = "DOCKHAND_ACCOUNT")]
    pub account: Option<String>,

    /// Print compact JSON, and errors as JSON on stderr.
    #[arg(long, global = true)]
    pub json: bool,

    /// How results are printed: json, table (columns from the catalog; sizes and times made
    /// readable), yaml, or raw (text as sent, without JSON quotes: the CSV export, one string).
    /// Default: a table on a terminal for a listing, else JSON; piped, always JSON.
    #[arg(long, short = 'o', global = true, value_name = "FORMAT")]
    pub output: Option<Format>,

    /// The columns of a table, as dotted paths into each row (`name,full_size,publisher.name`);
    /// for an object, the fields to show.
    #[arg(long, global = true, value_name = "A,B,C", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,

    /// Refuse operations that change anything, before any request is sent.
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Load this component instead of the one built into dockhand.
    #[arg(long, global = true, value_name = "PATH")]
    pub component: Option<PathBuf>,

    /// Where precompiled components are kept (default: $XDG_CACHE_HOME/dockhand).
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile the component in memory; read and write no component cache.
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// Keep no Hub token across runs: exchange the access token or password in every run
    /// (by default the short-lived token it is exchanged for is kept in the cache directory,
    /// never the access token or password).
    #[arg(long, global = true)]
    pub no_token_cache: bool,

    /// Seconds the whole call may take, pagination included.
    #[arg(long, global = true, default_value_t = 120, value_name = "SECONDS")]
    pub timeout: u64,

    #[command(flatten)]
    pub credentials: CredentialFlags,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Credentials (these configure --account, or `default`)")]
pub struct CredentialFlags {
    /// Docker ID that the token read by --token-stdin belongs to.
    #[arg(long, global = true)]
    pub username: Option<String>,

    /// Organization that the token read by --token-stdin belongs to (an organization access token).
    #[arg(long, global = true, conflicts_with = "username")]
    pub org: Option<String>,

    /// Read a personal access token, organization access token or password from standard input.
    #[arg(long, global = true)]
    pub token_stdin: bool,

    /// Read a ready bearer token (JWT) from standard input.
    #[arg(long, global = true, conflicts_with = "token_stdin")]
    pub bearer_stdin: bool,

    /// Read the organization's SCIM token from standard input.
    #[arg(long, global = true, conflicts_with_all = ["token_stdin", "bearer_stdin"])]
    pub scim_token_stdin: bool,

    /// Call anonymously, ignoring every configured credential.
    #[arg(long, global = true)]
    pub anonymous: bool,

    /// dockhand's config file (default: $XDG_CONFIG_HOME/dockhand/config.yaml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Call a Hub operation by any of its names: `dockhand call list_repository_tags namespace=library repository=alpine`.
    #[command(
        after_help = "Values from files: `dockhand call create_repository namespace=alice \
name=demo full_description=@README.md` sends the file's text; `description=@-` reads \
standard input (which can be read once: not together with --args-json - or --token-stdin); \
`description=@@home` sends `@home`."
    )]
    Call(CallArgs),
    /// List the operations with their access, method, path and summary: every one, or those of
    /// an area (`dockhand ops repositories`) or whose name, alias or summary contains a word.
    Ops {
        /// An area, or a word to look for in names, aliases and summaries (case does not matter).
        filter: Option<String>,
    },
    /// Print the markdown reference for the whole API, an area, or one operation.
    Docs {
        /// An operation's name (any alias) or an area; omit for everything.
        topic: Option<String>,
    },
    /// List the configured accounts and where each came from (never the secret).
    Accounts,
    /// Show the Docker Hub user (or organization) the account signs in as, and where the account
    /// came from (never the secret). Exits 3 when it names no one (an anonymous account).
    #[command(
        long_about = "Show the Docker Hub user (or organization) the account signs in as, and where \
the account came from: which account (--account, else `default`) and its source (flags, \
environment, config file, docker login), never the secret.\n\nThe secret is exchanged for a Hub \
token as a call would exchange it, so a rejected one fails here too; the name is read from the \
token's claims. An anonymous account sends nothing.\n\nExit codes: 0 a user or organization is \
named; 3 none is (an anonymous account, or a ready bearer whose claims name no user), or the Hub \
refused the secret; 2 no such account; 6 the account's secrets may not go to --base-url; 8 the \
Hub did not answer."
    )]
    Whoami,
    /// Compile the component into the cache so later commands start fast.
    Precompile,
    /// Run a mock Docker Hub on loopback for offline use and tests.
    Mock {
        /// Address to listen on: IP:PORT or localhost:PORT, loopback unless --public.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: String,
        /// A seed file describing users, organizations and repositories.
        #[arg(long, value_name = "SEED.yaml")]
        data: Option<PathBuf>,
        /// Allow a non-loopback --addr. Anyone who can reach the mock can then sign in with its
        /// fixture credentials, which are public.
        #[arg(long)]
        public: bool,
        /// Delay every answer by this long, as a Hub far away would (`50ms`, `1.5s`).
        #[arg(long, value_name = "DURATION", value_parser = parse_latency)]
        latency: Option<std::time::Duration>,
    },
    /// Build-and-run check: list a few tags of library/alpine, from Docker Hub or, when it cannot be
    /// reached, from a built-in mock Hub.
    Demo {
        /// Skip Docker Hub and use the built-in mock directly.
        #[arg(long)]
        offline: bool,
    },
    /// Serve every operation as an MCP tool over stdio (for Claude Desktop, IDEs and other agents).
    Mcp(McpArgs),
    /// Serve the MCP tools over Streamable HTTP (/mcp) and a JSON API (/v1) to the clients in
    /// config.yaml's serve.clients, each with its own token, one Hub account and read-only unless
    /// allow_write; with no clients configured, to this machine only.
    Serve(ServeArgs),
    /// Run a Lua workflow with `app.integrations.docker.*`, `docs.read`, `json` and `regex`.
    Lua(LuaArgs),
    /// Work on a repository's tags: `dockhand tags prune NAMESPACE/REPOSITORY --keep-last 10`.
    #[command(subcommand)]
    Tags(TagsCommand),
    /// Print a shell completion script (operation names and aliases complete after `call`):
    /// `dockhand completions bash > ~/.local/share/bash-completion/completions/dockhand`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// For the shell completions: given the words typed after `call`, the operation's argument
    /// names, each with its `=`; exit 1 when no operation is among the words yet.
    #[command(name = "__argument-names", hide = true)]
    ArgumentNames {
        /// The words after `call`, flags and their values included.
        #[arg(num_args = 0.., allow_hyphen_values = true, trailing_var_arg = true)]
        words: Vec<String>,
    },
    /// Write man pages (dockhand.1 and one per command) into a directory.
    Man {
        /// Where to write them, such as ~/.local/share/man/man1.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// An operation's name: any text (the call reports a name it does not know, with its
/// did-you-mean), offering every name and alias the catalog has to shell completions.
#[derive(Clone)]
pub struct OperationName;

impl clap::builder::TypedValueParser for OperationName {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        value
            .to_str()
            .map(str::to_owned)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            dockhand_host::operation_names()
                .into_iter()
                .map(clap::builder::PossibleValue::new),
        ))
    }
}

#[derive(Debug, Subcommand)]
pub enum TagsCommand {
    /// Plan a tag cleanup by a retention policy: what would be deleted and kept, and why.
    #[command(
        long_about = "Plan a tag cleanup by a retention policy. Every tag is listed (all pages) \
and each is marked delete or keep with its reason; nothing is changed. Rules, the first that \
applies wins: a tag that does not match --match is kept; one that matches --keep-match is kept; \
`latest` is kept unless --match is `latest` or `^latest$`; a tag without a readable last-pushed \
time is kept; the --keep-last newest of the rest are kept; one pushed at or after --older-than's \
cutoff is kept; the others are deleted. Patterns are regular expressions that match anywhere in \
the tag name, as grep -E does (`^pr-`, `-rc[0-9]+$`); anchor them to match the whole. At least one of --keep-last, --older-than and --match is required (unless \
--apply reads a plan file, which holds its own).\n\n\
--plan-out writes the plan as JSON: each tag with the digest and last-pushed time it had when \
planned.\n\n--apply deletes what the plan (made now, or read from --apply PLAN.json) marks \
delete, newest first, one tag at a time under the host's rate-limit pacing, with a progress bar \
on a terminal (a line per tag on stderr when piped). Each tag is read again just before its \
delete: one whose digest or last-pushed time changed since it was planned (pushed again) is \
skipped and reported; one already gone counts as done, so an interrupted apply is resumed by \
running it again; a plan with more than --max-delete (default 100) tags to \
delete stops the apply before it deletes anything. Ctrl-C stops between deletes. The summary \
says deleted, already gone, skipped and failed. Exit codes: 0 every planned delete went \
through; 2 --max-delete refused; 7 a tag was skipped; a failed delete's own code (3, 5, 6, 8...) \
otherwise; 130 interrupted."
    )]
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The repository, as NAMESPACE/REPOSITORY (`library/alpine` for official images).
    #[arg(value_name = "NAMESPACE/REPOSITORY")]
    pub repository: String,

    /// Keep the N most recently pushed tags (of those no other rule keeps).
    #[arg(long, value_name = "N")]
    pub keep_last: Option<u32>,

    /// Delete only tags last pushed before this: an age (`90d`, `12w`, `36h`) or a UTC date
    /// (`2024-05-01`, `2024-05-01T12:00:00Z`).
    #[arg(long, value_name = "AGE|DATE")]
    pub older_than: Option<String>,

    /// Consider only tags whose names match this regular expression (`^pr-`, `^v1\\.`); others are
    /// kept.
    #[arg(long = "match", value_name = "REGEX")]
    pub matching: Option<String>,

    /// Never delete tags whose names match this regular expression.
    #[arg(long = "keep-match", value_name = "REGEX")]
    pub keep_matching: Option<String>,

    /// Write the plan as JSON to this file (each tag with its digest and last-pushed time).
    #[arg(long, value_name = "PLAN.json")]
    pub plan_out: Option<PathBuf>,

    /// The most pages of tags to list (100 tags a page; default 1000). A listing cut short
    /// plans nothing.
    #[arg(long, value_name = "N")]
    pub max_pages: Option<u32>,

    /// Delete: the plan made now, or the one in PLAN.json (written by --plan-out). A tag whose
    /// digest or last-pushed time changed since it was planned is skipped; one already gone
    /// counts as done, so an interrupted apply is resumed by running it again.
    #[arg(long, value_name = "PLAN.json", num_args = 0..=1)]
    pub apply: Option<Option<PathBuf>>,

    /// Refuse to apply (deleting nothing) when more than N tags would be deleted.
    #[arg(long, value_name = "N", default_value_t = 100, requires = "apply")]
    pub max_delete: usize,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Let the MCP client run write operations (create, update, delete); refused otherwise.
    #[arg(long)]
    pub allow_write: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen. A non-loopback address needs configured clients and --insecure-http.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub addr: std::net::SocketAddr,

    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "CERT.pem", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The private key of --tls-cert (PEM; the user's own, unreadable by others).
    #[arg(long, value_name = "KEY.pem", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Serve plain HTTP on a non-loopback address (behind a TLS-terminating proxy).
    #[arg(long, conflicts_with = "tls_cert")]
    pub insecure_http: bool,

    /// Without configured clients: let local callers run write operations.
    #[arg(long)]
    pub allow_write: bool,

    /// Calls running at once; more wait in the queue.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_in_flight: usize,

    /// Calls waiting for a slot; one more is answered 503 with Retry-After.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_queued: usize,

    /// Client connections open at once; more wait to be accepted until one closes.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,

    /// On SIGTERM or Ctrl-C, how long in-flight calls may take to finish.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub grace: u64,
}

#[derive(Debug, Args)]
pub struct LuaArgs {
    /// The workflow file (`-` reads it from standard input); runs before --eval.
    #[arg(value_name = "FILE.lua")]
    pub file: Option<PathBuf>,

    /// Lua code to run (after FILE, in the same state).
    #[arg(long, value_name = "CODE")]
    pub eval: Option<String>,

    /// Allow write operations; without it they fail before any request is sent. (`--force`,
    /// the earlier integration's name for it, is the same flag.)
    #[arg(long = "allow-write", alias = "force")]
    pub force: bool,

    /// Seconds the whole script may run, Hub calls included.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub time_limit: u64,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The operation: its name, an alias (`docker_list_tags`, `ListRepositoryTags`) or kebab-case.
    #[arg(value_parser = OperationName, hide_possible_values = true)]
    pub operation: String,

    /// Arguments as name=value (text; numbers and true/false are converted where the operation
    /// expects them) or name:=value (JSON). A value starting with [ or { is JSON where the
    /// argument is an object or a list, text elsewhere. name=@FILE takes the text of a file (as
    /// is, at most 1 MiB), name=@- that of standard input, and name=@@... a value that starts
    /// with @. A word without = is NAMESPACE/REPOSITORY (library/alpine), as is
    /// repository=NAMESPACE/REPOSITORY.
    #[arg(value_name = "NAME=VALUE")]
    pub args: Vec<String>,

    /// Arguments as one JSON object (or `-` to read it from standard input); name=value pairs
    /// are merged over it.
    #[arg(long, value_name = "JSON")]
    pub args_json: Option<String>,

    /// Follow pagination and merge every page.
    #[arg(long)]
    pub all_pages: bool,

    /// Do not ask before a destructive operation (delete_*). The question is asked only on a
    /// terminal; in a pipe or a script nothing is asked.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Print nothing and answer with the exit code alone: 0 when it exists, 1 when not (a
    /// check_* operation's `exists: false`, or a 404); other errors as usual. As `test` would.
    #[arg(long)]
    pub exit_status: bool,

    /// The most pages --all-pages fetches.
    #[arg(long, requires = "all_pages", value_name = "N")]
    pub max_pages: Option<u32>,

    /// With --all-pages, how many further pages are in flight at once when the first page says
    /// how many there are (default 4; 1 follows `next` page by page). Same result either way.
    #[arg(long, requires = "all_pages", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=32))]
    pub page_concurrency: Option<u32>,

    /// How often one request is sent again after a 429 or, for idempotent operations, a
    /// 502/503/504, a refused or reset connection or a timeout (default 2; 0 never).
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    /// The most seconds the call spends waiting between attempts (default 30).
    #[arg(long, value_name = "SECONDS")]
    pub retry_wait: Option<u64>,
}

/// A base URL the host can use (`http(s)://host[:port][/v2]`), checked here so that a typo is a
/// usage error (exit 2) naming the flag, not a failure of the host.
fn parse_base_url(text: &str) -> Result<String, String> {
    dockhand_host::policy::BaseUrl::parse(text)
        .map(|_| text.to_string())
        .map_err(|e| {
            if !text.contains("://") {
                format!("{e} (write the scheme: https://{text} or, for a mock on this machine, http://{text})")
            } else {
                e.to_string()
            }
        })
}

/// A latency as `50ms` or `1.5s` (at most a minute: longer is a typo, not a network).
fn parse_latency(text: &str) -> Result<std::time::Duration, String> {
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        return Err("give a unit: `50ms` or `1.5s`".into());
    };
    let seconds = number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n * scale)
        .ok_or_else(|| format!("`{text}` is not a duration such as `50ms`"))?;
    if seconds > 60.0 {
        return Err(format!("`{text}` is more than a minute"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::parse_latency;
    use std::time::Duration;

    #[test]
    fn latencies_take_milliseconds_or_seconds() {
        assert_eq!(parse_latency("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_latency("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_latency("0ms"), Ok(Duration::ZERO));
        for bad in ["50", "-1ms", "fast s", "NaNs", "61s", "infs"] {
            assert!(parse_latency(bad).is_err(), "{bad}");
        }
    }
}
