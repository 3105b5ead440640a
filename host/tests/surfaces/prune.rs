//! `dockhand tags prune`: a tag cleanup planned against the mock Hub, with a repository whose
//! tags span several pages.

use crate::support::dockhand;
use dockhand_mock::seed::{GeneratedTags, SeedRepository, SeedTag};
use dockhand_mock::{MockConfig, MockHub, fixtures};
use serde_json::Value;

/// alice/big: `build-0` to `build-259`, one a minute up to 2024-01-01T00:00:00Z less 1 min
/// (`build-259` newest), plus `latest` (2024-01-01) and `stable` (2023-01-01): 262 tags, three
/// pages of 100.
async fn mock_with_big_repository() -> MockHub {
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
    MockHub::start(config).await.unwrap()
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
            "--older-than",
            "2023-12-31T22:00:00Z",
            "--keep-match",
            "stable",
            "--plan-out",
            plan_path,
        ],
        &[],
        "",
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
            "build-1??",
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
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "tags",
            "prune",
            "alice/big",
        ],
        &[],
        "",
    )
    .await;
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
