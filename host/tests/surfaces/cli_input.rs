//! The command line as people type it: `namespace/repository` split where an operation takes
//! both, brackets that are text unless the argument is JSON, `name:=json`, and command-line
//! mistakes (an operation written as a command, a base URL without a scheme, a missing
//! argument) reported as usage errors, as JSON under `--json`, before anything is sent.

use crate::support::dockhand;
use dockhand_mock::{MockConfig, MockHub, fixtures};

const ALICE: [(&str, &str); 2] = [
    ("DOCKHAND_USERNAME", fixtures::ALICE),
    ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_slash_repository_is_split_and_a_stray_slash_is_refused_locally() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let call = |words: &'static [&'static str]| {
        let (home, base) = (home.path().to_path_buf(), base.clone());
        async move {
            let mut args = vec!["--base-url", &base, "--no-cache", "--json", "call"];
            args.extend_from_slice(words);
            dockhand(&home, &args, &[], "").await
        }
    };
    for words in [
        &["get_repository", "library/alpine"][..],
        &["get_repository", "repository=library/alpine"][..],
    ] {
        let run = call(words).await;
        assert_eq!(run.code, 0, "{words:?}: {}", run.stderr);
        assert_eq!(run.json()["name"], "alpine", "{words:?}");
    }

    hub.clear_requests();
    let run = call(&["get_repository", "namespace=library/alpine", "repository=x"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let error = &run.error_json()["error"];
    assert_eq!(error["kind"], "invalid-argument");
    assert_eq!(error["argument"], "namespace");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("repository=NAMESPACE/NAME"),
        "{error}"
    );
    assert!(hub.requests().is_empty(), "{:#?}", hub.requests());

    // A positional word where the operation takes no repository is a usage error.
    let run = call(&["list_org_members", "library/alpine"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("name=value"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brackets_are_text_where_the_argument_is_text_and_colon_equals_is_json() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
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
            "update_repository",
            "alice/demo",
            "description=[WIP] my repo",
            "full_description={not json, a heading}",
        ],
        &ALICE,
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["description"], "[WIP] my repo");
    assert_eq!(run.json()["full_description"], "{not json, a heading}");

    // `name:=` is JSON: a number stays a number; what does not parse is refused, named.
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "call",
            "list_repository_tags",
            "library/alpine",
            "page_size:=2",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["results"].as_array().unwrap().len(), 2);
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "call",
            "list_repository_tags",
            "library/alpine",
            "page_size:=two",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.error_json()["error"]["argument"], "page_size");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_mistakes_are_usage_errors_as_json_under_json() {
    let home = tempfile::tempdir().unwrap();

    // An operation where a command goes: the command that runs it.
    for json in [false, true] {
        let mut args = vec!["list_repository_tags", "library/alpine"];
        if json {
            args.insert(0, "--json");
        }
        let run = dockhand(home.path(), &args, &[], "").await;
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("dockhand call list_repository_tags NAME=VALUE"),
            "{}",
            run.stderr
        );
        if json {
            assert_eq!(run.error_json()["error"]["kind"], "usage");
        }
    }

    // clap's own refusals, as JSON with --json.
    for args in [
        &["--json", "call"][..],
        &["--json", "--no-such-flag", "ops"][..],
    ] {
        let run = dockhand(home.path(), args, &[], "").await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        let error = &run.error_json()["error"];
        assert_eq!(error["kind"], "usage", "{args:?}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }

    // A base URL without a scheme names the flag and the fix, exit 2 (not a host failure).
    let run = dockhand(
        home.path(),
        &[
            "--json",
            "--base-url",
            "127.0.0.1:18090",
            "call",
            "get_repository",
            "library/alpine",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let message = run.error_json()["error"]["message"].to_string();
    assert!(
        message.contains("--base-url") && message.contains("http://127.0.0.1:18090"),
        "{message}"
    );
}

/// A credential that could not be had is reported as what went wrong, never as a 401 the Hub
/// did not send: an account nothing configured is a usage error (exit 2, nothing sent), an
/// exchange that reached no server a transport error (exit 8), and only a refused secret is
/// `unauthorized` (exit 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_failures_say_what_failed() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let get = |base: String, extra: Vec<&'static str>, env: Vec<(&'static str, &'static str)>| {
        let home = home.path().to_path_buf();
        async move {
            let mut args = vec!["--base-url", &base, "--no-cache", "--json"];
            args.extend(extra);
            args.extend(["call", "get_repository", "alice/demo"]);
            dockhand(&home, &args, &env, "").await
        }
    };

    hub.clear_requests();
    let run = get(base.clone(), vec!["--account", "wrok"], ALICE.to_vec()).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let error = &run.error_json()["error"];
    assert_eq!(error["kind"], "usage");
    assert_eq!(error["account"], "wrok");
    assert!(!run.stderr.contains("401"), "{}", run.stderr);
    assert!(hub.requests().is_empty(), "{:#?}", hub.requests());

    // Nothing listens on the port: the exchange gets no answer.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let run = get(closed, vec![], ALICE.to_vec()).await;
    assert_eq!(run.code, 8, "{}", run.stderr);
    let error = &run.error_json()["error"];
    assert_eq!(error["kind"], "transport");
    assert!(error.get("status").is_none(), "{error}");
    assert!(!run.stderr.contains("401"), "{}", run.stderr);

    // A secret the Hub refuses is the one case that is `unauthorized`, with the Hub's status.
    let run = get(
        base,
        vec![],
        vec![
            ("DOCKHAND_USERNAME", fixtures::ALICE),
            ("DOCKHAND_TOKEN", "dckr_pat_not_a_real_one_000000000000"),
        ],
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let error = &run.error_json()["error"];
    assert_eq!(error["kind"], "unauthorized");
    assert_eq!(error["status"], 401);
    assert!(
        !run.stderr.contains("dckr_pat_not_a_real_one"),
        "{}",
        run.stderr
    );
}

/// Writes `text` as the home's config.yaml, private as the config must be.
fn write_config(home: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    let dir = home.join(".config/dockhand");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.yaml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// config.yaml can name the base URL (the flag and the variable still win); a key it does not
/// know is refused rather than ignored; and commands that send no credential (`ops`, `docs`, a
/// call with `--anonymous`) run although an account entry is broken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_names_the_base_url_and_a_broken_entry_stops_only_what_needs_it() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let run = |args: &'static [&'static str]| {
        let home = home.path().to_path_buf();
        async move {
            let mut all = vec!["--no-cache", "--json"];
            all.extend_from_slice(args);
            dockhand(&home, &all, &[], "").await
        }
    };
    let get = &["call", "get_repository", "library/alpine"][..];

    write_config(home.path(), &format!("base_url: {}\n", hub.base_url()));
    hub.clear_requests();
    let done = run(get).await;
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(done.json()["name"], "alpine");
    assert_eq!(hub.requests().len(), 1);
    // The flag wins: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let elsewhere = dockhand(
        home.path(),
        &[
            "--no-cache",
            "--json",
            "--base-url",
            &closed,
            "call",
            "get_repository",
            "library/alpine",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(elsewhere.code, 8, "{}", elsewhere.stderr);

    write_config(
        home.path(),
        &format!("base_url: {}\nacount:\n  work: {{}}\n", hub.base_url()),
    );
    let refused = run(get).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("acount"), "{}", refused.stderr);

    write_config(
        home.path(),
        &format!(
            "base_url: {}\naccounts:\n  work:\n    username: alice\n    token_file: missing.token\n",
            hub.base_url()
        ),
    );
    for args in [
        &["ops"][..],
        &["docs", "get_repository"][..],
        &["--anonymous", "call", "get_repository", "library/alpine"][..],
        // The default account is not the broken one.
        get,
    ] {
        let done = run(args).await;
        assert_eq!(done.code, 0, "{args:?}: {}", done.stderr);
    }
    // The broken account itself: a usage error naming what is wrong, nothing sent.
    hub.clear_requests();
    let broken = run(&[
        "--account",
        "work",
        "call",
        "get_repository",
        "library/alpine",
    ])
    .await;
    assert_eq!(broken.code, 2, "{}", broken.stderr);
    assert_eq!(broken.error_json()["error"]["account"], "work");
    assert!(broken.stderr.contains("missing.token"), "{}", broken.stderr);
    assert!(hub.requests().is_empty(), "{:#?}", hub.requests());
    // `accounts` lists every account, the broken one with why.
    let listed = run(&["accounts"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let work = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "work")
        .cloned()
        .expect("work is listed");
    assert!(
        work["broken"].as_str().unwrap().contains("missing.token"),
        "{work}"
    );
}

/// Errors in the command line's words: how to give credentials when an anonymous call was
/// refused, where the operation names are, and the flags named as they are typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_what_to_do_at_this_command_line() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let run = |words: &'static [&'static str], stdin: &'static str| {
        let (home, base) = (home.path().to_path_buf(), base.clone());
        async move {
            let mut args = vec!["--base-url", &base, "--no-cache", "--json"];
            args.extend_from_slice(words);
            dockhand(&home, &args, &[], stdin).await
        }
    };

    let anonymous = run(
        &["call", "create_repository", "namespace=alice", "name=x"],
        "",
    )
    .await;
    assert_eq!(anonymous.code, 3, "{}", anonymous.stderr);
    let message = anonymous.error_json()["error"]["message"].to_string();
    assert!(
        message.contains("anonymous") && message.contains("DOCKHAND_TOKEN"),
        "{message}"
    );

    let unknown = run(&["call", "zzzz_qqqq"], "").await;
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    let message = unknown.error_json()["error"]["message"].to_string();
    assert!(message.contains("dockhand ops"), "{message}");
    assert!(!message.contains("operations()"), "{message}");

    let flags = run(
        &["--token-stdin", "call", "get_repository", "library/alpine"],
        "dckr_pat_from_stdin_000000000000000000\n",
    )
    .await;
    assert_eq!(flags.code, 2, "{}", flags.stderr);
    assert!(
        flags.stderr.contains("--token-stdin needs a username"),
        "{}",
        flags.stderr
    );
    assert!(
        !flags.stderr.contains("dckr_pat_from_stdin"),
        "{}",
        flags.stderr
    );
}
