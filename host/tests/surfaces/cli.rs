//! The `dockhand` binary as a user runs it, against the mock Hub.

use crate::support::dockhand;
use dockhand_mock::{MockConfig, MockHub, fixtures};

async fn mock() -> MockHub {
    MockHub::start(MockConfig::default()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_prints_the_parsed_result() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "call",
            "get_repository",
            "namespace=library",
            "repository=alpine",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["name"], "alpine");
    // Compact with --json: one line.
    assert_eq!(run.stdout.trim().lines().count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn args_json_from_stdin_merges_with_pairs_and_aliases_work() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "call",
            "docker_list_tags",
            "--args-json",
            "-",
            "page_size=2",
        ],
        &[],
        r#"{"namespace": "library", "repository": "alpine", "page_size": 50}"#,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["results"].as_array().unwrap().len(), 2);
    let req = hub.requests().pop().unwrap();
    assert_eq!(req.query.as_deref(), Some("page_size=2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_stable_exit_codes_and_json_on_stderr() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let base_args = ["--base-url", base.as_str(), "--no-cache", "--json", "call"];

    let args: Vec<&str> = base_args
        .iter()
        .copied()
        .chain(["get_repository", "namespace=library", "repository=nope"])
        .collect();
    let run = dockhand(home.path(), &args, &[], "").await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.error_json()["error"]["kind"], "not-found");

    let args: Vec<&str> = base_args
        .iter()
        .copied()
        .chain(["get_repository", "namespace=library"])
        .collect();
    let run = dockhand(home.path(), &args, &[], "").await;
    assert_eq!(run.code, 2);
    let e = run.error_json();
    assert_eq!(e["error"]["kind"], "invalid-argument");
    assert_eq!(e["error"]["argument"], "repository");

    let args: Vec<&str> = base_args
        .iter()
        .copied()
        .chain(["no_such_operation"])
        .collect();
    let run = dockhand(home.path(), &args, &[], "").await;
    assert_eq!(run.code, 2);
    assert_eq!(run.error_json()["error"]["kind"], "unknown-operation");

    let args: Vec<&str> = base_args
        .iter()
        .copied()
        .chain(["list_personal_access_tokens"])
        .collect();
    let run = dockhand(home.path(), &args, &[], "").await;
    assert_eq!(
        run.code, 3,
        "anonymous call to a secured route: {}",
        run.stderr
    );

    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--read-only",
            "call",
            "create_repository",
            "namespace=alice",
            "name=x",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);

    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            "http://127.0.0.1:1",
            "--no-cache",
            "call",
            "get_repository",
            "namespace=a",
            "repository=b",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 8, "{}", run.stderr);

    let run = dockhand(
        home.path(),
        &["--no-cache", "call", "get_repository", "namespace"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 2, "a pair without `=`: {}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_stdin_is_exchanged_and_never_printed() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--username",
            fixtures::ALICE,
            "--token-stdin",
            "call",
            "list_personal_access_tokens",
        ],
        &[],
        &format!("  {}\n", fixtures::ALICE_PAT),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.json()["results"].is_array());
    let bearer = hub
        .requests()
        .iter()
        .find_map(|r| r.header("authorization").map(str::to_string))
        .expect("an authenticated request");
    for secret in [fixtures::ALICE_PAT, bearer.trim_start_matches("Bearer ")] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_exits_with_the_auth_code_and_no_secret() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let wrong = "dckr_pat_not_the_right_one";
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
        &[
            ("DOCKHAND_USERNAME", fixtures::ALICE),
            ("DOCKHAND_TOKEN", wrong),
        ],
        "",
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.error_json()["error"]["kind"], "unauthorized");
    assert!(!run.stderr.contains(wrong));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_docs_and_accounts() {
    let home = tempfile::tempdir().unwrap();
    let run = dockhand(home.path(), &["--no-cache", "ops", "--json"], &[], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ops = run.json();
    // Docker's 54 published operations and the 6 extended ones its own tools use.
    assert_eq!(ops.as_array().unwrap().len(), 60);
    let create = ops
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "create_repository")
        .unwrap();
    assert_eq!(
        (create["method"].as_str(), create["access"].as_str()),
        (Some("POST"), Some("write"))
    );

    let run = dockhand(
        home.path(),
        &["--no-cache", "docs", "docker_create_repository"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("# create_repository"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("| `is_private` | boolean | no |"));

    // The return shape: a page's fields, then those of one tag, then of its images.
    let run = dockhand(
        home.path(),
        &["--no-cache", "docs", "list_repository_tags"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let returns = run
        .stdout
        .split_once("## Returns")
        .unwrap_or_else(|| panic!("no Returns section: {}", run.stdout))
        .1;
    assert!(
        returns.contains("| `next` | string | no | yes |"),
        "{returns}"
    );
    let tag = returns
        .split_once("Each result (an item of `results`) has:")
        .unwrap_or_else(|| panic!("no fields of a tag: {returns}"))
        .1;
    for field in ["name", "digest", "last_updated", "status", "images"] {
        assert!(tag.contains(&format!("| `{field}` |")), "{field}: {tag}");
    }
    assert!(tag.contains("| `images` | array of object |"), "{tag}");
    let image = tag
        .split_once("Each item of `results[].images` has:")
        .unwrap_or_else(|| panic!("no fields of an image: {tag}"))
        .1;
    for field in ["digest", "architecture", "os", "size"] {
        assert!(
            image.contains(&format!("| `{field}` |")),
            "{field}: {image}"
        );
    }

    let run = dockhand(
        home.path(),
        &["--no-cache", "docs", "nothing_like_it"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 2);

    let run = dockhand(
        home.path(),
        &["accounts"],
        &[
            ("DOCKHAND_USERNAME", "alice"),
            ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
            ("DOCKHAND_WORK_ORG", "acme"),
            ("DOCKHAND_WORK_TOKEN", fixtures::ORG_OAT),
        ],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("default") && run.stdout.contains("alice"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("work") && run.stdout.contains("acme"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("DOCKHAND_USERNAME"),
        "where it came from: {}",
        run.stdout
    );
    assert!(!run.stdout.contains(fixtures::ALICE_PAT) && !run.stdout.contains(fixtures::ORG_OAT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn precompile_fills_the_cache_and_a_damaged_file_is_compiled_again() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    let run = dockhand(
        home.path(),
        &["--cache-dir", cache_arg, "precompile"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("precompiled into"), "{}", run.stdout);

    let run = dockhand(
        home.path(),
        &["--cache-dir", cache_arg, "precompile"],
        &[],
        "",
    )
    .await;
    assert!(
        run.stdout.starts_with("already precompiled"),
        "{}",
        run.stdout
    );

    // Damage the compiled file: it must not be loaded, but compiled and replaced.
    let cwasm = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .unwrap();
    let mut bytes = std::fs::read(&cwasm).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&cwasm, bytes).unwrap();
    let run = dockhand(
        home.path(),
        &["--cache-dir", cache_arg, "precompile"],
        &[],
        "",
    )
    .await;
    assert!(run.stdout.starts_with("precompiled into"), "{}", run.stdout);
    let run = dockhand(home.path(), &["--cache-dir", cache_arg, "ops"], &[], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Where the pooling allocator cannot reserve its address space (a small `ulimit -v`), the host
/// makes instances on demand instead, and calls still work. (Linux: macOS does not enforce
/// the limit.)
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_address_space_for_the_pool_instances_are_made_on_demand() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    // Room for an on-demand instance (a 4 GiB reservation for its memory), not for a pool of
    // 256 such slots.
    const LIMIT_KIB: u64 = 16 << 20;

    let run = crate::support::dockhand_with_address_limit(
        home.path(),
        LIMIT_KIB,
        &["--no-cache", "precompile"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("instances: on demand"),
        "{}",
        run.stdout
    );

    let run = crate::support::dockhand_with_address_limit(
        home.path(),
        LIMIT_KIB,
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "call",
            "get_repository",
            "namespace=library",
            "repository=alpine",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["name"], "alpine");

    // Without the limit the same command reports the pool, where the machine has the room (a
    // 39-bit address space or an inherited limit has not: then only the above is checked).
    let run = dockhand(home.path(), &["--no-cache", "precompile"], &[], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    if run.stdout.contains("instances: on demand") {
        eprintln!("this machine cannot host the pool even without the limit");
    } else {
        assert!(
            run.stdout.contains("instances: pooling allocator"),
            "{}",
            run.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_falls_back_to_the_mock_hub_offline() {
    let home = tempfile::tempdir().unwrap();
    let run = dockhand(home.path(), &["--no-cache", "demo", "--offline"], &[], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("mock Hub") && run.stdout.contains("latest"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_refuses_a_public_address_unless_told() {
    let home = tempfile::tempdir().unwrap();
    // 192.0.2.1 (TEST-NET-1) comes first: it is never a local address, so nothing is bound
    // even by a build that lacks the check.
    for addr in ["192.0.2.1:8080", "0.0.0.0:8080", "[::]:8080"] {
        let run = dockhand(home.path(), &["mock", "--addr", addr], &[], "").await;
        assert_eq!(run.code, 2, "{addr}: {}", run.stderr);
        assert!(
            run.stderr.contains("not a loopback address") && run.stderr.contains("--public"),
            "{}",
            run.stderr
        );
    }
    // With --public the check passes and the bind is tried, failing only because the address
    // is not this machine's.
    let run = dockhand(
        home.path(),
        &["mock", "--public", "--addr", "192.0.2.1:8080"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("--public"), "{}", run.stderr);
}

#[test]
fn mock_listens_on_localhost() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dockhand"))
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .args(["mock", "--addr", "localhost:0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start dockhand mock");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let serving = line
        .trim()
        .strip_prefix("mock Docker Hub listening on http://")
        .map(|addr| std::net::TcpStream::connect(addr).is_ok());
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        serving,
        Some(true),
        "{line}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(line.contains("http://127.0.0.1:"), "{line}");
}

/// The bearers the mock minted in its token exchanges (from its record of its answers).
fn minted_bearers(hub: &MockHub) -> Vec<String> {
    hub.requests()
        .iter()
        .filter(|r| r.path == "/v2/auth/token")
        .filter_map(|r| r.answer.as_ref()?.json())
        .filter_map(|a| Some(a.get("access_token")?.as_str()?.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_names_the_user_of_a_token_and_where_the_account_came_from() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();

    // From the environment, as text: the user first, then the account and its source.
    let run = dockhand(
        home.path(),
        &["--base-url", &base, "whoami"],
        &[
            ("DOCKHAND_USERNAME", fixtures::ALICE),
            ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
        ],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut lines = run.stdout.lines();
    assert_eq!(lines.next(), Some("user alice"), "{}", run.stdout);
    let account = lines.next().unwrap_or_default();
    assert!(
        account.starts_with("account default: personal access token, from environment")
            && account.contains("DOCKHAND_TOKEN"),
        "{}",
        run.stdout
    );

    // From the flags (the token on stdin), as JSON: every field, and the name from the token.
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--username",
            fixtures::ALICE,
            "--token-stdin",
            "whoami",
            "--json",
        ],
        &[],
        &format!("{}\n", fixtures::ALICE_PAT),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim().lines().count(),
        1,
        "compact: {}",
        run.stdout
    );
    assert_eq!(
        run.json(),
        serde_json::json!({
            "account": "default",
            "anonymous": false,
            "username": "alice",
            "organization": null,
            "namespace": "alice",
            "auth": "personal access token",
            "source": "flags",
            "origin": "command-line flags",
            "name_from": "token",
            "note": null,
            "base_url": base,
        })
    );

    // Neither the token nor a bearer minted for it is ever printed.
    let bearers = minted_bearers(&hub);
    // One exchange: the second run (same account and PAT) uses the token the first kept.
    assert_eq!(bearers.len(), 1, "the second run exchanged again");
    for secret in bearers
        .iter()
        .map(String::as_str)
        .chain([fixtures::ALICE_PAT])
    {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
    assert!(!run.stdout.contains("eyJ"), "no JWT at all: {}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_of_an_organization_token_and_of_a_config_file_account() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let run = dockhand(
        home.path(),
        &["--base-url", &base, "--account", "work", "whoami", "--json"],
        &[
            ("DOCKHAND_WORK_ORG", fixtures::ORG),
            ("DOCKHAND_WORK_TOKEN", fixtures::ORG_OAT),
        ],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = run.json();
    assert_eq!(id["account"], "work");
    assert_eq!(id["organization"], fixtures::ORG);
    assert_eq!(id["namespace"], fixtures::ORG);
    assert_eq!(id["username"], serde_json::Value::Null);
    assert_eq!(id["auth"], "organization access token");
    assert!(!run.stdout.contains(fixtures::ORG_OAT));

    // An account of dockhand's config file says which file.
    let config = home.path().join(".config/dockhand/config.yaml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "accounts:\n  ci: {{ username: {}, token: {} }}\n",
            fixtures::BOB,
            fixtures::BOB_PAT
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = dockhand(
        home.path(),
        &["--base-url", &base, "--account", "ci", "whoami"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("user bob\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("account ci: personal access token, from config file")
            && run.stdout.contains(config.to_str().unwrap()),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(fixtures::BOB_PAT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_of_an_anonymous_account_says_so_and_exits_3() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let run = dockhand(home.path(), &["--base-url", &base, "whoami"], &[], "").await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("anonymous\naccount default: anonymous (not configured)"),
        "{}",
        run.stdout
    );
    let run = dockhand(
        home.path(),
        &["--base-url", &base, "whoami", "--json"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let id = run.json();
    assert_eq!(
        (&id["anonymous"], &id["username"], &id["source"]),
        (
            &serde_json::json!(true),
            &serde_json::Value::Null,
            &serde_json::json!("none")
        )
    );
    assert!(
        hub.requests().is_empty(),
        "an anonymous whoami sends nothing"
    );

    // `docker login`'s credential belongs to Docker Hub: anonymous here, saying why.
    let docker = home.path().join(".docker");
    std::fs::create_dir_all(&docker).unwrap();
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        fixtures::ALICE,
        fixtures::ALICE_PAT
    ));
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let run = dockhand(
        home.path(),
        &["--base-url", &base, "whoami", "--json"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let id = run.json();
    assert_eq!(id["anonymous"], true);
    assert_eq!(id["source"], "docker-login");
    assert!(
        id["note"]
            .as_str()
            .is_some_and(|n| n.contains("belong to https://hub.docker.com")),
        "{id}"
    );
    assert!(!run.stdout.contains(fixtures::ALICE_PAT) && !run.stdout.contains(&auth));
    assert!(
        hub.requests().is_empty(),
        "nor one whose secret is kept from here"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_with_a_rejected_token_fails_like_a_call() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let wrong = "dckr_pat_not_the_right_one";
    let run = dockhand(
        home.path(),
        &["--base-url", &base, "--json", "whoami"],
        &[
            ("DOCKHAND_USERNAME", fixtures::ALICE),
            ("DOCKHAND_TOKEN", wrong),
        ],
        "",
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.error_json()["error"]["kind"], "unauthorized");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(!run.stderr.contains(wrong));

    let run = dockhand(
        home.path(),
        &["--base-url", &base, "--account", "nobody", "whoami"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("nobody"), "{}", run.stderr);
}

/// The JSON body of the last request the mock received.
fn last_body(hub: &MockHub) -> serde_json::Value {
    let req = hub.requests().pop().expect("a request");
    serde_json::from_slice(&req.body).unwrap_or_else(|e| panic!("{e}: {:?}", req.body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_values_come_from_files_and_standard_input() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let readme = home.path().join("README.md");
    // Starts with `[`, and is still text, not JSON.
    let overview = "[![build](https://ci.example/badge.svg)](https://ci.example)\n\n# Demo\n";
    std::fs::write(&readme, overview).unwrap();
    let creds = [
        ("DOCKHAND_USERNAME", fixtures::ALICE),
        ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
    ];
    let full_description = format!("full_description=@{}", readme.display());
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "call",
            "create_repository",
            "namespace=alice",
            "name=from-files",
            "description=@-",
            &full_description,
        ],
        &creds,
        "Read from standard input",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body = last_body(&hub);
    assert_eq!(body["description"], "Read from standard input");
    assert_eq!(body["full_description"], overview);
    assert_eq!(run.json()["full_description"], overview);

    // `@@` escapes a value that starts with `@`; a lone `@` inside a value is plain text.
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "call",
            "create_repository",
            "namespace=alice",
            "name=escaped",
            "description=@@team a@b",
        ],
        &creds,
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(last_body(&hub)["description"], "@team a@b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_values_from_files_that_cannot_be_used_are_refused_naming_the_argument() {
    let hub = mock().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let call = |value: String| {
        let base = base.clone();
        let home = home.path().to_path_buf();
        async move {
            dockhand(
                &home,
                &[
                    "--base-url",
                    &base,
                    "--no-cache",
                    "--json",
                    "call",
                    "create_repository",
                    "namespace=alice",
                    "name=refused",
                    &value,
                ],
                &[
                    ("DOCKHAND_USERNAME", fixtures::ALICE),
                    ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
                ],
                "",
            )
            .await
        }
    };

    let missing = home.path().join("no-such-file.md");
    let run = call(format!("full_description=@{}", missing.display())).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let e = &run.error_json()["error"];
    assert_eq!(e["kind"], "invalid-argument");
    assert_eq!(e["argument"], "full_description");
    let reason = e["reason"].as_str().unwrap();
    assert!(
        reason.contains("no-such-file.md") && reason.contains("@@"),
        "{reason}"
    );

    let big = home.path().join("big.md");
    std::fs::write(&big, vec![b'x'; (1 << 20) + 1]).unwrap();
    let run = call(format!("full_description=@{}", big.display())).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let e = &run.error_json()["error"];
    assert_eq!(e["argument"], "full_description");
    assert!(e["reason"].as_str().unwrap().contains("1 MiB"), "{e}");

    // A directory cannot be read as a file either.
    let run = call(format!("description=@{}", home.path().display())).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.error_json()["error"]["argument"], "description");

    // Standard input is read once.
    let run = call("description=@-".into()).await;
    assert_eq!(run.code, 0, "empty stdin is an empty value: {}", run.stderr);
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "call",
            "create_repository",
            "namespace=alice",
            "name=twice",
            "description=@-",
            "full_description=@-",
        ],
        &[],
        "text",
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("only once"), "{}", run.stderr);
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--username",
            fixtures::ALICE,
            "--token-stdin",
            "call",
            "create_repository",
            "namespace=alice",
            "name=twice",
            "description=@-",
        ],
        &[],
        fixtures::ALICE_PAT,
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--token-stdin") && !run.stderr.contains(fixtures::ALICE_PAT),
        "{}",
        run.stderr
    );
    // Only the one call above with an empty description reached the Hub.
    let creates = hub
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/repositories"))
        .count();
    assert_eq!(creates, 1);
}
