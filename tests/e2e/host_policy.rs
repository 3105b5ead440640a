//! The host's policy and credential behaviour, through the real component against the mock Hub:
//! token exchange and caching, re-minting after a 401, account selection, Docker's login, sealed
//! placeholders, the egress allow-list, read-only mode, timeouts, the body-size cap, transport
//! failures and the memory limit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use dockhand_host::credentials::{
    AccountAuth, AccountSpec, Accounts, CredentialError, CredentialKind, FlagCredentials, MapEnv,
    Origin as CredentialOrigin, PLACEHOLDER_PREFIX, Paths, Secret,
};
use dockhand_host::policy::{BaseUrl, Origin, Policy};
use dockhand_host::{CallError, CallOptions, CallResult, Dockhand, HostConfig, HubError};
use dockhand_mock::fixtures as fx;
use dockhand_mock::{Fault, MockConfig, MockHub, RecordedRequest};
use serde_json::{Value, json};

const TOKEN_PATH: &str = "/v2/auth/token";
/// Faults are aimed at API requests only, so a token exchange on the same mock never eats them.
const API_PREFIX: &str = "/v2/namespaces/";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn start_mock() -> MockHub {
    MockHub::start(MockConfig::default()).await.unwrap()
}

fn personal(name: &str, username: &str, token: &str) -> AccountSpec {
    AccountSpec {
        name: name.into(),
        auth: AccountAuth::PersonalToken {
            username: username.into(),
            token: Secret::new(token),
        },
        origin: CredentialOrigin::Other("host_policy test".into()),
        scim: None,
        base_url: None,
        withheld: None,
    }
}

fn org_token(name: &str, org: &str, token: &str) -> AccountSpec {
    AccountSpec {
        name: name.into(),
        auth: AccountAuth::OrgToken {
            org: org.into(),
            token: Secret::new(token),
        },
        origin: CredentialOrigin::Other("host_policy test".into()),
        scim: None,
        base_url: None,
        withheld: None,
    }
}

fn alice() -> Accounts {
    Accounts::from_specs(vec![personal("default", fx::ALICE, fx::ALICE_PAT)]).unwrap()
}

fn policy_for(mock: &MockHub) -> Policy {
    Policy::for_base_url(&mock.base_url()).unwrap()
}

/// A host on `mock` with the given policy and sealing; `cache_dir: None` keeps tests from sharing
/// (and racing on) a precompiled-component cache.
fn host_with(mock: &MockHub, policy: Policy, sealed: bool, accounts: Accounts) -> Dockhand {
    let config = HostConfig {
        base_url: mock.base_url(),
        policy,
        sealed,
        cache_dir: None,
        ..HostConfig::default()
    };
    Dockhand::new(config, accounts).unwrap()
}

fn host(mock: &MockHub, accounts: Accounts) -> Dockhand {
    host_with(mock, policy_for(mock), true, accounts)
}

async fn call(hub: &Dockhand, operation: &str, args: Value) -> Result<CallResult, CallError> {
    hub.call(operation, &args, &CallOptions::default()).await
}

/// One attempt, no retries: these tests are about how one failed exchange is reported. What
/// retries make of the same faults is tested in `faults.rs`.
async fn call_once(hub: &Dockhand, operation: &str, args: Value) -> Result<CallResult, CallError> {
    let options = CallOptions {
        max_retries: Some(0),
        ..CallOptions::default()
    };
    hub.call(operation, &args, &options).await
}

fn public_repo() -> Value {
    json!({"namespace": fx::LIBRARY, "repository": fx::ALPINE})
}

/// Readable only with credentials (alice owns acme; acme's own token has admin there).
fn private_repo() -> Value {
    json!({"namespace": fx::ORG, "repository": fx::PRIVATE_REPO})
}

fn exchanges(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == TOKEN_PATH)
        .collect()
}

fn api_requests(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests.iter().filter(|r| r.path != TOKEN_PATH).collect()
}

/// One line per request (method, path, bearer, body as text): `RecordedRequest`'s own `Debug`
/// prints bodies as byte lists, which buries the point of a failed assertion.
fn show(requests: &[RecordedRequest]) -> String {
    let mut out = format!("{} request(s) recorded:", requests.len());
    for r in requests {
        out.push_str(&format!(
            "\n  {} {} authorization={:?} body={}",
            r.method,
            r.path,
            r.header("authorization"),
            String::from_utf8_lossy(&r.body)
        ));
    }
    out
}

fn assert_nothing_sent(mock: &MockHub) {
    let requests = mock.requests();
    assert!(requests.is_empty(), "{}", show(&requests));
}

fn bearer(request: &RecordedRequest) -> Option<&str> {
    request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// Three dot-separated, non-empty base64url parts: the shape of the mock's (and the Hub's) JWTs.
fn is_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

fn transport_kind(result: &Result<CallResult, CallError>) -> Option<&str> {
    match result {
        Err(CallError::Hub(HubError::Transport(t))) => Some(t.kind.as_str()),
        _ => None,
    }
}

/// The call that proves a host is still usable after a failure.
async fn assert_next_call_succeeds(hub: &Dockhand) {
    let result = call(hub, "get_repository", public_repo()).await;
    let ok = result.unwrap_or_else(|e| panic!("the next call failed: {e:?}"));
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["name"], fx::ALPINE);
}

/// Standard base64 with padding, for a Docker `auths` entry (the tests crate has no base64 dep).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A private scratch directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "dockhand-host-policy-{}-{label}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `docker-credential-fake` that knows alice's PAT for Docker Hub and nothing else, answering
/// the way real helpers do (JSON on success, "credentials not found" and exit 1 otherwise).
fn write_fake_helper(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        r#"#!/bin/sh
[ "$1" = get ] || exit 1
read -r server || true
if [ "$server" = "https://index.docker.io/v1/" ]; then
  printf '%s\n' '{{"ServerURL":"https://index.docker.io/v1/","Username":"{user}","Secret":"{secret}"}}'
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
"#,
        user = fx::ALICE,
        secret = fx::ALICE_PAT,
    );
    let path = dir.join("docker-credential-fake");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Discovers accounts from nothing but a Docker `config.json` in `dir`, with `dir` on the PATH.
fn discover_from_docker_config(dir: &Path, config: &Value) -> Accounts {
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    // The helper's shell needs nothing beyond builtins, but a realistic PATH costs nothing.
    let env = MapEnv::new().with("PATH", format!("{}:/usr/bin:/bin", dir.display()));
    let paths = Paths {
        docker_config: Some(config_path),
        ..Paths::default()
    };
    Accounts::discover(&FlagCredentials::default(), &env, &paths).unwrap()
}

/// After a call with alice's discovered account: it succeeded on a private repository, and the
/// mock saw alice's PAT exchanged. Docker's login belongs to Docker Hub, so the account is
/// bound there; the mock stands in for the Hub by taking over that binding (that the binding
/// holds against any other base URL is `hardening::dockers_login_is_never_sent_to_another_base_url`).
async fn assert_authenticated_as_alice(mock: &MockHub, accounts: Accounts) {
    let spec = accounts.get("default").unwrap();
    assert_eq!(
        spec.auth.identity(),
        Some(fx::ALICE),
        "{:?}",
        accounts.listing()
    );
    assert!(accounts.warnings().is_empty(), "{:?}", accounts.warnings());
    assert_eq!(spec.base_url, Some(BaseUrl::docker_hub()));
    let as_the_hub = AccountSpec {
        base_url: Some(BaseUrl::parse(&mock.base_url()).unwrap()),
        ..spec.clone()
    };
    let accounts = Accounts::from_specs(vec![as_the_hub]).unwrap();

    let hub = host(mock, accounts);
    let result = call(&hub, "get_repository", private_repo()).await.unwrap();
    assert_eq!(result.status, 200);
    assert_eq!(result.body["name"], fx::PRIVATE_REPO);

    let requests = mock.requests();
    let exchanged = exchanges(&requests);
    assert_eq!(exchanged.len(), 1, "{}", show(&requests));
    assert_eq!(
        exchanged[0].json(),
        Some(json!({"identifier": fx::ALICE, "secret": fx::ALICE_PAT}))
    );
}

// ---------------------------------------------------------------------------------------------
// Token exchange, caching, re-minting, account selection
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pat_is_exchanged_once_and_the_jwt_is_reused_across_calls() {
    let mock = start_mock().await;
    let hub = host(&mock, alice());

    for _ in 0..2 {
        let result = call(&hub, "get_repository", private_repo()).await.unwrap();
        assert_eq!(result.status, 200);
    }

    let requests = mock.requests();
    let exchanged = exchanges(&requests);
    assert_eq!(exchanged.len(), 1, "{}", show(&requests));
    assert_eq!(
        exchanged[0].json(),
        Some(json!({"identifier": fx::ALICE, "secret": fx::ALICE_PAT}))
    );
    let api = api_requests(&requests);
    assert_eq!(api.len(), 2, "{}", show(&requests));
    let first = bearer(api[0]).expect("the first API request carries a bearer");
    assert!(is_jwt(first), "not a JWT: {first}");
    assert_eq!(bearer(api[1]), Some(first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_jwt_is_reminted_once_and_the_request_retried() {
    let mock = start_mock().await;
    let hub = host(&mock, alice());
    call(&hub, "get_repository", private_repo()).await.unwrap();
    let old = bearer(api_requests(&mock.requests())[0])
        .unwrap()
        .to_owned();

    mock.expire_tokens();
    mock.clear_requests();
    let result = call(&hub, "get_repository", private_repo()).await.unwrap();
    assert_eq!(result.status, 200);

    // The host still thinks the old JWT is good (its `exp` is minutes away), so the component
    // sends it, gets 401, invalidates, and retries with one freshly minted JWT.
    let requests = mock.requests();
    assert_eq!(requests.len(), 3, "{}", show(&requests));
    assert_eq!(requests[0].path, "/v2/namespaces/acme/repositories/private");
    assert_eq!(bearer(&requests[0]), Some(old.as_str()));
    assert_eq!(
        (requests[1].method.as_str(), requests[1].path.as_str()),
        ("POST", TOKEN_PATH)
    );
    assert_eq!(
        requests[1].json(),
        Some(json!({"identifier": fx::ALICE, "secret": fx::ALICE_PAT}))
    );
    assert_eq!(requests[2].path, requests[0].path);
    let new = bearer(&requests[2]).expect("the retry carries a bearer");
    assert!(is_jwt(new), "not a JWT: {new}");
    assert_ne!(new, old);
}

/// Concurrent calls all refused with the same expired bearer (as parallel pages are) each
/// invalidate it and retry; the host re-mints once for all of them, not once per refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_refused_together_re_mint_once() {
    let mock = start_mock().await;
    let hub = std::sync::Arc::new(host(&mock, alice()));
    call(&hub, "get_repository", private_repo()).await.unwrap();
    mock.expire_tokens();
    mock.clear_requests();
    // All six calls are in flight with the old bearer before any 401 comes back, and the 401s
    // come back one by one, each after the call before it has re-minted: a refusal heard late
    // must not drop the bearer minted since.
    for i in 1..=6 {
        mock.inject(
            Fault::slow_headers(Duration::from_millis(150 * i))
                .path_prefix("/v2/namespaces/acme/repositories/private"),
        );
    }
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let hub = hub.clone();
        calls.spawn(async move { call(&hub, "get_repository", private_repo()).await });
    }
    while let Some(result) = calls.join_next().await {
        assert_eq!(result.unwrap().unwrap().status, 200);
    }
    let requests = mock.requests();
    let refused = requests
        .iter()
        .filter(|r| r.answer.as_ref().is_some_and(|a| a.status == 401))
        .count();
    assert_eq!(refused, 6, "{}", show(&requests));
    assert_eq!(exchanges(&requests).len(), 1, "{}", show(&requests));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_options_account_selects_whose_credential_is_exchanged() {
    let mock = start_mock().await;
    let accounts = Accounts::from_specs(vec![
        personal("default", fx::ALICE, fx::ALICE_PAT),
        org_token("work", fx::ORG, fx::ORG_OAT),
    ])
    .unwrap();
    let hub = host(&mock, accounts);

    let options = CallOptions {
        account: Some("work".into()),
        ..CallOptions::default()
    };
    let result = hub
        .call("get_repository", &private_repo(), &options)
        .await
        .unwrap();
    assert_eq!(result.status, 200);

    let requests = mock.requests();
    let exchanged = exchanges(&requests);
    assert_eq!(exchanged.len(), 1, "{}", show(&requests));
    assert_eq!(
        exchanged[0].json(),
        Some(json!({"identifier": fx::ORG, "secret": fx::ORG_OAT}))
    );
    let api = api_requests(&requests);
    assert_eq!(api.len(), 1, "{}", show(&requests));
    assert!(bearer(api[0]).is_some_and(is_jwt), "{}", show(&requests));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_account_is_a_credential_error_and_sends_nothing() {
    let mock = start_mock().await;
    let hub = host(&mock, alice());

    let options = CallOptions {
        account: Some("nobody-here".into()),
        ..CallOptions::default()
    };
    let err = hub
        .call("get_repository", &private_repo(), &options)
        .await
        .unwrap_err();
    match &err {
        CallError::Credentials(CredentialError::UnknownAccount { account }) => {
            assert_eq!(account, "nobody-here")
        }
        other => panic!("expected an unknown account, got {other:?}"),
    }
    // Not a 401 the Hub never sent: a usage error.
    assert_eq!(dockhand_host::report::kind(&err), "usage");
    assert_nothing_sent(&mock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_secret_is_unauthorized_and_not_echoed() {
    let mock = start_mock().await;
    let wrong = "dckr_pat_this_is_not_alices_token_0000";
    let accounts = Accounts::from_specs(vec![personal("default", fx::ALICE, wrong)]).unwrap();
    let hub = host(&mock, accounts);

    let err = call(&hub, "get_repository", private_repo())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            CallError::Credentials(CredentialError::Exchange { account, status: Some(401), .. })
                if account == "default"
        ),
        "{err:?}"
    );
    assert_eq!(dockhand_host::report::kind(&err), "unauthorized");
    assert!(!format!("{err:?}").contains(wrong), "{err:?}");
    assert!(!err.to_string().contains(wrong), "{err}");
    // The exchange failed, so the API request is never attempted.
    let requests = mock.requests();
    assert_eq!(api_requests(&requests).len(), 0, "{}", show(&requests));
}

// ---------------------------------------------------------------------------------------------
// Docker's own login
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_creds_store_helper_supplies_the_default_account() {
    let mock = start_mock().await;
    let dir = TempDir::new("creds-store");
    write_fake_helper(dir.path());
    let accounts = discover_from_docker_config(dir.path(), &json!({"credsStore": "fake"}));
    assert_authenticated_as_alice(&mock, accounts).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_cred_helpers_entry_for_the_hub_supplies_the_default_account() {
    let mock = start_mock().await;
    let dir = TempDir::new("cred-helpers");
    write_fake_helper(dir.path());
    let accounts = discover_from_docker_config(
        dir.path(),
        &json!({"credHelpers": {"index.docker.io": "fake"}}),
    );
    assert_authenticated_as_alice(&mock, accounts).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_inline_auths_entry_supplies_the_default_account() {
    let mock = start_mock().await;
    let dir = TempDir::new("auths");
    let auth = base64(format!("{}:{}", fx::ALICE, fx::ALICE_PAT).as_bytes());
    let accounts = discover_from_docker_config(
        dir.path(),
        &json!({"auths": {"https://index.docker.io/v1/": {"auth": auth}}}),
    );
    assert_authenticated_as_alice(&mock, accounts).await;
}

// ---------------------------------------------------------------------------------------------
// Sealed mode
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_mode_hands_out_placeholders_and_only_the_wire_sees_the_jwt() {
    let mock = start_mock().await;
    let hub = host_with(&mock, policy_for(&mock), true, alice());

    let result = call(&hub, "get_repository", private_repo()).await.unwrap();
    let placeholder = hub
        .broker()
        .get("default", CredentialKind::Hub)
        .await
        .unwrap()
        .expect("alice's account is not anonymous");
    assert!(placeholder.starts_with(PLACEHOLDER_PREFIX), "{placeholder}");

    let requests = mock.requests();
    let api = api_requests(&requests);
    assert_eq!(api.len(), 1, "{}", show(&requests));
    let jwt = bearer(api[0]).expect("the API request carries a bearer");
    assert!(is_jwt(jwt), "the mock got {jwt:?}, not a JWT");
    for request in &requests {
        let body = String::from_utf8_lossy(&request.body);
        let leaked = body.contains(PLACEHOLDER_PREFIX)
            || request
                .headers
                .iter()
                .any(|(_, v)| v.contains(PLACEHOLDER_PREFIX));
        assert!(!leaked, "{}", show(&requests));
    }

    let body = result.body.to_string();
    assert!(!body.contains(jwt), "{body}");
    assert!(!body.contains(fx::ALICE_PAT), "{body}");

    // Any error the caller sees: a 404 from the Hub after an authenticated request.
    let err = call(
        &hub,
        "get_repository",
        json!({"namespace": fx::ORG, "repository": "does-not-exist"}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, CallError::Hub(HubError::NotFound(_))),
        "{err:?}"
    );
    for text in [format!("{err:?}"), err.to_string()] {
        assert!(!text.contains(jwt), "{text}");
        assert!(!text.contains(fx::ALICE_PAT), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsealed_mode_hands_out_the_jwt_itself() {
    let mock = start_mock().await;
    let hub = host_with(&mock, policy_for(&mock), false, alice());

    call(&hub, "get_repository", private_repo()).await.unwrap();
    let handed_out = hub
        .broker()
        .get("default", CredentialKind::Hub)
        .await
        .unwrap()
        .expect("alice's account is not anonymous");
    assert!(is_jwt(&handed_out), "{handed_out}");

    let requests = mock.requests();
    assert_eq!(exchanges(&requests).len(), 1, "{}", show(&requests));
    let api = api_requests(&requests);
    assert_eq!(bearer(api[0]), Some(handed_out.as_str()));
}

// ---------------------------------------------------------------------------------------------
// Egress allow-list and read-only mode
// ---------------------------------------------------------------------------------------------

fn deny_the_mock(mock: &MockHub) -> Policy {
    Policy {
        allowed: vec![Origin::parse("http://127.0.0.1:1").unwrap()],
        ..policy_for(mock)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_off_the_allow_list_is_denied_before_any_connection() {
    let mock = start_mock().await;
    let hub = host_with(&mock, deny_the_mock(&mock), true, Accounts::anonymous());

    let err = call(&hub, "get_repository", public_repo())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::Hub(HubError::Denied(_))),
        "{err:?}"
    );
    assert_nothing_sent(&mock);
    assert_eq!(mock.connections_accepted(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_request_never_carries_a_bearer_to_its_destination() {
    let mock = start_mock().await;
    let hub = host_with(&mock, deny_the_mock(&mock), true, alice());

    let err = call(&hub, "get_repository", private_repo())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::Hub(HubError::Denied(_))),
        "{err:?}"
    );
    // The placeholder is swapped only for allowed destinations, and this one is not.
    let requests = mock.requests();
    assert!(api_requests(&requests).is_empty(), "{}", show(&requests));
    assert!(
        requests.iter().all(|r| r.header("authorization").is_none()),
        "{}",
        show(&requests)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_off_the_allow_list_never_receives_the_pat_in_a_token_exchange() {
    let mock = start_mock().await;
    let hub = host_with(&mock, deny_the_mock(&mock), true, alice());

    let err = call(&hub, "get_repository", private_repo())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::Hub(HubError::Denied(_))),
        "{err:?}"
    );
    assert_nothing_sent(&mock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_refuses_writes_before_sending_anything() {
    let mock = start_mock().await;
    let policy = Policy {
        read_only: true,
        ..policy_for(&mock)
    };
    let hub = host_with(&mock, policy, true, alice());

    let args = json!({"namespace": fx::ALICE, "name": "should-not-exist"});
    // Every spelling the component accepts must be refused, not only the canonical name.
    for name in ["create_repository", "create-repository", "CreateRepository"] {
        let err = call(&hub, name, args.clone()).await.unwrap_err();
        match &err {
            CallError::Hub(HubError::Denied(m)) => assert!(m.contains("read-only"), "{m}"),
            other => panic!("{name}: expected Denied, got {other:?}"),
        }
    }
    assert_nothing_sent(&mock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_allows_reads_including_read_access_posts() {
    let mock = start_mock().await;
    let policy = Policy {
        read_only: true,
        ..policy_for(&mock)
    };
    let hub = host_with(&mock, policy, true, alice());

    let got = call(&hub, "get_repository", private_repo()).await.unwrap();
    assert_eq!(got.status, 200);

    // A POST, but the catalog marks it `read`: it changes nothing on the Hub.
    let verified = call(
        &hub,
        "verify_repository_immutable_tags",
        json!({"namespace": fx::ALICE, "repository": fx::ALICE_REPO, "regex": "lat.*"}),
    )
    .await
    .unwrap();
    assert_eq!(verified.status, 200);
    assert_eq!(verified.body["tags"], json!(["latest"]));
    let requests = mock.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/immutabletags/verify")),
        "{}",
        show(&requests)
    );
}

// ---------------------------------------------------------------------------------------------
// Timeouts, size cap, transport failures
// ---------------------------------------------------------------------------------------------

fn with_timeouts(
    mock: &MockHub,
    first_byte: Duration,
    between_bytes: Duration,
    call: Duration,
) -> Policy {
    let mut policy = policy_for(mock);
    policy.timeouts.first_byte = first_byte;
    policy.timeouts.between_bytes = between_bytes;
    policy.timeouts.call = call;
    policy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_byte_timeout_ends_a_slow_response_as_a_transport_timeout() {
    let mock = start_mock().await;
    let policy = with_timeouts(
        &mock,
        Duration::from_millis(300),
        Duration::from_secs(30),
        Duration::from_secs(60),
    );
    let hub = host_with(&mock, policy, true, Accounts::anonymous());
    mock.inject(Fault::slow_headers(Duration::from_secs(3)).path_prefix(API_PREFIX));

    let started = Instant::now();
    let result = call_once(&hub, "get_repository", public_repo()).await;
    let elapsed = started.elapsed();
    assert_eq!(transport_kind(&result), Some("timeout"), "{result:?}");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");

    assert_next_call_succeeds(&hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn between_bytes_timeout_ends_a_stalled_body_as_a_transport_timeout() {
    let mock = start_mock().await;
    let policy = with_timeouts(
        &mock,
        Duration::from_secs(30),
        Duration::from_millis(300),
        Duration::from_secs(60),
    );
    let hub = host_with(&mock, policy, true, Accounts::anonymous());
    mock.inject(Fault::slow_body(Duration::from_secs(3)).path_prefix(API_PREFIX));

    let started = Instant::now();
    let result = call_once(&hub, "get_repository", public_repo()).await;
    let elapsed = started.elapsed();
    assert_eq!(transport_kind(&result), Some("timeout"), "{result:?}");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");

    assert_next_call_succeeds(&hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_deadline_ends_a_call_the_http_timeouts_would_let_run() {
    let mock = start_mock().await;
    let policy = with_timeouts(
        &mock,
        Duration::from_secs(10),
        Duration::from_secs(10),
        Duration::from_millis(500),
    );
    let hub = host_with(&mock, policy, true, Accounts::anonymous());
    mock.inject(Fault::slow_headers(Duration::from_secs(3)).path_prefix(API_PREFIX));

    let started = Instant::now();
    let result = call(&hub, "get_repository", public_repo()).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(CallError::Deadline(d)) if d == Duration::from_millis(500)),
        "{result:?}"
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");

    assert_next_call_succeeds(&hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_size_cap_is_body_too_large() {
    let mock = start_mock().await;
    let policy = Policy {
        max_response_bytes: 64 * 1024,
        ..policy_for(&mock)
    };
    let hub = host_with(&mock, policy, true, Accounts::anonymous());
    mock.inject(Fault::oversized_body(2 * 1024 * 1024).path_prefix(API_PREFIX));

    let result = call(&hub, "get_repository", public_repo()).await;
    assert_eq!(
        transport_kind(&result),
        Some("body-too-large"),
        "{result:?}"
    );

    assert_next_call_succeeds(&hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_connection_refused() {
    // Bound then released: nothing listens there for the rest of the test.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base_url = format!("http://127.0.0.1:{port}");
    let config = HostConfig {
        policy: Policy::for_base_url(&base_url).unwrap(),
        base_url,
        cache_dir: None,
        ..HostConfig::default()
    };
    let hub = Dockhand::new(config, Accounts::anonymous()).unwrap();

    let result = call(&hub, "get_repository", public_repo()).await;
    assert_eq!(
        transport_kind(&result),
        Some("connection-refused"),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_connection_is_connection_reset() {
    let mock = start_mock().await;
    let hub = host(&mock, Accounts::anonymous());
    mock.inject(Fault::connection_reset().path_prefix(API_PREFIX));

    let result = call_once(&hub, "get_repository", public_repo()).await;
    assert_eq!(
        transport_kind(&result),
        Some("connection-reset"),
        "{result:?}"
    );

    assert_next_call_succeeds(&hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_short_is_connection_reset() {
    let mock = start_mock().await;
    let hub = host(&mock, Accounts::anonymous());
    mock.inject(Fault::truncated_body().path_prefix(API_PREFIX));

    let result = call_once(&hub, "get_repository", public_repo()).await;
    assert_eq!(
        transport_kind(&result),
        Some("connection-reset"),
        "{result:?}"
    );

    assert_next_call_succeeds(&hub).await;
}

// ---------------------------------------------------------------------------------------------
// Memory limit
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_limit_too_small_for_the_component_fails_the_call_not_the_host() {
    let mock = start_mock().await;
    let policy = Policy {
        max_memory_bytes: 1024 * 1024,
        ..policy_for(&mock)
    };
    let hub = host_with(&mock, policy, true, Accounts::anonymous());

    let result = call(&hub, "get_repository", public_repo()).await;
    assert!(
        matches!(result, Err(CallError::Host(_) | CallError::Hub(_))),
        "{result:?}"
    );

    let healthy = host(&mock, Accounts::anonymous());
    assert_next_call_succeeds(&healthy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_larger_than_the_arena_is_held_in_the_memory_an_instance_starts_with() {
    // The component starts with 2 MiB (plugin/build.rs): its stack, its data with the 256 KiB
    // call arena, and room its general allocator takes before it grows the memory. With the cap
    // at exactly that, a 300 KB answer (past the arena, its buffer grown to 512 KiB) must come
    // through without a single page more.
    const PADDING: usize = 300 * 1024;
    let mock = start_mock().await;
    let policy = Policy {
        max_memory_bytes: 2 * 1024 * 1024,
        ..policy_for(&mock)
    };
    let hub = host_with(&mock, policy, true, Accounts::anonymous());
    mock.inject(Fault::oversized_body(PADDING).path_prefix(API_PREFIX));

    let result = call(&hub, "get_repository", public_repo()).await.unwrap();
    let padding = result.body["padding"].as_str().unwrap();
    assert!(padding.len() > PADDING - 100, "{}", padding.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_runs_out_of_memory_mid_call_fails_the_call_not_the_host() {
    let mock = start_mock().await;
    // Enough to instantiate, far too little to buffer the body the size cap lets through.
    let policy = Policy {
        max_memory_bytes: 4 * 1024 * 1024,
        max_response_bytes: 64 * 1024 * 1024,
        ..policy_for(&mock)
    };
    let hub = host_with(&mock, policy, true, Accounts::anonymous());
    assert_next_call_succeeds(&hub).await;
    mock.inject(Fault::oversized_body(16 * 1024 * 1024).path_prefix(API_PREFIX));

    let result = call(&hub, "get_repository", public_repo()).await;
    assert!(
        matches!(result, Err(CallError::Host(_) | CallError::Hub(_))),
        "{result:?}"
    );

    // Each call has its own store, so the exhausted instance leaves nothing behind.
    assert_next_call_succeeds(&hub).await;
}
