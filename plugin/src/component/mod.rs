//! The component's exports and imports: the only place that knows about WIT bindings. Each
//! export converts WIT values to the core's types, runs [`crate::client::call`], and converts the
//! result back.

use crate::prelude::*;

mod allocator;
mod builtins;
mod typed;

use crate::client::{self, CredentialKind};
use crate::error::{HubError as CoreError, RateLimit as CoreRateLimit, TransportKind as CoreKind};
use crate::retry::RetryPolicy;
use crate::wasip2::{WasiClock, WasiHttp};
use core::time::Duration;
use serde_json::{Map, Value};

// The typed exports, and the `generate_bindings!` macro: wit-bindgen's `generate!` for the world,
// told to skip the typed functions (see `typed`).
#[macro_use]
#[path = "../generated/exports.rs"]
mod exports;

mod bindings {
    generate_bindings!();
}

use bindings::dockhand::hub::credentials;
use bindings::exports::dockhand::hub::catalog::{self as wit_catalog, OperationInfo};
use bindings::exports::dockhand::hub::types::{
    CallOptions, HubError, InvalidArgument, RateLimit, RateLimited, Response, TransportError,
    TransportKind, UpstreamError,
};

pub(crate) struct Component;

/// A value whose state is not thread-safe, declared shareable so that it can be a `static`.
pub(crate) struct SingleThreaded<T>(pub(crate) T);

// SAFETY: a wasm32-wasip2 component has one thread, and nothing in it re-enters a call. A
// build with wasm threads would make this unsound, so it would not compile.
#[cfg(not(target_feature = "atomics"))]
unsafe impl<T> Sync for SingleThreaded<T> {}

/// A panic is a bug, and the host reports the trap; there is nowhere to print its message (the
/// component imports no stdio).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

bindings::export!(Component with_types_in bindings);

impl wit_catalog::Guest for Component {
    fn operations() -> Vec<OperationInfo> {
        let result_schemas = crate::catalog::result_schemas();
        crate::catalog::OPERATIONS
            .iter()
            .map(|op| OperationInfo {
                name: op.name.to_string(),
                aliases: op.aliases.iter().map(|a| a.to_string()).collect(),
                area: op.area.to_string(),
                method: op.method.as_str().to_string(),
                path: op.path.to_string(),
                access: match op.access {
                    crate::catalog::Access::Read => wit_catalog::Access::Read,
                    crate::catalog::Access::Write => wit_catalog::Access::Write,
                },
                destructive: op.destructive,
                idempotent: op.idempotent,
                deprecated: op.deprecated,
                summary: op.summary.to_string(),
                args_schema: crate::schema::args_schema(op).to_string(),
                result_schema: op.result_schema(&result_schemas).to_string(),
                table: op.table.as_ref().map(|t| wit_catalog::TableView {
                    rows: t.rows.to_string(),
                    columns: t.columns.iter().map(|c| c.to_string()).collect(),
                }),
            })
            .collect()
    }

    fn docs(topic: Option<String>) -> Result<String, HubError> {
        crate::docs::docs(topic.as_deref()).map_err(to_wit_error)
    }

    fn call(
        operation: String,
        args_json: String,
        options: CallOptions,
    ) -> Result<Response, HubError> {
        // A typed export running through this glue (see `typed`), or the dynamic call.
        if let Some((name, args)) = typed::take_typed_call() {
            return invoke(name, args, options);
        }
        let args: Value = if args_json.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&args_json).map_err(|e| {
                to_wit_error(CoreError::invalid(
                    "args-json",
                    format!("not valid JSON: {e}"),
                ))
            })?
        };
        run(&operation, &args, options)
    }

    fn plan_tag_cleanup(
        namespace: String,
        repository: String,
        policy: wit_catalog::TagCleanupPolicy,
        options: CallOptions,
    ) -> Result<Response, HubError> {
        let policy = crate::prune::Policy {
            keep_last: policy.keep_last,
            older_than: policy.older_than,
            matching: policy.matching,
            keep_matching: policy.keep_matching,
        };
        let (plan, outcome) = crate::prune::plan_repository(
            &namespace,
            &repository,
            &policy,
            &core_options(options),
            &mut WasiHttp,
            &mut HostCredentials,
            &mut WasiClock,
        )
        .map_err(to_wit_error)?;
        Ok(Response {
            status: outcome.status,
            content_type: Some("application/json".to_string()),
            body: plan.to_string(),
            rate_limit: outcome.rate_limit.map(to_wit_rate_limit),
            pages: outcome.pages,
        })
    }

    fn apply_tag_cleanup(
        plan_json: String,
        max_delete: u32,
        options: CallOptions,
    ) -> Result<Response, HubError> {
        let plan: Value = serde_json::from_str(&plan_json).map_err(|e| {
            to_wit_error(CoreError::invalid(
                "plan-json",
                format!("not valid JSON: {e}"),
            ))
        })?;
        let report = crate::prune::apply_plan(
            &plan,
            max_delete,
            &core_options(options),
            &mut WasiHttp,
            &mut HostCredentials,
            &mut WasiClock,
        )
        .map_err(to_wit_error)?;
        Ok(Response {
            status: 200,
            content_type: Some("application/json".to_string()),
            body: report.to_string(),
            rate_limit: None,
            pages: 0,
        })
    }
}

/// Collects a typed export's record fields as named JSON arguments.
#[derive(Default)]
pub(crate) struct ArgsBuilder {
    args: Map<String, Value>,
    error: Option<CoreError>,
}

impl ArgsBuilder {
    fn insert(&mut self, name: &str, value: Value) {
        self.args.insert(name.to_string(), value);
    }

    /// A field the WIT carries as JSON text (nested objects).
    fn insert_json(&mut self, name: &str, text: &str) {
        match serde_json::from_str(text) {
            Ok(v) => {
                self.args.insert(name.to_string(), v);
            }
            Err(e) => {
                self.error.get_or_insert(CoreError::invalid(
                    name,
                    format!("not valid JSON text: {e}"),
                ));
            }
        }
    }
}

/// Runs a typed call with the arguments its record gave.
fn invoke(name: &str, args: ArgsBuilder, options: CallOptions) -> Result<Response, HubError> {
    if let Some(e) = args.error {
        return Err(to_wit_error(e));
    }
    run(name, &Value::Object(args.args), options)
}

fn core_options(options: CallOptions) -> client::CallOptions {
    let defaults = RetryPolicy::default();
    client::CallOptions {
        account: options.account,
        base_url: options.base_url,
        all_pages: options.all_pages.unwrap_or(false),
        max_pages: options.max_pages,
        page_concurrency: options.page_concurrency,
        retry: RetryPolicy {
            max_retries: options.max_retries.unwrap_or(defaults.max_retries),
            max_wait: options
                .max_retry_wait_seconds
                .map_or(defaults.max_wait, |s| Duration::from_secs(s.into())),
        },
    }
}

fn run(name: &str, args: &Value, options: CallOptions) -> Result<Response, HubError> {
    let options = core_options(options);
    let outcome = client::call(
        name,
        args,
        &options,
        &mut WasiHttp,
        &mut HostCredentials,
        &mut WasiClock,
    )
    .map_err(to_wit_error)?;
    Ok(Response {
        status: outcome.status,
        content_type: outcome.content_type,
        body: outcome.body.into_string(),
        rate_limit: outcome.rate_limit.map(to_wit_rate_limit),
        pages: outcome.pages,
    })
}

/// The host's `credentials` import.
struct HostCredentials;

fn wit_kind(kind: CredentialKind) -> credentials::CredentialKind {
    match kind {
        CredentialKind::Hub => credentials::CredentialKind::Hub,
        CredentialKind::Scim => credentials::CredentialKind::Scim,
    }
}

impl client::Credentials for HostCredentials {
    fn get(&mut self, account: &str, kind: CredentialKind) -> Result<Option<String>, String> {
        credentials::get(account, wit_kind(kind)).map(|c| c.map(|c| c.token))
    }

    fn invalidate(&mut self, account: &str, kind: CredentialKind) {
        credentials::invalidate(account, wit_kind(kind));
    }
}

fn to_wit_rate_limit(r: CoreRateLimit) -> RateLimit {
    RateLimit {
        limit: r.limit,
        remaining: r.remaining,
        reset: r.reset,
    }
}

fn to_wit_error(e: CoreError) -> HubError {
    match e {
        CoreError::InvalidArgument { name, reason } => {
            HubError::InvalidArgument(InvalidArgument { name, reason })
        }
        CoreError::UnknownOperation(m) => HubError::UnknownOperation(m),
        CoreError::Unauthorized(m) => HubError::Unauthorized(m),
        CoreError::Forbidden(m) => HubError::Forbidden(m),
        CoreError::NotFound(m) => HubError::NotFound(m),
        CoreError::Conflict(m) => HubError::Conflict(m),
        CoreError::RateLimited {
            retry_after,
            rate_limit,
        } => HubError::RateLimited(RateLimited {
            retry_after,
            rate_limit: rate_limit.map(to_wit_rate_limit),
        }),
        CoreError::Upstream { status, message } => {
            HubError::Upstream(UpstreamError { status, message })
        }
        CoreError::Transport { kind, message } => HubError::Transport(TransportError {
            kind: to_wit_transport_kind(kind),
            message,
        }),
        CoreError::Denied(m) => HubError::Denied(m),
        CoreError::Decode(m) => HubError::Decode(m),
    }
}

fn to_wit_transport_kind(kind: CoreKind) -> TransportKind {
    match kind {
        CoreKind::Dns => TransportKind::Dns,
        CoreKind::ConnectionRefused => TransportKind::ConnectionRefused,
        CoreKind::ConnectionReset => TransportKind::ConnectionReset,
        CoreKind::Timeout => TransportKind::Timeout,
        CoreKind::Tls => TransportKind::Tls,
        CoreKind::Protocol => TransportKind::Protocol,
        CoreKind::BodyTooLarge => TransportKind::BodyTooLarge,
        CoreKind::Other => TransportKind::Other,
    }
}
