//! `dockhand mcp` driven as an MCP client drives it: rmcp's client over the child's stdio,
//! against the mock Hub.

use dockhand_mock::{Fault, MockConfig, MockHub, fixtures};
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject, Tool};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::process::Stdio;

pub(crate) type Client = RunningService<RoleClient, ()>;

/// Starts `dockhand mcp` with a clean environment (only `env` and a throwaway HOME) and
/// connects to it.
async fn connect(base: &str, flags: &[&str], env: &[(&str, &str)]) -> (Client, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_path_buf();
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_dockhand")).configure(|c| {
        c.args(["--base-url", base, "--no-cache", "mcp"])
            .args(flags)
            .env_clear()
            .env("HOME", &home_path)
            .env("PATH", "/usr/bin:/bin")
            .envs(env.iter().copied());
    });
    let (transport, _) = TokioChildProcess::builder(command)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start dockhand mcp");
    let client = ().serve(transport).await.expect("MCP handshake");
    (client, home)
}

pub(crate) async fn call(client: &Client, name: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("calling {name}: {e}"))
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tool<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
}

fn assert_object_schema(name: &str, schema: &JsonObject) {
    assert_eq!(schema.get("type"), Some(&json!("object")), "{name}");
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{name}: no properties object"));
    for (prop, s) in properties {
        let s = s
            .as_object()
            .unwrap_or_else(|| panic!("{name}.{prop}: not a schema object"));
        assert!(
            s.contains_key("type") || s.contains_key("anyOf") || s.contains_key("oneOf"),
            "{name}.{prop}: no type"
        );
    }
    if let Some(required) = schema.get("required") {
        for r in required.as_array().expect("required is an array") {
            let r = r.as_str().expect("required names are strings");
            assert!(
                properties.contains_key(r),
                "{name}: required `{r}` undeclared"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_every_operation_as_a_tool_with_schema_and_annotations() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let (client, _home) = connect(&hub.base_url(), &[], &[]).await;

    let info = client.peer_info().expect("server info");
    assert_eq!(info.server_info.as_ref().unwrap().name, "dockhand");
    assert!(info.capabilities.tools.is_some());

    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(
        tools.len(),
        63,
        "54 published + 6 extended operations + plan_ and apply_tag_cleanup + docs"
    );
    let names: HashSet<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names.len(), 63, "tool names are unique");
    for extended in [
        "delete_repository_tag",
        "get_current_user",
        "search_repositories",
    ] {
        assert!(names.contains(extended), "{extended}");
    }
    assert!(names.contains("docs"));
    for t in &tools {
        assert_object_schema(&t.name, &t.input_schema);
        assert!(
            t.description.as_deref().is_some_and(|d| !d.is_empty()),
            "{}",
            t.name
        );
        let a = t.annotations.as_ref().expect("annotations on every tool");
        assert!(a.read_only_hint.is_some() && a.destructive_hint.is_some());
        assert!(a.idempotent_hint.is_some() && a.open_world_hint.is_some());
    }

    let tags = tool(&tools, "list_repository_tags");
    let props = tags.input_schema["properties"].as_object().unwrap();
    assert!(props.contains_key("namespace") && props.contains_key("repository"));
    let a = tags.annotations.as_ref().unwrap();
    assert_eq!(a.read_only_hint, Some(true));
    assert_eq!(a.destructive_hint, Some(false));
    assert_eq!(a.open_world_hint, Some(true));

    let create = tool(&tools, "create_repository");
    let a = create.annotations.as_ref().unwrap();
    assert_eq!(a.read_only_hint, Some(false));
    assert_eq!(a.destructive_hint, Some(false));
    assert!(
        create
            .description
            .as_deref()
            .unwrap()
            .contains("--allow-write"),
        "a refused write says so"
    );

    let delete = tool(&tools, "delete_personal_access_token");
    let a = delete.annotations.as_ref().unwrap();
    assert_eq!(a.read_only_hint, Some(false));
    assert_eq!(a.destructive_hint, Some(true));
    assert!(
        delete
            .description
            .as_deref()
            .unwrap()
            .contains("Confirm with the user"),
        "destructive tools ask for confirmation"
    );

    // An extended operation is destructive like any other, and says where it comes from.
    let delete_tag = tool(&tools, "delete_repository_tag");
    let a = delete_tag.annotations.as_ref().unwrap();
    assert_eq!(a.destructive_hint, Some(true));
    let text = delete_tag.description.as_deref().unwrap();
    assert!(
        text.contains("Not in Docker's published API description") && text.contains("tag rm"),
        "{text}"
    );
    let search = tool(&tools, "search_repositories");
    assert_eq!(
        search.annotations.as_ref().unwrap().read_only_hint,
        Some(true)
    );
    assert!(
        !tool(&tools, "get_repository")
            .description
            .as_deref()
            .unwrap()
            .contains("published API description"),
        "Docker's own operations carry no such note"
    );

    let docs = tool(&tools, "docs");
    assert_eq!(
        docs.annotations.as_ref().unwrap().read_only_hint,
        Some(true)
    );
    client.cancel().await.unwrap();
}

/// The tool's `outputSchema`, as a JSON value.
fn output_schema(tools: &[Tool], name: &str) -> Value {
    let schema = tool(tools, name)
        .output_schema
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: no outputSchema"));
    Value::Object((**schema).clone())
}

/// Where `result`'s structuredContent does not fit the tool's outputSchema (the catalog's own
/// shape check: types, required fields, enums, nested items).
fn misfits(tools: &[Tool], name: &str, result: &CallToolResult) -> Vec<String> {
    assert_ne!(result.is_error, Some(true), "{name}: {}", text(result));
    let content = result
        .structured_content
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: no structuredContent"));
    dockhand_spec::shape::mismatches(&output_schema(tools, name), content)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_with_a_json_answer_declares_the_structured_content_it_returns() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let (client, _home) = connect(
        &hub.base_url(),
        &["--allow-write"],
        &[
            ("DOCKHAND_USERNAME", fixtures::ALICE),
            ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
        ],
    )
    .await;
    let tools = client.list_all_tools().await.unwrap();
    for t in &tools {
        if t.name == "docs" {
            assert!(t.output_schema.is_none(), "docs answers markdown text");
            continue;
        }
        let schema = output_schema(&tools, &t.name);
        // MCP requires an object root; rmcp drops any other for older peers.
        assert_eq!(schema["type"], "object", "{}", t.name);
        let problems = dockhand_spec::shape::check(&schema);
        assert!(problems.is_empty(), "{}: {problems:?}", t.name);
    }
    // What is not an object comes wrapped, and the schema says so.
    let delete = output_schema(&tools, "delete_personal_access_token");
    assert_eq!(delete["properties"]["result"]["type"], "null");
    assert_eq!(delete["required"], json!(["result"]));

    let calls = [
        // A page of a list, with more pages behind it.
        (
            "list_repository_tags",
            json!({"namespace": "library", "repository": "alpine", "page_size": 2}),
        ),
        // One object.
        (
            "get_repository",
            json!({"namespace": "library", "repository": "alpine"}),
        ),
        // A HEAD check: `{exists}`.
        (
            "check_repository",
            json!({"namespace": "library", "repository": "alpine"}),
        ),
        // The CSV export: `{body, content_type}`.
        ("export_org_members", json!({"org_name": fixtures::ORG})),
        // A 204: `null`, wrapped.
        (
            "delete_personal_access_token",
            json!({"uuid": fixtures::ALICE_PAT_READ_ONLY_UUID}),
        ),
    ];
    for (name, args) in calls {
        let r = call(&client, name, args).await;
        assert_eq!(misfits(&tools, name, &r), Vec::<String>::new(), "{name}");
    }

    // The check bites: the same page with a tag's name turned into a number does not fit.
    let r = call(
        &client,
        "list_repository_tags",
        json!({"namespace": "library", "repository": "alpine", "page_size": 2}),
    )
    .await;
    let body = r.structured_content.as_ref().unwrap();
    assert!(
        body["next"].is_string(),
        "a page with more behind it: {body}"
    );
    let mut wrong = body.clone();
    wrong["results"][0]["name"] = json!(7);
    let schema = output_schema(&tools, "list_repository_tags");
    assert_eq!(
        dockhand_spec::shape::mismatches(&schema, &wrong),
        ["/results/0/name: expected string, got 7"]
    );
    // And a wrapped null is not an object passed through.
    let deleted = json!({"result": null});
    assert!(
        !dockhand_spec::shape::mismatches(&output_schema(&tools, "get_repository"), &deleted)
            .is_empty()
    );
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_return_structured_results_and_typed_errors() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let (client, _home) = connect(&hub.base_url(), &[], &[]).await;

    let r = call(
        &client,
        "list_repository_tags",
        json!({"namespace": "library", "repository": "alpine", "page_size": 2}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let body = r.structured_content.as_ref().expect("structuredContent");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["name"], fixtures::ALPINE_TAGS[0]);
    let summary = text(&r);
    assert!(summary.contains("latest"), "{summary}");
    assert!(
        !summary.contains("\"results\""),
        "the text form is a summary, not the JSON again: {summary}"
    );

    let r = call(
        &client,
        "get_repository",
        json!({"namespace": "library", "repository": "nope"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    let e = &r.structured_content.as_ref().unwrap()["error"];
    assert_eq!(e["kind"], "not-found");
    assert_eq!(e["status"], 404);

    let r = call(&client, "get_repository", json!({"namespace": "library"})).await;
    assert_eq!(r.is_error, Some(true));
    let e = &r.structured_content.as_ref().unwrap()["error"];
    assert_eq!(e["kind"], "invalid-argument");
    assert_eq!(e["argument"], "repository");

    hub.inject(Fault::retry_after(17).times(10));
    let r = call(
        &client,
        "get_repository",
        json!({"namespace": "library", "repository": "alpine"}),
    )
    .await;
    hub.clear_faults();
    assert_eq!(r.is_error, Some(true));
    let e = &r.structured_content.as_ref().unwrap()["error"];
    assert_eq!(e["kind"], "rate-limited");
    assert_eq!(e["status"], 429);
    assert_eq!(e["retry_after"], 17);

    // Refused before anything is sent.
    hub.clear_requests();
    let r = call(
        &client,
        "create_repository",
        json!({"namespace": "alice", "name": "from-mcp"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    let e = &r.structured_content.as_ref().unwrap()["error"];
    assert_eq!(e["kind"], "denied");
    assert!(text(&r).contains("--allow-write"), "{}", text(&r));
    assert!(hub.requests().is_empty(), "a refused write sends nothing");

    let r = call(&client, "docs", json!({})).await;
    assert_ne!(r.is_error, Some(true));
    assert!(text(&r).contains("list_repository_tags"));
    let r = call(&client, "docs", json!({"topic": "docker_list_tags"})).await;
    assert_ne!(r.is_error, Some(true));
    assert!(text(&r).contains("page_size"), "{}", text(&r));

    let unknown = client
        .call_tool(CallToolRequestParams::new("no_such_tool"))
        .await;
    assert!(unknown.is_err(), "an unknown tool is a protocol error");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_write_runs_writes_with_the_configured_account() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let (client, _home) = connect(
        &hub.base_url(),
        &["--allow-write"],
        &[
            ("DOCKHAND_USERNAME", fixtures::ALICE),
            ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
        ],
    )
    .await;

    let tools = client.list_all_tools().await.unwrap();
    let delete = tool(&tools, "delete_personal_access_token");
    assert!(
        delete
            .description
            .as_deref()
            .unwrap()
            .contains("Confirm with the user"),
        "destructive tools ask for confirmation"
    );

    let r = call(
        &client,
        "create_repository",
        json!({"namespace": fixtures::ALICE, "name": "from-mcp", "description": "made by a model"}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert_eq!(r.structured_content.as_ref().unwrap()["name"], "from-mcp");

    let r = call(
        &client,
        "get_repository",
        json!({"namespace": fixtures::ALICE, "repository": "from-mcp"}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert_eq!(
        r.structured_content.as_ref().unwrap()["description"],
        "made by a model"
    );
    client.cancel().await.unwrap();
}

/// The CLI's `--json`, the MCP tools and Lua show an error the same way: one JSON object, one
/// exit code, whichever surface met it (a missing repository, a bad argument, a 429 with its
/// rate-limit details, a policy denial).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_surface_shows_an_error_the_same_way() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let base = hub.base_url();
    let (client, home) = connect(&base, &[], &[]).await;
    let cases: [(&str, Value, Option<Fault>); 4] = [
        (
            "get_repository",
            json!({"namespace": "library", "repository": "nope"}),
            None,
        ),
        ("get_repository", json!({"namespace": "library"}), None),
        (
            "get_repository",
            json!({"namespace": "library", "repository": "alpine"}),
            Some(Fault::retry_after(40).times(10)),
        ),
        (
            "create_repository",
            json!({"namespace": "alice", "name": "x"}),
            None,
        ),
    ];
    for (operation, args, fault) in cases {
        let inject = |hub: &MockHub| {
            if let Some(f) = &fault {
                hub.inject(f.clone());
            }
        };

        inject(&hub);
        let mcp = call(&client, operation, args.clone()).await;
        let mcp_error = mcp.structured_content.as_ref().unwrap()["error"].clone();
        hub.clear_faults();

        inject(&hub);
        let cli = crate::support::dockhand(
            home.path(),
            &[
                "--base-url",
                &base,
                "--no-cache",
                "--json",
                "--read-only",
                "call",
                operation,
                "--args-json",
                &args.to_string(),
            ],
            &[],
            "",
        )
        .await;
        hub.clear_faults();

        inject(&hub);
        let script = format!("return app.integrations.docker.{operation}(json.decode([[{args}]]))");
        let lua = crate::support::dockhand(
            home.path(),
            &[
                "--base-url",
                &base,
                "--no-cache",
                "lua",
                "--json",
                "--eval",
                &script,
            ],
            &[],
            "",
        )
        .await;
        hub.clear_faults();

        // The mock's own count of requests left moves on with every request; that it is
        // there, as a number, is what must agree.
        let counted = |mut e: Value| {
            if let Some(left) = e.get_mut("remaining") {
                assert!(left.is_u64(), "{left}");
                *left = json!("counted");
            }
            e
        };
        let mcp_error = counted(mcp_error);
        // A script makes many calls, so Lua's error names the one that failed as well.
        let mut lua_error = lua.json()["error"].clone();
        let failed = lua_error.as_object_mut().unwrap().remove("operation");
        assert_eq!(failed, Some(json!(operation)), "{operation} {args}");
        // A write refused says how to allow it on that surface (--allow-write, --force, no
        // --read-only): the message differs there, and only there.
        let surface_hint = |mut e: Value| {
            if e["kind"] == "denied" {
                let message = e["message"].as_str().unwrap();
                assert!(message.starts_with("denied: ") && message.contains(operation));
                e["message"] = json!("denied: (how to allow it on this surface)");
            }
            e
        };
        let mcp_error = surface_hint(mcp_error);
        let lua_error = surface_hint(lua_error);
        let cli_error = surface_hint(counted(cli.error_json()["error"].clone()));
        assert_eq!(cli_error, mcp_error, "{operation} {args}: CLI vs MCP");
        assert_eq!(
            counted(lua_error),
            mcp_error,
            "{operation} {args}: Lua vs MCP"
        );
        assert_eq!(cli.code, lua.code, "{operation} {args}: exit codes");
        assert_ne!(cli.code, 0);
    }
    client.cancel().await.unwrap();
}

/// The tag-cleanup planner is a read-only tool: the same plan as the CLI's, as structured
/// content, and no write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tag_cleanup_planner_is_a_read_only_tool() {
    let hub = crate::prune::mock_with_big_repository().await;
    let (client, _home) = connect(&hub.base_url(), &[], &[]).await;
    let tools = client.list_all_tools().await.unwrap();
    let plan = tool(&tools, "plan_tag_cleanup");
    let a = plan.annotations.as_ref().unwrap();
    assert_eq!(a.read_only_hint, Some(true));
    assert_eq!(a.destructive_hint, Some(false));
    let schema = output_schema(&tools, "plan_tag_cleanup");
    assert!(dockhand_spec::shape::check(&schema).is_empty());

    let r = call(
        &client,
        "plan_tag_cleanup",
        json!({"namespace": "alice", "repository": "big", "keep_last": 5,
               "older_than": "2023-12-31T22:00:00Z", "keep_match": "^stable$"}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let body = r.structured_content.clone().unwrap();
    assert_eq!(
        body["totals"],
        json!({"tags": 262, "delete": 140, "keep": 122})
    );
    assert!(misfits(&tools, "plan_tag_cleanup", &r).is_empty());
    assert!(text(&r).contains("140 would be deleted"), "{}", text(&r));
    assert!(hub.requests().iter().all(|r| r.method == "GET"));

    let r = call(
        &client,
        "plan_tag_cleanup",
        json!({"namespace": "alice", "repository": "big"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("keep-last"), "{}", text(&r));
    let r = call(
        &client,
        "plan_tag_cleanup",
        json!({"namespace": "alice", "repository": "big", "older_than": "soon"}),
    )
    .await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("older_than"), "{}", text(&r));
}

/// The apply tool is destructive, refused without --allow-write (nothing sent), and with it
/// deletes what the planner's plan says, skipping a tag pushed again since.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tag_cleanup_apply_is_a_destructive_tool_behind_allow_write() {
    let hub = crate::prune::mock_with_big_repository().await;
    let alice = [
        ("DOCKHAND_USERNAME", dockhand_mock::fixtures::ALICE),
        ("DOCKHAND_TOKEN", dockhand_mock::fixtures::ALICE_PAT),
    ];
    let plan_args = json!({"namespace": "alice", "repository": "big", "match": "^build-2[0-4]$"});

    let (client, _home) = connect(&hub.base_url(), &[], &alice).await;
    let tools = client.list_all_tools().await.unwrap();
    let apply = tool(&tools, "apply_tag_cleanup");
    let a = apply.annotations.as_ref().unwrap();
    assert_eq!(a.read_only_hint, Some(false));
    assert_eq!(a.destructive_hint, Some(true));
    assert!(
        apply
            .description
            .as_deref()
            .unwrap()
            .contains("without --allow-write")
    );
    assert!(dockhand_spec::shape::check(&output_schema(&tools, "apply_tag_cleanup")).is_empty());
    let plan = call(&client, "plan_tag_cleanup", plan_args.clone()).await;
    let plan = plan.structured_content.clone().unwrap();
    assert_eq!(plan["totals"]["delete"], 5);
    hub.clear_requests();
    let r = call(&client, "apply_tag_cleanup", json!({"plan": plan})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("--allow-write"), "{}", text(&r));
    assert!(hub.requests().is_empty(), "{:#?}", hub.requests());

    let (client, _home) = connect(&hub.base_url(), &["--allow-write"], &alice).await;
    let tools = client.list_all_tools().await.unwrap();
    let plan = call(&client, "plan_tag_cleanup", plan_args).await;
    let plan = plan.structured_content.clone().unwrap();
    assert!(hub.push_tag("alice", "big", "build-22"));
    let r = call(
        &client,
        "apply_tag_cleanup",
        json!({"plan": plan, "max_delete": 4}),
    )
    .await;
    assert_eq!(r.is_error, Some(true), "more than max_delete");
    assert!(text(&r).contains("max-delete"), "{}", text(&r));
    let r = call(&client, "apply_tag_cleanup", json!({"plan": plan})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert!(misfits(&tools, "apply_tag_cleanup", &r).is_empty());
    let report = r.structured_content.clone().unwrap();
    assert_eq!(
        report["deleted"],
        json!(["build-24", "build-23", "build-21", "build-20"])
    );
    assert_eq!(report["skipped"][0]["tag"], "build-22");
    assert!(text(&r).contains("4 deleted"), "{}", text(&r));
    let deletes: Vec<String> = hub
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(deletes.len(), 4, "{deletes:?}");
    assert!(!deletes.iter().any(|p| p.contains("build-22")));
}
