//! Docker's own login: `config.json` `auths` entries and credential helpers, so a user who ran
//! `docker login` needs no setup.
//!
//! Nothing here is fatal: Docker's config belongs to Docker, may name a helper that is not
//! installed here, or hold an identity token the Hub API does not take. Each problem becomes a
//! warning and the default account falls back to anonymous.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

use super::account::{AccountAuth, Origin};
use super::env::Env;
use super::secret::Secret;

/// The server address `docker login` records for Docker Hub.
const HUB_SERVER: &str = "https://index.docker.io/v1/";

/// Hosts under which Docker Hub credentials may be stored.
const HUB_HOSTS: [&str; 5] = [
    "index.docker.io",
    "docker.io",
    "hub.docker.com",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

/// A desktop helper may wait on a keychain prompt; past this, Docker's login is skipped rather
/// than hanging the command.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// The Docker Hub credential in `config_path`, if there is a usable one.
pub(crate) fn discover(
    config_path: &Path,
    env: &dyn Env,
    warnings: &mut Vec<String>,
) -> Option<(AccountAuth, Origin)> {
    let text = match std::fs::read_to_string(config_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            warnings.push(format!(
                "Docker config {} cannot be read ({e}); Docker's login is not used",
                config_path.display()
            ));
            return None;
        }
    };
    // Parsed loosely as a Value: typed deserialization errors would quote field values.
    let config: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(e) => {
            warnings.push(format!(
                "Docker config {} is not valid JSON (line {}, column {}); Docker's login is not \
                 used",
                config_path.display(),
                e.line(),
                e.column()
            ));
            return None;
        }
    };

    let object = |key: &str| config.get(key).and_then(Value::as_object);
    let mut auth_keys: Vec<&str> = object("auths")
        .map(|m| {
            m.keys()
                .map(String::as_str)
                .filter(|k| is_hub_key(k))
                .collect()
        })
        .unwrap_or_default();
    auth_keys.sort_by_key(|k| (*k != HUB_SERVER, *k));

    // Docker's own order: a per-registry helper, then the default store, then the file itself.
    let mut helpers: Vec<(&str, &str)> = object("credHelpers")
        .map(|m| {
            m.iter()
                .filter(|(k, _)| is_hub_key(k))
                .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    helpers.sort_by_key(|(k, _)| (*k != HUB_SERVER, *k));
    let store = config.get("credsStore").and_then(Value::as_str);

    let mut attempts: Vec<(&str, Vec<&str>)> = helpers
        .iter()
        .map(|(key, helper)| (*helper, vec![HUB_SERVER, *key]))
        .collect();
    if let Some(store) = store.filter(|s| !s.is_empty()) {
        let mut servers = vec![HUB_SERVER];
        servers.extend(auth_keys.iter().copied());
        attempts.push((store, servers));
    }
    for (helper, mut servers) in attempts {
        servers.dedup();
        if let Some(found) = from_helper(config_path, helper, &servers, env, warnings) {
            return Some(found);
        }
    }

    let auths = object("auths")?;
    for key in auth_keys {
        let Some(entry) = auths.get(key) else {
            continue;
        };
        match decode_auth_entry(entry) {
            Ok(Some((username, secret))) => {
                let origin = Origin::DockerAuths {
                    path: config_path.to_owned(),
                    key: key.to_owned(),
                };
                return Some((AccountAuth::from_user_secret(username, secret), origin));
            }
            Ok(None) => {}
            Err(problem) => warnings.push(format!(
                "Docker config {} (auths \"{key}\"): {problem}; not used",
                config_path.display()
            )),
        }
    }
    None
}

/// Whether an `auths` / `credHelpers` key names Docker Hub (`https://index.docker.io/v1/`,
/// `docker.io`, `hub.docker.com`, …).
fn is_hub_key(key: &str) -> bool {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.strip_suffix(":443").unwrap_or(host);
    HUB_HOSTS.iter().any(|h| host.eq_ignore_ascii_case(h))
}

/// The username and secret of an `auths` entry: `auth` (base64 `user:secret`), else the older
/// separate `username` / `password` fields. `Ok(None)` for the empty entries `docker login`
/// leaves when a credential store holds the secret.
fn decode_auth_entry(entry: &Value) -> Result<Option<(String, Secret)>, &'static str> {
    let text = |key: &str| {
        entry
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(encoded) = text("auth") {
        let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&compact)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact))
            .map_err(|_| "\"auth\" is not valid base64")?;
        let decoded = String::from_utf8(bytes).map_err(|_| "\"auth\" is not UTF-8")?;
        let (username, secret) = decoded
            .split_once(':')
            .ok_or("\"auth\" is not of the form user:secret")?;
        if username.is_empty() || secret.is_empty() {
            return Err("\"auth\" has an empty username or secret");
        }
        return Ok(Some((username.to_owned(), Secret::new(secret))));
    }
    if let (Some(username), Some(password)) = (text("username"), text("password")) {
        return Ok(Some((username.to_owned(), Secret::new(password))));
    }
    if text("identitytoken").is_some() {
        return Err("holds an identity token, which the Hub API does not accept");
    }
    Ok(None)
}

/// Asks `docker-credential-<helper>` for each server address in turn.
fn from_helper(
    config_path: &Path,
    helper: &str,
    servers: &[&str],
    env: &dyn Env,
    warnings: &mut Vec<String>,
) -> Option<(AccountAuth, Origin)> {
    let program = format!("docker-credential-{helper}");
    let origin = Origin::DockerHelper {
        path: config_path.to_owned(),
        helper: program.clone(),
    };
    // The name comes from a file; a '/' in it would run an arbitrary program.
    let safe = !helper.is_empty()
        && helper
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !safe {
        warnings.push(format!(
            "credential helper name {helper:?} (set in {}) is not a plain name; Docker's login \
             is not used",
            config_path.display()
        ));
        return None;
    }
    let Some(executable) = find_on_path(&program, env) else {
        warnings.push(format!(
            "{program} (set in {}) is not on PATH; Docker's login is not used",
            config_path.display()
        ));
        return None;
    };
    for server in servers {
        match run_helper(&executable, server, env) {
            Ok(HelperAnswer::Found { username, secret }) => {
                if username == "<token>" {
                    warnings.push(format!(
                        "{program} holds an identity token for {server}, which the Hub API does \
                         not accept; not used"
                    ));
                    return None;
                }
                return Some((AccountAuth::from_user_secret(username, secret), origin));
            }
            Ok(HelperAnswer::NotFound) => {}
            Err(problem) => {
                warnings.push(format!(
                    "{program} get: {problem}; Docker's login is not used"
                ));
                return None;
            }
        }
    }
    None
}

fn find_on_path(program: &str, env: &dyn Env) -> Option<PathBuf> {
    let path = env.var("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

enum HelperAnswer {
    Found { username: String, secret: Secret },
    NotFound,
}

/// Runs `<executable> get` with the server address on stdin, as the docker CLI does.
fn run_helper(executable: &Path, server: &str, env: &dyn Env) -> Result<HelperAnswer, String> {
    let mut command = Command::new(executable);
    command
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The helper should see the same PATH it was found on, which under test is not ours.
    if let Some(path) = env.var("PATH") {
        command.env("PATH", path);
    }
    // A program being written (an update in progress, or a file another thread's fork briefly
    // holds open) fails with "text file busy"; that clears within milliseconds.
    let mut tries = 0;
    let mut child = loop {
        match command.spawn() {
            Ok(child) => break child,
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 5 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("could not be started: {e}")),
        }
    };

    // Readers on their own threads, so a chatty helper cannot fill a pipe and stall while we
    // wait for it to exit.
    let stdout = child.stdout.take().map(spawn_reader);
    let stderr = child.stderr.take().map(spawn_reader);
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin makes this fail; its exit status says more.
        let _ = stdin.write_all(server.as_bytes());
    }

    let deadline = Instant::now() + HELPER_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "gave no answer within {} s",
                    HELPER_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(format!("could not be waited for: {e}")),
        }
    };
    // A process the helper left running may still hold the pipes open; don't wait on it.
    let collect = |receiver: Option<mpsc::Receiver<Vec<u8>>>| {
        let left = deadline.saturating_duration_since(Instant::now());
        receiver
            .and_then(|r| r.recv_timeout(left.max(Duration::from_millis(100))).ok())
            .unwrap_or_default()
    };
    let stdout = collect(stdout);
    let stderr = collect(stderr);

    if !status.success() {
        let said = String::from_utf8_lossy(if stdout.is_empty() { &stderr } else { &stdout });
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(HelperAnswer::NotFound);
        }
        // Failure output is an error text, but show only its first line, shortened.
        let first: String = said
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(160)
            .collect();
        let mut problem = format!("failed ({status})");
        if !first.trim().is_empty() {
            problem.push_str(": ");
            problem.push_str(first.trim());
        }
        return Err(problem);
    }
    let answer: Value = serde_json::from_slice(&stdout)
        .map_err(|_| "answered with something other than JSON".to_owned())?;
    let field = |k: &str| answer.get(k).and_then(Value::as_str).unwrap_or_default();
    let (username, secret) = (field("Username"), field("Secret"));
    if username.is_empty() || secret.is_empty() {
        return Ok(HelperAnswer::NotFound);
    }
    Ok(HelperAnswer::Found {
        username: username.to_owned(),
        secret: Secret::new(secret),
    })
}

/// Reads a pipe to its end on another thread, keeping at most 1 MiB (a helper's answer is a few
/// hundred bytes) but draining the rest so the writer never blocks.
fn spawn_reader(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = (&mut pipe).take(1024 * 1024).read_to_end(&mut buffer);
        let _ = std::io::copy(&mut pipe, &mut std::io::sink());
        let _ = sender.send(buffer);
    });
    receiver
}
