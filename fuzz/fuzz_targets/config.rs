//! Any text as dockhand's `config.yaml` and as Docker's `config.json`, read by
//! `Accounts::discover` from a private temporary directory with an empty environment. Never a
//! panic, and:
//!
//! - no error, warning or listing contains a secret of the input: a `token`, `password`,
//!   `bearer` or `scim_token` value, the content of a secret file it names, the user-info of a
//!   `base_url`, or an `auths` entry's `auth` (encoded or decoded), `password` or identity token;
//! - Docker's config is never fatal: discovery with it alone always succeeds;
//! - no Docker credential helper runs: the environment has no `PATH`, no account comes from a
//!   helper, no warning reports one running, and the process gains no child (its children's
//!   page-fault count, which any started program raises, stays put).
//!
//! Input: the file's text. Each input is read both ways; JSON is YAML, so the seeds of either
//! kind reach both readers. Secret files the input may name, relative to the config file:
//! `pat` (private), `shared` (readable by others), `empty`, `two-lines`.

#![no_main]

use base64::Engine;
use dockhand_host::credentials::{Accounts, FlagCredentials, MapEnv, Origin, Paths};
use dockhand_host::policy::BaseUrl;
use libfuzzer_sys::fuzz_target;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SECRET_KEYS: [&str; 4] = ["token", "password", "bearer", "scim_token"];
const DOCKER_SECRET_KEYS: [&str; 4] = ["auth", "password", "identitytoken", "registrytoken"];
const FILE_SECRETS: [(&str, &str, u32); 4] = [
    ("pat", "dckr_pat_Fi1eSecret0000", 0o600),
    ("shared", "dckr_pat_Sh4redSecret000", 0o644),
    ("empty", "", 0o600),
    ("two-lines", "line1Secret0\nline2Secret0", 0o600),
];

struct Fixture {
    dir: tempfile::TempDir,
    yaml: PathBuf,
    json: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // tempfile makes it 0700; the files in it are what the reader checks.
        for (name, text, mode) in FILE_SECRETS {
            write(&dir.path().join(name), text.as_bytes(), mode);
        }
        Fixture {
            yaml: dir.path().join("config.yaml"),
            json: dir.path().join("config.json"),
            dir,
        }
    })
}

fn write(path: &Path, bytes: &[u8], mode: u32) {
    fs::write(path, bytes).expect("write into the temporary directory");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The secrets of the input, and the strings it holds elsewhere (names, keys, other values).
#[derive(Default)]
struct Strings {
    secrets: Vec<String>,
    others: Vec<String>,
}

impl Strings {
    fn secret(&mut self, s: &str) {
        self.secrets.push(s.to_owned());
    }

    /// Secrets a message cannot hold by chance: long enough, with a digit and no space (the
    /// messages' own words and numbers cannot match them), and not also found in the input
    /// where it is not a secret (an account named like its token is named in messages).
    fn checkable(&self, dir: &str) -> Vec<&str> {
        self.secrets
            .iter()
            .map(String::as_str)
            .filter(|s| s.len() >= 6)
            .filter(|s| s.bytes().any(|b| b.is_ascii_digit()))
            .filter(|s| !s.chars().any(char::is_whitespace))
            .filter(|s| !dir.contains(s) && !self.others.iter().any(|o| o.contains(s)))
            .collect()
    }
}

fn yaml_scalar(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        serde_yaml::Value::Tagged(t) => yaml_scalar(&t.value),
        _ => None,
    }
}

/// Every scalar and key under `value`, for `Strings::others`.
fn yaml_all(value: &serde_yaml::Value, out: &mut Vec<String>) {
    match value {
        serde_yaml::Value::Sequence(items) => items.iter().for_each(|v| yaml_all(v, out)),
        serde_yaml::Value::Mapping(map) => map.iter().for_each(|(k, v)| {
            yaml_all(k, out);
            yaml_all(v, out);
        }),
        serde_yaml::Value::Tagged(t) => {
            out.push(t.tag.to_string());
            yaml_all(&t.value, out);
        }
        other => out.extend(yaml_scalar(other)),
    }
}

/// The user-info of a URL (`user:password@`), which a base URL must not have but may. Read as a
/// person writes it, up to the last `@`: a password with a `/` in it is still a password.
fn user_info(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let before_query = rest.split(['?', '#']).next()?;
    before_query.rsplit_once('@').map(|(info, _)| info)
}

fn yaml_strings(text: &str, strings: &mut Strings) {
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return;
    };
    for (key, value) in doc.as_mapping().into_iter().flatten() {
        let accounts = (key.as_str() == Some("accounts"))
            .then(|| value.as_mapping())
            .flatten();
        let Some(accounts) = accounts else {
            yaml_all(key, &mut strings.others);
            yaml_all(value, &mut strings.others);
            continue;
        };
        strings.others.push("accounts".into());
        for (name, entry) in accounts {
            yaml_all(name, &mut strings.others);
            let Some(fields) = entry.as_mapping() else {
                yaml_all(entry, &mut strings.others);
                continue;
            };
            for (field, value) in fields {
                yaml_all(field, &mut strings.others);
                let field = field.as_str().unwrap_or_default();
                match yaml_scalar(value) {
                    Some(s) if SECRET_KEYS.contains(&field) => strings.secret(&s),
                    Some(s) if field == "base_url" => {
                        if let Some(info) = user_info(&s) {
                            strings.secret(info);
                            // The password alone, as a message could print the name apart.
                            strings.secret(info.split_once(':').map_or(info, |(_, p)| p));
                        }
                        strings
                            .others
                            .push(s.replace(user_info(&s).unwrap_or(""), ""));
                    }
                    _ => yaml_all(value, &mut strings.others),
                }
            }
        }
    }
}

fn json_strings(text: &str, strings: &mut Strings) {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    fn all(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| all(v, out)),
            serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k.clone());
                all(v, out);
            }),
            other => out.push(other.to_string()),
        }
    }
    let Some(top) = doc.as_object() else {
        return all(&doc, &mut strings.others);
    };
    for (key, value) in top {
        strings.others.push(key.clone());
        let entries = (key == "auths").then(|| value.as_object()).flatten();
        let Some(entries) = entries else {
            all(value, &mut strings.others);
            continue;
        };
        for (server, entry) in entries {
            strings.others.push(server.clone());
            let Some(fields) = entry.as_object() else {
                all(entry, &mut strings.others);
                continue;
            };
            for (field, value) in fields {
                strings.others.push(field.clone());
                match value.as_str() {
                    Some(s) if DOCKER_SECRET_KEYS.contains(&field.as_str()) => {
                        strings.secret(s);
                        if field == "auth" {
                            decoded_auth(s, strings);
                        }
                    }
                    _ => all(value, &mut strings.others),
                }
            }
        }
    }
}

/// `auth` is base64 of `user:secret`; the user is a name, the rest a secret.
fn decoded_auth(encoded: &str, strings: &mut Strings) {
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    for engine in engines {
        if let Ok(bytes) = engine.decode(&compact) {
            let decoded = String::from_utf8_lossy(&bytes);
            match decoded.split_once(':') {
                Some((user, secret)) => {
                    strings.others.push(user.to_owned());
                    strings.secret(secret);
                }
                None => strings.secret(&decoded),
            }
        }
    }
}

/// Page faults of this process's finished children: any program started and waited for adds
/// to them, so an unchanged count means no credential helper ran.
fn children_faults() -> i64 {
    // SAFETY: getrusage only writes the struct it is given.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage.ru_minflt + usage.ru_majflt
    }
}

fn discover(paths: &Paths) -> Result<Accounts, String> {
    // No PATH: a `credsStore` or `credHelpers` entry names a program that cannot be found.
    let env = MapEnv::new();
    let before = children_faults();
    let result = Accounts::discover(&FlagCredentials::default(), &env, paths);
    assert_eq!(children_faults(), before, "discovery started a process");
    result.map_err(|e| format!("{e}\n{e:?}"))
}

/// What dockhand could print after discovery: the error, or the accounts as listed and
/// debugged (also as used against a base URL they do not belong to and a plain-http one), and
/// the warnings.
fn printed(result: &Result<Accounts, String>) -> String {
    let accounts = match result {
        Err(message) => return message.clone(),
        Ok(accounts) => accounts,
    };
    for account in accounts.iter() {
        assert!(
            !matches!(account.origin, Origin::DockerHelper { .. }),
            "a credential helper answered: {:?}",
            account.origin
        );
    }
    for warning in accounts.warnings() {
        assert!(
            !warning.contains(" get: "),
            "a credential helper was run: {warning}"
        );
    }
    let mut out = format!("{accounts:?}\n{:?}\n", accounts.listing());
    for base in ["https://other.example", "http://10.0.0.1:8080"] {
        let base = BaseUrl::parse(base).expect("a valid base URL");
        out += &format!("{:?}\n", accounts.clone().for_base_url(&base).listing());
    }
    out
}

fn assert_no_secret(printed: &str, secrets: &[&str], reader: &str, input: &str) {
    for secret in secrets {
        assert!(
            !printed.contains(secret),
            "{reader} printed the secret {secret:?}\ninput: {input:?}\nprinted: {printed}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let text = String::from_utf8_lossy(data);
    let dir = fixture.dir.path().to_string_lossy().into_owned();
    let mut strings = Strings::default();
    yaml_strings(&text, &mut strings);
    json_strings(&text, &mut strings);
    let mut secrets = strings.checkable(&dir);
    // The files' secrets reach a message only through reading the file, unless the input
    // holds them too.
    let files = FILE_SECRETS
        .iter()
        .flat_map(|(_, content, _)| content.lines());
    secrets.extend(files.filter(|s| !text.contains(s)));

    write(&fixture.yaml, data, 0o600);
    let yaml = discover(&Paths {
        config_file: Some(fixture.yaml.clone()),
        docker_config: None,
        home: Some(fixture.dir.path().to_owned()),
    });
    assert_no_secret(&printed(&yaml), &secrets, "config.yaml", &text);

    write(&fixture.json, data, 0o600);
    let json = discover(&Paths {
        config_file: None,
        docker_config: Some(fixture.json.clone()),
        home: Some(fixture.dir.path().to_owned()),
    });
    assert!(json.is_ok(), "Docker's config was fatal: {json:?}");
    assert_no_secret(&printed(&json), &secrets, "config.json", &text);
});
