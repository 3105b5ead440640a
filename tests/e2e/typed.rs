//! Every typed WIT function must send exactly the request that `catalog.call` sends for the same
//! arguments.
//!
//! The typed exports lift their argument records by code that `cargo xtask gen` writes (see
//! plugin/src/component/typed.rs), not by wit-bindgen; a wrong offset or flattening there would
//! silently send wrong values. This test drives all 54 functions through wasmtime's dynamic
//! component API, filling every field (options included) from the function's own WIT type, and
//! compares the mock's record of each request with the one made by `call`.

use dockhand_host::credentials::{Accounts, FlagCredentials, MapEnv, Paths};
use dockhand_host::{Dockhand, HostConfig};
use dockhand_mock::{MockConfig, MockHub, RecordedRequest, fixtures};
use dockhand_tests::wit_call_options;
// The generator's own naming rule, so the test finds each function where `cargo xtask gen` put it.
use dockhand_vocab::names::wit_ident;
use serde_json::{Map, Value, json};
use wasmtime::component::{Type, Val};

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
        ("max-retries".into(), Val::Option(None)),
        ("max-retry-wait-seconds".into(), Val::Option(None)),
    ]);

    let operations = hub.operations().await.unwrap().to_vec();
    assert_eq!(operations.len(), 54);
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
                &format!("dockhand:hub/{}@0.2.0", op.area),
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
        54,
        "only these reached the mock: {reached:?}"
    );
}
