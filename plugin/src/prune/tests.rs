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

// ---- Applying a plan ----

/// Scripted answers (status, headers) by (method, tag), used before the real answer.
type Scripted = std::collections::HashMap<(String, String), VecDeque<(u16, Vec<(String, String)>)>>;

/// A Hub of tags by name (digest, last pushed), answering `get_repository_tag` and
/// `delete_repository_tag`, with scripted answers for some requests.
struct Tags {
    now: std::collections::BTreeMap<String, (String, String)>,
    faults: Scripted,
    sent: Vec<String>,
}

impl Tags {
    fn new(names: &[&str]) -> Tags {
        Tags {
            now: names
                .iter()
                .map(|n| (n.to_string(), (format!("sha256:{n}"), rfc3339(T0))))
                .collect(),
            faults: Default::default(),
            sent: Vec::new(),
        }
    }

    fn fail(&mut self, method: &str, tag: &str, status: u16, headers: &[(&str, &str)]) {
        self.faults
            .entry((method.to_string(), tag.to_string()))
            .or_default()
            .push_back((
                status,
                headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ));
    }
}

impl Transport for Tags {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError> {
        let method = format!("{:?}", request.method).to_uppercase();
        let tag = request
            .url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        self.sent.push(format!("{method} {tag}"));
        let answer = |status: u16, headers: Vec<(String, String)>, body: Value| HttpResponse {
            status,
            headers: [("content-type".to_string(), "application/json".to_string())]
                .into_iter()
                .chain(headers)
                .collect(),
            body: body.to_string().into_bytes(),
        };
        if let Some((status, headers)) = self
            .faults
            .get_mut(&(method.clone(), tag.clone()))
            .and_then(VecDeque::pop_front)
        {
            return Ok(answer(status, headers, json!({"message": "scripted"})));
        }
        let missing = || answer(404, vec![], json!({"message": "tag not found"}));
        Ok(match method.as_str() {
            "GET" => match self.now.get(&tag) {
                Some((digest, pushed)) => answer(
                    200,
                    vec![],
                    json!({"name": tag, "digest": digest, "tag_last_pushed": pushed}),
                ),
                None => missing(),
            },
            "DELETE" => match self.now.remove(&tag) {
                Some(_) => HttpResponse {
                    status: 204,
                    headers: vec![],
                    body: vec![],
                },
                None => missing(),
            },
            other => panic!("unexpected {other}"),
        })
    }
}

fn plan_of(names: &[&str]) -> Value {
    let tags: Vec<Value> = names
        .iter()
        .map(|n| {
            json!({"name": n, "digest": format!("sha256:{n}"), "last_pushed": rfc3339(T0),
                   "action": "delete", "rule": "policy", "reason": "r"})
        })
        .chain([json!({"name": "keep-me", "action": "keep"})])
        .collect();
    json!({"namespace": "acme", "repository": "api", "tags": tags})
}

fn apply(hub: &mut Tags, plan: &Value, max_delete: u32) -> Result<Value, HubError> {
    apply_plan(
        plan,
        max_delete,
        &CallOptions::default(),
        hub,
        &mut Anonymous,
        &mut FakeClock::default(),
    )
}

#[test]
fn apply_deletes_checks_each_tag_and_resumes() {
    let mut hub = Tags::new(&["a", "b", "c", "d", "keep-me"]);
    // b was pushed again after the plan; d is already gone.
    hub.now.get_mut("b").unwrap().0 = "sha256:new".into();
    hub.now.remove("d");
    let plan = plan_of(&["a", "b", "c", "d"]);
    let report = apply(&mut hub, &plan, 10).unwrap();
    assert_eq!(report["planned"], 4);
    assert_eq!(report["deleted"], json!(["a", "c"]));
    assert_eq!(report["already_gone"], json!(["d"]));
    assert_eq!(report["skipped"][0]["tag"], "b");
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("sha256:b -> sha256:new")
    );
    // Each tag is read before its delete; the changed one is never deleted, keep-me never touched.
    assert_eq!(
        hub.sent,
        ["GET a", "DELETE a", "GET b", "GET c", "DELETE c", "GET d"]
    );
    assert!(hub.now.contains_key("b") && hub.now.contains_key("keep-me"));

    // Again: what was deleted is now already gone; nothing is deleted twice.
    hub.sent.clear();
    let again = apply(&mut hub, &plan, 10).unwrap();
    assert_eq!(again["deleted"], json!([]));
    assert_eq!(again["already_gone"], json!(["a", "c", "d"]));
    assert!(
        hub.sent.iter().all(|s| s.starts_with("GET")),
        "{:?}",
        hub.sent
    );
}

#[test]
fn apply_refuses_more_than_max_delete_before_sending_anything() {
    let mut hub = Tags::new(&["a", "b", "c"]);
    let err = apply(&mut hub, &plan_of(&["a", "b", "c"]), 2).unwrap_err();
    assert!(
        matches!(err, HubError::InvalidArgument { ref name, .. } if name == "max-delete"),
        "{err:?}"
    );
    assert!(hub.sent.is_empty());
    for bad in [
        json!({"repository": "api", "tags": []}),
        json!({"namespace": "acme", "repository": "api"}),
        json!({"namespace": "acme", "repository": "api", "tags": [{"action": "delete"}]}),
    ] {
        assert!(
            matches!(apply(&mut hub, &bad, 10), Err(HubError::InvalidArgument { ref name, .. }) if name == "plan"),
            "{bad}"
        );
    }
    assert!(hub.sent.is_empty());
}

#[test]
fn apply_waits_out_a_429_reports_a_500_and_stops_at_a_403() {
    let mut hub = Tags::new(&["a", "b", "c", "d"]);
    // Three 429s with Retry-After outlast the client's two retries; the apply waits once more.
    for _ in 0..3 {
        hub.fail("DELETE", "a", 429, &[("retry-after", "2")]);
    }
    hub.fail("DELETE", "b", 500, &[]);
    hub.fail("DELETE", "b", 500, &[]);
    hub.fail("DELETE", "b", 500, &[]);
    hub.fail("DELETE", "c", 403, &[]);
    let report = apply(&mut hub, &plan_of(&["a", "b", "c", "d"]), 10).unwrap();
    assert_eq!(report["deleted"], json!(["a"]));
    assert_eq!(report["failed"][0]["tag"], "b");
    assert_eq!(report["failed"][0]["status"], 500);
    assert_eq!(report["failed"][1]["kind"], "forbidden");
    assert_eq!(report["not_attempted"], json!(["d"]));
    assert_eq!(
        hub.sent.iter().filter(|s| *s == "DELETE a").count(),
        4,
        "{:?}",
        hub.sent
    );
    assert!(!hub.sent.iter().any(|s| s.ends_with(" d")));
}
