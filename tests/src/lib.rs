//! Shared helpers for the end-to-end tests: a mock Hub plus a real host per test, calls that
//! come back with the requests they caused, expectations on those requests, and the coverage
//! registry.
//!
//! # Coverage
//!
//! Each area file of the `e2e` binary declares `COVERED_BY_AREA`: pairs of an operation's
//! friendly name and the test function responsible for it. Three checks together make that
//! list trustworthy, and none depends on the order tests run in:
//!
//! 1. Every [`Harness`] knows which test it serves (libtest names each test's thread after the
//!    test) and looks that test up in the binary's claims table (`coverage::CLAIMS`, every area
//!    file's list). When the harness is dropped at the end of the test, it
//!    fails the test unless every operation claimed for *that* test was called through it and
//!    its own request (its method, on its route) reached the mock: a call refused before any
//!    request, or one that only got as far as the token exchange, does not count. So a claim
//!    cannot be satisfied by another test, by a test that never ran, or by a call that sent
//!    nothing.
//! 2. The coverage test (`e2e/coverage.rs`) compares the union of all claims with the catalog
//!    the component reports (`Dockhand::operations`, 60 entries): nothing missing, nothing
//!    unknown, nothing claimed twice, every claim filed under its operation's area.
//! 3. The coverage test lists the binary's own tests (`--list`, and `--list --ignored`) and
//!    requires each claim to name a test that exists in that module and is not ignored — so
//!    check 1 runs for every claim whenever the whole suite runs.
//!
//! [`covered`] exposes what was exercised so far in this process, test by test; it feeds check
//! 1 and the coverage test's diagnostics.

#![deny(unsafe_code)]

use dockhand_spec::Catalog;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use dockhand_host::credentials::{AccountAuth, AccountSpec, Accounts, Origin, ScimToken, Secret};
use dockhand_host::http_client::{HttpClient, HttpClientConfig};
use dockhand_host::{CallError, CallOptions, CallResult, Dockhand, HostConfig, HubError};
use dockhand_mock::fixtures as fx;
use dockhand_mock::{MockConfig, MockHub, RecordedRequest};
use serde_json::Value;

pub use dockhand_host::credentials::CredentialKind;

/// The WIT `call-options` for a call to `base_url` with every other option at the component's
/// default; the generated type has no `Default`, so tests start from this and set what they test.
pub fn wit_call_options(
    base_url: String,
) -> dockhand_host::bindings::exports::dockhand::hub::types::CallOptions {
    dockhand_host::bindings::exports::dockhand::hub::types::CallOptions {
        account: None,
        base_url: Some(base_url),
        all_pages: None,
        max_pages: None,
        page_concurrency: None,
        max_retries: None,
        max_retry_wait_seconds: None,
    }
}

/// The organization's account: its access token for the Hub API, its SCIM token for SCIM.
pub const ORG_ACCOUNT: &str = "acme";
/// Alice signed in with her password: what organization-admin routes accept from a person.
pub const PASSWORD_ACCOUNT: &str = "alice-password";
/// Carol's personal access token; she is a plain member of the organization.
pub const CAROL_ACCOUNT: &str = "carol";
/// No credentials at all.
pub const ANONYMOUS_ACCOUNT: &str = "anon";

/// The SCIM core user schema.
pub const SCIM_USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// An operation's friendly name and the test function (in the same file) that exercises it.
pub type Claim = (&'static str, &'static str);

/// One area file's claims: its module name, the catalog area, its `COVERED_BY_AREA`.
pub type AreaClaims = (&'static str, &'static str, &'static [Claim]);

/// Test path (`module::function`) → friendly names of the operations it exercised.
static COVERED: Mutex<BTreeMap<String, BTreeSet<String>>> = Mutex::new(BTreeMap::new());

/// What has been exercised so far in this process, by test.
pub fn covered() -> BTreeMap<String, BTreeSet<String>> {
    COVERED.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn record_covered(test: &str, operation: &str) {
    COVERED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(test.to_string())
        .or_default()
        .insert(operation.to_string());
}

/// The test this thread runs, as libtest names it (`repositories::create_repository`).
pub fn current_test() -> String {
    let name = std::thread::current().name().map(str::to_string);
    match name {
        Some(name) if name.contains("::") => name,
        other => panic!(
            "the harness needs libtest's per-test thread name to attribute coverage, got {other:?}"
        ),
    }
}

fn spec(name: &str, auth: AccountAuth, scim: Option<&str>) -> AccountSpec {
    AccountSpec {
        name: name.to_string(),
        auth,
        origin: Origin::Other("e2e harness".into()),
        scim: scim.map(|token| ScimToken {
            token: Secret::new(token),
            origin: Origin::Other("e2e harness".into()),
        }),
        base_url: None,
        withheld: None,
    }
}

/// `default` is alice's PAT; see the `*_ACCOUNT` constants for the others.
pub fn standard_accounts() -> Accounts {
    Accounts::from_specs(vec![
        spec(
            "default",
            AccountAuth::PersonalToken {
                username: fx::ALICE.into(),
                token: Secret::new(fx::ALICE_PAT),
            },
            None,
        ),
        spec(
            ORG_ACCOUNT,
            AccountAuth::OrgToken {
                org: fx::ORG.into(),
                token: Secret::new(fx::ORG_OAT),
            },
            Some(fx::SCIM_TOKEN),
        ),
        spec(
            PASSWORD_ACCOUNT,
            AccountAuth::Password {
                username: fx::ALICE.into(),
                password: Secret::new(fx::ALICE_PASSWORD),
            },
            None,
        ),
        spec(
            CAROL_ACCOUNT,
            AccountAuth::PersonalToken {
                username: fx::CAROL.into(),
                token: Secret::new(fx::CAROL_PAT),
            },
            None,
        ),
        spec(ANONYMOUS_ACCOUNT, AccountAuth::Anonymous, None),
    ])
    .expect("the standard accounts are distinct")
}

/// Compiling the component costs far more than a test's calls; it is compiled once per process
/// into a private cache that every later `Dockhand::new` loads from.
fn component_cache() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Beside cargo's own scratch space (`target/tmp`), keyed by the component's hash inside.
        let dir = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("tmp")))
            .unwrap_or_else(std::env::temp_dir)
            .join("dockhand-e2e-component-cache");
        let config = HostConfig {
            cache_dir: Some(dir.clone()),
            ..HostConfig::default()
        };
        Dockhand::new(config, Accounts::anonymous()).expect("compile the component");
        dir
    })
    .clone()
}

/// A host configuration for `base_url` that loads the shared precompiled component.
pub fn host_config(base_url: String) -> HostConfig {
    HostConfig {
        base_url,
        cache_dir: Some(component_cache()),
        ..HostConfig::default()
    }
}

/// One test's world: a fresh mock Hub and a host with the given accounts pointed at it.
pub struct Harness {
    pub mock: MockHub,
    pub hub: Dockhand,
    test: String,
    /// Operations this test claims to exercise (from its area's `COVERED_BY_AREA`).
    claims: Vec<&'static str>,
}

impl Harness {
    /// The built-in mock world and [`standard_accounts`]. `claims` is the binary's whole claims
    /// table: the harness finds its own test's claims there, so no test can opt out of them.
    pub async fn start(claims: &[AreaClaims]) -> Harness {
        Harness::start_with(claims, MockConfig::default(), standard_accounts()).await
    }

    pub async fn start_with(
        claims: &[AreaClaims],
        mock: MockConfig,
        accounts: Accounts,
    ) -> Harness {
        let mock = MockHub::start(mock).await.expect("start the mock Hub");
        let hub = Dockhand::new(host_config(mock.base_url()), accounts).expect("build the host");
        Harness::around(claims, mock, hub)
    }

    /// Wraps a host built by the test itself (another policy, other accounts).
    pub fn around(claims: &[AreaClaims], mock: MockHub, hub: Dockhand) -> Harness {
        let test = current_test();
        let (module, function) = test.rsplit_once("::").expect("a module path");
        let claims = claims
            .iter()
            .filter(|(m, _, _)| *m == module)
            .flat_map(|(_, _, c)| c.iter())
            .filter(|(_, t)| *t == function)
            .map(|(op, _)| *op)
            .collect();
        Harness {
            mock,
            hub,
            claims,
            test,
        }
    }

    /// Calls with the `default` account (alice's PAT).
    pub async fn call(&self, operation: &str, args: Value) -> Call {
        self.call_with(operation, args, CallOptions::default())
            .await
    }

    pub async fn call_as(&self, account: &str, operation: &str, args: Value) -> Call {
        let options = CallOptions {
            account: Some(account.to_string()),
            ..CallOptions::default()
        };
        self.call_with(operation, args, options).await
    }

    /// Mints the account's Hub bearer first, so that the requests recorded for the call are the
    /// component's alone, not the broker's token exchange.
    pub async fn call_with(&self, operation: &str, args: Value, options: CallOptions) -> Call {
        let account = options.account.as_deref().unwrap_or("default");
        let _ = self.hub.broker().get(account, CredentialKind::Hub).await;
        self.call_cold(operation, args, options).await
    }

    /// Calls without minting first: the recorded requests include any token exchange.
    pub async fn call_cold(&self, operation: &str, args: Value, options: CallOptions) -> Call {
        self.mock.clear_requests();
        let result = self.hub.call(operation, &args, &options).await;
        let requests = self.mock.requests();
        if let Some(op) = self.hub.resolve(operation).await.expect("list operations")
            && requests
                .iter()
                .any(|r| r.method == op.method && on_route(&op.path, &r.path))
        {
            record_covered(&self.test, &op.name);
        }
        if let Ok(r) = &result {
            check_shape(operation, r);
        }
        check_answers(operation, &requests);
        Call {
            operation: operation.to_string(),
            result,
            requests,
        }
    }
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load_default().expect("load the catalog"))
}

/// Every answer the mock's route gave during a call, success or error, must fit the catalog:
/// a success the shape of its operation's response with that status, an error one of the
/// catalog's error shapes (SCIM's for SCIM routes).
#[track_caller]
fn check_answers(operation: &str, requests: &[RecordedRequest]) {
    use dockhand_spec::shape::{is_json, mismatches, mismatches_strict};
    let catalog = catalog();
    let Some(op) = catalog.find(operation) else {
        return;
    };
    // A HEAD answer's body never goes out.
    if op.method == dockhand_spec::Method::Head {
        return;
    }
    for request in requests {
        let Some(answer) = &request.answer else {
            continue;
        };
        if request.method != op.method.as_str() || !on_route(&op.path, &request.path) {
            continue;
        }
        let json = answer.content_type.as_deref().is_some_and(is_json);
        let Some(body) = answer.json().filter(|_| json) else {
            continue;
        };
        let problems = if answer.status < 300 {
            let response = op.responses.iter().find(|r| r.status == answer.status);
            let Some(shape) = response.and_then(|r| r.shape.as_ref()) else {
                panic!(
                    "`{}` answered {}, a status its catalog entry lacks",
                    op.name, answer.status
                );
            };
            mismatches_strict(shape, &body)
        } else {
            let scim = request.path.contains("/scim/");
            // An answer is of a kind when it carries at least one of that kind's fields (every
            // field is optional, so an empty match would prove nothing) and all of it fits.
            let fits: Vec<Vec<String>> = catalog
                .errors
                .values()
                .filter(|e| e.scim == scim && e.status.is_none_or(|s| s == answer.status))
                .filter(
                    |e| match e.shape.get("properties").and_then(Value::as_object) {
                        Some(fields) => fields.keys().any(|k| body.get(k).is_some()),
                        None => true,
                    },
                )
                .map(|e| mismatches(&e.shape, &body))
                .collect();
            if fits.iter().any(Vec::is_empty) {
                Vec::new()
            } else {
                fits.into_iter().flatten().collect()
            }
        };
        assert!(
            problems.is_empty(),
            "the mock answered `{}` {} in a shape the catalog does not describe:\n  {}\n{body}",
            op.name,
            answer.status,
            problems.join("\n  ")
        );
    }
}

/// Every answer a test gets through the harness must fit its operation's result shape in the
/// catalog, so neither the mock nor the catalog can drift from the other unnoticed.
#[track_caller]
fn check_shape(operation: &str, result: &CallResult) {
    let Some(op) = catalog().find(operation) else {
        return;
    };
    let Some(shape) = dockhand_spec::shape::result_shape(op) else {
        return;
    };
    let problems = dockhand_spec::shape::mismatches(&shape, &result.body);
    assert!(
        problems.is_empty(),
        "`{}` answered {} in a shape its catalog entry does not describe:\n  {}\n{}",
        op.name,
        result.status,
        problems.join("\n  "),
        result.body
    );
}

/// Whether raw `path` is an instance of `template` (`/v2/orgs/{org_name}/groups`): same
/// segments, each `{…}` filled by one non-empty segment.
fn on_route(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            if t.starts_with('{') {
                !p.is_empty()
            } else {
                t == p
            }
        })
}

impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let done = covered().remove(&self.test).unwrap_or_default();
        let missing: Vec<_> = self
            .claims
            .iter()
            .filter(|op| !done.contains(**op))
            .collect();
        assert!(
            missing.is_empty(),
            "{} is named in COVERED_BY_AREA for {missing:?} but never called them with a request \
             reaching the mock (it called {done:?})",
            self.test
        );
    }
}

/// One call's outcome and every request the mock received while it ran.
#[derive(Debug)]
pub struct Call {
    pub operation: String,
    pub result: Result<CallResult, CallError>,
    pub requests: Vec<RecordedRequest>,
}

impl Call {
    /// The call's only request.
    #[track_caller]
    pub fn request(&self) -> &RecordedRequest {
        assert_eq!(
            self.requests.len(),
            1,
            "`{}` should have sent exactly one request: {:#?}",
            self.operation,
            self.requests
        );
        &self.requests[0]
    }

    #[track_caller]
    pub fn ok(&self) -> &CallResult {
        match &self.result {
            Ok(result) => result,
            Err(e) => panic!("`{}` failed: {e}", self.operation),
        }
    }

    /// The decoded result.
    #[track_caller]
    pub fn body(&self) -> &Value {
        &self.ok().body
    }

    /// The component's typed error.
    #[track_caller]
    pub fn hub_error(&self) -> &HubError {
        match &self.result {
            Err(CallError::Hub(e)) => e,
            other => panic!(
                "`{}` should fail with a Hub error: {other:?}",
                self.operation
            ),
        }
    }
}

/// Who the `authorization` header should speak for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// No `authorization` header at all.
    None,
    /// A JWT the mock minted, whose subject and token type are these.
    Jwt {
        subject: &'static str,
        token_type: &'static str,
    },
    /// Exactly `Bearer <token>`.
    Bearer(&'static str),
}

/// alice through her PAT (the `default` account).
pub const ALICE_PAT_JWT: Auth = Auth::Jwt {
    subject: fx::ALICE,
    token_type: "pat",
};
/// alice through her password ([`PASSWORD_ACCOUNT`]).
pub const ALICE_PASSWORD_JWT: Auth = Auth::Jwt {
    subject: fx::ALICE,
    token_type: "password",
};
/// The organization through its access token ([`ORG_ACCOUNT`]).
pub const ACME_OAT_JWT: Auth = Auth::Jwt {
    subject: fx::ORG,
    token_type: "oat",
};
/// The SCIM token of [`ORG_ACCOUNT`].
pub const SCIM_BEARER: Auth = Auth::Bearer(fx::SCIM_TOKEN);

/// What a request should look like on the wire.
#[derive(Debug, Clone)]
pub struct Sent {
    method: &'static str,
    path: String,
    query: Option<String>,
    auth: Auth,
    body: Option<(&'static str, Value)>,
}

/// A request with this method and raw (still percent-encoded) path, no query, no body.
pub fn sent(method: &'static str, path: impl Into<String>, auth: Auth) -> Sent {
    Sent {
        method,
        path: path.into(),
        query: None,
        auth,
        body: None,
    }
}

impl Sent {
    /// The raw query string, exactly as sent.
    pub fn query(mut self, query: impl Into<String>) -> Sent {
        self.query = Some(query.into());
        self
    }

    /// An `application/json` body equal to `body`.
    pub fn json(mut self, body: Value) -> Sent {
        self.body = Some(("application/json", body));
        self
    }

    /// An `application/scim+json` body equal to `body`.
    pub fn scim_json(mut self, body: Value) -> Sent {
        self.body = Some(("application/scim+json", body));
        self
    }

    #[track_caller]
    pub fn check(&self, req: &RecordedRequest) {
        let what = format!("{} {}", self.method, self.path);
        assert_eq!(req.method, self.method, "method of {what}");
        assert_eq!(req.path, self.path, "raw path of {what}");
        assert_eq!(req.query, self.query, "query of {what}");
        match &self.body {
            Some((content_type, body)) => {
                assert_eq!(
                    req.header("content-type"),
                    Some(*content_type),
                    "content-type of {what}"
                );
                assert_eq!(req.json().as_ref(), Some(body), "body of {what}");
            }
            None => {
                assert_eq!(req.header("content-type"), None, "content-type of {what}");
                assert!(req.body.is_empty(), "{what} should have no body");
            }
        }
        check_auth(req, self.auth, &what);
    }
}

#[track_caller]
fn check_auth(req: &RecordedRequest, auth: Auth, what: &str) {
    let header = req.header("authorization");
    match auth {
        Auth::None => assert_eq!(header, None, "authorization of {what}"),
        Auth::Bearer(token) => {
            assert_eq!(
                header,
                Some(format!("Bearer {token}").as_str()),
                "authorization of {what}"
            )
        }
        Auth::Jwt {
            subject,
            token_type,
        } => {
            let header = header.unwrap_or_else(|| panic!("{what} has no authorization header"));
            let token = header
                .strip_prefix("Bearer ")
                .unwrap_or_else(|| panic!("{what}: not a bearer: {header}"));
            let claims = jwt_claims(token)
                .unwrap_or_else(|| panic!("{what}: the bearer is not one of the mock's JWTs"));
            assert_eq!(claims["sub"], subject, "JWT subject of {what}");
            assert_eq!(claims["token_type"], token_type, "JWT type of {what}");
        }
    }
}

/// The payload of a JWT (unverified); `None` if `token` is not shaped like one.
pub fn jwt_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    serde_json::from_slice(&base64url(payload)?).ok()
}

fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

/// `HubError::InvalidArgument`'s argument name, or a panic naming what came instead.
#[track_caller]
pub fn invalid_argument_name(call: &Call) -> &str {
    match call.hub_error() {
        HubError::InvalidArgument(a) => &a.name,
        other => panic!(
            "`{}` should be an invalid argument: {other:?}",
            call.operation
        ),
    }
}

/// POSTs JSON straight to the mock with the host's plain HTTP client, bypassing the component;
/// for the few answers a test needs that the component does not pass on.
pub async fn post_to_mock(mock: &MockHub, path: &str, body: &Value) -> (u16, Value) {
    let client = HttpClient::new(&HttpClientConfig::default()).expect("an HTTP client");
    let url = format!("{}{path}", mock.base_url());
    let response = client
        .post_json(&url, body, 1 << 20)
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let json = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status.as_u16(), json)
}
