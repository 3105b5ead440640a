//! The security model's promises under attack, through the real component and host: a hostile
//! base URL, a hostile server answer, a credential configured for somewhere else. Each test
//! names the promise it tries to break.

use std::io::Write as _;

use base64::Engine as _;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use dockhand_host::bindings::exports::dockhand::hub::access_tokens::ListPersonalAccessTokensArgs;
use dockhand_host::bindings::exports::dockhand::hub::repositories::CreateRepositoryArgs;
use dockhand_host::credentials::{
    AccountAuth, AccountSpec, Accounts, FlagCredentials, MapEnv, Origin as CredentialOrigin, Paths,
    Secret,
};
use dockhand_host::policy::{BaseUrl, Policy};
use dockhand_host::{CallError, CallOptions, Dockhand, HostConfig, HubError};
use dockhand_mock::fixtures as fx;
use dockhand_mock::{MockConfig, MockHub};
use dockhand_tests::{host_config, wit_call_options};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A server that answers every request with what its script returns for the request head, and
/// keeps every head it read. It stands for a hostile or broken Hub.
struct Scripted {
    base_url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

type Script = dyn Fn(&str) -> Vec<u8> + Send + Sync;

impl Scripted {
    async fn start(script: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, script.clone(), seen.clone()));
            }
        });
        Scripted { base_url, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// Reads request heads (skipping any body by its Content-Length) and writes the script's
/// answer to each, until the client closes or the answer asks to close.
async fn serve(mut stream: TcpStream, script: Arc<Script>, heads: Arc<Mutex<Vec<String>>>) {
    let mut buf = Vec::new();
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while buf.len() < end + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..end + length);
        heads.lock().unwrap().push(head.clone());
        let answer = script(&head);
        let closes = String::from_utf8_lossy(&answer)
            .to_ascii_lowercase()
            .contains("connection: close");
        if stream.write_all(&answer).await.is_err() || closes {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// An HTTP/1.1 answer with a JSON body and a Content-Length.
fn answer(extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The same body sent chunked, cut into pieces of `piece` bytes.
fn chunked(body: &[u8], piece: usize) -> Vec<u8> {
    let mut out =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for part in body.chunks(piece) {
        write!(out, "{:x}\r\n", part.len()).unwrap();
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn host(base_url: &str, accounts: Accounts) -> Dockhand {
    Dockhand::new(host_config(base_url.to_owned()), accounts).expect("build the host")
}

fn host_with(base_url: &str, policy: Policy, accounts: Accounts) -> Dockhand {
    let config = HostConfig {
        policy,
        ..host_config(base_url.to_owned())
    };
    Dockhand::new(config, accounts).expect("build the host")
}

fn account(auth: AccountAuth, base_url: Option<BaseUrl>) -> Accounts {
    Accounts::from_specs(vec![AccountSpec {
        auth,
        origin: CredentialOrigin::Other("hardening test".into()),
        base_url,
        ..AccountSpec::anonymous("default")
    }])
    .unwrap()
}

fn alice_pat() -> AccountAuth {
    AccountAuth::PersonalToken {
        username: fx::ALICE.into(),
        token: Secret::new(fx::ALICE_PAT),
    }
}

fn all_tokens() -> ListPersonalAccessTokensArgs {
    ListPersonalAccessTokensArgs {
        page: None,
        page_size: None,
    }
}

fn alpine() -> serde_json::Value {
    json!({"namespace": "library", "repository": "alpine"})
}

/// What a call of alice's that needs her credentials asks: her own access tokens.
async fn list_alices_tokens(hub: &Dockhand) -> Result<dockhand_host::CallResult, CallError> {
    hub.call(
        "list_personal_access_tokens",
        &json!({}),
        &CallOptions::default(),
    )
    .await
}

#[track_caller]
fn hub_error(result: Result<dockhand_host::CallResult, CallError>) -> HubError {
    match result {
        Err(CallError::Hub(e)) => e,
        other => panic!("expected a typed Hub error, got {other:?}"),
    }
}

// --- Secrets go only where they belong -------------------------------------------------------

/// `docker login` belongs to Docker Hub: with any other base URL its credential is not
/// exchanged there, and the account is anonymous (and says why when that fails).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dockers_login_is_never_sent_to_another_base_url() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        fx::ALICE,
        fx::ALICE_PAT
    ));
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"auths": {"https://index.docker.io/v1/": {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let paths = Paths {
        docker_config: Some(config),
        ..Paths::default()
    };
    let accounts = Accounts::discover(&FlagCredentials::default(), &MapEnv::new(), &paths).unwrap();
    assert_eq!(
        accounts.get("default").unwrap().auth.describe(),
        "personal access token",
        "Docker's login is found"
    );
    let hub = host(&mock.base_url(), accounts);

    let error = hub_error(list_alices_tokens(&hub).await);
    let requests = mock.requests();
    assert!(
        requests.iter().all(|r| r.path != "/v2/auth/token"),
        "the secret was exchanged at the mock: {requests:#?}"
    );
    assert!(
        requests.iter().all(|r| r.header("authorization").is_none()),
        "{requests:#?}"
    );
    let HubError::Unauthorized(message) = error else {
        panic!("expected unauthorized, got {error:?}")
    };
    assert!(
        message.contains("https://hub.docker.com") && message.contains("anonymous"),
        "the error says why the account is anonymous: {message}"
    );
    let listing = hub.broker().accounts().listing();
    let why = listing[0].withheld.as_deref().unwrap_or_default();
    assert!(why.contains(&hub.base_url().to_string()), "{why}");

    // The same login with Docker Hub's own base URL is used as before.
    let accounts = Accounts::discover(&FlagCredentials::default(), &MapEnv::new(), &paths).unwrap();
    let at_hub = accounts.for_base_url(&BaseUrl::docker_hub());
    assert!(at_hub.get("default").unwrap().withheld.is_none());
}

/// A secret never travels over plain http to another machine. The base URL names this
/// machine in a form that is not loopback by name (an IPv4-mapped IPv6 address), so that a
/// leak would land at the mock and show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_goes_over_plain_http_to_another_machine() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let port = mock.base_url().rsplit(':').next().unwrap().to_owned();
    let disguised = format!("http://[::ffff:127.0.0.1]:{port}");
    for auth in [
        alice_pat(),
        AccountAuth::Bearer(Secret::new("ready-bearer-0123456789")),
    ] {
        let hub = host(&disguised, account(auth, None));
        let error = hub_error(list_alices_tokens(&hub).await);
        let HubError::Denied(message) = &error else {
            panic!("expected denied, got {error:?}")
        };
        assert!(
            message.contains(&disguised),
            "names the base URL: {message}"
        );
        assert!(message.contains("https://"), "says what to do: {message}");
        assert!(mock.requests().is_empty(), "{:#?}", mock.requests());

        // Typed exports ask the broker as well, and are refused there.
        let mut session = hub.instantiate().await.unwrap();
        let result = session
            .plugin
            .dockhand_hub_access_tokens()
            .call_list_personal_access_tokens(
                &mut session.store,
                all_tokens(),
                &wit_call_options(disguised.clone()),
            )
            .await
            .expect("no trap");
        assert!(result.is_err(), "{result:?}");
        assert!(mock.requests().is_empty(), "{:#?}", mock.requests());
    }

    // Anonymous reads are not secrets: they go.
    let hub = host(&disguised, Accounts::anonymous());
    hub.call("get_repository", &alpine(), &CallOptions::default())
        .await
        .expect("an anonymous read over plain http");
    assert_eq!(mock.requests().len(), 1);
}

/// An account bound to its own base URL keeps its secret there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_bound_to_another_base_url_is_anonymous_here() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let hub = host(
        &mock.base_url(),
        account(alice_pat(), Some(BaseUrl::docker_hub())),
    );
    let error = hub_error(list_alices_tokens(&hub).await);
    assert!(matches!(error, HubError::Unauthorized(_)), "{error:?}");
    assert!(
        mock.requests().iter().all(|r| r.path != "/v2/auth/token"),
        "{:#?}",
        mock.requests()
    );

    // Bound to this very base URL (written differently), it is used.
    let bound = BaseUrl::parse(&format!("{}/v2/", mock.base_url())).unwrap();
    let hub = host(&mock.base_url(), account(alice_pat(), Some(bound)));
    list_alices_tokens(&hub).await.expect("alice's own tokens");
}

/// `--base-url https://hub.docker.com/v2` is documented as fine: the token exchange must not
/// go to `/v2/v2/auth/token`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_ending_in_v2_exchanges_at_the_right_path() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    for suffix in ["/v2", "/v2/", "/"] {
        mock.clear_requests();
        let hub = host(
            &format!("{}{suffix}", mock.base_url()),
            account(alice_pat(), None),
        );
        list_alices_tokens(&hub)
            .await
            .unwrap_or_else(|e| panic!("base URL ending in {suffix}: {e}"));
        let paths: Vec<String> = mock.requests().iter().map(|r| r.path.clone()).collect();
        assert_eq!(paths, ["/v2/auth/token", "/v2/access-tokens"], "{suffix}");
    }
}

// --- Hostile answers -------------------------------------------------------------------------

/// One answer whose rate-limit reset lies ten years ahead must not hold every later call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_years_ahead_does_not_lock_the_host_out() {
    let ten_years = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 10 * 365 * 24 * 3600;
    let server = Scripted::start(move |_| {
        answer(
            &format!(
                "x-ratelimit-limit: 10\r\nx-ratelimit-remaining: 0\r\nx-ratelimit-reset: {ten_years}\r\n"
            ),
            r#"{"name":"alpine"}"#,
        )
    })
    .await;
    let hub = host(&server.base_url, Accounts::anonymous());
    for _ in 0..3 {
        hub.call("get_repository", &alpine(), &CallOptions::default())
            .await
            .expect("the call is sent and answered");
    }
    assert_eq!(server.heads().len(), 3);
}

/// In sealed mode a server that echoes the bearer back (in a header and in the body, cut across
/// chunks) shows the caller the placeholder, never the bearer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echoed_bearer_never_comes_back() {
    const BEARER: &str = "real-bearer-3f9a2c7e5b1d4f60a8c9e2b7d1f3a5c7";
    for piece in [7, 4096] {
        let server = Scripted::start(move |head| {
            let auth = head
                .lines()
                .find_map(|l| l.strip_prefix("authorization: "))
                .unwrap_or("none")
                .to_owned();
            let body = json!({"name": "alpine", "echo": auth, "again": [auth.clone(), auth]});
            chunked(body.to_string().as_bytes(), piece)
        })
        .await;
        let hub = host(
            &server.base_url,
            account(AccountAuth::Bearer(Secret::new(BEARER)), None),
        );
        let result = hub
            .call("get_repository", &alpine(), &CallOptions::default())
            .await
            .expect("the call succeeds");
        assert!(
            server.heads()[0].contains(BEARER),
            "the server got the real bearer"
        );
        let text = result.body.to_string();
        assert!(!text.contains(BEARER), "pieces of {piece}: {text}");
        let echo = result.body["echo"].as_str().unwrap();
        assert!(echo.starts_with("Bearer dockhand-sealed-"), "{echo}");
        assert_eq!(result.body["again"][1], echo);
    }

    // Escaped as JSON allows (every character as \u00XX), in an answer and in an error: the
    // bytes never match the bearer, what the caller gets once decoded would.
    for status in ["200 OK", "403 Forbidden"] {
        let server = Scripted::start(move |head| {
            let auth = head
                .lines()
                .find_map(|l| l.strip_prefix("authorization: "))
                .unwrap_or("none");
            let escaped: String = auth.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
            let body = format!(r#"{{"name":"alpine","detail":"{escaped}","{escaped}":1}}"#);
            format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
        .await;
        let hub = host(
            &server.base_url,
            account(AccountAuth::Bearer(Secret::new(BEARER)), None),
        );
        let seen = match hub
            .call("get_repository", &alpine(), &CallOptions::default())
            .await
        {
            Ok(result) => result.body.to_string(),
            Err(error) => format!("{error:?} {error}"),
        };
        assert!(server.heads()[0].contains(BEARER));
        assert!(!seen.contains(BEARER), "{status}: {seen}");
        assert!(seen.contains("dockhand-sealed-"), "{status}: {seen}");
    }
}

/// A policy that allows a second origin (an embedder's choice) still attaches the bearer only
/// at the base URL, where it was minted: a typed call that names the other origin as its
/// base URL sends it the placeholder, which is worth nothing there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_is_attached_only_at_the_base_url() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let other = Scripted::start(|_| answer("", r#"{"name":"alpine"}"#)).await;
    let mut policy = Policy::for_base_url(&mock.base_url()).unwrap();
    policy
        .allowed
        .push(dockhand_host::policy::Origin::parse(&other.base_url).unwrap());
    let hub = host_with(&mock.base_url(), policy, account(alice_pat(), None));
    let mut session = hub.instantiate().await.unwrap();
    let result = session
        .plugin
        .dockhand_hub_access_tokens()
        .call_list_personal_access_tokens(
            &mut session.store,
            all_tokens(),
            &wit_call_options(other.base_url.clone()),
        )
        .await
        .expect("no trap");
    assert!(result.is_ok(), "{result:?}");
    let heads = other.heads();
    assert_eq!(heads.len(), 1);
    let auth = heads[0]
        .lines()
        .find_map(|l| l.strip_prefix("authorization: "))
        .expect("the placeholder is sent");
    assert!(auth.starts_with("Bearer dockhand-sealed-"), "{auth}");
    // The exchange happened at the base URL, where the bearer stays.
    assert!(mock.requests().iter().any(|r| r.path == "/v2/auth/token"));
}

/// A body past the size cap is a `transport` error of kind `body-too-large` however it is
/// framed, including without a Content-Length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_without_a_length_is_body_too_large() {
    let big = format!("[{}0]", "0,".repeat(40_000));
    let framings: [(&str, Vec<u8>); 3] = [
        ("content-length", answer("", &big)),
        ("chunked", chunked(big.as_bytes(), 16 * 1024)),
        (
            "until close",
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{big}"
            )
            .into_bytes(),
        ),
    ];
    for (framing, bytes) in framings {
        let server = Scripted::start(move |_| bytes.clone()).await;
        let mut policy = Policy::for_base_url(&server.base_url).unwrap();
        policy.max_response_bytes = 16 * 1024;
        let hub = host_with(&server.base_url, policy, Accounts::anonymous());
        let error = hub_error(
            hub.call("get_repository", &alpine(), &CallOptions::default())
                .await,
        );
        match &error {
            HubError::Transport(t) => {
                assert_eq!(t.kind.as_str(), "body-too-large", "{framing}: {t:?}")
            }
            other => panic!("{framing}: expected a transport error, got {other:?}"),
        }
    }

    // Under the default policy, a chunked body just past the default cap: the instance must
    // not run out of memory collecting it before the cap is reached.
    let cap = Policy::default().max_response_bytes as usize;
    let big = format!("[{}0]", "0,".repeat(cap / 2 + 1024));
    let server = Scripted::start(move |_| chunked(big.as_bytes(), 64 * 1024)).await;
    let hub = host(&server.base_url, Accounts::anonymous());
    let result = hub
        .call("get_repository", &alpine(), &CallOptions::default())
        .await;
    match &result {
        Err(CallError::Hub(HubError::Transport(t))) => {
            assert_eq!(t.kind.as_str(), "body-too-large")
        }
        other => panic!("default cap: expected body-too-large, got {other:?}"),
    }
}

// --- Read-only holds at the send hook ----------------------------------------------------------

/// Read-only mode refuses writes for every entry point, the typed exports included, and
/// nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_holds_for_typed_exports() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let mut policy = Policy::for_base_url(&mock.base_url()).unwrap();
    policy.read_only = true;
    let hub = host_with(&mock.base_url(), policy, account(alice_pat(), None));
    let mut session = hub.instantiate().await.unwrap();
    let args = CreateRepositoryArgs {
        namespace: fx::ALICE.into(),
        name: "sneaky".into(),
        description: None,
        full_description: None,
        registry: None,
        is_private: None,
    };
    let result = session
        .plugin
        .dockhand_hub_repositories()
        .call_create_repository(
            &mut session.store,
            &args,
            &wit_call_options(mock.base_url()),
        )
        .await
        .expect("no trap");
    match result {
        Err(HubError::Denied(message)) => {
            assert!(message.contains("read-only"), "{message}")
        }
        other => panic!("expected denied, got {other:?}"),
    }
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.path != format!("/v2/namespaces/{}/repositories", fx::ALICE)),
        "{:#?}",
        mock.requests()
    );

    // Reads still go through the same session type.
    let mut session = hub.instantiate().await.unwrap();
    let read = session
        .plugin
        .dockhand_hub_access_tokens()
        .call_list_personal_access_tokens(
            &mut session.store,
            all_tokens(),
            &wit_call_options(mock.base_url()),
        )
        .await
        .expect("no trap");
    assert!(read.is_ok(), "{read:?}");
}
