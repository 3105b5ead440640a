//! `dockhand lua` as a user runs it, against the mock Hub: the seed document's own examples,
//! a workflow file, a named account, a refused write, errors caught with pcall, and the limits
//! a script cannot dodge.

use crate::support::Run;
use dockhand_mock::{MockConfig, MockHub, fixtures};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `dockhand --base-url <mock> --no-cache <args>` with a clean environment plus `env`.
async fn dockhand(home: &Path, base: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["--base-url", base, "--no-cache"];
    all.extend_from_slice(args);
    crate::support::dockhand(home, &all, env, "").await
}

/// `dockhand lua --json --eval <code>` without credentials; it must exit 0. Its JSON output.
async fn eval_json(home: &Path, base: &str, code: &str) -> Value {
    let run = dockhand(home, base, &["lua", "--json", "--eval", code], &[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    run.json()
}

const ALICE: [(&str, &str); 2] = [
    ("DOCKHAND_USERNAME", fixtures::ALICE),
    ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_examples_list_repositories_and_tags_and_read_docs() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let code = r#"
        local docker = app.integrations.docker
        local repos = docker.docker_list_repositories({ namespace = "library", page_size = 25, page = 1 })
        local repo = docker.docker_get_repository({ namespace = "library", repository = "alpine" })
        local tags = docker.docker_list_tags({ namespace = "library", repository = "alpine", page_size = 50 })
        -- the friendly and the seed's short names reach the same operations
        local same = docker.list_repository_tags({ namespace = "library", repository = "alpine" })
        local short = docker.list_repositories_namespace({ namespace = "library" })
        local names = {}
        for _, t in ipairs(tags.results) do names[#names + 1] = t.name end
        print("tags:", table.concat(names, ","))
        dump({ first = tags.results[1].name })
        return {
          repos = #repos.results, repo = repo.name, tags = names,
          same = #same.results > 0, short = #short.results,
          no_next = tags.next == nil,
        }
    "#;
    let run = dockhand(
        home.path(),
        &hub.base_url(),
        &["lua", "--eval", code, "--json"],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = run.json();
    assert_eq!(out["error"], Value::Null, "{out}");
    let result = &out["result"];
    assert_eq!(result["repo"], fixtures::ALPINE);
    assert!(result["repos"].as_u64().unwrap() >= 1);
    let tags: Vec<&str> = result["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags, fixtures::ALPINE_TAGS);
    assert_eq!(result["same"], true);
    assert_eq!(result["no_next"], true, "JSON null arrives as nil");
    let output = out["output"].as_str().unwrap();
    assert!(output.starts_with("tags:\tlatest,"), "{output}");
    assert!(output.contains("\"first\": \"latest\""), "{output}");

    // docs.read, both forms, as in the seed.
    let run = dockhand(
        home.path(),
        &hub.base_url(),
        &[
            "lua",
            "--json",
            "--eval",
            r#"print(docs.read("docker")) print(docs.read("docker.create_authentication_token"))"#,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let output = run.json()["output"].as_str().unwrap().to_string();
    assert!(output.contains("app.integrations.docker"), "Lua header");
    assert!(output.contains("list_repository_tags"));
    assert!(
        output.contains("/v2/users/login"),
        "one operation's reference"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_file_creates_a_repository_with_force_and_is_refused_without() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let workflow = home.path().join("workflow.lua");
    let mut f = std::fs::File::create(&workflow).unwrap();
    write!(
        f,
        r#"
local docker = app.integrations.docker
local created = docker.docker_create_repository({{
  namespace = "alice",
  body = {{ name = "agent-demo", description = "Demo repository", is_private = true }}
}})
dump(created)
local again = docker.get_repository({{ namespace = "alice", repository = "agent-demo" }})
return {{ name = again.name, private = again.is_private }}
"#
    )
    .unwrap();
    drop(f);
    let file = workflow.to_str().unwrap();

    hub.clear_requests();
    let run = dockhand(
        home.path(),
        &hub.base_url(),
        &["lua", file, "--json"],
        &ALICE,
    )
    .await;
    assert_eq!(run.code, 6, "denied: {}", run.stdout);
    let out = run.json();
    assert_eq!(out["error"]["kind"], "denied");
    let message = out["error"]["message"].as_str().unwrap();
    assert!(message.contains("--allow-write"), "{message}");
    assert!(
        hub.requests()
            .iter()
            .all(|r| r.method != "POST" || r.path.contains("/auth")),
        "nothing but a token exchange was sent: {:?}",
        hub.requests()
            .iter()
            .map(|r| (&r.method, &r.path))
            .collect::<Vec<_>>()
    );

    let run = dockhand(
        home.path(),
        &hub.base_url(),
        &["lua", file, "--force", "--json"],
        &ALICE,
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = run.json();
    assert_eq!(out["result"]["name"], "agent-demo");
    assert_eq!(out["result"]["private"], true);
    assert!(out["output"].as_str().unwrap().contains("agent-demo"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_accounts_have_their_own_namespace() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let code = r#"
        local docker = app.integrations.docker
        local mine = docker.default.list_personal_access_tokens({})
        local work = docker.work.list_personal_access_tokens({})
        return { mine = mine.results[1].uuid, work = work.results[1].uuid }
    "#;
    let run = dockhand(
        home.path(),
        &hub.base_url(),
        &["lua", "--json", "--eval", code],
        &[
            ("DOCKHAND_USERNAME", fixtures::ALICE),
            ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
            ("DOCKHAND_WORK_USERNAME", fixtures::BOB),
            ("DOCKHAND_WORK_TOKEN", fixtures::BOB_PAT),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let result = &run.json()["result"];
    assert_eq!(result["work"], fixtures::BOB_PAT_UUID);
    assert_ne!(result["mine"], fixtures::BOB_PAT_UUID);
    for secret in [fixtures::ALICE_PAT, fixtures::BOB_PAT] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_errors_are_tables_that_pcall_catches() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let code = r#"
        local docker = app.integrations.docker
        local ok, err = pcall(docker.get_repository, { namespace = "library", repository = "nope" })
        local ok2, err2 = pcall(docker.get_repository, { namespace = "library" })
        local m = regex.match("^(\\d+)\\.(?P<minor>\\d+)$", "3.20")
        return {
          ok = ok, kind = err.kind, status = err.status, message = err.message,
          text = tostring(err), argument = err2.argument, kind2 = err2.kind,
          major = m[1], minor = m.minor,
          found = regex.find_all("\\d+", "3.19 and 3.18"),
          replaced = regex.replace("alpine", "library/alpine", "busybox"),
          json = json.decode(json.encode({ a = { 1, 2 } })).a[2],
        }
    "#;
    let out = eval_json(home.path(), &hub.base_url(), code).await;
    let r = &out["result"];
    assert_eq!(r["ok"], false);
    assert_eq!(r["kind"], "not-found");
    assert_eq!(r["status"], 404);
    assert!(r["message"].as_str().unwrap().contains("404"));
    assert_eq!(r["text"], r["message"], "tostring(err) is the message");
    assert_eq!(r["kind2"], "invalid-argument");
    assert_eq!(r["argument"], "repository");
    assert_eq!(r["major"], "3");
    assert_eq!(r["minor"], "20");
    assert_eq!(r["found"], serde_json::json!(["3", "19", "3", "18"]));
    assert_eq!(r["replaced"], "library/busybox");
    assert_eq!(r["json"], 2);

    // Uncaught, the same error ends the script with the CLI's exit code for its kind.
    let run = dockhand(
        home.path(),
        &hub.base_url(),
        &[
            "lua",
            "--json",
            "--eval",
            r#"print("before") app.integrations.docker.get_repository({namespace = "library", repository = "nope"})"#,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 4, "{}", run.stdout);
    let out = run.json();
    assert_eq!(out["error"]["kind"], "not-found");
    assert_eq!(out["error"]["status"], 404);
    assert_eq!(out["output"], "before\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_are_sandboxed_and_limited() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let code = r#"
        local bytecode_refused = not pcall(function()
          return load("\27Lua", "x", "b")()
        end)
        return {
          os = os == nil, io = io == nil, package = package == nil, debug = debug == nil,
          dofile = dofile == nil, loadfile = loadfile == nil, require = require == nil,
          text_load = load("return 1 + 1")(), bytecode_refused = bytecode_refused,
        }
    "#;
    let run = dockhand(home.path(), &base, &["lua", "--json", "--eval", code], &[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let r = &run.json()["result"];
    for key in [
        "os",
        "io",
        "package",
        "debug",
        "dofile",
        "loadfile",
        "require",
        "bytecode_refused",
    ] {
        assert_eq!(r[key], true, "{key}: {r}");
    }
    assert_eq!(r["text_load"], 2);

    let run = dockhand(
        home.path(),
        &base,
        &[
            "lua",
            "--json",
            "--time-limit",
            "1",
            "--eval",
            "while true do end",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.json()["error"]["kind"], "limit");

    let run = dockhand(
        home.path(),
        &base,
        &["lua", "--json", "--eval", "return 1 +"],
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["error"]["kind"], "syntax");

    let run = dockhand(
        home.path(),
        &base,
        &[
            "lua",
            "--json",
            "--eval",
            "app.integrations.docker.no_such_thing({})",
        ],
        &[],
    )
    .await;
    // A name that is not an operation is the script's usage error, as in the CLI.
    assert_eq!(run.code, 2);
    let out = run.json();
    assert_eq!(out["error"]["kind"], "unknown-operation");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no_such_thing")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_options_table_bounds_retries_and_refuses_unknown_keys() {
    use dockhand_mock::{Fault, FaultKind};
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let repo = "/v2/namespaces/library/repositories/alpine";
    let unavailable = |times| Fault {
        path_prefix: Some(repo.into()),
        times,
        ..Fault::new(FaultKind::Status {
            status: 503,
            body: None,
        })
    };
    // Two 503s: the first ends a call made with max_retries = 0; the second is retried by a
    // call with the default retries.
    hub.inject(unavailable(2));
    let code = r#"
        local docker = app.integrations.docker
        local args = { namespace = "library", repository = "alpine" }
        local ok, err = pcall(docker.get_repository, args, { max_retries = 0 })
        local retried = docker.get_repository(args, { max_retry_wait = 5 })
        local bad_key_ok, bad_key = pcall(docker.get_repository, args, { allpages = true })
        local bad_value_ok, bad_value = pcall(docker.get_repository, args, { max_retries = -1 })
        return {
          retried = retried.name, ok = ok, kind = err.kind, status = err.status,
          bad_key_ok = bad_key_ok, bad_key = bad_key.argument, bad_key_message = bad_key.message,
          bad_value_ok = bad_value_ok, bad_value = bad_value.argument,
        }
    "#;
    let out = eval_json(home.path(), &hub.base_url(), code).await;
    let r = &out["result"];
    assert_eq!(r["retried"], fixtures::ALPINE, "{r}");
    assert_eq!(r["ok"], false);
    assert_eq!(r["kind"], "upstream", "{r}");
    assert_eq!(r["status"], 503);
    assert_eq!(r["bad_key_ok"], false);
    assert_eq!(r["bad_key"], "options.allpages");
    assert!(
        r["bad_key_message"]
            .as_str()
            .unwrap()
            .contains("max_retries"),
        "{r}"
    );
    assert_eq!(r["bad_value_ok"], false);
    assert_eq!(r["bad_value"], "options.max_retries");
    // One request for the call not retried, two for the retried one; the refused options
    // sent nothing.
    let sent = hub
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(repo))
        .count();
    assert_eq!(sent, 3);
}

/// [`dockhand`] that gives up after `within`, so a run that outlives its own time limit fails
/// the test instead of hanging it. Also returns how long the run took.
async fn dockhand_within(
    home: &Path,
    base: &str,
    args: &[&str],
    within: Duration,
) -> (Run, Duration) {
    let mut all = vec!["--base-url", base, "--no-cache"];
    all.extend_from_slice(args);
    let args: Vec<String> = all.iter().map(|s| s.to_string()).collect();
    let home = home.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_dockhand"))
            .env_clear()
            .env("HOME", &home)
            .env("PATH", "/usr/bin:/bin")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dockhand");
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > within {
                let _ = child.kill();
                let _ = child.wait();
                panic!("dockhand {args:?} was still running after {within:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let took = started.elapsed();
        let run = Run {
            code: status.code().unwrap_or(-1),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        };
        (run, took)
    })
    .await
    .unwrap()
}

/// `dockhand lua --json --time-limit <secs> --eval <code>` must end with a `limit` error whose
/// message contains `says`, exit code 1, well within `within`.
async fn ends_with_limit(
    home: &Path,
    base: &str,
    secs: &str,
    code: &str,
    says: &str,
    within: Duration,
) -> Value {
    let args = ["lua", "--json", "--time-limit", secs, "--eval", code];
    let (run, took) = dockhand_within(home, base, &args, within * 3).await;
    assert!(took < within, "{code}: took {took:?}");
    assert_eq!(run.code, 1, "{code}\n{}\n{}", run.stdout, run.stderr);
    let out = run.json();
    assert_eq!(out["error"]["kind"], "limit", "{code}: {out}");
    let message = out["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "{code}: {message}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_limit_ends_the_run_whatever_the_script_does() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    // Starting dockhand (compiling the component without the cache) takes a few seconds of the
    // allowance; the scripts get one second.
    let within = Duration::from_secs(20);
    for code in [
        // The hook's error, caught by the inner pcall every time.
        "while true do pcall(function() while true do end end) end",
        // Backtracking inside one C call, where no hook fires.
        r#"return string.find(("a"):rep(40), ("a*"):rep(12) .. "b")"#,
    ] {
        let says = "time limit of 1 s";
        ends_with_limit(home.path(), &hub.base_url(), "1", code, says, within).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversions_and_collected_output_are_bounded() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    // Small in Lua, 8 million values once every shared subtable is copied out.
    let shared = "local t = { 1 } for i = 1, 22 do t = { t, t } end ";
    let within = Duration::from_secs(60);
    let bound = "passed the JSON conversion bound";
    for code in [
        "return #json.encode(t)",
        "return t",
        "dump(t)",
        "app.integrations.docker.get_repository({ namespace = 'library', repository = 'alpine', x = t })",
    ] {
        let code = format!("{shared}{code}");
        ends_with_limit(home.path(), &base, "60", &code, bound, within).await;
    }
    assert!(
        hub.requests().iter().all(|r| !r.path.contains("alpine")),
        "arguments over the bound are refused before any request"
    );

    let code = r#"local s = ("x"):rep(1 << 20) for i = 1, 64 do pcall(print, s) end"#;
    let out = ends_with_limit(home.path(), &base, "60", code, "cap of 16 MiB", within).await;
    let output = out["output"].as_str().unwrap().len();
    assert!((15 << 20..=16 << 20).contains(&output), "{output}");

    let code = r#"return regex.replace(".+", ("x"):rep(1 << 20), ("$0"):rep(100))"#;
    ends_with_limit(home.path(), &base, "60", code, "64 MiB", within).await;
}

/// The mistakes people make calling operations from Lua get messages in the script's terms,
/// typed like the Hub's errors, with exit 2 and no internal frames: positional arguments, a
/// colon call, a misspelt operation (with a did-you-mean) and a camelCase option.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mistakes_in_a_script_get_errors_in_its_terms() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"return app.integrations.docker.get_repository("library", "alpine")"#,
            "invalid-argument",
            "takes one table of named arguments",
        ),
        (
            r#"local d = app.integrations.docker
               return d:get_repository{namespace = "library", repository = "alpine"}"#,
            "invalid-argument",
            "with a dot, not a colon",
        ),
        (
            r#"return app.integrations.docker.get_repositry{namespace = "library"}"#,
            "unknown-operation",
            "did you mean `get_repository`?",
        ),
        (
            r#"return app.integrations.docker.list_repository_tags(
                 {namespace = "library", repository = "alpine"}, {allPages = true})"#,
            "invalid-argument",
            "all_pages",
        ),
    ];
    hub.clear_requests();
    for (code, kind, says) in cases {
        let run = dockhand(
            home.path(),
            &hub.base_url(),
            &["lua", "--json", "--eval", code],
            &[],
        )
        .await;
        assert_eq!(run.code, 2, "{code}: {}\n{}", run.stdout, run.stderr);
        let error = &run.json()["error"];
        assert_eq!(error["kind"], kind, "{code}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(says), "{code}: {message}");
        for internal in [
            "bad argument",
            "stack traceback",
            "[C]",
            "mlua",
            "=dockhand",
        ] {
            assert!(!message.contains(internal), "{code}: {message}");
        }
    }
    assert!(hub.requests().is_empty(), "{:#?}", hub.requests());
}
