//! The CLI's side of the security model, attacked as a user's environment could: a base URL
//! that sends secrets somewhere they do not belong.

use crate::support::dockhand;
use dockhand_mock::{MockConfig, MockHub, fixtures};

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
