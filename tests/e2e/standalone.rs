//! The self-contained component: the plugin with the environment credentials provider plugged
//! in, composed as `cargo xtask standalone` composes it. What it imports (WASI alone) and exports
//! (the plugin's), its size, and that a host with nothing but stock WASI (wasmtime-wasi and
//! wasmtime-wasi-http, no function written for dockhand) runs it, the bearer taken from the
//! guest's environment.

use dockhand_host::engine::EMBEDDED_COMPONENT;
use dockhand_host::http_client::{HttpClient, HttpClientConfig};
use dockhand_mock::{MockConfig, MockHub, fixtures};
use serde_json::{Value, json};
use wasmtime::component::{Component, Linker, Val};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The provider the host's build made beside the plugin (host/build.rs, tests/build.rs).
const PROVIDER: &[u8] = include_bytes!(env!("DOCKHAND_PROVIDER_WASM"));

/// How much the provider and the composition may add to the plugin.
const MAX_GROWTH: usize = 30 * 1024;

fn standalone() -> Vec<u8> {
    xtask::standalone::compose(EMBEDDED_COMPONENT, PROVIDER).unwrap()
}

fn engine() -> Engine {
    let mut config = Config::new();
    config.wasm_component_model(true);
    Engine::new(&config).unwrap()
}

/// Interface names, without versions, of a component's imports or exports.
fn names(engine: &Engine, wasm: &[u8], imports: bool) -> Vec<String> {
    let ty = Component::new(engine, wasm).unwrap().component_type();
    let strip = |name: &str| name.split('@').next().unwrap().to_string();
    let mut names: Vec<String> = if imports {
        ty.imports(engine).map(|(n, _)| strip(n)).collect()
    } else {
        ty.exports(engine).map(|(n, _)| strip(n)).collect()
    };
    names.sort();
    names
}

#[test]
fn standalone_imports_wasi_only_and_exports_what_the_plugin_exports() {
    let engine = engine();
    let composed = standalone();
    let imports = names(&engine, &composed, true);
    for import in &imports {
        assert!(
            [
                "wasi:http/",
                "wasi:io/",
                "wasi:clocks/",
                "wasi:random/",
                "wasi:cli/environment"
            ]
            .iter()
            .any(|allowed| import.starts_with(allowed)),
            "unexpected import {import}; all imports: {imports:?}"
        );
    }
    assert!(
        imports.iter().any(|i| i == "wasi:cli/environment"),
        "{imports:?}"
    );
    assert_eq!(
        names(&engine, &composed, false),
        names(&engine, EMBEDDED_COMPONENT, false),
        "the standalone component exports other interfaces than the plugin"
    );
}

#[test]
fn standalone_is_within_30_kb_of_the_plugin() {
    let (composed, plugin) = (standalone().len(), EMBEDDED_COMPONENT.len());
    eprintln!("standalone {composed} bytes, plugin {plugin} bytes");
    assert!(
        composed <= plugin + MAX_GROWTH,
        "the standalone component is {composed} bytes, the plugin {plugin}: more than {MAX_GROWTH} apart"
    );
}

/// A store's data as a generic WASI host has it: a WASI context (environment included) and a
/// wasi-http context with the default sender.
struct Guest {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
}

impl WasiView for Guest {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Guest {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: wasmtime_wasi_http::default_hooks(),
        }
    }
}

/// Calls `catalog.call(operation, args, {base-url})` in a fresh instance whose environment is
/// `env`; the `result` it returns, as a `Val`.
async fn call(
    engine: &Engine,
    component: &Component,
    env: &[(&str, &str)],
    base_url: &str,
    operation: &str,
    args: &Value,
) -> Val {
    let mut linker = Linker::<Guest>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).unwrap();
    let mut wasi = WasiCtxBuilder::new();
    for (key, value) in env {
        wasi.env(key, value);
    }
    let mut store = Store::new(
        engine,
        Guest {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
        },
    );
    let instance = linker
        .instantiate_async(&mut store, component)
        .await
        .unwrap();
    let catalog = instance
        .get_export_index(&mut store, None, "dockhand:hub/catalog@0.4.0")
        .expect("the catalog interface");
    let index = instance
        .get_export_index(&mut store, Some(&catalog), "call")
        .expect("catalog.call");
    let func = instance.get_func(&mut store, index).unwrap();
    let none = || Val::Option(None);
    let options = Val::Record(vec![
        ("account".into(), none()),
        (
            "base-url".into(),
            Val::Option(Some(Box::new(Val::String(base_url.into())))),
        ),
        ("all-pages".into(), none()),
        ("max-pages".into(), none()),
        ("page-concurrency".into(), none()),
        ("max-retries".into(), none()),
        ("max-retry-wait-seconds".into(), none()),
    ]);
    let params = [
        Val::String(operation.into()),
        Val::String(args.to_string()),
        options,
    ];
    let mut result = [Val::Bool(false)];
    func.call_async(&mut store, &params, &mut result)
        .await
        .unwrap();
    let [result] = result;
    result
}

/// The `Authorization` header of every request the mock received for `path`.
fn authorizations(mock: &MockHub, path: &str) -> Vec<Option<String>> {
    mock.requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| {
            r.headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
                .map(|(_, value)| value.clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_wasi_host_runs_it_with_the_bearer_from_the_guest_environment() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    // A bearer minted outside the guest, as the docs advise: the PAT never enters it.
    let minted = HttpClient::new(&HttpClientConfig::default())
        .unwrap()
        .post_json(
            &format!("{}/v2/auth/token", mock.base_url()),
            &json!({"identifier": fixtures::ALICE, "secret": fixtures::ALICE_PAT}),
            1 << 20,
        )
        .await
        .unwrap();
    let minted: Value = serde_json::from_slice(&minted.body).unwrap();
    let bearer = minted["access_token"].as_str().unwrap().to_string();

    let engine = engine();
    let component = Component::new(&engine, standalone()).unwrap();
    let args = json!({"namespace": fixtures::ORG, "repository": fixtures::PRIVATE_REPO});
    let path = format!(
        "/v2/namespaces/{}/repositories/{}",
        fixtures::ORG,
        fixtures::PRIVATE_REPO
    );

    mock.clear_requests();
    let answered = call(
        &engine,
        &component,
        &[("DOCKHAND_BEARER", &bearer)],
        &mock.base_url(),
        "get_repository",
        &args,
    )
    .await;
    let Val::Result(Ok(Some(response))) = answered else {
        panic!("the call with a bearer failed: {answered:?}")
    };
    let Val::Record(fields) = *response else {
        panic!("a response record: {response:?}")
    };
    let status = fields.iter().find(|(name, _)| name == "status");
    assert!(matches!(status, Some((_, Val::U16(200)))), "{fields:?}");
    assert_eq!(
        authorizations(&mock, &path),
        vec![Some(format!("Bearer {bearer}"))]
    );

    // No variable set: anonymous, and the private repository is out of reach.
    mock.clear_requests();
    let answered = call(
        &engine,
        &component,
        &[],
        &mock.base_url(),
        "get_repository",
        &args,
    )
    .await;
    let Val::Result(Err(Some(error))) = &answered else {
        panic!("an anonymous call saw the private repository: {answered:?}")
    };
    assert!(
        matches!(&**error, Val::Variant(kind, _) if kind == "unauthorized"),
        "{error:?}"
    );
    assert_eq!(authorizations(&mock, &path), vec![None]);
}
