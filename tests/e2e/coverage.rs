//! Every catalog operation has an end-to-end test, and every claim that one does is real.
//!
//! Each area file declares `COVERED_BY_AREA`, pairs of (operation, test function), gathered in
//! [`CLAIMS`] below. The checks, none of which depends on the order tests run in:
//!
//! - here, against the catalog the component itself reports: the claims name each of its
//!   operations (all 60: Docker's 54 published ones and 6 extended) and nothing else, and each claim sits in its operation's area file;
//! - here, against the test binary's own inventory (`--list`): each claim names a test that
//!   exists in that file and is not `#[ignore]`d, so it runs whenever the suite does;
//! - in that test, when its [`Harness`](dockhand_tests::Harness) is dropped: the operations
//!   claimed for it were called through the harness and their requests reached the mock.
//!
//! A new operation without a test, a claim without a test, a claim on an ignored or renamed test,
//! and a test that stops calling what it claims all fail.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use dockhand_host::Dockhand;
use dockhand_host::credentials::Accounts;
use dockhand_tests::{AreaClaims, Harness, covered, current_test, host_config};
use serde_json::json;

use crate::{
    access_tokens, audit_logs, authentication, groups, invites, org_access_tokens, org_settings,
    orgs, repositories, scim, search, users,
};

/// Every area file's claims: what each [`Harness`] looks its test up in, and what the checks
/// below hold against the catalog and the test inventory.
#[rustfmt::skip]
pub const CLAIMS: &[AreaClaims] = &[
    ("access_tokens",     access_tokens::AREA, access_tokens::COVERED_BY_AREA),
    ("audit_logs",        audit_logs::AREA, audit_logs::COVERED_BY_AREA),
    ("authentication",    authentication::AREA, authentication::COVERED_BY_AREA),
    ("groups",            groups::AREA, groups::COVERED_BY_AREA),
    ("invites",           invites::AREA, invites::COVERED_BY_AREA),
    ("org_access_tokens", org_access_tokens::AREA, org_access_tokens::COVERED_BY_AREA),
    ("org_settings",      org_settings::AREA, org_settings::COVERED_BY_AREA),
    ("orgs",              orgs::AREA, orgs::COVERED_BY_AREA),
    ("repositories",      repositories::AREA, repositories::COVERED_BY_AREA),
    ("scim",              scim::AREA, scim::COVERED_BY_AREA),
    ("search",            search::AREA, search::COVERED_BY_AREA),
    ("users",             users::AREA, users::COVERED_BY_AREA),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_catalog_operation_is_claimed_in_its_area() {
    let hub = Dockhand::new(
        host_config("http://127.0.0.1:9".into()),
        Accounts::anonymous(),
    )
    .expect("build the host");
    let catalog: BTreeMap<&str, &str> = hub
        .operations()
        .await
        .expect("list operations")
        .iter()
        .map(|op| (op.name.as_str(), op.area.as_str()))
        .collect();
    assert_eq!(
        catalog.len(),
        60,
        "the catalog should have 54 published + 6 extended operations"
    );

    let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
    let mut problems = Vec::new();
    for (module, area, claims) in CLAIMS {
        let mut pairs = BTreeSet::new();
        for (op, test) in *claims {
            if !pairs.insert((op, test)) {
                problems.push(format!("{module}: ({op}, {test}) is listed twice"));
            }
            match catalog.get(op) {
                None => problems.push(format!("{module}: `{op}` is not a catalog operation")),
                Some(real) if real != area => problems.push(format!(
                    "{module}: `{op}` belongs to area {real}, not {area}"
                )),
                Some(_) => {}
            }
            if let Some(first) = claimed.insert(op, module)
                && first != *module
            {
                problems.push(format!("`{op}` is claimed by both {first} and {module}"));
            }
        }
    }
    for op in catalog.keys() {
        if !claimed.contains_key(op) {
            problems.push(format!("`{op}` has no end-to-end test"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The tests this binary holds, by `--list`, optionally only the ignored ones.
fn listed_tests(ignored: bool) -> BTreeSet<String> {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command.args(["--list", "--format", "terse"]);
    if ignored {
        command.arg("--ignored");
    }
    let output = command.output().expect("run the test binary with --list");
    assert!(output.status.success(), "--list failed: {output:?}");
    String::from_utf8(output.stdout)
        .expect("UTF-8 test names")
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_claim_names_a_test_that_runs() {
    let all = listed_tests(false);
    let ignored = listed_tests(true);
    assert!(
        all.contains("coverage::every_claim_names_a_test_that_runs"),
        "--list should include this very test: {all:#?}"
    );
    let mut problems = Vec::new();
    for (module, _, claims) in CLAIMS {
        for (op, test) in *claims {
            let path = format!("{module}::{test}");
            if !all.contains(&path) {
                problems.push(format!("`{op}` is claimed by {path}, which does not exist"));
            } else if ignored.contains(&path) {
                problems.push(format!("`{op}` is claimed by {path}, which is ignored"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The registry keys coverage by friendly name, whatever name the call used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_by_alias_are_recorded_under_the_friendly_name() {
    let h = Harness::start(CLAIMS).await;
    let args = json!({"namespace": "library", "repository": "alpine"});
    for name in ["GetRepository", "docker_get_repository", "get-repository"] {
        let call = h.call(name, args.clone()).await;
        assert_eq!(
            call.request().path,
            "/v2/namespaces/library/repositories/alpine"
        );
        assert_eq!(call.body()["name"], "alpine", "{name}");
    }
    // Refused before sending: exercises nothing.
    let refused = h.call("list_repository_tags", json!({})).await;
    assert!(refused.requests.is_empty());

    assert_eq!(
        covered().remove(&current_test()).unwrap_or_default(),
        BTreeSet::from(["get_repository".to_string()])
    );
}
