//! Resilience through the real component and host against the mock Hub: the fault matrix (one
//! test per fault, each ending in the expected typed error or in recovery, within the call's
//! deadline, with the next call on the same host succeeding), rate-limit pacing across concurrent
//! calls, and the retry options reaching the component through the typed exports.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dockhand_host::bindings::exports::dockhand::hub::org_settings::GetOrgSettingsArgs;
use dockhand_host::bindings::exports::dockhand::hub::repositories::GetRepositoryArgs;
use dockhand_host::bindings::exports::dockhand::hub::types as wit;
use dockhand_host::credentials::Accounts;
use dockhand_host::policy::{Origin, Policy};
use dockhand_host::{CallError, CallOptions, CallResult, Dockhand, HostConfig, HubError};
use dockhand_mock::{Fault, MockConfig, MockHub, RateLimit, RecordedRequest};
use dockhand_tests::{host_config, standard_accounts, wit_call_options};
use serde_json::{Value, json};

/// The public repository every GET case reads.
const REPO: &str = "/v2/namespaces/library/repositories/alpine";
/// Every case's call deadline: a case that ends in time ends well before it.
const DEADLINE: Duration = Duration::from_secs(10);

fn alpine() -> Value {
    json!({"namespace": "library", "repository": "alpine"})
}

fn policy(mock: &MockHub) -> Policy {
    let mut policy = Policy::for_base_url(&mock.base_url()).unwrap();
    policy.timeouts.call = DEADLINE;
    policy
}

fn host(mock: &MockHub, policy: Policy) -> Dockhand {
    let config = HostConfig {
        policy,
        ..host_config(mock.base_url())
    };
    Dockhand::new(config, Accounts::anonymous()).expect("build the host")
}

async fn start() -> (MockHub, Dockhand) {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let hub = host(&mock, policy(&mock));
    (mock, hub)
}

/// One call: its result, how long it took, and the requests the mock saw meanwhile.
struct Outcome {
    result: Result<CallResult, CallError>,
    elapsed: Duration,
    requests: Vec<RecordedRequest>,
}

impl Outcome {
    #[track_caller]
    fn hub_error(&self) -> &HubError {
        match &self.result {
            Err(CallError::Hub(e)) => e,
            other => panic!("expected a Hub error, got {other:?}"),
        }
    }

    #[track_caller]
    fn transport_kind(&self) -> &str {
        match self.hub_error() {
            HubError::Transport(t) => t.kind.as_str(),
            other => panic!("expected a transport error, got {other:?}"),
        }
    }

    #[track_caller]
    fn upstream_status(&self) -> u16 {
        match self.hub_error() {
            HubError::Upstream(u) => u.status,
            other => panic!("expected an upstream error, got {other:?}"),
        }
    }

    #[track_caller]
    fn ok(&self) -> &CallResult {
        match &self.result {
            Ok(r) => r,
            Err(e) => panic!("expected success, got {e}"),
        }
    }

    /// Requests to `path`, so that anything else the mock saw does not count.
    fn sent_to(&self, path: &str) -> usize {
        self.requests.iter().filter(|r| r.path == path).count()
    }

    #[track_caller]
    fn within_deadline(&self) {
        assert!(
            self.elapsed < DEADLINE,
            "took {:?}, the deadline is {DEADLINE:?}",
            self.elapsed
        );
    }
}

async fn run(hub: &Dockhand, mock: &MockHub, op: &str, args: Value) -> Outcome {
    run_with(hub, mock, op, args, CallOptions::default()).await
}

async fn run_with(
    hub: &Dockhand,
    mock: &MockHub,
    op: &str,
    args: Value,
    options: CallOptions,
) -> Outcome {
    mock.clear_requests();
    let started = Instant::now();
    let result = hub.call(op, &args, &options).await;
    Outcome {
        result,
        elapsed: started.elapsed(),
        requests: mock.requests(),
    }
}

/// The host keeps serving: a plain read right after the fault succeeds.
async fn next_call_succeeds(hub: &Dockhand, mock: &MockHub) {
    let after = run(hub, mock, "get_repository", alpine()).await;
    assert_eq!(after.ok().body["name"], "alpine");
}

// ---------------------------------------------------------------------------------------------
// The fault matrix
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_is_retried_once_the_wait_has_passed() {
    let (mock, hub) = start().await;
    mock.inject(Fault::retry_after(1).path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert_eq!(out.ok().body["name"], "alpine");
    assert_eq!(out.sent_to(REPO), 2);
    assert!(out.elapsed >= Duration::from_secs(1), "{:?}", out.elapsed);
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_x_retry_after_is_retried_at_that_instant() {
    let (mock, hub) = start().await;
    // The mock sends now + 2 s as unix seconds; whole seconds make that a wait of 1 to 2 s.
    mock.inject(Fault::x_retry_after(2).path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert_eq!(out.ok().body["name"], "alpine");
    assert_eq!(out.sent_to(REPO), 2);
    assert!(
        out.elapsed >= Duration::from_millis(900),
        "{:?}",
        out.elapsed
    );
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_asking_for_more_than_the_wait_budget_is_rate_limited_at_once() {
    let (mock, hub) = start().await;
    mock.inject(Fault::retry_after(100).path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    match out.hub_error() {
        HubError::RateLimited(r) => {
            assert_eq!(r.retry_after, Some(100));
            assert!(r.rate_limit.is_some(), "the snapshot comes along");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(out.sent_to(REPO), 1);
    assert!(out.elapsed < Duration::from_secs(2), "{:?}", out.elapsed);
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_every_time_is_rate_limited_once_the_retries_are_spent() {
    let (mock, hub) = start().await;
    mock.inject(Fault::retry_after(1).times(3).path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert!(
        matches!(out.hub_error(), HubError::RateLimited(r) if r.retry_after == Some(1)),
        "{:?}",
        out.result
    );
    assert_eq!(out.sent_to(REPO), 3, "the first attempt and two retries");
    assert!(out.elapsed >= Duration::from_secs(2), "{:?}", out.elapsed);
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_an_upstream_error_and_not_retried() {
    let (mock, hub) = start().await;
    mock.inject(Fault::status(500).path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert_eq!(out.upstream_status(), 500);
    assert_eq!(out.sent_to(REPO), 1);
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_502_then_success_recovers() {
    let (mock, hub) = start().await;
    mock.inject(Fault::status(502).path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert_eq!(out.ok().body["name"], "alpine");
    assert_eq!(out.sent_to(REPO), 2);
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_on_a_post_is_not_retried() {
    let (mock, hub) = start().await;
    mock.inject(Fault::status(503).method("POST"));
    let out = run(
        &hub,
        &mock,
        "create_repository",
        json!({"namespace": "library", "name": "fresh"}),
    )
    .await;
    assert_eq!(out.upstream_status(), 503);
    let posts = out.requests.iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1, "a POST that may have acted is never sent twice");
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_504_every_time_is_an_upstream_error_after_the_retries() {
    let (mock, hub) = start().await;
    mock.inject(Fault::status(504).times(3).path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert_eq!(out.upstream_status(), 504);
    assert_eq!(out.sent_to(REPO), 3);
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_a_decode_error_and_not_retried() {
    let (mock, hub) = start().await;
    mock.inject(Fault::malformed_json().path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert!(
        matches!(out.hub_error(), HubError::Decode(m) if m.contains("not valid JSON")),
        "{:?}",
        out.result
    );
    assert_eq!(out.sent_to(REPO), 1);
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_too_hard_to_read_as_a_value_is_a_decode_error_naming_it() {
    // Well-formed JSON that serde_json will not build into a value: the component passes
    // answers through as text, so the host's own reading must report it, as a decode error.
    for text in [
        r#"{"name": "alpine", "pull_count": 1e400}"#.to_string(),
        format!("{}{}", "[".repeat(200), "]".repeat(200)),
    ] {
        let (mock, hub) = start().await;
        mock.inject(Fault::json_text(&text).path_prefix(REPO));
        let out = run(&hub, &mock, "get_repository", alpine()).await;
        assert!(
            matches!(out.hub_error(), HubError::Decode(m) if m.contains("cannot be read as a value")),
            "{:?}",
            out.result
        );
        assert_eq!(out.sent_to(REPO), 1);
        next_call_succeeds(&hub, &mock).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_is_retried_and_recovers() {
    let (mock, hub) = start().await;
    mock.inject(Fault::truncated_body().path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert_eq!(out.ok().body["name"], "alpine");
    assert_eq!(out.sent_to(REPO), 2);
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

/// A response that stalls (`stall` builds the fault): the first attempt is cut at the policy's
/// 300 ms limit, not left to the server's 5 s, and the retry recovers; with no retries left the
/// same fault is a `timeout` naming `limit`.
async fn a_stall_is_cut_retried_and_named(
    set_limit: impl FnOnce(&mut Policy),
    stall: impl Fn() -> Fault,
    limit: &str,
) {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let mut policy = policy(&mock);
    set_limit(&mut policy);
    let hub = host(&mock, policy);
    mock.inject(stall().path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert_eq!(out.ok().body["name"], "alpine");
    assert_eq!(out.sent_to(REPO), 2);
    assert!(out.elapsed < Duration::from_secs(2), "{:?}", out.elapsed);

    mock.inject(stall().path_prefix(REPO));
    let no_retry = CallOptions {
        max_retries: Some(0),
        ..CallOptions::default()
    };
    let out = run_with(&hub, &mock, "get_repository", alpine(), no_retry).await;
    assert_eq!(out.transport_kind(), "timeout");
    assert!(
        matches!(out.hub_error(), HubError::Transport(t) if t.message.contains(limit)),
        "{:?}",
        out.result
    );
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_time_out_at_the_first_byte_limit_and_the_retry_recovers() {
    a_stall_is_cut_retried_and_named(
        |p| p.timeouts.first_byte = Duration::from_millis(300),
        || Fault::slow_headers(Duration::from_secs(5)),
        "first-byte timeout",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_times_out_between_bytes_and_the_retry_recovers() {
    a_stall_is_cut_retried_and_named(
        |p| p.timeouts.between_bytes = Duration::from_millis(300),
        || Fault::slow_body(Duration::from_secs(5)),
        "between-bytes timeout",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_connection_is_retried_and_recovers() {
    let (mock, hub) = start().await;
    mock.inject(Fault::connection_reset().path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert_eq!(out.ok().body["name"], "alpine");
    assert_eq!(out.sent_to(REPO), 2);
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_body_too_large_and_not_retried() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let policy = Policy {
        max_response_bytes: 64 * 1024,
        ..policy(&mock)
    };
    let hub = host(&mock, policy);
    mock.inject(Fault::oversized_body(1024 * 1024).path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert_eq!(out.transport_kind(), "body-too-large");
    assert_eq!(out.sent_to(REPO), 1);
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_is_returned_not_followed() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let other = MockHub::start(MockConfig {
        addr: SocketAddr::from(([127, 0, 0, 2], 0)),
        ..MockConfig::default()
    })
    .await
    .expect("bind 127.0.0.2");
    // Both allowed, and an account with a credential: only the component's and the hook's own
    // rules keep the request, and the bearer, at home.
    let mut policy = policy(&mock);
    policy
        .allowed
        .push(Origin::parse(&other.base_url()).unwrap());
    let config = HostConfig {
        policy,
        ..host_config(mock.base_url())
    };
    let hub = Dockhand::new(config, standard_accounts()).unwrap();
    mock.inject(Fault::redirect_to(&other.base_url()).path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    assert_eq!(out.upstream_status(), 302);
    assert_eq!(out.sent_to(REPO), 1);
    assert!(
        out.requests
            .iter()
            .any(|r| r.path == REPO && r.header("authorization").is_some()),
        "the Hub itself got the bearer"
    );
    assert!(other.requests().is_empty(), "{:#?}", other.requests());
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_retried_then_connection_refused() {
    // Bound then released: nothing listens there until the mock below takes the port.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base_url = format!("http://{addr}");
    let mut policy = Policy::for_base_url(&base_url).unwrap();
    policy.timeouts.call = DEADLINE;
    let config = HostConfig {
        policy,
        ..host_config(base_url)
    };
    let hub = Dockhand::new(config, Accounts::anonymous()).unwrap();

    let started = Instant::now();
    let result = hub
        .call("get_repository", &alpine(), &CallOptions::default())
        .await;
    let elapsed = started.elapsed();
    match &result {
        Err(CallError::Hub(HubError::Transport(t))) => {
            assert_eq!(t.kind.as_str(), "connection-refused", "{t:?}")
        }
        other => panic!("{other:?}"),
    }
    // Two backoffs: at least 125 + 250 ms.
    assert!(elapsed >= Duration::from_millis(375), "{elapsed:?}");
    assert!(elapsed < DEADLINE, "{elapsed:?}");

    // Once something listens there, the same host's next call goes through.
    let mock = MockHub::start(MockConfig {
        addr,
        ..MockConfig::default()
    })
    .await
    .expect("rebind the released port");
    next_call_succeeds(&hub, &mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_too_big_for_the_memory_cap_names_the_limit_and_the_host_goes_on() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    // Enough to instantiate, far too little to buffer the body the size cap lets through.
    let policy = Policy {
        max_memory_bytes: 4 * 1024 * 1024,
        max_response_bytes: 64 * 1024 * 1024,
        ..policy(&mock)
    };
    let hub = host(&mock, policy);
    mock.inject(Fault::oversized_body(16 * 1024 * 1024).path_prefix(REPO));
    let out = run(&hub, &mock, "get_repository", alpine()).await;
    match &out.result {
        Err(CallError::Host(m)) => {
            let m = m.to_string();
            assert!(m.contains("memory limit (4 MiB)"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    out.within_deadline();
    next_call_succeeds(&hub, &mock).await;
}

// ---------------------------------------------------------------------------------------------
// Pacing
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_are_paced_under_the_rate_limit_without_a_429() {
    // More tasks than the limit, so requests in flight must count against it.
    const LIMIT: u32 = 3;
    const WINDOW: Duration = Duration::from_secs(1);
    const TASKS: usize = 4;
    const CALLS_EACH: usize = 3;
    let (mock, hub) = start().await;
    let hub = Arc::new(hub);
    mock.set_rate_limit(Some(RateLimit::new(LIMIT, WINDOW)));

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let hub = hub.clone();
        tasks.spawn(async move {
            // No retries: a 429 would fail the call, not hide behind a retry.
            let options = CallOptions {
                max_retries: Some(0),
                ..CallOptions::default()
            };
            let mut results = Vec::new();
            for _ in 0..CALLS_EACH {
                results.push(hub.call("get_repository", &alpine(), &options).await);
            }
            results
        });
    }
    let results: Vec<_> = tasks.join_all().await.into_iter().flatten().collect();
    let elapsed = started.elapsed();

    let total = TASKS * CALLS_EACH;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(results.len(), total);
    assert_eq!(mock.requests().len(), total, "no request was sent twice");
    // 12 calls at 3 per window need four windows, so at least three full windows pass. The
    // Hub's reset is whole unix seconds, so each wait may run up to a second past its window.
    let windows = (total as u32).div_ceil(LIMIT) - 1;
    let expected = WINDOW * windows;
    assert!(elapsed >= expected, "{elapsed:?} < {expected:?}");
    assert!(
        elapsed < expected + Duration::from_secs(u64::from(windows)) + Duration::from_millis(1500),
        "{elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_past_the_deadline_is_rate_limited_without_sending() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let mut policy = policy(&mock);
    policy.timeouts.call = Duration::from_secs(3);
    let hub = host(&mock, policy);
    mock.set_rate_limit(Some(RateLimit::new(2, Duration::from_secs(60))));
    for _ in 0..2 {
        run(&hub, &mock, "get_repository", alpine()).await.ok();
    }

    let out = run(&hub, &mock, "get_repository", alpine()).await;
    match out.hub_error() {
        HubError::RateLimited(r) => {
            let after = r.retry_after.expect("when to retry");
            assert!((50..=61).contains(&after), "{after}");
            assert_eq!(r.rate_limit.as_ref().and_then(|l| l.remaining), Some(0));
        }
        other => panic!("{other:?}"),
    }
    assert!(out.requests.is_empty(), "{:#?}", out.requests);
    assert!(out.elapsed < Duration::from_secs(1), "{:?}", out.elapsed);
}

// ---------------------------------------------------------------------------------------------
// Retry options through the typed exports
// ---------------------------------------------------------------------------------------------

fn typed_options(mock: &MockHub, retries: Option<u32>, wait: Option<u32>) -> wit::CallOptions {
    wit::CallOptions {
        max_retries: retries,
        max_retry_wait_seconds: wait,
        ..wit_call_options(mock.base_url())
    }
}

/// `get-repository`'s parameters spill to memory, `get-org-settings`'s stay flat: the two ways
/// the component's typed glue reads `call-options`.
async fn typed_call(
    hub: &Dockhand,
    op: &str,
    options: &wit::CallOptions,
) -> Result<wit::Response, HubError> {
    let mut s = hub.instantiate().await.unwrap();
    let result = match op {
        "get_repository" => {
            let args = GetRepositoryArgs {
                namespace: "library".into(),
                repository: "alpine".into(),
            };
            s.plugin
                .dockhand_hub_repositories()
                .call_get_repository(&mut s.store, &args, options)
                .await
        }
        _ => {
            let args = GetOrgSettingsArgs {
                name: dockhand_mock::fixtures::ORG.into(),
            };
            s.plugin
                .dockhand_hub_org_settings()
                .call_get_org_settings(&mut s.store, &args, options)
                .await
        }
    };
    result.expect("no trap")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_calls_pass_the_retry_options_to_the_component() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let hub = host(&mock, policy(&mock));
    for op in ["get_repository", "get_org_settings"] {
        mock.inject(Fault::status(503).times(2).method("GET"));
        mock.clear_requests();
        let result = typed_call(&hub, op, &typed_options(&mock, Some(0), None)).await;
        assert!(
            matches!(&result, Err(HubError::Upstream(u)) if u.status == 503),
            "{op}: {result:?}"
        );
        assert_eq!(mock.requests().len(), 1, "{op}: max-retries 0");

        mock.clear_requests();
        let result = typed_call(&hub, op, &typed_options(&mock, Some(1), Some(5))).await;
        assert!(
            !matches!(&result, Err(HubError::Upstream(_))),
            "{op}: {result:?}"
        );
        assert_eq!(mock.requests().len(), 2, "{op}: max-retries 1");

        // A wait budget of 2 s refuses a 3 s Retry-After at once; the default 30 s waits.
        mock.inject(Fault::retry_after(3).method("GET"));
        mock.clear_requests();
        let result = typed_call(&hub, op, &typed_options(&mock, None, Some(2))).await;
        assert!(
            matches!(&result, Err(HubError::RateLimited(r)) if r.retry_after == Some(3)),
            "{op}: {result:?}"
        );
        assert_eq!(mock.requests().len(), 1, "{op}: max-retry-wait-seconds 2");
    }
}
