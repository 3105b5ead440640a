//! Docker Hub search (an extended operation: Docker's Hub MCP server uses it; it lives under
//! `/api/search/v4` on the API's origin, not under `/v2`).

use crate::coverage::CLAIMS;
use dockhand_host::HubError;
use dockhand_mock::fixtures as fx;
use dockhand_tests::{ALICE_PAT_JWT, ANONYMOUS_ACCOUNT, Auth, Claim, Harness, sent};
use serde_json::{Value, json};

pub const AREA: &str = "search";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("search_repositories", "search_matches_names_and_descriptions_anonymously"),
    ("search_repositories", "search_filters"),
    ("search_repositories", "search_pages_with_from_and_size"),
    ("search_repositories", "search_refuses_bad_arguments_before_sending"),
];

const SEARCH: &str = "/api/search/v4";

fn names(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"))
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_matches_names_and_descriptions_anonymously() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call_as(
            ANONYMOUS_ACCOUNT,
            "search_repositories",
            json!({"query": "alpine"}),
        )
        .await;
    sent("GET", SEARCH, Auth::None)
        .query("query=alpine")
        .check(call.request());
    assert_eq!(call.body()["total"], 1);
    assert_eq!(names(call.body()), ["alpine"]);
    let hit = &call.body()["results"][0];
    assert_eq!(hit["badge"], "official");
    assert_eq!(hit["pull_count"], "9000000000");

    // A description matches too ("Alice's demo application"); private repositories never do.
    let call = h
        .call("search_repositories", json!({"query": "application"}))
        .await;
    sent("GET", SEARCH, ALICE_PAT_JWT)
        .query("query=application")
        .check(call.request());
    assert_eq!(names(call.body()), ["alice/demo"]);
    let call = h
        .call("search_repositories", json!({"query": "internal"}))
        .await;
    assert_eq!(call.body()["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_filters() {
    let h = Harness::start(CLAIMS).await;
    // Both public repositories mention an "a": alpine (official, amd64+arm64+386) and alice/demo.
    let args = json!({"query": "a", "badges": "official,verified_publisher",
                      "architectures": "arm64", "operating_systems": "linux", "type": "image"});
    let call = h.call("search_repositories", args).await;
    sent("GET", SEARCH, ALICE_PAT_JWT)
        .query(
            "query=a&type=image&badges=official%2Cverified_publisher&architectures=arm64\
             &operating_systems=linux",
        )
        .check(call.request());
    assert_eq!(names(call.body()), ["alpine"]);
    let arches: Vec<&str> = call.body()["results"][0]["architectures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(arches, ["386", "amd64", "arm64"]);

    let plugins = h
        .call(
            "search_repositories",
            json!({"query": "a", "type": "plugin"}),
        )
        .await;
    assert_eq!(plugins.body()["total"], 0);
    let categorised = h
        .call(
            "search_repositories",
            json!({"query": "a", "categories": "databases"}),
        )
        .await;
    assert_eq!(categorised.body()["total"], 0);

    let by_pulls = h
        .call(
            "search_repositories",
            json!({"query": "a", "sort": "pull_count", "order": "asc"}),
        )
        .await;
    assert_eq!(names(by_pulls.body()), ["alice/demo", "alpine"]);
    let newest = h
        .call(
            "search_repositories",
            json!({"query": "a", "sort": "updated_at", "order": "desc"}),
        )
        .await;
    assert_eq!(names(newest.body()), ["alpine", "alice/demo"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_with_from_and_size() {
    let h = Harness::start(CLAIMS).await;
    for i in 0..5 {
        let name = format!("widget-{i}");
        let created = h
            .call(
                "create_repository",
                json!({"namespace": fx::ALICE, "name": name, "description": "A widget"}),
            )
            .await;
        created.ok();
    }
    let mut seen = Vec::new();
    for from in [0, 2, 4] {
        let call = h
            .call(
                "search_repositories",
                json!({"query": "widget", "from": from, "size": 2, "sort": "updated_at", "order": "asc"}),
            )
            .await;
        sent("GET", SEARCH, ALICE_PAT_JWT)
            .query(format!(
                "query=widget&from={from}&size=2&sort=updated_at&order=asc"
            ))
            .check(call.request());
        assert_eq!(call.body()["total"], 5);
        seen.extend(names(call.body()));
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        5,
        "every match once across the windows: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_refuses_bad_arguments_before_sending() {
    let h = Harness::start(CLAIMS).await;
    let missing = h.call("search_repositories", json!({})).await;
    assert!(
        matches!(missing.hub_error(), HubError::InvalidArgument(a) if a.name == "query"),
        "{:?}",
        missing.hub_error()
    );
    let bad_sort = h
        .call(
            "search_repositories",
            json!({"query": "a", "sort": "stars"}),
        )
        .await;
    assert!(
        matches!(bad_sort.hub_error(), HubError::InvalidArgument(a) if a.name == "sort"),
        "{:?}",
        bad_sort.hub_error()
    );
    // A badge the Hub does not know is the Hub's to refuse (the list is free text): a 400.
    let bad_badge = h
        .call(
            "search_repositories",
            json!({"query": "a", "badges": "gold"}),
        )
        .await;
    sent("GET", SEARCH, ALICE_PAT_JWT)
        .query("query=a&badges=gold")
        .check(bad_badge.request());
    assert!(
        matches!(bad_badge.hub_error(), HubError::Upstream(u) if u.status == 400),
        "{:?}",
        bad_badge.hub_error()
    );
}
