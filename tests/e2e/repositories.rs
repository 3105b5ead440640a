//! Repositories and their tags.

use crate::coverage::CLAIMS;
use dockhand_host::credentials::{Accounts, FlagCredentials, MapEnv, Paths};
use dockhand_host::{CallOptions, HubError};
use dockhand_mock::MockConfig;
use dockhand_mock::fixtures as fx;
use dockhand_mock::seed::{GeneratedTags, SeedRepository};
use dockhand_tests::{
    ALICE_PAT_JWT, ANONYMOUS_ACCOUNT, Auth, CAROL_ACCOUNT, Claim, Harness, sent, standard_accounts,
};
use serde_json::{Value, json};

pub const AREA: &str = "repositories";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("list_repository_tags",             "list_repository_tags_one_page"),
    ("list_repository_tags",             "pat_login_then_repositories_and_250_tags"),
    ("list_repository_tags",             "list_repository_tags_fetches_pages_side_by_side"),
    ("check_repository_tags",            "check_repository_tags_with_and_without_tags"),
    ("get_repository_tag",               "get_repository_tag"),
    ("check_repository_tag",             "check_repository_tag_answers_exists"),
    ("update_repository_immutable_tags", "update_repository_immutable_tags"),
    ("verify_repository_immutable_tags", "verify_repository_immutable_tags"),
    ("assign_repository_group",          "assign_repository_group"),
    ("list_repositories",                "list_repositories_shows_private_ones_to_members_only"),
    ("list_repositories",                "pat_login_then_repositories_and_250_tags"),
    ("create_repository",                "create_repository"),
    ("create_repository",                "pat_login_then_repositories_and_250_tags"),
    ("get_repository",                   "get_repository"),
    ("get_repository",                   "pat_login_then_repositories_and_250_tags"),
    ("check_repository",                 "check_repository_answers_exists"),
    ("update_repository",                "update_repository_reads_back"),
    ("update_repository",                "update_repository_refuses_an_overlong_overview_before_sending"),
    ("delete_repository_tag",            "delete_repository_tag_is_gone_from_list_and_get"),
    ("delete_repository_tag",            "delete_repository_tag_needs_write_rights"),
    ("delete_repository",                "delete_repository_is_gone"),
];

fn repo_path(namespace: &str, repository: &str) -> String {
    format!("/v2/namespaces/{namespace}/repositories/{repository}")
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` array in {list}"))
        .iter()
        .map(|item| item["name"].as_str().expect("a name").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_repository_tags_one_page() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "list_repository_tags",
            json!({"namespace": "library", "repository": "alpine", "page": 1, "page_size": 2}),
        )
        .await;
    sent(
        "GET",
        repo_path("library", "alpine") + "/tags",
        ALICE_PAT_JWT,
    )
    .query("page=1&page_size=2")
    .check(call.request());
    let result = call.ok();
    assert_eq!((result.status, result.pages), (200, 1));
    assert_eq!(result.content_type.as_deref(), Some("application/json"));
    assert_eq!(result.body["count"], 5);
    assert_eq!(names(&result.body, "results"), ["latest", "3.20"]);
    // Without all_pages the link to the rest is handed back untouched.
    assert_eq!(
        result.body["next"],
        format!(
            "{}/v2/namespaces/library/repositories/alpine/tags?page_size=2&page=2",
            h.mock.base_url()
        )
    );
    assert_eq!(result.body["previous"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_repository_tags_with_and_without_tags() {
    let mut config = MockConfig::default();
    config.seed.repositories.push(SeedRepository {
        namespace: fx::ALICE.into(),
        name: "empty".into(),
        ..SeedRepository::default()
    });
    let h = Harness::start_with(CLAIMS, config, standard_accounts()).await;

    let call = h
        .call(
            "check_repository_tags",
            json!({"namespace": "library", "repository": "alpine"}),
        )
        .await;
    sent(
        "HEAD",
        repo_path("library", "alpine") + "/tags",
        ALICE_PAT_JWT,
    )
    .check(call.request());
    assert_eq!(call.body(), &json!({"exists": true}));

    let call = h
        .call(
            "check_repository_tags",
            json!({"namespace": "alice", "repository": "empty"}),
        )
        .await;
    sent("HEAD", repo_path("alice", "empty") + "/tags", ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.body(), &json!({"exists": false}));
    assert_eq!(call.ok().status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_repository_tag() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "get_repository_tag",
            json!({"namespace": "library", "repository": "alpine", "tag": "3.20"}),
        )
        .await;
    sent(
        "GET",
        repo_path("library", "alpine") + "/tags/3.20",
        ALICE_PAT_JWT,
    )
    .check(call.request());
    let tag = call.body();
    assert_eq!(tag["name"], "3.20");
    assert_eq!(tag["last_updated"], "2025-06-02T09:00:00Z");
    let platforms: Vec<&str> = tag["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["amd64", "arm64", "386"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_repository_tag_answers_exists() {
    let h = Harness::start(CLAIMS).await;
    for (tag, exists, status) in [("edge", true, 200), ("no-such-tag", false, 404)] {
        let call = h
            .call(
                "check_repository_tag",
                json!({"namespace": "library", "repository": "alpine", "tag": tag}),
            )
            .await;
        sent(
            "HEAD",
            format!("{}/tags/{tag}", repo_path("library", "alpine")),
            ALICE_PAT_JWT,
        )
        .check(call.request());
        assert_eq!(call.body(), &json!({"exists": exists}), "{tag}");
        assert_eq!(call.ok().status, status);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_repository_immutable_tags() {
    let h = Harness::start(CLAIMS).await;
    let rules = json!(["v.*", ".*-RELEASE"]);
    let call = h
        .call(
            "update_repository_immutable_tags",
            json!({"namespace": "alice", "repository": "demo",
                   "immutable_tags": true, "immutable_tags_rules": rules}),
        )
        .await;
    sent(
        "PATCH",
        repo_path("alice", "demo") + "/immutabletags",
        ALICE_PAT_JWT,
    )
    .json(json!({"immutable_tags": true, "immutable_tags_rules": rules}))
    .check(call.request());
    assert_eq!(
        call.body()["immutable_tags_settings"],
        json!({"enabled": true, "rules": rules})
    );

    let stored = h
        .call(
            "get_repository",
            json!({"namespace": "alice", "repository": "demo"}),
        )
        .await;
    assert_eq!(
        stored.body()["immutable_tags_settings"],
        json!({"enabled": true, "rules": rules})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_repository_immutable_tags() {
    let h = Harness::start(CLAIMS).await;
    for (regex, tags) in [("lat.*", json!(["latest"])), ("v.*", json!([]))] {
        let call = h
            .call(
                "verify_repository_immutable_tags",
                json!({"namespace": "alice", "repository": "demo", "regex": regex}),
            )
            .await;
        sent(
            "POST",
            repo_path("alice", "demo") + "/immutabletags/verify",
            ALICE_PAT_JWT,
        )
        .json(json!({"regex": regex}))
        .check(call.request());
        assert_eq!(call.body(), &json!({"tags": tags}), "{regex}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assign_repository_group() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "assign_repository_group",
            json!({"namespace": "acme", "repository": "private",
                   "group_id": fx::GROUP_DEVELOPERS_ID, "permission": "write"}),
        )
        .await;
    sent(
        "POST",
        "/v2/repositories/acme/private/groups",
        ALICE_PAT_JWT,
    )
    .json(json!({"group_id": fx::GROUP_DEVELOPERS_ID, "permission": "write"}))
    .check(call.request());
    assert_eq!(
        call.body(),
        &json!({"group_name": "developers", "permission": "write",
                "group_id": fx::GROUP_DEVELOPERS_ID})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_repositories_shows_private_ones_to_members_only() {
    let h = Harness::start(CLAIMS).await;
    let args = json!({"namespace": "acme", "page_size": 10, "ordering": "name"});

    let call = h.call("list_repositories", args.clone()).await;
    sent("GET", "/v2/namespaces/acme/repositories", ALICE_PAT_JWT)
        .query("page_size=10&ordering=name")
        .check(call.request());
    assert_eq!(call.body()["count"], 1);
    assert_eq!(names(call.body(), "results"), ["private"]);
    assert_eq!(call.body()["results"][0]["is_private"], true);

    let call = h
        .call_as(ANONYMOUS_ACCOUNT, "list_repositories", args)
        .await;
    sent("GET", "/v2/namespaces/acme/repositories", Auth::None)
        .query("page_size=10&ordering=name")
        .check(call.request());
    assert_eq!(call.body()["count"], 0);
    assert_eq!(call.body()["results"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_repository() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "create_repository",
            json!({"namespace": "alice", "name": "new-app",
                   "description": "Made by the e2e suite", "is_private": true}),
        )
        .await;
    // The namespace goes in the path and, as the Hub wants, in the body too.
    sent("POST", "/v2/namespaces/alice/repositories", ALICE_PAT_JWT)
        .json(json!({"namespace": "alice", "name": "new-app",
                     "description": "Made by the e2e suite", "is_private": true}))
        .check(call.request());
    let result = call.ok();
    assert_eq!(result.status, 201);
    assert_eq!(result.body["name"], "new-app");
    assert_eq!(result.body["namespace"], "alice");
    assert_eq!(result.body["is_private"], true);
    assert_eq!(result.body["description"], "Made by the e2e suite");
    assert_eq!(
        result.body["permissions"],
        json!({"read": true, "write": true, "admin": true})
    );

    let again = h
        .call(
            "create_repository",
            json!({"namespace": "alice", "name": "new-app"}),
        )
        .await;
    assert!(
        matches!(again.hub_error(), HubError::Conflict(m) if m.contains("already exists")),
        "{:?}",
        again.result
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_repository() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "get_repository",
            json!({"namespace": "alice", "repository": "demo"}),
        )
        .await;
    sent("GET", repo_path("alice", "demo"), ALICE_PAT_JWT).check(call.request());
    let repo = call.body();
    assert_eq!(repo["name"], "demo");
    assert_eq!(repo["namespace"], "alice");
    assert_eq!(repo["description"], "Alice's demo application");
    assert_eq!(repo["pull_count"], 42);
    assert_eq!(repo["permissions"]["admin"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_repository_answers_exists() {
    let h = Harness::start(CLAIMS).await;
    let args = json!({"namespace": "acme", "repository": "private"});

    let call = h.call("check_repository", args.clone()).await;
    sent("HEAD", repo_path("acme", "private"), ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.body(), &json!({"exists": true}));

    let call = h
        .call(
            "check_repository",
            json!({"namespace": "acme", "repository": "nothing-here"}),
        )
        .await;
    sent("HEAD", repo_path("acme", "nothing-here"), ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.body(), &json!({"exists": false}));

    // A private repository asks anonymous callers to sign in rather than pretending it is absent.
    let call = h.call_as(ANONYMOUS_ACCOUNT, "check_repository", args).await;
    sent("HEAD", repo_path("acme", "private"), Auth::None).check(call.request());
    assert!(
        matches!(call.hub_error(), HubError::Unauthorized(_)),
        "{:?}",
        call.result
    );
}

/// A user configured only through the environment: the broker exchanges alice's PAT once, then
/// every call (and every page) carries the minted JWT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pat_login_then_repositories_and_250_tags() {
    let mut config = MockConfig::default();
    config.seed.repositories.push(SeedRepository {
        namespace: fx::ALICE.into(),
        name: "big".into(),
        generated_tags: Some(GeneratedTags {
            count: 250,
            prefix: "build-".into(),
        }),
        ..SeedRepository::default()
    });
    let env = MapEnv::new()
        .with("DOCKHAND_USERNAME", fx::ALICE)
        .with("DOCKHAND_TOKEN", fx::ALICE_PAT);
    let accounts = Accounts::discover(&FlagCredentials::default(), &env, &Paths::default())
        .expect("discover the environment's account");
    let h = Harness::start_with(CLAIMS, config, accounts).await;

    let call = h
        .call_cold(
            "list_repositories",
            json!({"namespace": "alice"}),
            CallOptions::default(),
        )
        .await;
    assert_eq!(call.requests.len(), 2, "{:#?}", call.requests);
    sent("POST", "/v2/auth/token", Auth::None)
        .json(json!({"identifier": fx::ALICE, "secret": fx::ALICE_PAT}))
        .check(&call.requests[0]);
    sent("GET", "/v2/namespaces/alice/repositories", ALICE_PAT_JWT).check(&call.requests[1]);
    let mut listed = names(call.body(), "results");
    listed.sort();
    assert_eq!(listed, ["big", "demo"]);

    let call = h
        .call_cold(
            "create_repository",
            json!({"namespace": "alice", "name": "fresh"}),
            CallOptions::default(),
        )
        .await;
    sent("POST", "/v2/namespaces/alice/repositories", ALICE_PAT_JWT)
        .json(json!({"namespace": "alice", "name": "fresh"}))
        .check(call.request());
    assert_eq!(call.ok().status, 201);

    let call = h
        .call_cold(
            "get_repository",
            json!({"namespace": "alice", "repository": "fresh"}),
            CallOptions::default(),
        )
        .await;
    sent("GET", repo_path("alice", "fresh"), ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.body()["name"], "fresh");
    assert_eq!(call.body()["is_private"], false);

    let all_pages = CallOptions {
        all_pages: true,
        ..CallOptions::default()
    };
    let call = h
        .call_cold(
            "list_repository_tags",
            json!({"namespace": "alice", "repository": "big", "page_size": 100}),
            all_pages,
        )
        .await;
    let tags = repo_path("alice", "big") + "/tags";
    assert_eq!(call.requests.len(), 3, "{:#?}", call.requests);
    // Pages 2 and 3 are in flight together, so they may arrive in either order.
    let mut requests = call.requests.clone();
    requests.sort_by_key(|r| r.query.clone());
    for (req, query) in requests.iter().zip([
        "page_size=100",
        "page_size=100&page=2",
        "page_size=100&page=3",
    ]) {
        sent("GET", tags.clone(), ALICE_PAT_JWT)
            .query(query)
            .check(req);
    }
    let result = call.ok();
    assert_eq!(result.pages, 3);
    assert_eq!(result.body["count"], 250);
    assert_eq!(result.body["next"], Value::Null);
    let expected: Vec<String> = (0..250).rev().map(|n| format!("build-{n}")).collect();
    assert_eq!(names(&result.body, "results"), expected);
}

/// With `all_pages`, once the first page gives the count the others are in flight four at a
/// time through the real host (the component hands them all to wasi-http before reading any):
/// the mock sees them side by side, never more than four, and the merged listing is the one the
/// page-by-page walk gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_repository_tags_fetches_pages_side_by_side() {
    let mut config = MockConfig {
        latency: std::time::Duration::from_millis(40),
        ..MockConfig::default()
    };
    config.seed.repositories.push(SeedRepository {
        namespace: fx::ALICE.into(),
        name: "big".into(),
        generated_tags: Some(GeneratedTags {
            count: 205,
            prefix: "build-".into(),
        }),
        ..SeedRepository::default()
    });
    let h = Harness::start_with(CLAIMS, config, standard_accounts()).await;
    let args = json!({"namespace": "alice", "repository": "big", "page_size": 10});
    let options = |concurrency| CallOptions {
        all_pages: true,
        page_concurrency: Some(concurrency),
        ..CallOptions::default()
    };
    let walked = h
        .call_with("list_repository_tags", args.clone(), options(1))
        .await;
    assert_eq!(
        h.mock.most_in_flight(),
        1,
        "the walk sends one page at a time"
    );
    let side = h.call_with("list_repository_tags", args, options(4)).await;
    let (walked, side) = (walked.ok(), side.ok());
    assert_eq!(side.body, walked.body);
    assert_eq!((side.pages, walked.pages), (21, 21));
    assert_eq!(names(&side.body, "results").len(), 205);
    let most = h.mock.most_in_flight();
    assert!((2..=4).contains(&most), "{most} requests in flight at once");
}

// Extended operations: Docker's tools use them, its published description does not list them.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_repository_reads_back() {
    let h = Harness::start(CLAIMS).await;
    let overview = "# Demo\n\nSynced from the README by CI.\n";
    let call = h
        .call(
            "update_repository",
            json!({"namespace": "alice", "repository": "demo",
                   "description": "Alice's demo, now synced", "full_description": overview}),
        )
        .await;
    sent("PATCH", repo_path("alice", "demo"), ALICE_PAT_JWT)
        .json(json!({"description": "Alice's demo, now synced", "full_description": overview}))
        .check(call.request());
    assert_eq!(call.body()["full_description"], overview);

    let stored = h
        .call(
            "get_repository",
            json!({"namespace": "alice", "repository": "demo"}),
        )
        .await;
    assert_eq!(stored.body()["description"], "Alice's demo, now synced");
    assert_eq!(stored.body()["full_description"], overview);
    assert_eq!(stored.body()["status"], 1);

    // Only the fields given change; the status is a number (0 inactive).
    let call = h
        .call(
            "update_repository",
            json!({"namespace": "alice", "repository": "demo", "status": 0}),
        )
        .await;
    sent("PATCH", repo_path("alice", "demo"), ALICE_PAT_JWT)
        .json(json!({"status": 0}))
        .check(call.request());
    let stored = h
        .call(
            "get_repository",
            json!({"namespace": "alice", "repository": "demo"}),
        )
        .await;
    assert_eq!(stored.body()["status"], 0);
    assert_eq!(stored.body()["status_description"], "inactive");
    assert_eq!(stored.body()["full_description"], overview);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_repository_refuses_an_overlong_overview_before_sending() {
    let h = Harness::start(CLAIMS).await;
    let too_long = "é".repeat(25_001);
    let call = h
        .call(
            "update_repository",
            json!({"namespace": "alice", "repository": "demo", "full_description": too_long}),
        )
        .await;
    assert_eq!(
        dockhand_tests::invalid_argument_name(&call),
        "full_description"
    );
    // Exactly the limit goes through.
    let at_limit = "x".repeat(25_000);
    let call = h
        .call(
            "update_repository",
            json!({"namespace": "alice", "repository": "demo", "full_description": at_limit}),
        )
        .await;
    assert_eq!(
        call.body()["full_description"].as_str().map(str::len),
        Some(25_000)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_repository_tag_is_gone_from_list_and_get() {
    let h = Harness::start(CLAIMS).await;
    let args = json!({"namespace": "acme", "repository": "private", "tag": "v0.9.0"});
    let call = h.call("delete_repository_tag", args.clone()).await;
    // The trailing slash is part of the route, as Docker's hub-tool sends it.
    sent(
        "DELETE",
        "/v2/repositories/acme/private/tags/v0.9.0/",
        ALICE_PAT_JWT,
    )
    .check(call.request());
    assert_eq!(call.body(), &Value::Null);

    let tags = h
        .call(
            "list_repository_tags",
            json!({"namespace": "acme", "repository": "private"}),
        )
        .await;
    assert_eq!(names(tags.body(), "results"), ["v1.0.0"]);
    let gone = h.call("get_repository_tag", args.clone()).await;
    assert!(
        matches!(gone.hub_error(), HubError::NotFound(_)),
        "{:?}",
        gone.hub_error()
    );
    // Deleting it again is a 404.
    let again = h.call("delete_repository_tag", args).await;
    assert!(
        matches!(again.hub_error(), HubError::NotFound(_)),
        "{:?}",
        again.hub_error()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_repository_tag_needs_write_rights() {
    let h = Harness::start(CLAIMS).await;
    let args = json!({"namespace": "alice", "repository": "demo", "tag": "latest"});
    let call = h
        .call_as(CAROL_ACCOUNT, "delete_repository_tag", args.clone())
        .await;
    assert!(
        matches!(call.hub_error(), HubError::Forbidden(_)),
        "{:?}",
        call.hub_error()
    );
    let still = h.call("get_repository_tag", args).await;
    assert_eq!(still.body()["name"], "latest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_repository_is_gone() {
    let h = Harness::start(CLAIMS).await;
    let args = json!({"namespace": "alice", "repository": "demo"});
    let call = h.call("delete_repository", args.clone()).await;
    sent("DELETE", "/v2/repositories/alice/demo/", ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.body(), &Value::Null);

    let gone = h.call("get_repository", args.clone()).await;
    assert!(
        matches!(gone.hub_error(), HubError::NotFound(_)),
        "{:?}",
        gone.hub_error()
    );
    let listed = h
        .call("list_repositories", json!({"namespace": "alice"}))
        .await;
    assert!(!names(listed.body(), "results").contains(&"demo".to_string()));
}
