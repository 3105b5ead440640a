//! The CLI's side of the security model, attacked as a user's environment could: a base URL
//! that sends secrets somewhere they do not belong.

use crate::support::dockhand;
use dockhand_mock::{MockConfig, MockHub, fixtures};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A PAT in the environment and a plain-http base URL on "another machine" (this one, written
/// as an IPv4-mapped IPv6 address, so a leak would land at the mock): refused with the policy
/// exit code, the base URL named, nothing sent, the secret never printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_is_not_sent_over_plain_http_to_another_machine() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let port = hub.base_url().rsplit(':').next().unwrap().to_owned();
    let base = format!("http://[::ffff:127.0.0.1]:{port}");
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("DOCKHAND_USERNAME", fixtures::ALICE),
        ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
    ];
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "call",
            "list_personal_access_tokens",
        ],
        &env,
        "",
    )
    .await;
    assert_eq!(run.code, 6, "{}", run.stderr);
    let error = run.error_json();
    assert_eq!(error["error"]["kind"], "denied");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&base) && message.contains("https://"),
        "{message}"
    );
    assert!(hub.requests().is_empty(), "{:#?}", hub.requests());
    assert!(!run.stderr.contains(fixtures::ALICE_PAT) && !run.stdout.contains(fixtures::ALICE_PAT));

    // `accounts` says the same before any call is made.
    let run = dockhand(home.path(), &["--base-url", &base, "accounts"], &env, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("not used here"), "{}", run.stdout);
}

/// `docker login` (an `auths` entry) belongs to Docker Hub: against the mock it is never
/// exchanged, the call runs anonymously, and the error and `accounts` say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dockers_login_stays_with_docker_hub() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let docker = home.path().join(".docker");
    std::fs::create_dir_all(&docker).unwrap();
    let auth = base64_of(&format!("{}:{}", fixtures::ALICE, fixtures::ALICE_PAT));
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{auth}"}}}}}}"#),
    )
    .unwrap();
    let base = hub.base_url();
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "call",
            "list_personal_access_tokens",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("https://hub.docker.com"),
        "{}",
        run.stderr
    );
    assert!(
        hub.requests()
            .iter()
            .all(|r| r.path != "/v2/auth/token" && r.header("authorization").is_none()),
        "{:#?}",
        hub.requests()
    );

    let run = dockhand(home.path(), &["--base-url", &base, "accounts"], &[], "").await;
    assert!(run.stdout.contains("Docker config"), "{}", run.stdout);
    assert!(run.stdout.contains("not used here"), "{}", run.stdout);
    let run = dockhand(home.path(), &["accounts"], &[], "").await;
    assert!(
        run.stdout.contains("personal access token for alice"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("not used here"), "{}", run.stdout);
}

/// Standard base64, enough for a `user:secret` pair.
fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

// The Hub token cache across processes: what `dockhand` keeps of a minted JWT, and for whom.

/// The token files under `home`'s default cache directory.
fn token_files(home: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(tokens_dir(home)) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn tokens_dir(home: &Path) -> PathBuf {
    home.join(".cache").join("dockhand").join("tokens")
}

/// How many times the mock was asked to exchange a secret for a token.
fn exchanges(hub: &MockHub) -> usize {
    hub.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v2/auth/token")
        .count()
}

/// The bearers the mock was sent, in order.
fn bearers(hub: &MockHub) -> Vec<String> {
    hub.requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_string))
        .collect()
}

/// The token a cache file holds.
fn cached_token(file: &Path) -> String {
    let entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    entry["token"].as_str().unwrap().to_owned()
}

/// `dockhand call list_personal_access_tokens` as alice with her PAT against `base`, which
/// must succeed and print neither her PAT nor any bearer the mock saw.
async fn call_as_alice(home: &Path, base: &str, extra: &[&str]) -> crate::support::Run {
    let mut args = vec!["--base-url", base, "--no-cache", "--json"];
    args.extend_from_slice(extra);
    args.extend(["call", "list_personal_access_tokens"]);
    let env = [
        ("DOCKHAND_USERNAME", fixtures::ALICE),
        ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
    ];
    let run = dockhand(home, &args, &env, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for secret in [fixtures::ALICE_PAT, "eyJ"] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} printed"
        );
    }
    run
}

/// A second process with the same PAT sends no exchange: it uses the JWT the first one minted,
/// kept in a 0600 file in a 0700 directory, and the file holds the JWT, never the PAT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_process_reuses_the_minted_token_and_never_stores_the_pat() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    call_as_alice(home.path(), &hub.base_url(), &[]).await;
    assert_eq!(exchanges(&hub), 1);
    call_as_alice(home.path(), &hub.base_url(), &[]).await;
    assert_eq!(exchanges(&hub), 1, "the second process exchanged again");
    let sent = bearers(&hub);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1]);

    let files = token_files(home.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains(fixtures::ALICE_PAT), "the PAT is on disk");
    assert_eq!(format!("Bearer {}", cached_token(&files[0])), sent[0]);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&files[0]), 0o600);
    assert_eq!(mode(&tokens_dir(home.path())), 0o700);
}

/// A token inside the minute before its `exp` is not kept, and one whose `exp` has passed (a
/// file changed by hand here) is not used: a fresh exchange each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_at_or_past_its_expiry_is_not_used() {
    let short = MockHub::start(MockConfig {
        token_lifetime: Duration::from_secs(30),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    call_as_alice(home.path(), &short.base_url(), &[]).await;
    call_as_alice(home.path(), &short.base_url(), &[]).await;
    assert_eq!(exchanges(&short), 2);
    assert!(token_files(home.path()).is_empty());

    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    call_as_alice(home.path(), &hub.base_url(), &[]).await;
    let file = token_files(home.path()).pop().unwrap();
    let mut entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    entry["exp"] = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5)
    .into();
    std::fs::write(&file, entry.to_string()).unwrap();
    call_as_alice(home.path(), &hub.base_url(), &[]).await;
    assert_eq!(exchanges(&hub), 2);
}

/// A cached token the Hub refuses (401) is dropped: the call mints a new one, succeeds, and
/// the file holds the new token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_dropped_and_replaced() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    call_as_alice(home.path(), &hub.base_url(), &[]).await;
    let file = token_files(home.path()).pop().unwrap();
    let old = cached_token(&file);
    hub.expire_tokens();
    call_as_alice(home.path(), &hub.base_url(), &[]).await;
    assert_eq!(exchanges(&hub), 2);
    let new = cached_token(&token_files(home.path()).pop().unwrap());
    assert_ne!(old, new);
    assert_eq!(bearers(&hub).last().unwrap(), &format!("Bearer {new}"));
}

/// The same account against another base URL never sees the token: it exchanges there, and
/// the first base URL's token never reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_base_url_never_sees_the_token() {
    let first = MockHub::start(MockConfig::default()).await.unwrap();
    let second = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    call_as_alice(home.path(), &first.base_url(), &[]).await;
    let token = cached_token(&token_files(home.path()).pop().unwrap());
    call_as_alice(home.path(), &second.base_url(), &[]).await;
    assert_eq!(exchanges(&second), 1);
    assert!(
        second
            .requests()
            .iter()
            .all(|r| !format!("{r:?}").contains(&token)),
        "the first origin's token went to the second"
    );
    // The same machine named otherwise is another origin too.
    let port = first.addr().port();
    call_as_alice(home.path(), &format!("http://localhost:{port}"), &[]).await;
    assert_eq!(exchanges(&first), 2);
    assert_eq!(token_files(home.path()).len(), 3);
}

/// A cache file others may read, and a cache directory that is open to others or belongs to
/// someone else, are ignored (a fresh exchange) and replaced by private ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exposed_cache_file_or_directory_is_ignored_and_replaced() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = tokens_dir(home.path());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let set =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    call_as_alice(home.path(), &hub.base_url(), &[]).await;
    let file = token_files(home.path()).pop().unwrap();

    set(&file, 0o644);
    call_as_alice(home.path(), &hub.base_url(), &[]).await;
    assert_eq!(exchanges(&hub), 2, "a world-readable file was used");
    assert_eq!(mode(&file), 0o600);

    set(&dir, 0o770);
    call_as_alice(home.path(), &hub.base_url(), &[]).await;
    assert_eq!(exchanges(&hub), 3, "a group-writable directory was used");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&token_files(home.path()).pop().unwrap()), 0o600);

    if current_uid() == 0 {
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        call_as_alice(home.path(), &hub.base_url(), &[]).await;
        assert_eq!(exchanges(&hub), 4, "another user's directory was used");
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0);
        assert_eq!(mode(&dir), 0o700);
        call_as_alice(home.path(), &hub.base_url(), &[]).await;
        assert_eq!(exchanges(&hub), 4, "the replaced directory serves again");
    }
}

/// `--no-token-cache` reads and writes no token file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_cache_keeps_nothing() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    call_as_alice(home.path(), &hub.base_url(), &[]).await;
    call_as_alice(home.path(), &hub.base_url(), &["--no-token-cache"]).await;
    assert_eq!(exchanges(&hub), 2, "the cached token was read");
    std::fs::remove_dir_all(tokens_dir(home.path())).unwrap();
    call_as_alice(home.path(), &hub.base_url(), &["--no-token-cache"]).await;
    assert_eq!(exchanges(&hub), 3);
    assert!(!tokens_dir(home.path()).exists());
}

/// The current user's id, from `id -u` (the test crate keeps to safe code).
fn current_uid() -> u32 {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// `dockhand accounts` says whether a token is cached and until when, never the token itself,
/// as text and as JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_says_until_when_a_token_is_cached_but_never_the_token() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let env = [
        ("DOCKHAND_USERNAME", fixtures::ALICE),
        ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
    ];
    let run = dockhand(home.path(), &["--base-url", &base, "accounts"], &env, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("no Hub token cached"), "{}", run.stdout);

    call_as_alice(home.path(), &base, &[]).await;
    let token = cached_token(&token_files(home.path()).pop().unwrap());
    let run = dockhand(home.path(), &["--base-url", &base, "accounts"], &env, "").await;
    assert!(
        run.stdout.contains("Hub token cached until 20"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(&token) && !run.stdout.contains(fixtures::ALICE_PAT));
    let run = dockhand(
        home.path(),
        &["--base-url", &base, "--json", "accounts"],
        &env,
        "",
    )
    .await;
    let listing = run.json();
    let until = listing[0]["token_cached_until"].as_str().unwrap();
    assert!(until.ends_with('Z') && until.len() == 20, "{until}");
    assert!(!run.stdout.contains(&token));
    // Another base URL has none, and with the cache off there is none to speak of.
    let other = format!("http://localhost:{}", hub.addr().port());
    let run = dockhand(home.path(), &["--base-url", &other, "accounts"], &env, "").await;
    assert!(run.stdout.contains("no Hub token cached"), "{}", run.stdout);
    let run = dockhand(
        home.path(),
        &["--base-url", &base, "--no-token-cache", "accounts"],
        &env,
        "",
    )
    .await;
    assert!(run.stdout.contains("Hub token cache off"), "{}", run.stdout);
    assert_eq!(exchanges(&hub), 1, "`accounts` exchanged a secret");
}

/// `token_cache: false` in config.yaml turns the cache off like `--no-token-cache`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_can_turn_the_token_cache_off() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".config").join("dockhand");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "token_cache: false\naccounts:\n  default:\n    username: {}\n    token: {}\n",
            fixtures::ALICE,
            fixtures::ALICE_PAT
        ),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let args = [
        "--base-url",
        &hub.base_url(),
        "--no-cache",
        "call",
        "list_personal_access_tokens",
    ];
    for _ in 0..2 {
        let run = dockhand(home.path(), &args, &[], "").await;
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(exchanges(&hub), 2);
    assert!(!tokens_dir(home.path()).exists());
    let run = dockhand(
        home.path(),
        &["--base-url", &hub.base_url(), "accounts"],
        &[],
        "",
    )
    .await;
    assert!(run.stdout.contains("Hub token cache off"), "{}", run.stdout);
}
