//! The environment and file locations discovery reads, behind a trait so tests never touch the
//! real process environment or the user's home directory.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Read access to environment variables.
pub trait Env: Send + Sync {
    /// The variable's value; unset, empty and non-UTF-8 values all count as absent.
    fn var(&self, name: &str) -> Option<String>;
    /// Every variable with a UTF-8 name and value (discovery scans these for `DOCKHAND_*`).
    fn vars(&self) -> Vec<(String, String)>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn vars(&self) -> Vec<(String, String)> {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    }
}

/// An environment made of explicit values, for tests and for embedders that configure accounts
/// without touching the process environment.
#[derive(Debug, Clone, Default)]
pub struct MapEnv(BTreeMap<String, String>);

impl MapEnv {
    /// An empty environment.
    pub fn new() -> MapEnv {
        MapEnv::default()
    }

    /// Returns the environment with `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> MapEnv {
        self.set(name, value);
        self
    }

    /// Sets `name` to `value`.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }

    fn vars(&self) -> Vec<(String, String)> {
        self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Where the file sources live. `None` skips that source.
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// dockhand's own config file (normally `$XDG_CONFIG_HOME/dockhand/config.yaml`).
    pub config_file: Option<PathBuf>,
    /// Docker's `config.json` (normally `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`).
    pub docker_config: Option<PathBuf>,
    /// The home directory, for `~/` in `token_file:` paths.
    pub home: Option<PathBuf>,
}

impl Paths {
    /// The standard locations, computed from `env` (`XDG_CONFIG_HOME`, `DOCKER_CONFIG`, `HOME`).
    /// A CLI flag such as `--config` can replace a field afterwards.
    pub fn from_env(env: &dyn Env) -> Paths {
        let home = env.var("HOME").map(PathBuf::from);
        // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
        let config_home = env
            .var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| home.as_ref().map(|h| h.join(".config")));
        let docker_dir = env
            .var("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".docker")));
        Paths {
            config_file: config_home.map(|d| d.join("dockhand").join("config.yaml")),
            docker_config: docker_dir.map(|d| d.join("config.json")),
            home,
        }
    }
}
