//! How a mock Hub is set up: where it listens, what it starts with, and its limits.
//!
//! `--data seed.yaml` files are read here too. Such a file is a [`Seed`] plus a few settings; it
//! replaces the built-in world unless it says `include_builtin: true`.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;

use crate::seed::{Seed, SeedOrg, SeedRepository, SeedUser};

/// Requests allowed per window before the mock answers 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// How many requests a window admits; the next ones get 429 until it ends.
    pub limit: u32,
    /// How long a window lasts; a fixed window, which starts with the first request after the
    /// last one ended.
    pub window: Duration,
}

impl RateLimit {
    /// `limit` requests per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimit { limit, window }
    }
}

/// Everything a [`MockHub`](crate::MockHub) is started with; [`Default`] gives the built-in world
/// on a free loopback port.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Defaults to `127.0.0.1:0`, a free port.
    pub addr: SocketAddr,
    /// Lets `addr` be a non-loopback address (`dockhand mock --public`); see
    /// [`check_listen_addr`].
    pub public: bool,
    /// The world the mock starts from ([`Seed::builtin`] by default).
    pub seed: Seed,
    /// How long minted JWTs live (the `exp` claim). The Hub documents ten minutes.
    pub token_lifetime: Duration,
    /// `None` never answers 429 by itself; the headers then show [`NOMINAL_RATE_LIMIT`].
    pub rate_limit: Option<RateLimit>,
    /// Like the real Hub, refuse JWTs minted from a personal access token on the organization
    /// admin routes (organization access tokens and organization settings) with 403.
    pub pat_forbidden_on_org_admin: bool,
    /// How long a connection has to send a request's head, counted from when it opens or from
    /// the first byte after an idle spell; past it the connection is closed (slowloris).
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request. Longer than the idle
    /// time of common client pools (90 s in hyper-util, reqwest and dockhand's host), so that
    /// a pooled client rarely sends into a connection the mock is just closing.
    pub idle_timeout: Duration,
    /// The largest request body the mock reads; past it the answer is 413 and the rest is never
    /// read. The Hub's largest field, a repository's `full_description`, is 25,000 characters.
    pub max_request_body: usize,
    /// How many requests [`MockHub::requests`](crate::MockHub::requests) keeps; the oldest go
    /// first, so a mock left running does not grow without bound.
    pub request_log_limit: usize,
    /// The most bytes (method, path, query, headers and bodies) the request log keeps, since a
    /// count alone does not bound a log of large bodies. The newest request is always kept.
    pub request_log_bytes: usize,
    /// How long every answer waits before it goes out, as a Hub far away would make a client
    /// wait (`dockhand mock --latency 50ms`); requests wait side by side, not in turn. Zero by
    /// default.
    pub latency: Duration,
    /// How long a new connection waits before the mock reads its first byte, as the TCP and TLS
    /// handshakes with a Hub far away make a client wait (two round trips, TLS 1.3). Zero by
    /// default.
    pub connection_latency: Duration,
    /// Serve HTTPS (HTTP/2 or HTTP/1.1, by ALPN) with a self-signed certificate made at start;
    /// see [`MockHub::certificate_der`](crate::MockHub::certificate_der). Off by default.
    pub tls: bool,
}

/// What the rate-limit headers report while no limit is enforced: high enough that a client
/// pacing itself by `X-RateLimit-Remaining` never waits.
pub const NOMINAL_RATE_LIMIT: RateLimit = RateLimit {
    limit: 1_000_000,
    window: Duration::from_secs(60),
};

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            public: false,
            seed: Seed::builtin(),
            token_lifetime: Duration::from_secs(600),
            rate_limit: None,
            pat_forbidden_on_org_admin: true,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            max_request_body: 1 << 20,
            request_log_limit: 10_000,
            request_log_bytes: 64 << 20,
            latency: Duration::ZERO,
            connection_latency: Duration::ZERO,
            tls: false,
        }
    }
}

/// Whether the mock may listen on `addr`: a loopback address always, any other only when
/// `public` is set. The mock lets anyone sign in with its fixture credentials, which are
/// published (see [`fixtures`](crate::fixtures)), so on a reachable address it is an open door.
/// [`MockHub::start`](crate::MockHub::start) checks this too; the CLI checks first to say why.
pub fn check_listen_addr(addr: SocketAddr, public: bool) -> Result<(), String> {
    // `::ffff:127.0.0.1` is loopback too, though Ipv6Addr::is_loopback says otherwise.
    if public || addr.ip().to_canonical().is_loopback() {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {addr}: it is not a loopback address, and anyone who can reach \
         the mock can sign in with its fixture credentials, which are public; pass --public to \
         listen there anyway"
    ))
}

/// Reads a listening address: `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT` (as 127.0.0.1, so
/// no resolver decides which loopback it is). Other host names are refused: whether one is
/// loopback would depend on the resolver.
pub fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    let localhost = text
        .strip_prefix("localhost:")
        .and_then(|port| port.parse::<u16>().ok())
        .map(|port| SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    localhost.or_else(|| text.parse().ok()).ok_or_else(|| {
        format!("`{text}` is not an address such as 127.0.0.1:8080 or localhost:8080")
    })
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct SeedFile {
    include_builtin: bool,
    token_lifetime_seconds: Option<u64>,
    rate_limit: Option<RateLimitFile>,
    pat_forbidden_on_org_admin: Option<bool>,
    users: Vec<SeedUser>,
    orgs: Vec<SeedOrg>,
    repositories: Vec<SeedRepository>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitFile {
    limit: u32,
    window_seconds: u64,
}

impl MockConfig {
    /// Reads a seed file. The seed is checked as a whole (unknown keys, members of organizations
    /// that are not users, duplicate repositories) so a typo fails here rather than as a 404 later.
    pub fn from_seed_yaml(text: &str) -> Result<MockConfig, String> {
        let file: SeedFile = serde_yaml::from_str(text).map_err(|e| format!("seed file: {e}"))?;
        let mut config = MockConfig::default();
        let mut seed = if file.include_builtin {
            Seed::builtin()
        } else {
            Seed::default()
        };
        seed.users.extend(file.users);
        seed.orgs.extend(file.orgs);
        seed.repositories.extend(file.repositories);
        config.seed = seed;
        if let Some(secs) = file.token_lifetime_seconds {
            config.token_lifetime = Duration::from_secs(secs);
        }
        if let Some(rl) = file.rate_limit {
            if rl.window_seconds == 0 {
                return Err("seed file: rate_limit.window_seconds must be at least 1".into());
            }
            config.rate_limit = Some(RateLimit::new(
                rl.limit,
                Duration::from_secs(rl.window_seconds),
            ));
        }
        if let Some(flag) = file.pat_forbidden_on_org_admin {
            config.pat_forbidden_on_org_admin = flag;
        }
        crate::state::HubState::from_config(&config).map_err(|e| format!("seed file: {e}"))?;
        Ok(config)
    }
}
