//! What the CLI tells a person beyond the result: a listing cut short by `--max-pages` says so
//! on stderr (stdout stays the result), `--exit-status` answers a check with the exit code alone,
//! and `docs OPERATION` ends with the command line that calls it.

use crate::support::{Terminal, dockhand};
use dockhand_mock::{MockConfig, MockHub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_cut_short_says_so_on_stderr_and_stdout_stays_the_result() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    for json in [false, true] {
        let mut args = vec![
            "--base-url",
            &base,
            "--no-cache",
            "call",
            "list_repository_tags",
            "library/alpine",
            "page_size=2",
            "--all-pages",
            "--max-pages",
            "1",
        ];
        if json {
            args.push("--json");
        }
        let run = dockhand(home.path(), &args, &[], "").await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.json()["results"].as_array().unwrap().len(), 2);
        if json {
            assert_eq!(run.error_json()["warning"]["kind"], "truncated");
        } else {
            assert!(
                run.stderr.contains("warning: stopped after 1 page(s)")
                    && run.stderr.contains("--max-pages"),
                "{}",
                run.stderr
            );
        }
    }
    // The whole listing: no warning.
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "call",
            "list_repository_tags",
            "library/alpine",
            "page_size=2",
            "--all-pages",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_status_answers_a_check_with_the_exit_code_alone() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let check = |tag: &'static str| {
        let (home, base) = (home.path().to_path_buf(), base.clone());
        async move {
            dockhand(
                &home,
                &[
                    "--base-url",
                    &base,
                    "--no-cache",
                    "call",
                    "check_repository_tag",
                    "library/alpine",
                    tag,
                    "--exit-status",
                ],
                &[],
                "",
            )
            .await
        }
    };
    let there = check("tag=latest").await;
    assert_eq!(
        (there.code, there.stdout.as_str()),
        (0, ""),
        "{}",
        there.stderr
    );
    let absent = check("tag=no-such-tag").await;
    assert_eq!(
        (absent.code, absent.stdout.as_str()),
        (1, ""),
        "{}",
        absent.stderr
    );
    assert!(absent.stderr.is_empty(), "{}", absent.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_of_an_operation_end_with_its_command_line() {
    let home = tempfile::tempdir().unwrap();
    let run = dockhand(home.path(), &["docs", "get_repository"], &[], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("dockhand call get_repository NAMESPACE/REPOSITORY"),
        "{}",
        run.stdout
    );
    let run = dockhand(home.path(), &["docs", "create_repository"], &[], "").await;
    assert!(
        run.stdout
            .contains("dockhand call create_repository namespace=NAMESPACE name=NAME"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_filters_by_area_or_word_and_says_when_nothing_matches() {
    let home = tempfile::tempdir().unwrap();
    let names = |stdout: &str| -> Vec<String> {
        let list: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|op| op["name"].as_str().unwrap().to_string())
            .collect()
    };
    let scim = dockhand(home.path(), &["--json", "ops", "scim"], &[], "").await;
    assert_eq!(scim.code, 0, "{}", scim.stderr);
    let scim = names(&scim.stdout);
    assert!(
        !scim.is_empty() && scim.iter().all(|n| n.starts_with("scim_")),
        "{scim:?}"
    );

    let tags = dockhand(home.path(), &["--json", "ops", "TAG"], &[], "").await;
    let tags = names(&tags.stdout);
    assert!(
        tags.contains(&"list_repository_tags".to_string()),
        "{tags:?}"
    );
    assert!(!tags.contains(&"list_org_members".to_string()), "{tags:?}");

    // On a terminal or not, the filtered table carries each operation's summary.
    let table = dockhand(home.path(), &["ops", "scim_list_users"], &[], "").await;
    assert!(table.stdout.lines().count() >= 2, "{}", table.stdout);

    let none = dockhand(home.path(), &["ops", "zzz"], &[], "").await;
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("repositories"), "{}", none.stderr);
}

/// Runs `dockhand args...` under a pseudo-terminal (Python's `pty`, so stdin and stderr are a
/// terminal), typing `answer` when it asks (`[y/N]`); its exit code and everything it wrote.
fn under_a_terminal(home: &std::path::Path, args: &[&str], answer: &str) -> (i32, String) {
    typing_at(home, args, "[y/N]", answer)
}

/// [`under_a_terminal`], typing `answer` once the screen shows `prompt`.
fn typing_at(home: &std::path::Path, args: &[&str], prompt: &str, answer: &str) -> (i32, String) {
    let terminal = Terminal {
        typing: Some((prompt, answer)),
        ..Terminal::default()
    };
    crate::support::on_a_terminal(home, args, terminal)
}

/// On a terminal a destructive operation asks first: anything but yes sends nothing; yes, or
/// `--yes`, goes ahead. In a pipe nothing is asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destructive_call_asks_on_a_terminal_and_never_in_a_pipe() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let alice = [
        ("DOCKHAND_USERNAME", dockhand_mock::fixtures::ALICE),
        ("DOCKHAND_TOKEN", dockhand_mock::fixtures::ALICE_PAT),
    ];
    std::fs::create_dir_all(home.path().join(".config/dockhand")).unwrap();
    // The PTY driver starts from an empty environment, so the account comes from the config.
    {
        use std::os::unix::fs::PermissionsExt;
        let config = home.path().join(".config/dockhand/config.yaml");
        std::fs::write(
            &config,
            format!(
                "base_url: {base}\naccounts:\n  default: {{ username: {}, token: {} }}\n",
                alice[0].1, alice[1].1
            ),
        )
        .unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let delete = |tag: &'static str| {
        vec![
            "--no-cache",
            "call",
            "delete_repository_tag",
            "alice/demo",
            tag,
        ]
    };
    let deletes = || {
        hub.requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .count()
    };

    let (code, screen) = under_a_terminal(home.path(), &delete("tag=latest"), "n");
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen.contains("cannot be undone") && screen.contains("nothing was sent"),
        "{screen}"
    );
    assert_eq!(deletes(), 0);

    let (code, screen) = under_a_terminal(home.path(), &delete("tag=latest"), "y");
    assert_eq!(code, 0, "{screen}");
    assert_eq!(deletes(), 1);
    // At a terminal an answer without a body says what was done, not `null`.
    assert!(
        screen.contains(
            "deleted repository tag alice/demo/latest (DELETE /v2/repositories/alice/demo/tags/latest/, HTTP 204)"
        ),
        "{screen}"
    );

    // --yes asks nothing, and neither does a pipe.
    hub.push_tag("alice", "demo", "latest");
    let mut args = delete("tag=latest");
    args.push("--yes");
    let (code, screen) = under_a_terminal(home.path(), &args, "n");
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("[y/N]"), "{screen}");
    hub.push_tag("alice", "demo", "latest");
    let piped = dockhand(home.path(), &delete("tag=latest"), &alice, "").await;
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert!(!piped.stderr.contains("[y/N]"), "{}", piped.stderr);
    // A script still reads JSON.
    assert_eq!(piped.stdout.trim(), "null");
    assert_eq!(deletes(), 3);
}

/// `--token-stdin` at a terminal asks for the secret and does not echo it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_stdin_at_a_terminal_asks_without_echo() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let (code, screen) = typing_at(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "--username",
            dockhand_mock::fixtures::ALICE,
            "--token-stdin",
            "call",
            "get_repository",
            "alice/demo",
        ],
        "(not shown): ",
        dockhand_mock::fixtures::ALICE_PAT,
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("\"name\":\"demo\""), "{screen}");
    assert!(
        !screen.contains(dockhand_mock::fixtures::ALICE_PAT),
        "the secret was echoed: {screen}"
    );
}

/// `--all-pages` at a terminal counts the pages as they are requested, on stderr, with how many
/// to expect, and clears the line before the result; piped, nothing but the result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_pages_shows_progress_at_a_terminal_only() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let args = [
        "--base-url",
        base.as_str(),
        "--no-cache",
        "call",
        "list_repository_tags",
        "library/alpine",
        "page_size=1",
        "--all-pages",
    ];
    let (code, screen) = under_a_terminal(home.path(), &args, "");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("fetching pages: 1 requested"), "{screen}");
    // Five tags one to a page: five pages, once the first has said how many tags there are.
    assert!(screen.contains(" of 5 requested"), "{screen:?}");
    // The result follows on a clean line: a table, at a terminal.
    assert!(screen.contains("\r\x1b[2K\x1b[1mNAME"), "{screen:?}");
    assert!(screen.contains("\nlatest "), "{screen}");

    let piped = dockhand(home.path(), &args, &[], "").await;
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert!(!piped.stderr.contains("fetching"), "{}", piped.stderr);
}
