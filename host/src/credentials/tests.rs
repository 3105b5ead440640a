//! Tests of discovery and of the broker. Files live in temporary directories, the environment is
//! a `MapEnv`, and the Hub is a server on 127.0.0.1 started by the test.

use std::convert::Infallible;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use super::*;
use crate::http_client::{HttpClient, HttpClientConfig};
use crate::policy::BaseUrl;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A home directory with the standard file locations under it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self) -> MapEnv {
        MapEnv::new().with("HOME", self.path().to_str().unwrap())
    }

    fn paths(&self, env: &MapEnv) -> Paths {
        Paths::from_env(env)
    }

    fn config_path(&self) -> PathBuf {
        self.path().join(".config/dockhand/config.yaml")
    }

    fn write_config(&self, yaml: &str, mode: u32) -> PathBuf {
        let path = self.config_path();
        write_file(&path, yaml, mode);
        path
    }

    fn docker_config_path(&self) -> PathBuf {
        self.path().join(".docker/config.json")
    }

    fn write_docker_config(&self, config: &Value) -> PathBuf {
        let path = self.docker_config_path();
        write_file(&path, &config.to_string(), 0o600);
        path
    }
}

fn write_file(path: &Path, text: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    set_mode(path, mode);
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

fn basic_auth(user: &str, secret: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
}

fn discover(env: &MapEnv, paths: &Paths) -> Accounts {
    Accounts::discover(&FlagCredentials::default(), env, paths).unwrap()
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An unsigned JWT with the given `exp` (or none), unique per `n`.
fn jwt(exp: Option<i64>, n: usize) -> String {
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims = json!({ "sub": "tester", "jti": n });
    if let Some(exp) = exp {
        claims["exp"] = json!(exp);
    }
    format!(
        "{}.{}.c2ln",
        enc.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        enc.encode(claims.to_string())
    )
}

type Responder = dyn Fn(&Value, usize) -> (u16, Value) + Send + Sync;

/// A fake `POST /v2/auth/token` on 127.0.0.1 that records request bodies.
struct FakeHub {
    base: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl FakeHub {
    /// `respond` gets the request body and the 1-based request number.
    async fn start(delay: Duration, respond: Arc<Responder>) -> FakeHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let recorded = bodies.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let recorded = recorded.clone();
                let respond = respond.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: http::Request<hyper::body::Incoming>| {
                            let recorded = recorded.clone();
                            let respond = respond.clone();
                            async move {
                                let path_ok = req.method() == http::Method::POST
                                    && req.uri().path() == "/v2/auth/token"
                                    && req.headers()[http::header::CONTENT_TYPE]
                                        == "application/json";
                                let bytes = req.into_body().collect().await.unwrap().to_bytes();
                                let body: Value =
                                    serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                                let n = {
                                    let mut all = recorded.lock().unwrap();
                                    all.push(body.clone());
                                    all.len()
                                };
                                tokio::time::sleep(delay).await;
                                let (status, answer) = if path_ok {
                                    respond(&body, n)
                                } else {
                                    (404, json!({ "detail": "wrong route" }))
                                };
                                Ok::<_, Infallible>(
                                    http::Response::builder()
                                        .status(status)
                                        .header("content-type", "application/json")
                                        .body(Full::new(Bytes::from(answer.to_string())))
                                        .unwrap(),
                                )
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeHub { base, bodies }
    }

    /// A Hub that mints a distinct JWT expiring `lifetime` seconds from now (none if `None`).
    async fn minting(lifetime: Option<i64>) -> FakeHub {
        FakeHub::start(
            Duration::ZERO,
            Arc::new(move |_, n| {
                let token = jwt(lifetime.map(|l| now_unix() + l), n);
                (200, json!({ "access_token": token }))
            }),
        )
        .await
    }

    fn requests(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }

    fn exchanger(&self) -> Arc<dyn TokenExchange> {
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        Arc::new(HttpTokenExchange::new(
            client,
            &BaseUrl::parse(&format!("{}/", self.base)).unwrap(),
        ))
    }
}

fn pat_accounts() -> Accounts {
    Accounts::from_specs(vec![
        AccountSpec {
            name: "default".into(),
            auth: AccountAuth::PersonalToken {
                username: "alice".into(),
                token: Secret::new("dckr_pat_alice-secret"),
            },
            origin: Origin::Other("test".into()),
            scim: Some(ScimToken {
                token: Secret::new("scim-secret"),
                origin: Origin::Other("test".into()),
            }),
            base_url: None,
            withheld: None,
        },
        AccountSpec {
            name: "Work".into(),
            auth: AccountAuth::OrgToken {
                org: "acme".into(),
                token: Secret::new("dckr_oat_acme-secret"),
            },
            origin: Origin::Env {
                vars: vec!["DOCKHAND_WORK_ORG".into(), "DOCKHAND_WORK_TOKEN".into()],
            },
            scim: None,
            base_url: None,
            withheld: None,
        },
        AccountSpec {
            name: "ready".into(),
            auth: AccountAuth::Bearer(Secret::new("ready-bearer")),
            origin: Origin::Flags,
            scim: None,
            base_url: None,
            withheld: None,
        },
        AccountSpec::anonymous("public"),
    ])
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Discovery

#[test]
fn nothing_configured_gives_anonymous_default() {
    let home = Home::new();
    let env = home.env();
    let accounts = discover(&env, &home.paths(&env));
    assert_eq!(accounts.len(), 1);
    let default = accounts.get("default").unwrap();
    assert!(matches!(default.auth, AccountAuth::Anonymous));
    assert_eq!(default.origin, Origin::Implicit);
    assert!(accounts.warnings().is_empty());
}

#[test]
fn sources_apply_in_precedence_order() {
    let home = Home::new();
    let config = home.write_config(
        "accounts:\n  default:\n    username: from-config\n    token: dckr_pat_config\n",
        0o600,
    );
    let docker = home.write_docker_config(&json!({
        "auths": { "https://index.docker.io/v1/": { "auth": basic_auth("from-docker", "pw") } }
    }));
    let full_env = home
        .env()
        .with("DOCKHAND_USERNAME", "from-env")
        .with("DOCKHAND_TOKEN", "dckr_pat_env");
    let paths = home.paths(&full_env);
    let flags = FlagCredentials {
        username: Some("from-flags".into()),
        token: Some(Secret::new("dckr_pat_flags")),
        ..FlagCredentials::default()
    };
    let identity = |accounts: &Accounts| {
        let default = accounts.get("default").unwrap();
        (
            default.auth.identity().unwrap().to_owned(),
            default.origin.clone(),
        )
    };

    let accounts = Accounts::discover(&flags, &full_env, &paths).unwrap();
    assert_eq!(
        identity(&accounts),
        ("from-flags".to_owned(), Origin::Flags)
    );

    let accounts = discover(&full_env, &paths);
    let env_origin = Origin::Env {
        vars: vec!["DOCKHAND_TOKEN".into(), "DOCKHAND_USERNAME".into()],
    };
    assert_eq!(identity(&accounts), ("from-env".to_owned(), env_origin));

    let bare_env = home.env();
    let accounts = discover(&bare_env, &paths);
    assert_eq!(
        identity(&accounts),
        (
            "from-config".to_owned(),
            Origin::ConfigFile {
                path: config.clone()
            }
        )
    );

    fs::remove_file(&config).unwrap();
    let accounts = discover(&bare_env, &paths);
    assert_eq!(
        identity(&accounts),
        (
            "from-docker".to_owned(),
            Origin::DockerAuths {
                path: docker,
                key: "https://index.docker.io/v1/".into()
            }
        )
    );
    // Without the dckr_pat_ prefix a Docker secret is a password.
    assert!(matches!(
        accounts.get("default").unwrap().auth,
        AccountAuth::Password { .. }
    ));
}

#[test]
fn scim_token_and_hub_credential_resolve_independently() {
    let home = Home::new();
    home.write_docker_config(&json!({
        "auths": { "docker.io": { "auth": basic_auth("bob", "dckr_pat_bob") } }
    }));
    let env = home.env().with("DOCKHAND_SCIM_TOKEN", "scim-from-env");
    let accounts = discover(&env, &home.paths(&env));
    let default = accounts.get("default").unwrap();
    assert!(matches!(
        &default.auth,
        AccountAuth::PersonalToken { username, .. } if username == "bob"
    ));
    let scim = default.scim.as_ref().unwrap();
    assert_eq!(scim.token.expose(), "scim-from-env");
    assert_eq!(
        scim.origin,
        Origin::Env {
            vars: vec!["DOCKHAND_SCIM_TOKEN".into()]
        }
    );
}

#[test]
fn named_accounts_from_the_environment() {
    let env = MapEnv::new()
        .with("DOCKHAND_WORK_USERNAME", "carol")
        .with("DOCKHAND_WORK_TOKEN", "dckr_pat_carol")
        .with("DOCKHAND_WORK_SCIM_TOKEN", "work-scim")
        .with("DOCKHAND_MY_TEAM_ORG", "acme")
        .with("DOCKHAND_MY_TEAM_TOKEN", "dckr_oat_acme")
        .with("DOCKHAND_CI_BEARER", "ready-jwt")
        .with("DOCKHAND_BASE_URL", "http://127.0.0.1:1")
        .with("OTHER_TOKEN", "not ours");
    let accounts = discover(&env, &Paths::default());
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["default", "ci", "my-team", "work"]);

    let work = accounts.get("WORK").unwrap();
    assert!(matches!(
        &work.auth,
        AccountAuth::PersonalToken { username, token } if username == "carol" && token.expose() == "dckr_pat_carol"
    ));
    assert_eq!(work.scim.as_ref().unwrap().token.expose(), "work-scim");
    assert_eq!(
        work.origin,
        Origin::Env {
            vars: vec![
                "DOCKHAND_WORK_TOKEN".into(),
                "DOCKHAND_WORK_USERNAME".into()
            ]
        }
    );

    // `_` and `-` name the same account, in any case.
    let team = accounts.get("my_team").unwrap();
    assert!(std::ptr::eq(team, accounts.get("My-Team").unwrap()));
    assert!(matches!(&team.auth, AccountAuth::OrgToken { org, .. } if org == "acme"));
    assert!(
        matches!(&accounts.get("ci").unwrap().auth, AccountAuth::Bearer(b) if b.expose() == "ready-jwt")
    );
    assert_eq!(env_prefix("my-team"), "DOCKHAND_MY_TEAM_");
    assert_eq!(env_prefix("default"), "DOCKHAND_");
}

#[test]
fn default_account_env_forms() {
    // The unprefixed form wins over DOCKHAND_DEFAULT_*, whatever the order.
    let env = MapEnv::new()
        .with("DOCKHAND_DEFAULT_USERNAME", "ignored")
        .with("DOCKHAND_USERNAME", "dave")
        .with("DOCKHAND_DEFAULT_TOKEN", "dckr_pat_dave");
    let accounts = discover(&env, &Paths::default());
    let default = accounts.get("default").unwrap();
    assert_eq!(default.auth.identity(), Some("dave"));
    assert_eq!(accounts.len(), 1);

    let env = MapEnv::new().with("DOCKHAND_BEARER", "jwt");
    let accounts = discover(&env, &Paths::default());
    assert!(matches!(
        accounts.get("default").unwrap().auth,
        AccountAuth::Bearer(_)
    ));
}

#[test]
fn incomplete_or_conflicting_env_is_an_error_without_the_secret() {
    let cases = [
        MapEnv::new().with("DOCKHAND_TOKEN", "dckr_pat_hidden1"),
        MapEnv::new()
            .with("DOCKHAND_USERNAME", "u")
            .with("DOCKHAND_ORG", "o")
            .with("DOCKHAND_TOKEN", "dckr_pat_hidden1"),
        MapEnv::new()
            .with("DOCKHAND_BEARER", "hidden1")
            .with("DOCKHAND_USERNAME", "u")
            .with("DOCKHAND_TOKEN", "dckr_pat_hidden1"),
        MapEnv::new().with("DOCKHAND_X_USERNAME", "u"),
    ];
    for env in cases {
        let err =
            Accounts::discover(&FlagCredentials::default(), &env, &Paths::default()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, CredentialError::Env(_)), "{text}");
        assert!(text.contains("DOCKHAND_"), "{text}");
        assert!(!text.contains("hidden1"), "{text}");
        assert!(!format!("{err:?}").contains("hidden1"));
    }
}

#[test]
fn flags_configure_the_named_account() {
    let env = MapEnv::new()
        .with("DOCKHAND_WORK_USERNAME", "env-user")
        .with("DOCKHAND_WORK_TOKEN", "pw");
    let flags = FlagCredentials {
        account: Some("work".into()),
        anonymous: true,
        ..FlagCredentials::default()
    };
    let accounts = Accounts::discover(&flags, &env, &Paths::default()).unwrap();
    let work = accounts.get("work").unwrap();
    assert!(matches!(work.auth, AccountAuth::Anonymous));
    assert_eq!(work.origin, Origin::Flags);

    let flags = FlagCredentials {
        username: Some("u".into()),
        ..FlagCredentials::default()
    };
    let err = Accounts::discover(&flags, &MapEnv::new(), &Paths::default()).unwrap_err();
    assert!(err.to_string().contains("--username"), "{err}");
}

#[cfg(unix)]
#[test]
fn config_file_readable_by_others_is_refused() {
    let home = Home::new();
    let path = home.write_config(
        "accounts:\n  default:\n    username: erin\n    token: dckr_pat_hidden2\n",
        0o644,
    );
    let env = home.env();
    let err = Accounts::discover(&FlagCredentials::default(), &env, &home.paths(&env)).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, CredentialError::InsecureConfig { .. }),
        "{text}"
    );
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("chmod 600"), "{text}");
    assert!(text.contains("0644"), "{text}");
    assert!(!text.contains("hidden2"));

    set_mode(&path, 0o600);
    let accounts = discover(&env, &home.paths(&env));
    assert_eq!(
        accounts.get("default").unwrap().auth.identity(),
        Some("erin")
    );
}

#[test]
fn config_file_secrets_from_files_are_trimmed() {
    let home = Home::new();
    write_file(
        &home.path().join("secrets/pat"),
        "  dckr_pat_frank \n\n",
        0o600,
    );
    write_file(
        &home.path().join(".config/dockhand/scim.txt"),
        "scim-token\n",
        0o600,
    );
    write_file(&home.path().join("oat"), "\tdckr_oat_acme\r\n", 0o600);
    home.write_config(
        "accounts:\n\
         \x20 default:\n\
         \x20   username: frank\n\
         \x20   token_file: ~/secrets/pat\n\
         \x20   scim_token_file: scim.txt\n\
         \x20 Work:\n\
         \x20   org: acme\n\
         \x20   token_file: ../../oat\n\
         \x20 legacy: { username: gina, password: \"0123\" }\n\
         \x20 public: { anonymous: true }\n",
        0o600,
    );
    let env = home.env();
    let accounts = discover(&env, &home.paths(&env));
    let default = accounts.get("default").unwrap();
    assert!(matches!(
        &default.auth,
        AccountAuth::PersonalToken { token, .. } if token.expose() == "dckr_pat_frank"
    ));
    assert_eq!(default.scim.as_ref().unwrap().token.expose(), "scim-token");
    assert!(matches!(
        &accounts.get("work").unwrap().auth,
        AccountAuth::OrgToken { org, token } if org == "acme" && token.expose() == "dckr_oat_acme"
    ));
    assert!(matches!(
        &accounts.get("legacy").unwrap().auth,
        AccountAuth::Password { password, .. } if password.expose() == "0123"
    ));
    assert!(matches!(
        accounts.get("public").unwrap().auth,
        AccountAuth::Anonymous
    ));
}

/// What is wrong with the config file or its `default` entry: a file-level problem fails
/// discovery, an entry's problem makes that account broken.
fn config_problem(env: &MapEnv, paths: &Paths) -> CredentialError {
    match Accounts::discover(&FlagCredentials::default(), env, paths) {
        Err(e) => e,
        Ok(accounts) => accounts
            .broken(DEFAULT_ACCOUNT)
            .cloned()
            .expect("the default account's entry is broken"),
    }
}

#[test]
fn config_file_errors_never_quote_secrets() {
    let home = Home::new();
    let env = home.env();
    let paths = home.paths(&env);
    let cases = [
        // An unquoted all-digit password is an integer to YAML; serde would quote it.
        "accounts:\n  default:\n    username: h\n    password: 98765432\n",
        "accounts:\n  default:\n    token: dckr_pat_98765432\n",
        "accounts:\n  default:\n    username: h\n    token: dckr_pat_98765432\n    token_file: x\n",
        "accounts:\n  default:\n    username: h\n    tokn: dckr_pat_98765432\n",
    ];
    for yaml in cases {
        home.write_config(yaml, 0o600);
        let err = config_problem(&env, &paths);
        let text = err.to_string();
        assert!(matches!(err, CredentialError::Config { .. }), "{text}");
        assert!(!text.contains("98765432"), "{text}");
    }

    home.write_config(
        "accounts:\n  default:\n    username: h\n    token_file: missing\n",
        0o600,
    );
    let err = config_problem(&env, &paths);
    assert!(matches!(err, CredentialError::SecretFile { .. }), "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn docker_auths_entries_are_decoded() {
    let home = Home::new();
    let env = home.env();
    let paths = home.paths(&env);

    home.write_docker_config(&json!({
        "auths": {
            "ghcr.io": { "auth": basic_auth("not-hub", "x") },
            "hub.docker.com": { "auth": basic_auth("ivan", "dckr_pat_ivan:with:colons") }
        }
    }));
    let accounts = discover(&env, &paths);
    let default = accounts.get("default").unwrap();
    assert!(matches!(
        &default.auth,
        AccountAuth::PersonalToken { username, token }
            if username == "ivan" && token.expose() == "dckr_pat_ivan:with:colons"
    ));

    // The canonical key wins over other Hub spellings; old username/password fields work.
    home.write_docker_config(&json!({
        "auths": {
            "docker.io": { "auth": basic_auth("other", "x") },
            "https://index.docker.io/v1/": { "username": "judy", "password": "pw" }
        }
    }));
    let accounts = discover(&env, &paths);
    assert_eq!(
        accounts.get("default").unwrap().auth.identity(),
        Some("judy")
    );

    // Nothing usable: an identity token (warned about) or only other registries.
    home.write_docker_config(&json!({
        "auths": {
            "index.docker.io": { "identitytoken": "opaque" },
            "quay.io": { "auth": basic_auth("q", "x") }
        }
    }));
    let accounts = discover(&env, &paths);
    assert!(matches!(
        accounts.get("default").unwrap().auth,
        AccountAuth::Anonymous
    ));
    assert_eq!(accounts.warnings().len(), 1, "{:?}", accounts.warnings());
    assert!(!accounts.warnings()[0].contains("opaque"));

    // DOCKER_CONFIG moves the file; malformed JSON is a warning, not an error.
    let elsewhere = home.path().join("elsewhere");
    write_file(&elsewhere.join("config.json"), "{ not json", 0o600);
    let env = home
        .env()
        .with("DOCKER_CONFIG", elsewhere.to_str().unwrap());
    let accounts = discover(&env, &Paths::from_env(&env));
    assert!(matches!(
        accounts.get("default").unwrap().auth,
        AccountAuth::Anonymous
    ));
    assert!(accounts.warnings()[0].contains("not valid JSON"));
}

#[cfg(unix)]
#[test]
fn docker_credential_helpers_are_run() {
    let home = Home::new();
    let bin = home.path().join("bin");
    // Only shell builtins: the helper runs with the test's PATH, which holds just this folder.
    write_file(
        &bin.join("docker-credential-fake"),
        r#"#!/bin/sh
[ "$1" = "get" ] || { printf 'bad command %s\n' "$1"; exit 2; }
read -r server || true
if [ "$server" = "https://index.docker.io/v1/" ]; then
  printf '{"ServerURL":"%s","Username":"kim","Secret":"dckr_pat_from_helper"}\n' "$server"
else
  printf 'credentials not found in native keychain\n'
  exit 1
fi
"#,
        0o755,
    );
    write_file(
        &bin.join("docker-credential-empty"),
        "#!/bin/sh\nprintf 'credentials not found in native keychain\\n'\nexit 1\n",
        0o755,
    );
    write_file(
        &bin.join("docker-credential-broken"),
        "#!/bin/sh\nprintf 'helper exploded\\n' >&2\nexit 3\n",
        0o755,
    );
    let env = home.env().with("PATH", bin.to_str().unwrap());
    let paths = home.paths(&env);

    // credsStore, the usual Docker Desktop set-up.
    let docker = home.write_docker_config(&json!({
        "auths": { "https://index.docker.io/v1/": {} },
        "credsStore": "fake"
    }));
    let accounts = discover(&env, &paths);
    let default = accounts.get("default").unwrap();
    assert!(matches!(
        &default.auth,
        AccountAuth::PersonalToken { username, token }
            if username == "kim" && token.expose() == "dckr_pat_from_helper"
    ));
    assert_eq!(
        default.origin,
        Origin::DockerHelper {
            path: docker.clone(),
            helper: "docker-credential-fake".into()
        }
    );
    assert!(accounts.warnings().is_empty(), "{:?}", accounts.warnings());

    // A Hub credHelpers entry wins over credsStore.
    home.write_docker_config(&json!({
        "credsStore": "broken",
        "credHelpers": { "docker.io": "fake" }
    }));
    let accounts = discover(&env, &paths);
    assert_eq!(
        accounts.get("default").unwrap().auth.identity(),
        Some("kim")
    );

    // A helper that knows nothing falls through to an inline entry.
    home.write_docker_config(&json!({
        "auths": { "index.docker.io": { "auth": basic_auth("lee", "pw") } },
        "credsStore": "empty"
    }));
    let accounts = discover(&env, &paths);
    assert_eq!(
        accounts.get("default").unwrap().auth.identity(),
        Some("lee")
    );
    assert!(accounts.warnings().is_empty(), "{:?}", accounts.warnings());

    // Failing, missing and path-like helpers are warnings, and the account stays anonymous.
    for store in ["broken", "absent", "../bin/fake"] {
        home.write_docker_config(&json!({ "credsStore": store }));
        let accounts = discover(&env, &paths);
        assert!(
            matches!(
                accounts.get("default").unwrap().auth,
                AccountAuth::Anonymous
            ),
            "{store}"
        );
        assert_eq!(accounts.warnings().len(), 1, "{store}");
    }

    // The helper is not run when a higher source already gave the default account.
    home.write_docker_config(&json!({ "credsStore": "broken" }));
    let env = env.with("DOCKHAND_BEARER", "jwt");
    let accounts = discover(&env, &paths);
    assert!(accounts.warnings().is_empty(), "{:?}", accounts.warnings());
}

#[test]
fn debug_and_listing_show_no_secret() {
    let accounts = pat_accounts();
    let debug = format!("{accounts:?}");
    for secret in ["alice-secret", "acme-secret", "scim-secret", "ready-bearer"] {
        assert!(!debug.contains(secret), "{debug}");
    }
    let secret = Secret::new("s3cr3t");
    assert_eq!(format!("{secret:?}"), "Secret(***)");
    assert_eq!(format!("{secret}"), "***");

    let listing = accounts.listing();
    let text: Vec<String> = listing.iter().map(ToString::to_string).collect();
    let joined = format!("{text:?} {listing:?}");
    for secret in ["alice-secret", "acme-secret", "scim-secret", "ready-bearer"] {
        assert!(!joined.contains(secret), "{joined}");
    }
    assert_eq!(
        text[0],
        "default: personal access token for alice, from test; SCIM token from test"
    );
    assert_eq!(listing[3].name, "work");
    assert_eq!(
        text[3],
        "work: organization access token for acme, from environment (DOCKHAND_WORK_ORG, \
         DOCKHAND_WORK_TOKEN)"
    );
}

#[test]
fn secrets_are_read_from_stdin_trimmed() {
    let secret = read_secret(&b"  dckr_pat_stdin\n"[..]).unwrap();
    assert_eq!(secret.expose(), "dckr_pat_stdin");
    assert!(read_secret(&b"\n \n"[..]).is_err());
    let err = read_secret(&b"alpha\nbeta\n"[..]).unwrap_err();
    assert!(!err.to_string().contains("alpha"), "{err}");
}

#[test]
fn invalid_account_names_are_refused() {
    assert_eq!(canonical_name("My_Team").unwrap(), "my-team");
    assert!(canonical_name("a/b").is_err());
    assert!(canonical_name("").is_err());
    let dup = Accounts::from_specs(vec![
        AccountSpec::anonymous("x-y"),
        AccountSpec::anonymous("X_Y"),
    ]);
    assert!(matches!(dup, Err(CredentialError::DuplicateAccount { .. })));
}

// ---------------------------------------------------------------------------------------------
// Broker

#[tokio::test]
async fn exchange_sends_identifier_and_secret_and_caches() {
    let hub = FakeHub::minting(Some(3600)).await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), false);

    let first = broker
        .get("default", CredentialKind::Hub)
        .await
        .unwrap()
        .unwrap();
    assert!(
        jwt::expiry(&first).is_some(),
        "unsealed mode returns the bearer itself"
    );
    assert_eq!(hub.requests(), 1);
    assert_eq!(
        hub.bodies.lock().unwrap()[0],
        json!({ "identifier": "alice", "secret": "dckr_pat_alice-secret" })
    );
    let second = broker
        .get("default", CredentialKind::Hub)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(hub.requests(), 1, "a cached bearer makes no request");

    // An organization token exchanges with the organization as identifier.
    broker
        .get("work", CredentialKind::Hub)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        hub.bodies.lock().unwrap()[1],
        json!({ "identifier": "acme", "secret": "dckr_oat_acme-secret" })
    );
}

#[tokio::test]
async fn invalidate_causes_exactly_one_re_mint() {
    let hub = FakeHub::minting(Some(3600)).await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), false);
    let first = broker.get("default", CredentialKind::Hub).await.unwrap();
    broker.invalidate("default", CredentialKind::Hub);
    let second = broker.get("default", CredentialKind::Hub).await.unwrap();
    let third = broker.get("default", CredentialKind::Hub).await.unwrap();
    assert_eq!(hub.requests(), 2);
    assert_ne!(first, second);
    assert_eq!(second, third);

    // Invalidating another account or kind leaves this one cached.
    broker.invalidate("work", CredentialKind::Hub);
    broker.invalidate("default", CredentialKind::Scim);
    broker.invalidate("nobody", CredentialKind::Hub);
    broker.get("default", CredentialKind::Hub).await.unwrap();
    assert_eq!(hub.requests(), 2);
}

#[tokio::test]
async fn requests_refused_together_re_mint_once() {
    let hub = FakeHub::minting(Some(3600)).await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), true);
    let placeholder = broker
        .get("default", CredentialKind::Hub)
        .await
        .unwrap()
        .unwrap();
    let header = format!("Bearer {placeholder}");
    // Three requests go out with the first bearer and are all refused; each then invalidates
    // and asks again, as the plugin does.
    let sent: Vec<_> = (0..3)
        .map(|_| broker.unseal_sent(&header).unwrap())
        .collect();
    for (_, bearer) in &sent {
        broker.refused(bearer);
    }
    let mut renewed = Vec::new();
    for _ in &sent {
        broker.invalidate("default", CredentialKind::Hub);
        broker.get("default", CredentialKind::Hub).await.unwrap();
        renewed.push(broker.unseal(&header).unwrap().expose().to_owned());
    }
    assert_eq!(hub.requests(), 2, "one exchange for the three refusals");
    assert!(renewed.iter().all(|r| r == &renewed[0]));
    assert_ne!(renewed[0], sent[0].0.expose());

    // The replacement refused in its turn is dropped too.
    let (_, bearer) = broker.unseal_sent(&header).unwrap();
    broker.refused(&bearer);
    broker.invalidate("default", CredentialKind::Hub);
    broker.get("default", CredentialKind::Hub).await.unwrap();
    assert_eq!(hub.requests(), 3);
    assert_ne!(broker.unseal(&header).unwrap().expose(), renewed[0]);

    // Without a refusal reported (an unsealed broker's bearers never pass the send hook),
    // every invalidate drops the bearer, as before.
    let hub = FakeHub::minting(Some(3600)).await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), false);
    for _ in 0..2 {
        broker.get("default", CredentialKind::Hub).await.unwrap();
        broker.invalidate("default", CredentialKind::Hub);
    }
    broker.get("default", CredentialKind::Hub).await.unwrap();
    assert_eq!(hub.requests(), 3);
}

#[tokio::test]
async fn expired_and_near_expiry_bearers_are_re_minted() {
    for lifetime in [-10, 30] {
        let hub = FakeHub::minting(Some(lifetime)).await;
        let broker = Broker::new(pat_accounts(), hub.exchanger(), false);
        broker.get("default", CredentialKind::Hub).await.unwrap();
        broker.get("default", CredentialKind::Hub).await.unwrap();
        assert_eq!(hub.requests(), 2, "lifetime {lifetime}");
    }
    // Without `exp` the bearer is cached for the default lifetime.
    let hub = FakeHub::minting(None).await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), false);
    broker.get("default", CredentialKind::Hub).await.unwrap();
    broker.get("default", CredentialKind::Hub).await.unwrap();
    assert_eq!(hub.requests(), 1);
}

#[tokio::test]
async fn legacy_token_field_is_accepted() {
    let hub = FakeHub::start(
        Duration::ZERO,
        Arc::new(|_, _| (200, json!({ "token": "opaque-bearer" }))),
    )
    .await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), false);
    let bearer = broker.get("default", CredentialKind::Hub).await.unwrap();
    assert_eq!(bearer.as_deref(), Some("opaque-bearer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_gets_share_one_exchange() {
    let hub = FakeHub::start(
        Duration::from_millis(200),
        Arc::new(|_, n| {
            (
                200,
                json!({ "access_token": jwt(Some(now_unix() + 3600), n) }),
            )
        }),
    )
    .await;
    let broker = Arc::new(Broker::new(pat_accounts(), hub.exchanger(), false));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let broker = broker.clone();
        tasks.spawn(async move { broker.get("default", CredentialKind::Hub).await.unwrap() });
    }
    let mut seen = Vec::new();
    while let Some(result) = tasks.join_next().await {
        seen.push(result.unwrap().unwrap());
    }
    assert_eq!(hub.requests(), 1);
    assert!(seen.iter().all(|b| *b == seen[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_gets_share_one_failure() {
    let hub = FakeHub::start(
        Duration::from_millis(200),
        Arc::new(|_, _| {
            (
                401,
                json!({ "detail": "Incorrect authentication credentials" }),
            )
        }),
    )
    .await;
    let broker = Arc::new(Broker::new(pat_accounts(), hub.exchanger(), false));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let broker = broker.clone();
        tasks.spawn(async move { broker.get("default", CredentialKind::Hub).await });
    }
    while let Some(result) = tasks.join_next().await {
        assert_eq!(result.unwrap().unwrap_err().status(), Some(401));
    }
    assert_eq!(hub.requests(), 1);
    // A later call tries again.
    broker
        .get("default", CredentialKind::Hub)
        .await
        .unwrap_err();
    assert_eq!(hub.requests(), 2);
}

#[tokio::test]
async fn failed_exchange_names_account_and_status_not_secret() {
    // The fake Hub even echoes the secret; the broker must not pass that on.
    let hub = FakeHub::start(
        Duration::ZERO,
        Arc::new(|body, _| {
            let secret = body["secret"].as_str().unwrap_or_default();
            (401, json!({ "detail": format!("bad secret {secret}") }))
        }),
    )
    .await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), true);
    let err = broker.get("work", CredentialKind::Hub).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("account 'work'"), "{text}");
    assert!(text.contains("401"), "{text}");
    assert!(text.contains("DOCKHAND_WORK_TOKEN"), "{text}");
    assert!(text.contains("organization access token"), "{text}");
    assert!(!text.contains("acme-secret"), "{text}");
    assert!(!format!("{err:?}").contains("acme-secret"));
    assert_eq!(err.status(), Some(401));

    let hub = FakeHub::start(
        Duration::ZERO,
        Arc::new(|_, _| {
            (
                401,
                json!({ "detail": "Incorrect authentication credentials" }),
            )
        }),
    )
    .await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), false);
    let err = broker
        .get("default", CredentialKind::Hub)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("with HTTP 401: Incorrect authentication credentials"),
        "{err}"
    );

    // Two-factor accounts answer a password login with a 2FA challenge; say what to do instead.
    let hub = FakeHub::start(
        Duration::ZERO,
        Arc::new(|_, _| (401, json!({ "detail": "Require secondary authentication on MFA enabled account", "login_2fa_token": "t" }))),
    )
    .await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), false);
    let err = broker
        .get("default", CredentialKind::Hub)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("personal access token instead"),
        "{err}"
    );
}

#[tokio::test]
async fn unreachable_hub_is_an_exchange_error_without_status() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
    let exchanger = Arc::new(HttpTokenExchange::new(
        client,
        &BaseUrl::parse(&base).unwrap(),
    ));
    let broker = Broker::new(pat_accounts(), exchanger, false);
    let err = broker
        .get("default", CredentialKind::Hub)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CredentialError::Exchange { status: None, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("connection failed"), "{err}");
}

#[tokio::test]
async fn sealed_mode_hands_out_placeholders_that_unseal_to_the_current_bearer() {
    let hub = FakeHub::minting(Some(3600)).await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), true);
    assert!(broker.is_sealed());

    let placeholder = broker
        .get("default", CredentialKind::Hub)
        .await
        .unwrap()
        .unwrap();
    assert!(placeholder.starts_with(PLACEHOLDER_PREFIX), "{placeholder}");
    assert_eq!(placeholder.len(), PLACEHOLDER_PREFIX.len() + 32);
    assert!(
        placeholder[PLACEHOLDER_PREFIX.len()..]
            .chars()
            .all(|c| c.is_ascii_hexdigit())
    );
    assert!(jwt::expiry(&placeholder).is_none());

    let real = broker.unseal(&format!("Bearer {placeholder}")).unwrap();
    let bearer = real.expose().strip_prefix("Bearer ").unwrap().to_owned();
    assert_ne!(bearer, placeholder);
    assert!(jwt::expiry(&bearer).is_some());
    assert_eq!(
        broker
            .unseal(&format!("bearer  {placeholder} "))
            .unwrap()
            .expose(),
        real.expose()
    );

    // After a re-mint the same placeholder maps to the new bearer.
    broker.invalidate("default", CredentialKind::Hub);
    let again = broker
        .get("default", CredentialKind::Hub)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, placeholder);
    let renewed = broker.unseal(&format!("Bearer {placeholder}")).unwrap();
    assert_ne!(renewed.expose(), real.expose());
    assert_eq!(hub.requests(), 2);

    // Each account and kind has its own placeholder; SCIM tokens and ready bearers are sealed too.
    let work = broker
        .get("work", CredentialKind::Hub)
        .await
        .unwrap()
        .unwrap();
    let scim = broker
        .get("default", CredentialKind::Scim)
        .await
        .unwrap()
        .unwrap();
    let ready = broker
        .get("ready", CredentialKind::Hub)
        .await
        .unwrap()
        .unwrap();
    let all = [&placeholder, &work, &scim, &ready];
    for (i, a) in all.iter().enumerate() {
        assert!(a.starts_with(PLACEHOLDER_PREFIX));
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert_eq!(
        broker.unseal(&format!("Bearer {scim}")).unwrap().expose(),
        "Bearer scim-secret"
    );
    assert_eq!(
        broker.unseal(&format!("Bearer {ready}")).unwrap().expose(),
        "Bearer ready-bearer"
    );

    // Anything that is not a live placeholder of this broker stays as it is.
    assert!(
        broker
            .unseal("Bearer dockhand-sealed-00000000000000000000000000000000")
            .is_none()
    );
    assert!(broker.unseal(&format!("Basic {placeholder}")).is_none());
    assert!(broker.unseal(&bearer).is_none());
    assert!(broker.unseal("").is_none());
    let other = Broker::new(pat_accounts(), hub.exchanger(), true);
    assert!(other.unseal(&format!("Bearer {placeholder}")).is_none());
}

#[tokio::test]
async fn static_credentials_anonymous_and_unknown_accounts() {
    let hub = FakeHub::minting(Some(3600)).await;
    let broker = Broker::new(pat_accounts(), hub.exchanger(), false);

    assert_eq!(
        broker.get("public", CredentialKind::Hub).await.unwrap(),
        None
    );
    let ready = broker.get("ready", CredentialKind::Hub).await.unwrap();
    assert_eq!(ready.as_deref(), Some("ready-bearer"));
    broker.invalidate("ready", CredentialKind::Hub);
    let ready = broker.get("ready", CredentialKind::Hub).await.unwrap();
    assert_eq!(ready.as_deref(), Some("ready-bearer"));
    let scim = broker.get("default", CredentialKind::Scim).await.unwrap();
    assert_eq!(scim.as_deref(), Some("scim-secret"));
    assert_eq!(hub.requests(), 0);

    let err = broker.get("work", CredentialKind::Scim).await.unwrap_err();
    assert!(matches!(err, CredentialError::NoScimToken { .. }));
    assert!(
        err.to_string().contains("DOCKHAND_WORK_SCIM_TOKEN"),
        "{err}"
    );
    let err = broker.get("nobody", CredentialKind::Hub).await.unwrap_err();
    assert!(matches!(err, CredentialError::UnknownAccount { .. }));
}

#[tokio::test]
async fn discovered_accounts_work_end_to_end() {
    let hub = FakeHub::minting(Some(3600)).await;
    let env = MapEnv::new()
        .with("DOCKHAND_WORK_ORG", "acme")
        .with("DOCKHAND_WORK_TOKEN", "dckr_oat_acme-secret");
    let accounts = discover(&env, &Paths::default());
    let broker = Broker::new(accounts, hub.exchanger(), false);
    assert!(
        broker
            .get("work", CredentialKind::Hub)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        broker.get("default", CredentialKind::Hub).await.unwrap(),
        None
    );
    assert_eq!(
        hub.bodies.lock().unwrap()[0],
        json!({ "identifier": "acme", "secret": "dckr_oat_acme-secret" })
    );
}

#[test]
fn broker_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Broker>();
    check::<Accounts>();
}

// ---------------------------------------------------------------------------------------------
// Secret files and where secrets may go

#[cfg(unix)]
#[test]
fn secret_files_readable_by_others_or_of_another_user_are_refused() {
    let home = Home::new();
    let secret = home.path().join("secrets/pat");
    write_file(&secret, "dckr_pat_leaky", 0o644);
    home.write_config(
        "accounts:\n  default:\n    username: ivy\n    token_file: ~/secrets/pat\n",
        0o600,
    );
    let env = home.env();
    let err = config_problem(&env, &home.paths(&env));
    let text = err.to_string();
    assert!(matches!(err, CredentialError::SecretFile { .. }), "{text}");
    assert!(text.contains(&secret.display().to_string()), "{text}");
    assert!(
        text.contains("0644") && text.contains("chmod 600"),
        "{text}"
    );
    assert!(!text.contains("leaky"), "{text}");

    set_mode(&secret, 0o600);
    discover(&env, &home.paths(&env));

    if crate::ownership::current_uid() == 0 {
        std::os::unix::fs::chown(&secret, Some(65534), None).unwrap();
        let err = config_problem(&env, &home.paths(&env));
        assert!(err.to_string().contains("another user"), "{err}");
    }
}

#[cfg(unix)]
#[test]
fn a_config_file_of_another_user_is_refused() {
    if crate::ownership::current_uid() != 0 {
        // Only root can hand a file to another user; elsewhere the mode test stands for it.
        return;
    }
    let home = Home::new();
    let path = home.write_config(
        "accounts:\n  default:\n    username: jo\n    token: dckr_pat_theirs\n",
        0o600,
    );
    std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
    let env = home.env();
    let err = Accounts::discover(&FlagCredentials::default(), &env, &home.paths(&env)).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("another user") && text.contains(&path.display().to_string()));
    assert!(!text.contains("theirs"), "{text}");
}

#[test]
fn a_config_account_may_name_its_own_base_url() {
    let home = Home::new();
    home.write_config(
        "accounts:\n\
         \x20 default: { username: kai, token: dckr_pat_k, base_url: \"https://hub.docker.com/v2/\" }\n\
         \x20 mirror: { bearer: b, base_url: \"http://127.0.0.1:8080\" }\n",
        0o600,
    );
    let env = home.env();
    let accounts = discover(&env, &home.paths(&env));
    assert_eq!(
        accounts.get("default").unwrap().base_url,
        Some(BaseUrl::docker_hub())
    );

    let elsewhere = accounts.for_base_url(&BaseUrl::parse("http://127.0.0.1:8080").unwrap());
    let default = elsewhere.get("default").unwrap();
    assert!(matches!(default.auth, AccountAuth::Anonymous));
    assert!(matches!(default.withheld, Some(Withheld::OtherBase { .. })));
    assert!(elsewhere.get("mirror").unwrap().withheld.is_none());
    let line = default.summary().to_string();
    assert!(
        line.contains("not used here") && line.contains("https://hub.docker.com"),
        "{line}"
    );

    home.write_config(
        "accounts:\n  default: { username: kai, token: dckr_pat_k, base_url: \"https://hub.docker.com/api\" }\n",
        0o600,
    );
    let err = config_problem(&env, &home.paths(&env));
    assert!(err.to_string().contains("base_url"), "{err}");
}

#[tokio::test]
async fn no_secret_is_handed_out_for_plain_http_to_another_machine() {
    let base = BaseUrl::parse("http://hub.example.com").unwrap();
    let hub = FakeHub::minting(Some(3600)).await;
    let broker = Broker::new(pat_accounts().for_base_url(&base), hub.exchanger(), true);
    for (account, kind) in [
        ("default", CredentialKind::Hub),
        ("default", CredentialKind::Scim),
        ("work", CredentialKind::Hub),
        ("ready", CredentialKind::Hub),
    ] {
        let err = broker.get(account, kind).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, CredentialError::Withheld { .. }), "{text}");
        assert!(text.contains("http://hub.example.com"), "{text}");
    }
    assert_eq!(
        broker.get("public", CredentialKind::Hub).await.unwrap(),
        None
    );
    assert_eq!(hub.requests(), 0, "nothing was exchanged");

    // To this machine over http, or anywhere over https, they are.
    for base in ["http://127.0.0.1:1", "https://hub.example.com"] {
        let accounts = pat_accounts().for_base_url(&BaseUrl::parse(base).unwrap());
        assert!(accounts.iter().all(|a| a.withheld.is_none()), "{base}");
    }
}

#[test]
fn dockers_login_does_not_rebind_an_account_bound_elsewhere() {
    let home = Home::new();
    home.write_config(
        "accounts:\n  default: { scim_token: s, base_url: \"https://hub.staging.example\" }\n",
        0o600,
    );
    home.write_docker_config(&json!({
        "auths": { "https://index.docker.io/v1/": { "auth": basic_auth("lee", "dckr_pat_lee") } }
    }));
    let env = home.env();
    let accounts = discover(&env, &home.paths(&env));
    let default = accounts.get("default").unwrap();
    assert!(
        matches!(default.auth, AccountAuth::Anonymous),
        "{default:?}"
    );
    assert_eq!(
        default.base_url,
        Some(BaseUrl::parse("https://hub.staging.example").unwrap())
    );
    assert!(
        accounts.warnings().iter().any(|w| w.contains("staging")),
        "{:?}",
        accounts.warnings()
    );
    // At Docker Hub the staging SCIM token stays home.
    let at_hub = accounts.for_base_url(&BaseUrl::docker_hub());
    assert!(at_hub.get("default").unwrap().scim.is_none());
}
