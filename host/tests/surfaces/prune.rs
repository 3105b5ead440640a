//! `dockhand tags prune`: a tag cleanup planned against the mock Hub, with a repository whose
//! tags span several pages.

use crate::support::{dockhand, spawn_dockhand};
use dockhand_mock::seed::{GeneratedTags, SeedRepository, SeedTag};
use dockhand_mock::{MockConfig, MockHub, fixtures};
use serde_json::Value;

/// alice/big: `build-0` to `build-259`, one a minute up to 2024-01-01T00:00:00Z less 1 min
/// (`build-259` newest), plus `latest` (2024-01-01) and `stable` (2023-01-01): 262 tags, three
/// pages of 100.
pub(crate) async fn mock_with_big_repository() -> MockHub {
    MockHub::start(big_repository()).await.unwrap()
}

/// The configuration of [`mock_with_big_repository`].
fn big_repository() -> MockConfig {
    let mut config = MockConfig::default();
    config.seed.repositories.push(SeedRepository {
        namespace: fixtures::ALICE.into(),
        name: "big".into(),
        tags: vec![
            SeedTag {
                name: "latest".into(),
                ..SeedTag::default()
            },
            SeedTag {
                name: "stable".into(),
                last_updated: Some("2023-01-01T00:00:00Z".into()),
                ..SeedTag::default()
            },
        ],
        generated_tags: Some(GeneratedTags {
            count: 260,
            prefix: "build-".into(),
        }),
        ..SeedRepository::default()
    });
    config
}

/// `dockhand tags prune alice/big ARGS` against `base`, with no environment or input.
async fn prune_big(home: &std::path::Path, base: &str, args: &[&str]) -> crate::support::Run {
    let mut all = vec![
        "--base-url",
        base,
        "--no-cache",
        "tags",
        "prune",
        "alice/big",
    ];
    all.extend_from_slice(args);
    dockhand(home, &all, &[], "").await
}

fn tags_with<'a>(plan: &'a Value, action: &str) -> Vec<&'a str> {
    plan["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["action"] == action)
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

fn rule_of<'a>(plan: &'a Value, name: &str) -> (&'a str, &'a str) {
    let tag = plan["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} is in the plan"));
    (
        tag["action"].as_str().unwrap(),
        tag["rule"].as_str().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_plans_every_page_prints_a_table_and_writes_the_plan() {
    let hub = mock_with_big_repository().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let plan_file = home.path().join("plan.json");
    let plan_path = plan_file.to_str().unwrap();
    let run = prune_big(
        home.path(),
        &base,
        &[
            "--keep-last",
            "5",
            "--older-than",
            "2023-12-31T22:00:00Z",
            "--keep-match",
            "stable",
            "--plan-out",
            plan_path,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Three pages of tags were listed, and nothing else: a plan changes nothing.
    let listed: Vec<String> = hub
        .requests()
        .iter()
        .filter(|r| r.path.contains("/repositories/big/tags"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(listed.len(), 3, "{listed:#?}");
    assert!(listed.iter().all(|r| r.starts_with("GET ")), "{listed:#?}");

    let out = &run.stdout;
    assert!(out.contains("Would delete (140):"), "{out}");
    assert!(out.contains("Keep (122):"), "{out}");
    assert!(
        out.contains(
            "alice/big: 262 tags (3 pages listed), 140 to delete, 122 to keep. Nothing was deleted."
        ),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("build-139 "))
        .unwrap_or_else(|| panic!("a row for build-139: {out}"));
    assert!(
        row.contains("2023-12-31T21:59:00Z") && row.contains("before 2023-12-31T22:00:00Z"),
        "{row}"
    );
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("latest "))
        .unwrap();
    assert!(row.contains("`latest` is kept"), "{row}");
    assert!(out.contains("Plan written to"), "{out}");

    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(
        plan["totals"],
        serde_json::json!({"tags": 262, "delete": 140, "keep": 122})
    );
    assert_eq!(
        (plan["namespace"].as_str(), plan["repository"].as_str()),
        (Some("alice"), Some("big"))
    );
    assert_eq!(plan["policy"]["keep_last"], 5);
    assert_eq!(plan["policy"]["older_than"], "2023-12-31T22:00:00Z");
    assert_eq!(rule_of(&plan, "latest"), ("keep", "latest"));
    assert_eq!(rule_of(&plan, "stable"), ("keep", "keep-match"));
    assert_eq!(rule_of(&plan, "build-259"), ("keep", "keep-last"));
    assert_eq!(rule_of(&plan, "build-255"), ("keep", "keep-last"));
    assert_eq!(rule_of(&plan, "build-254"), ("keep", "recent"));
    assert_eq!(rule_of(&plan, "build-140"), ("keep", "recent"));
    assert_eq!(rule_of(&plan, "build-139"), ("delete", "policy"));
    assert_eq!(rule_of(&plan, "build-0"), ("delete", "policy"));
    let deleted = tags_with(&plan, "delete");
    assert_eq!(deleted.len(), 140);
    // Each tag as planned: its digest and last-pushed time as the listing gave them.
    let listing = hub.requests().len();
    let tag = plan["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "build-0")
        .unwrap();
    assert!(
        tag["digest"].as_str().unwrap().starts_with("sha256:"),
        "{tag}"
    );
    assert_eq!(tag["last_pushed"], "2023-12-31T19:40:00Z");
    assert_eq!(hub.requests().len(), listing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_with_match_prints_json_and_refuses_an_empty_policy() {
    let hub = mock_with_big_repository().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "tags",
            "prune",
            "alice/big",
            "--match",
            "^build-1..$",
            "--keep-last",
            "10",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = run.json();
    assert_eq!(plan["totals"]["delete"], 90);
    assert_eq!(plan["totals"]["keep"], 172);
    assert_eq!(rule_of(&plan, "build-199"), ("keep", "keep-last"));
    assert_eq!(rule_of(&plan, "build-189"), ("delete", "policy"));
    assert_eq!(rule_of(&plan, "build-200"), ("keep", "no-match"));
    assert_eq!(rule_of(&plan, "latest"), ("keep", "no-match"));

    // No rule at all would delete everything: refused before anything is sent.
    let before = hub.requests().len();
    let run = prune_big(home.path(), &base, &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--keep-last"), "{}", run.stderr);
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "tags",
            "prune",
            "big",
            "--keep-last",
            "1",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("NAMESPACE/REPOSITORY"),
        "{}",
        run.stderr
    );
    assert_eq!(hub.requests().len(), before);

    // A repository that does not exist: the listing's 404.
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "tags",
            "prune",
            "alice/nothing-here",
            "--keep-last",
            "1",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 4, "{}", run.stderr);
}

const ALICE_ENV: [(&str, &str); 2] = [
    ("DOCKHAND_USERNAME", fixtures::ALICE),
    ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
];

fn deletes_of(hub: &MockHub, tag: &str) -> Vec<u16> {
    let path = format!("/v2/repositories/alice/big/tags/{tag}/");
    hub.requests()
        .iter()
        .filter(|r| r.method == "DELETE" && r.path == path)
        .map(|r| r.answer.as_ref().map_or(0, |a| a.status))
        .collect()
}

async fn tag_names(hub: &MockHub, home: &std::path::Path) -> Vec<String> {
    let run = dockhand(
        home,
        &[
            "--base-url",
            &hub.base_url(),
            "--no-cache",
            "--json",
            "call",
            "list_repository_tags",
            "namespace=alice",
            "repository=big",
            "page_size=100",
            "--all-pages",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// A plan written, one tag pushed again since, a 429 and a 500 in the middle of the apply;
/// then the apply run again resumes where it stopped, and a fresh plan keeps the re-pushed tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_skips_a_changed_tag_waits_out_a_429_and_resumes() {
    use dockhand_mock::Fault;
    let hub = mock_with_big_repository().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let plan_file = home.path().join("plan.json");
    let plan_path = plan_file.to_str().unwrap();
    let run = prune_big(
        home.path(),
        &base,
        &[
            "--match",
            "^build-1.$",
            "--keep-last",
            "2",
            "--plan-out",
            plan_path,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(
        tags_with(&plan, "delete"),
        [
            "build-17", "build-16", "build-15", "build-14", "build-13", "build-12", "build-11",
            "build-10"
        ]
    );
    // build-12 is pushed again after the plan was made: the apply must leave it alone.
    assert!(hub.push_tag("alice", "big", "build-12"));

    hub.inject(
        Fault::status(500)
            .method("DELETE")
            .path_prefix("/v2/repositories/alice/big/tags/build-15/"),
    );
    hub.inject(
        Fault::retry_after(1)
            .method("DELETE")
            .path_prefix("/v2/repositories/alice/big/tags/build-11/"),
    );
    let apply = [
        "--base-url",
        &base,
        "--no-cache",
        "tags",
        "prune",
        "alice/big",
        "--apply",
        plan_path,
    ];
    let run = dockhand(home.path(), &apply, &ALICE_ENV, "").await;
    // The 500 is the first failure: the Hub error's code.
    assert_eq!(run.code, 7, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "alice/big: 8 planned to delete: 6 deleted, 0 already gone, 1 skipped, 1 failed, 0 not attempted."
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("skipped build-12: changed since the plan"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("failed build-15"), "{}", run.stdout);
    assert!(
        run.stderr.contains("[1/8] deleted build-17"),
        "{}",
        run.stderr
    );
    // The 429 was waited out and the delete sent again; build-12 was never sent.
    // (An injected fault's answer is not in the log: only that the request came.)
    let build_11 = deletes_of(&hub, "build-11");
    assert_eq!(build_11.len(), 2, "{build_11:?}");
    assert_eq!(build_11[1], 204);
    assert_eq!(deletes_of(&hub, "build-15").len(), 1);
    assert!(deletes_of(&hub, "build-12").is_empty());

    // Again: what is gone counts as done, build-15 goes now, build-12 is still skipped.
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "tags",
            "prune",
            "alice/big",
            "--apply",
            plan_path,
        ],
        &ALICE_ENV,
        "",
    )
    .await;
    assert_eq!(run.code, 7, "{}\n{}", run.stdout, run.stderr);
    let summary = run.json();
    assert_eq!(summary["deleted"], serde_json::json!(["build-15"]));
    assert_eq!(summary["already_gone"].as_array().unwrap().len(), 6);
    assert_eq!(summary["skipped"][0]["tag"], "build-12");
    assert_eq!(summary["failed"], serde_json::json!([]));

    // A plan made now sees build-12 as the newest match, so keep-last keeps it; build-18 goes.
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "tags",
            "prune",
            "alice/big",
            "--match",
            "^build-1.$",
            "--keep-last",
            "2",
            "--apply",
        ],
        &ALICE_ENV,
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["deleted"], serde_json::json!(["build-18"]));
    // With --json, stderr carries no per-tag lines: the report on stdout has every tag.
    assert!(!run.stderr.contains("[1/"), "{}", run.stderr);
    let left = tag_names(&hub, home.path()).await;
    assert_eq!(left.len(), 262 - 8);
    for n in [10, 11, 13, 14, 15, 16, 17, 18] {
        assert!(!left.contains(&format!("build-{n}")), "build-{n} is gone");
    }
    assert!(left.contains(&"build-12".to_string()) && left.contains(&"build-19".to_string()));
}

/// A policy that would delete more than --max-delete deletes nothing; read-only mode refuses
/// an apply before anything is listed; within the limit, the plan made now is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_stops_a_runaway_policy_and_applies_a_fresh_plan() {
    let hub = mock_with_big_repository().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "tags",
            "prune",
            "alice/big",
            "--keep-last",
            "5",
            "--apply",
        ],
        &ALICE_ENV,
        "",
    )
    .await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("256 tags would be deleted, more than --max-delete 100"),
        "{}",
        run.stderr
    );
    assert!(hub.requests().iter().all(|r| r.method != "DELETE"));

    hub.clear_requests();
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--read-only",
            "tags",
            "prune",
            "alice/big",
            "--keep-last",
            "5",
            "--apply",
        ],
        &ALICE_ENV,
        "",
    )
    .await;
    assert_eq!(run.code, 6, "{}\n{}", run.stdout, run.stderr);
    assert!(
        hub.requests().iter().all(|r| !r.path.contains("/tags")),
        "{:#?}",
        hub.requests()
    );

    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "tags",
            "prune",
            "alice/big",
            "--match",
            "^build-2..$",
            "--keep-last",
            "50",
            "--apply",
            "--max-delete",
            "10",
        ],
        &ALICE_ENV,
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let summary = run.json();
    assert_eq!(summary["planned"], 10);
    assert_eq!(summary["deleted"].as_array().unwrap().len(), 10);
    assert_eq!(summary["deleted"][0], "build-209");
    let left = tag_names(&hub, home.path()).await;
    assert_eq!(left.len(), 252);
    assert!(!left.contains(&"build-200".to_string()));
    assert!(left.contains(&"build-210".to_string()));
}

/// Lua gets the same plan from `app.integrations.docker.plan_tag_cleanup`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lua_plans_the_same_cleanup() {
    let hub = mock_with_big_repository().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let code = r#"
        local plan = app.integrations.docker.plan_tag_cleanup({
            namespace = "alice", repository = "big", keep_last = 5,
            older_than = "2023-12-31T22:00:00Z", keep_match = "^stable$"})
        local ok, err = pcall(app.integrations.docker.plan_tag_cleanup,
            {namespace = "alice", repository = "big", keep_last = -1})
        return {totals = plan.totals, first = plan.tags[1].name, err = err.kind}
    "#;
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "lua",
            "--json",
            "--eval",
            code,
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = run.json();
    assert_eq!(
        out["result"]["totals"],
        serde_json::json!({"tags": 262, "delete": 140, "keep": 122})
    );
    assert_eq!(out["result"]["first"], "latest");
    assert_eq!(out["result"]["err"], "invalid-argument");
}

/// Lua applies a plan with `apply_tag_cleanup`, only under --force.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lua_applies_a_plan_only_with_force() {
    let hub = mock_with_big_repository().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let code = r#"
        local docker = app.integrations.docker
        local plan = docker.plan_tag_cleanup({namespace = "alice", repository = "big",
                                              match = "^build-25[0-2]$"})
        local ok, err = pcall(docker.apply_tag_cleanup, {plan = plan, max_delete = 2})
        local report = docker.apply_tag_cleanup({plan = plan})
        return {refused = err.kind, deleted = report.deleted, planned = report.planned}
    "#;
    let lua = |force: bool| {
        let mut args = vec!["--base-url", &base, "--no-cache", "lua", "--json"];
        if force {
            args.push("--force");
        }
        args.extend(["--eval", code]);
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let args = lua(false);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = dockhand(home.path(), &args, &ALICE_ENV, "").await;
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["error"]["kind"], "denied", "{}", run.stdout);
    assert!(run.stdout.contains("--allow-write"), "{}", run.stdout);
    assert!(hub.requests().iter().all(|r| r.method != "DELETE"));

    let args = lua(true);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = dockhand(home.path(), &args, &ALICE_ENV, "").await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = run.json();
    assert_eq!(out["result"]["refused"], "invalid-argument");
    assert_eq!(out["result"]["planned"], 3);
    assert_eq!(
        out["result"]["deleted"],
        serde_json::json!(["build-252", "build-251", "build-250"])
    );
    assert_eq!(deletes_of(&hub, "build-251"), [204]);
}

/// Ctrl-C during an apply stops it between deletes: every delete sent was answered and is
/// counted, the rest are reported as not attempted, and the exit code is 130.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_an_apply_between_deletes() {
    let mut config = big_repository();
    // Slow enough that the apply is still running when the signal comes.
    config.latency = std::time::Duration::from_millis(100);
    let hub = MockHub::start(config).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let child = spawn_dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "--json",
            "tags",
            "prune",
            "alice/big",
            "--match",
            "^build-1..$",
            "--apply",
            "--max-delete",
            "200",
        ],
        &ALICE_ENV,
    );
    let deletes = |hub: &MockHub| {
        hub.requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .count()
    };
    let waited = std::time::Instant::now();
    while deletes(&hub) < 2 {
        assert!(
            waited.elapsed().as_secs() < 60,
            "the apply never started deleting"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let run = crate::support::Run::from(out);
    assert_eq!(run.code, 130, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["interrupted"], true);
    let deleted = summary["deleted"].as_array().unwrap().len();
    let not_attempted = summary["not_attempted"].as_array().unwrap().len();
    assert!(not_attempted > 0 && deleted >= 2, "{summary}");
    assert_eq!(deleted + not_attempted, 100, "{summary}");
    // No delete was cut off: each one sent was answered, and each is in the summary.
    let sent: Vec<u16> = hub
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.answer.as_ref().map_or(0, |a| a.status))
        .collect();
    assert_eq!(sent.len(), deleted, "{sent:?}");
    assert!(sent.iter().all(|s| *s == 204), "{sent:?}");
}

/// On a terminal the apply draws one progress bar (the CLI's, as `--all-pages` does) and clears
/// it; the per-tag lines are for pipes and logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_at_a_terminal_draws_a_progress_bar() {
    let hub = mock_with_big_repository().await;
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let plan_file = home.path().join("plan.json");
    let plan_path = plan_file.to_str().unwrap();
    let plan = prune_big(
        home.path(),
        &base,
        &[
            "--match",
            "^build-1.$",
            "--keep-last",
            "2",
            "--plan-out",
            plan_path,
        ],
    )
    .await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let (code, screen) = crate::support::on_a_terminal(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "tags",
            "prune",
            "alice/big",
            "--apply",
            plan_path,
        ],
        crate::support::Terminal {
            env: &ALICE_ENV,
            cols: 120,
            typing: None,
        },
    );
    assert_eq!(code, 0, "{screen}");
    assert!(
        (1..=8).any(|n| screen.contains(&format!("] {n}/8 "))),
        "a bar counting the tags: {screen:?}"
    );
    assert!(screen.contains('#'), "{screen:?}");
    assert!(
        !screen.contains("[1/8]"),
        "no log lines on a terminal: {screen:?}"
    );
    assert!(
        crate::support::text_of(&screen).contains("8 deleted"),
        "{screen}"
    );
}
