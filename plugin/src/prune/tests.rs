use super::*;
use crate::client::CredentialKind;
use crate::request::HttpRequest;
use crate::response::HttpResponse;
use crate::retry::FakeClock;
use proptest::prelude::*;
use std::collections::{BTreeSet, VecDeque};

fn tag(name: &str, pushed: Option<u64>) -> Tag {
    Tag {
        name: name.to_string(),
        digest: Some(format!("sha256:{name}")),
        last_pushed: pushed.map(rfc3339),
    }
}

fn decision<'a>(plan: &'a Plan, name: &str) -> &'a Decision {
    plan.decisions
        .iter()
        .find(|d| d.tag.name == name)
        .unwrap_or_else(|| panic!("{name} is in the plan"))
}

const DAY: u64 = 86_400;
const T0: u64 = 1_700_000_000;

#[test]
fn patterns_are_regular_expressions_that_match_anywhere() {
    let tags = vec![
        tag("pr-12", Some(T0)),
        tag("xpr-1", Some(T0)),
        tag("v1.2", Some(T0)),
        tag("v10.2", Some(T0)),
    ];
    let deleted = |matching: &str| -> Vec<String> {
        let policy = Policy {
            matching: Some(matching.into()),
            ..Policy::default()
        };
        assert!(validate(&policy).is_ok(), "{matching}");
        let p = plan(&tags, &policy);
        let mut names: Vec<String> = p
            .decisions
            .iter()
            .filter(|d| d.action == Action::Delete)
            .map(|d| d.tag.name.clone())
            .collect();
        names.sort();
        names
    };
    assert_eq!(deleted("^pr-"), ["pr-12"]);
    assert_eq!(deleted("pr-"), ["pr-12", "xpr-1"]);
    assert_eq!(deleted("^v[0-9]\\.[0-9]+$"), ["v1.2"]);
    assert_eq!(deleted("^v1"), ["v1.2", "v10.2"]);
    let bad = Policy {
        matching: Some("(".into()),
        ..Policy::default()
    };
    assert!(matches!(
        validate(&bad),
        Err(HubError::InvalidArgument { ref name, ref reason }) if name == "matching" && reason.contains("not a regular expression")
    ));
}

#[test]
fn times_read_and_write_back() {
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        parse_rfc3339("2023-11-14T22:13:20.123456Z"),
        Some(1_700_000_000)
    );
    assert_eq!(
        parse_rfc3339("2023-11-15T00:13:20+02:00"),
        Some(1_700_000_000)
    );
    assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    for bad in [
        "",
        "2023-02-30T00:00:00Z",
        "2023-11-14 22:13:20",
        "2023-11-14T22:13:20.Z",
        "1969-12-31T23:59:59Z",
        "yesterday",
    ] {
        assert_eq!(parse_rfc3339(bad), None, "{bad}");
    }
    for secs in [0, 951_782_400, 1_700_000_000, 4_102_444_800] {
        assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs));
    }
}

#[test]
fn each_rule_gives_its_reason() {
    let tags = vec![
        tag("latest", Some(T0 - 400 * DAY)),
        tag("v1", Some(T0 - 300 * DAY)),
        tag("v2", Some(T0 - 200 * DAY)),
        tag("v3", Some(T0 - 100 * DAY)),
        tag("v4", Some(T0 - 10 * DAY)),
        tag("stable", Some(T0 - 500 * DAY)),
        tag("old-ci", Some(T0 - 500 * DAY)),
        tag("nodate", None),
    ];
    let policy = Policy {
        keep_last: Some(1),
        older_than: Some(T0 - 90 * DAY),
        matching: None,
        keep_matching: Some("stable".into()),
    };
    let plan = plan(&tags, &policy);
    let rule = |n| decision(&plan, n).rule;
    assert_eq!(rule("latest"), Rule::Latest);
    assert_eq!(rule("stable"), Rule::KeepMatch);
    assert_eq!(rule("nodate"), Rule::NoPushTime);
    assert_eq!(rule("v4"), Rule::KeepLast);
    assert_eq!(rule("v3"), Rule::Policy);
    assert_eq!(rule("v1"), Rule::Policy);
    assert_eq!(rule("old-ci"), Rule::Policy);
    assert_eq!(plan.deletes(), 4);
    assert_eq!(plan.keeps(), 4);
    assert_eq!(
        decision(&plan, "v3").reason,
        "pushed 2023-08-06T22:13:20Z, before 2023-08-16T22:13:20Z, not one of the 1 newest"
    );
    // Newest first, the undated last.
    let order: Vec<&str> = plan.decisions.iter().map(|d| d.tag.name.as_str()).collect();
    assert_eq!(
        order,
        [
            "v4", "v3", "v2", "v1", "latest", "old-ci", "stable", "nodate"
        ]
    );

    // With a cutoff only, the newer ones are kept as recent.
    let recent = super::plan(
        &tags,
        &Policy {
            older_than: Some(T0 - 150 * DAY),
            ..Policy::default()
        },
    );
    assert_eq!(decision(&recent, "v3").rule, Rule::Recent);
    assert_eq!(decision(&recent, "v2").action, Action::Delete);
}

#[test]
fn match_narrows_and_only_a_literal_latest_deletes_latest() {
    let tags = vec![
        tag("latest", Some(T0)),
        tag("pr-1", Some(T0)),
        tag("v1", Some(T0)),
    ];
    let p = plan(
        &tags,
        &Policy {
            matching: Some(".*".into()),
            ..Policy::default()
        },
    );
    assert_eq!(decision(&p, "latest").rule, Rule::Latest);
    assert_eq!(p.deletes(), 2);
    let p = plan(
        &tags,
        &Policy {
            matching: Some("^pr-".into()),
            ..Policy::default()
        },
    );
    assert_eq!(decision(&p, "v1").rule, Rule::NoMatch);
    assert_eq!(decision(&p, "pr-1").action, Action::Delete);
    let p = plan(
        &tags,
        &Policy {
            matching: Some("latest".into()),
            ..Policy::default()
        },
    );
    assert_eq!(decision(&p, "latest").action, Action::Delete);
    assert_eq!(p.deletes(), 1);
}

#[test]
fn a_policy_that_deletes_everything_is_refused() {
    assert!(matches!(
        validate(&Policy::default()),
        Err(HubError::InvalidArgument { .. })
    ));
    assert!(matches!(
        validate(&Policy {
            keep_last: Some(1),
            keep_matching: Some(String::new()),
            ..Policy::default()
        }),
        Err(HubError::InvalidArgument { ref name, .. }) if name == "keep-matching"
    ));
    assert!(
        validate(&Policy {
            keep_last: Some(0),
            ..Policy::default()
        })
        .is_ok()
    );
}

// ---- Properties ----

fn arb_tags() -> impl Strategy<Value = Vec<Tag>> {
    let name = prop_oneof![
        3 => "(v|pr-|build-)[0-9]{1,2}",
        1 => Just("latest".to_string()),
        1 => "[a-c?*]{1,3}",
    ];
    let time = prop_oneof![
        8 => (0u64..40).prop_map(|d| Some(rfc3339(T0 - d * DAY))),
        1 => Just(None),
        1 => Just(Some("garbage".to_string())),
    ];
    let digest = prop_oneof![
        Just(None),
        "[a-f0-9]{4}".prop_map(|d| Some(format!("sha256:{d}")))
    ];
    proptest::collection::vec(
        (name, time, digest).prop_map(|(name, last_pushed, digest)| Tag {
            name,
            digest,
            last_pushed,
        }),
        0..60,
    )
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    let pattern = prop_oneof![
        Just(None),
        Just(Some("^v".to_string())),
        Just(Some("^pr-.$".to_string())),
        Just(Some("1".to_string())),
        Just(Some("latest".to_string())),
        Just(Some("^latest$".to_string())),
        Just(Some(".*".to_string())),
    ];
    (
        proptest::option::of(0u32..20),
        proptest::option::of((0u64..40).prop_map(|d| T0 - d * DAY)),
        pattern.clone(),
        pattern,
    )
        .prop_map(|(keep_last, older_than, matching, keep_matching)| Policy {
            keep_last,
            older_than,
            matching,
            keep_matching,
        })
        .prop_filter("a valid policy", |p| validate(p).is_ok())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Protected tags are never deleted: keep patterns, `latest` unless named, the `keep_last`
    /// newest of the rest, tags pushed at or after the cutoff, tags that do not match.
    #[test]
    fn never_deletes_a_kept_tag(tags in arb_tags(), policy in arb_policy()) {
        let p = plan(&tags, &policy);
        let deleted: Vec<&Decision> =
            p.decisions.iter().filter(|d| d.action == Action::Delete).collect();
        for d in &deleted {
            let name = d.tag.name.as_str();
            if let Some(m) = &policy.matching {
                prop_assert!(Regex::new(m).unwrap().is_match(name), "{name} does not match {m}");
            }
            if let Some(k) = &policy.keep_matching {
                prop_assert!(!Regex::new(k).unwrap().is_match(name), "{name} matches keep {k}");
            }
            if name == "latest" {
                prop_assert!(matches!(policy.matching.as_deref(), Some("latest" | "^latest$")));
            }
            let t = pushed(&d.tag);
            prop_assert!(t.is_some(), "{name} has no time");
            if let Some(cutoff) = policy.older_than {
                prop_assert!(t.unwrap() < cutoff);
            }
        }
        // The keep_last newest of the deletable candidates are all kept, and every deleted tag
        // is older than (or as old as, ranked after) each of them.
        if let Some(n) = policy.keep_last {
            let kept_last: Vec<&Decision> =
                p.decisions.iter().filter(|d| d.rule == Rule::KeepLast).collect();
            let candidates = p.decisions.iter()
                .filter(|d| matches!(d.rule, Rule::KeepLast | Rule::Recent | Rule::Policy))
                .count();
            prop_assert_eq!(kept_last.len(), candidates.min(n as usize));
            for d in &deleted {
                for k in &kept_last {
                    prop_assert!(pushed(&d.tag) <= pushed(&k.tag));
                }
            }
        }
    }

    /// Never more deletes than the policy allows: at most the matching tags with a time, less
    /// `keep_last`.
    #[test]
    fn never_deletes_more_than_asked(tags in arb_tags(), policy in arb_policy()) {
        let p = plan(&tags, &policy);
        let names: BTreeSet<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        prop_assert_eq!(p.decisions.len(), names.len());
        let eligible = p.decisions.iter()
            .filter(|d| matches!(d.rule, Rule::KeepLast | Rule::Recent | Rule::Policy))
            .count();
        let limit = eligible.saturating_sub(policy.keep_last.unwrap_or(0) as usize);
        prop_assert!(p.deletes() <= limit);
        prop_assert_eq!(p.deletes() + p.keeps(), p.decisions.len());
    }

    /// The same tags in any order, listed twice or not, give the same plan.
    #[test]
    fn same_plan_for_the_same_tags_in_any_order(
        tags in arb_tags(),
        policy in arb_policy(),
        seed in any::<u64>(),
    ) {
        let first = plan(&tags, &policy);
        let mut shuffled = tags.clone();
        // A small deterministic shuffle (xorshift), then the list once more for duplicates.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(&plan(&shuffled, &policy), &first);
        let mut twice = shuffled.clone();
        twice.extend(tags.iter().cloned());
        prop_assert_eq!(&plan(&twice, &policy), &first);
    }
}

// ---- Listing through the client ----

#[derive(Default)]
struct Pages {
    answers: VecDeque<Value>,
    sent: Vec<String>,
}

impl Transport for Pages {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError> {
        self.sent.push(request.url.clone());
        let body = self.answers.pop_front().expect("a page for every request");
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        })
    }
}

struct Anonymous;

impl Credentials for Anonymous {
    fn get(&mut self, _: &str, _: CredentialKind) -> Result<Option<String>, String> {
        Ok(None)
    }
    fn invalidate(&mut self, _: &str, _: CredentialKind) {}
}

fn page(from: usize, to: usize, next: Option<&str>) -> Value {
    let results: Vec<Value> = (from..to)
        .map(|n| {
            json!({
                "name": format!("build-{n}"),
                "digest": format!("sha256:{n}"),
                "tag_last_pushed": rfc3339(T0 - (300 - n as u64) * 60),
            })
        })
        .collect();
    json!({"count": 250, "next": next, "previous": null, "results": results})
}

#[test]
fn every_page_is_listed_then_planned() {
    let mut pages = Pages::default();
    pages.answers.push_back(page(
        0,
        100,
        Some(
            "https://hub.docker.com/v2/namespaces/acme/repositories/api/tags?page=2&page_size=100",
        ),
    ));
    pages.answers.push_back(page(
        100,
        200,
        Some(
            "https://hub.docker.com/v2/namespaces/acme/repositories/api/tags?page=3&page_size=100",
        ),
    ));
    pages.answers.push_back(page(200, 250, None));
    let policy = Policy {
        keep_last: Some(10),
        ..Policy::default()
    };
    let (plan, outcome) = plan_repository(
        "acme",
        "api",
        &policy,
        &CallOptions::default(),
        &mut pages,
        &mut Anonymous,
        &mut FakeClock::default(),
    )
    .unwrap();
    assert_eq!(outcome.pages, 3);
    assert_eq!(pages.sent.len(), 3);
    assert!(pages.sent[0].contains("page_size=100"), "{}", pages.sent[0]);
    assert_eq!(
        plan["totals"],
        json!({"tags": 250, "delete": 240, "keep": 10})
    );
    assert_eq!(plan["tags"][0]["name"], "build-249");
    assert_eq!(plan["tags"][0]["rule"], "keep-last");
    assert_eq!(plan["tags"][10]["action"], "delete");
    assert_eq!(plan["tags"][10]["digest"], "sha256:239");
    assert_eq!(plan["policy"]["keep_last"], 10);
    assert_eq!(plan["namespace"], "acme");
}

#[test]
fn a_listing_cut_short_plans_nothing() {
    let mut pages = Pages::default();
    pages.answers.push_back(page(
        0,
        100,
        Some("https://hub.docker.com/v2/namespaces/acme/repositories/api/tags?page=2"),
    ));
    let options = CallOptions {
        max_pages: Some(1),
        ..CallOptions::default()
    };
    let err = plan_repository(
        "acme",
        "api",
        &Policy {
            keep_last: Some(1),
            ..Policy::default()
        },
        &options,
        &mut pages,
        &mut Anonymous,
        &mut FakeClock::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, HubError::InvalidArgument { ref name, .. } if name == "max-pages"),
        "{err:?}"
    );
    // An invalid policy sends nothing.
    let mut none = Pages::default();
    assert!(
        plan_repository(
            "acme",
            "api",
            &Policy::default(),
            &CallOptions::default(),
            &mut none,
            &mut Anonymous,
            &mut FakeClock::default(),
        )
        .is_err()
    );
    assert!(none.sent.is_empty());
}
