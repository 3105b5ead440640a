//! Every typed WIT function must send exactly the request that `catalog.call` sends for the same
//! arguments.
//!
//! The typed exports lift their argument records by code that `cargo xtask gen` writes (see
//! plugin/src/component/typed.rs), not by wit-bindgen; a wrong offset or flattening there would
//! silently send wrong values. This test drives all 60 functions through wasmtime's dynamic
//! component API, filling every field (options included) from the function's own WIT type, and
//! compares the mock's record of each request with the one made by `call`.

use dockhand_host::credentials::{Accounts, FlagCredentials, MapEnv, Paths};
use dockhand_host::{Dockhand, HostConfig, Session};
use dockhand_mock::{Fault, FaultKind, MockConfig, MockHub, RecordedRequest, fixtures};
use dockhand_tests::{
    ANONYMOUS_ACCOUNT, ORG_ACCOUNT, host_config, standard_accounts, wit_call_options,
};
// The generator's own naming rule, so the test finds each function where `cargo xtask gen` put it.
use dockhand_vocab::names::wit_ident;
use serde_json::{Map, Value, json};
use wasmtime::component::{Func, Type, Val};

/// The `dockhand:hub` package version the interfaces are exported under (xtask's golden test
/// checks that it is the generator's).
const WIT_VERSION: &str = "0.4.0";

/// A value for one argument: as JSON for `call`, and as the WIT value for the typed function.
fn sample(name: &str, schema: &Value, wit: &Type) -> (Value, Val) {
    let inner = match wit {
        Type::Option(o) => o.ty(),
        other => other.clone(),
    };
    let first_enum = schema["enum"].get(0).cloned();
    let json = match schema["type"].as_str() {
        Some("integer") => json!(7),
        Some("number") => json!(3),
        Some("boolean") => json!(true),
        Some("object") => json!({"sample": name}),
        Some("array") => match schema["items"]["type"].as_str() {
            Some("string") => json!([schema["items"]["enum"]
                .get(0)
                .cloned()
                .unwrap_or(json!(format!("{name}-item")))]),
            Some("integer") => json!([1, 2]),
            _ => json!([{"sample": name}]),
        },
        _ => match (first_enum, schema["format"].as_str()) {
            (Some(v), _) => v,
            (None, Some("date-time")) => json!("2030-01-02T03:04:05Z"),
            // Odd characters on purpose: they must arrive percent-encoded, byte for byte.
            (None, _) => json!(format!("{name} é/x")),
        },
    };
    let val = match (&inner, &json) {
        (Type::String, Value::String(s)) => Val::String(s.clone()),
        // A nested object or array travels as JSON text.
        (Type::String, other) => Val::String(other.to_string()),
        (Type::S64, v) => Val::S64(v.as_i64().unwrap()),
        (Type::Float64, v) => Val::Float64(v.as_f64().unwrap()),
        (Type::Bool, v) => Val::Bool(v.as_bool().unwrap()),
        (Type::List(_), Value::Array(items)) => Val::List(
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Val::String(s.clone()),
                    other => Val::S64(other.as_i64().unwrap()),
                })
                .collect(),
        ),
        (ty, v) => panic!("no sample for {name}: {ty:?} from {v}"),
    };
    let val = match wit {
        Type::Option(_) => Val::Option(Some(Box::new(val))),
        _ => val,
    };
    (json, val)
}

/// The parts of a request that the arguments decide.
fn essence(r: &RecordedRequest) -> Value {
    json!({
        "method": r.method,
        "path": r.path,
        "query": r.query,
        "content_type": r.header("content-type"),
        "analytics": r.header("x-analytics-client-feature"),
        "body": r.json(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_typed_function_sends_what_call_sends() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let hub = Dockhand::new(
        HostConfig {
            base_url: mock.base_url(),
            cache_dir: None,
            ..HostConfig::default()
        },
        // A SCIM token, so SCIM operations send their requests too; Hub calls stay anonymous.
        Accounts::discover(
            &FlagCredentials::default(),
            &MapEnv::new().with("DOCKHAND_SCIM_TOKEN", fixtures::SCIM_TOKEN),
            &Paths::default(),
        )
        .unwrap(),
    )
    .unwrap();
    let options = Val::Record(vec![
        ("account".into(), Val::Option(None)),
        (
            "base-url".into(),
            Val::Option(Some(Box::new(Val::String(mock.base_url())))),
        ),
        ("all-pages".into(), Val::Option(None)),
        ("max-pages".into(), Val::Option(None)),
        ("page-concurrency".into(), Val::Option(None)),
        ("max-retries".into(), Val::Option(None)),
        ("max-retry-wait-seconds".into(), Val::Option(None)),
    ]);

    let operations = hub.operations().await.unwrap().to_vec();
    assert_eq!(operations.len(), 60);
    // Operations whose sample arguments passed validation and reached the mock: the comparison
    // must be about real requests, not about two empty records.
    let mut reached = Vec::new();
    for op in &operations {
        let schema: Value = serde_json::from_str(&op.args_schema).unwrap();
        let mut session = hub.instantiate().await.unwrap();
        let interface = session
            .instance
            .get_export_index(
                &mut session.store,
                None,
                &format!("dockhand:hub/{}@{WIT_VERSION}", op.area),
            )
            .unwrap_or_else(|| panic!("no interface {}", op.area));
        let index = session
            .instance
            .get_export_index(&mut session.store, Some(&interface), &wit_ident(&op.name))
            .unwrap_or_else(|| panic!("no typed function for {}", op.name));
        let func = session
            .instance
            .get_func(&mut session.store, index)
            .unwrap();

        let mut args = Map::new();
        let mut params = Vec::new();
        let ty = func.ty(&session.store);
        for (param, param_ty) in ty.params() {
            if param == "options" {
                params.push(options.clone());
                continue;
            }
            let Type::Record(record) = param_ty else {
                panic!("{}: args is not a record", op.name)
            };
            let mut fields = Vec::new();
            for field in record.fields() {
                let (name, prop) = schema["properties"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| wit_ident(k) == field.name)
                    .unwrap_or_else(|| {
                        panic!("{}: field {} is not in the schema", op.name, field.name)
                    });
                let (json, val) = sample(name, prop, &field.ty);
                args.insert(name.clone(), json);
                fields.push((field.name.to_string(), val));
            }
            params.push(Val::Record(fields));
        }

        mock.clear_requests();
        let mut typed_result = [Val::Bool(false)];
        func.call_async(&mut session.store, &params, &mut typed_result)
            .await
            .unwrap();
        let typed_requests: Vec<Value> = mock.requests().iter().map(essence).collect();

        mock.clear_requests();
        let mut session = hub.instantiate().await.unwrap();
        let dynamic = session
            .plugin
            .dockhand_hub_catalog()
            .call_call(
                &mut session.store,
                &op.name,
                &Value::Object(args.clone()).to_string(),
                &wit_call_options(mock.base_url()),
            )
            .await
            .unwrap();
        let dynamic_requests: Vec<Value> = mock.requests().iter().map(essence).collect();

        assert_eq!(
            typed_requests,
            dynamic_requests,
            "{} with {}",
            op.name,
            Value::Object(args)
        );
        if !typed_requests.is_empty() {
            reached.push(op.name.clone());
        }
        // Both reached the Hub, or neither did for the same reason.
        let typed_ok = matches!(&typed_result[0], Val::Result(Ok(_)));
        assert_eq!(
            typed_ok,
            dynamic.is_ok(),
            "{}: {:?} vs {:?}",
            op.name,
            typed_result[0],
            dynamic
        );
        if let (Val::Result(Err(Some(e))), Err(d)) = (&typed_result[0], &dynamic)
            && let Val::Variant(case, _) = e.as_ref()
        {
            let dynamic_case = format!("{d:?}")
                .trim_start_matches("HubError::")
                .to_string();
            let expected = case.replace('-', "").to_ascii_lowercase();
            assert!(
                dynamic_case.to_ascii_lowercase().starts_with(&expected),
                "{}: typed error {case}, dynamic {dynamic_case}",
                op.name
            );
        }
    }
    assert_eq!(
        reached.len(),
        60,
        "only these reached the mock: {reached:?}"
    );
}

/// The typed function `area.name` of a fresh instance.
async fn typed_function(hub: &Dockhand, area: &str, name: &str) -> (Session, Func) {
    let mut session = hub.instantiate().await.unwrap();
    let interface = session
        .instance
        .get_export_index(
            &mut session.store,
            None,
            &format!("dockhand:hub/{area}@{WIT_VERSION}"),
        )
        .unwrap();
    let index = session
        .instance
        .get_export_index(&mut session.store, Some(&interface), &wit_ident(name))
        .unwrap();
    let func = session
        .instance
        .get_func(&mut session.store, index)
        .unwrap();
    (session, func)
}

/// `call-options` with every field set, as the typed functions take it.
fn all_options(base_url: String, account: &str, retries: u32, wait: u32) -> Val {
    let some = |v: Val| Val::Option(Some(Box::new(v)));
    Val::Record(vec![
        ("account".into(), some(Val::String(account.into()))),
        ("base-url".into(), some(Val::String(base_url))),
        ("all-pages".into(), some(Val::Bool(true))),
        ("max-pages".into(), some(Val::U32(2))),
        ("page-concurrency".into(), some(Val::U32(3))),
        ("max-retries".into(), some(Val::U32(retries))),
        ("max-retry-wait-seconds".into(), some(Val::U32(wait))),
    ])
}

/// The options travel in memory laid out as `cargo xtask gen` computed from the WIT: the glue
/// stores flat ones, or copies the host's lowering, into `catalog.call`'s parameter block. A
/// wrong offset would drop or shift one. Each option here changes what is sent, through a
/// function whose parameters arrive in memory and one whose parameters arrive flat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_functions_honour_every_call_option() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let hub = Dockhand::new(host_config(mock.base_url()), standard_accounts()).unwrap();
    let sent = |mock: &MockHub| -> Vec<(String, Option<String>, bool)> {
        mock.requests()
            .iter()
            .filter(|r| !r.path.contains("/auth/"))
            .map(|r| {
                let auth = r.header("authorization").is_some();
                (r.path.clone(), r.query.clone(), auth)
            })
            .collect()
    };

    // In memory: all-pages with max-pages 2 fetch two of the three pages, anonymously.
    let (mut session, func) = typed_function(&hub, "repositories", "list_repository_tags").await;
    let args = Val::Record(vec![
        ("namespace".into(), Val::String("library".into())),
        ("repository".into(), Val::String("alpine".into())),
        ("page".into(), Val::Option(None)),
        ("page-size".into(), Val::Option(Some(Box::new(Val::S64(2))))),
    ]);
    let options = all_options(mock.base_url(), ANONYMOUS_ACCOUNT, 0, 0);
    let mut result = [Val::Bool(false)];
    mock.clear_requests();
    func.call_async(&mut session.store, &[args, options], &mut result)
        .await
        .unwrap();
    let path = "/v2/namespaces/library/repositories/alpine/tags".to_string();
    assert_eq!(
        sent(&mock),
        [
            (path.clone(), Some("page_size=2".into()), false),
            (path, Some("page_size=2&page=2".into()), false),
        ]
    );
    let Val::Result(Ok(Some(response))) = &result[0] else {
        panic!("list_repository_tags failed: {:?}", result[0]);
    };
    let Val::Record(fields) = response.as_ref() else {
        panic!("not a record: {response:?}")
    };
    assert!(
        fields.contains(&("pages".into(), Val::U32(2))),
        "{fields:?}"
    );

    // Flat (no flat function pages): the account picks the organization's token over the
    // default account's, max-retries allows one retry of a 429 asking for no wait, and
    // max-retry-wait-seconds 0 refuses to wait the 1 s another 429 asks for.
    let invites = format!("/v2/orgs/{}/invites", fixtures::ORG);
    let args = Val::Record(vec![("org-name".into(), Val::String(fixtures::ORG.into()))]);
    let cases = [(1, 30, 0, 2), (3, 0, 1, 1)];
    let mut exchanged = Vec::new();
    for (retries, wait, retry_after, expected) in cases {
        mock.clear_requests();
        mock.inject(
            Fault::new(FaultKind::RetryAfter {
                seconds: retry_after,
            })
            .times(5)
            .path_prefix(&invites),
        );
        let (mut session, func) = typed_function(&hub, "invites", "list_org_invites").await;
        let options = all_options(mock.base_url(), ORG_ACCOUNT, retries, wait);
        func.call_async(&mut session.store, &[args.clone(), options], &mut result)
            .await
            .unwrap();
        let to_invites = sent(&mock);
        assert_eq!(
            to_invites.len(),
            expected,
            "max-retries {retries}, max-retry-wait-seconds {wait}: {to_invites:?}"
        );
        assert!(to_invites.iter().all(|r| r.2), "sent without a token");
        exchanged.extend(
            mock.requests()
                .into_iter()
                .filter(|r| r.path.contains("/auth/")),
        );
        mock.clear_faults();
    }
    assert!(
        exchanged.len() == 1
            && String::from_utf8_lossy(&exchanged[0].body).contains(fixtures::ORG_OAT),
        "the organization's token was not the one exchanged"
    );
}
