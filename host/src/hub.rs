//! The embedding API: one [`Dockhand`] per application, any number of concurrent calls.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use dockhand_host::{CallOptions, Dockhand, HostConfig};
//! use dockhand_host::credentials::Accounts;
//!
//! let hub = Dockhand::new(HostConfig::default(), Accounts::anonymous())?;
//! let tags = hub
//!     .call(
//!         "list_repository_tags",
//!         &serde_json::json!({"namespace": "library", "repository": "alpine", "page_size": 5}),
//!         &CallOptions::default(),
//!     )
//!     .await?;
//! println!("{}", tags.body);
//! # Ok(()) }
//! ```

use crate::bindings::Plugin;
pub use crate::bindings::exports::dockhand::hub::catalog::TagCleanupPolicy;
use crate::bindings::exports::dockhand::hub::catalog::{Access, OperationInfo};
use crate::bindings::exports::dockhand::hub::types::{self as wit};
use crate::credentials::{
    AccountSpec, Accounts, Broker, DEFAULT_ACCOUNT, ExchangeError, ExchangeFuture,
    HttpTokenExchange, Secret, TokenExchange, Withheld,
};
use crate::egress::Egress;
use crate::engine::{EMBEDDED_COMPONENT, LoadedFrom, Runtime};
use crate::hooks::CallHooks;
use crate::http_client::{HttpClient, HttpClientConfig};
use crate::policy::{BaseUrl, DEFAULT_BASE_URL, Policy};
use crate::store::CallState;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wasmtime::{Store, StoreLimitsBuilder};

pub use crate::bindings::exports::dockhand::hub::types::{HubError, RateLimit};

/// How to build a [`Dockhand`].
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The Hub's base URL; its origin is allowed unless `policy.allowed` says otherwise.
    pub base_url: String,
    /// Egress, write and resource rules. `allowed` empty means "the base URL's origin".
    pub policy: Policy,
    /// Hand the component placeholders instead of bearers (swapped back in the HTTP hook).
    pub sealed: bool,
    /// Keep the precompiled component here; `None` compiles in memory every time.
    pub cache_dir: Option<PathBuf>,
    /// A component to load instead of the one built into this host.
    pub component: Option<Vec<u8>>,
    /// Use wasmtime's default HTTP sender (a new connection per request) instead of the
    /// keep-alive pool. Only the benchmark wants this.
    pub wasmtime_sender: bool,
    /// Offer HTTP/2 to HTTPS servers (see [`HttpClientConfig::http2`]); on by default.
    pub http2: bool,
    /// Certificates (DER) trusted besides the compiled-in roots (see
    /// [`HttpClientConfig::extra_roots`]); the tests' TLS mock Hub is one.
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            base_url: DEFAULT_BASE_URL.to_string(),
            policy: Policy {
                allowed: Vec::new(),
                ..Policy::default()
            },
            sealed: true,
            cache_dir: crate::engine::default_cache_dir(),
            component: None,
            wasmtime_sender: false,
            http2: true,
            extra_roots: Vec::new(),
        }
    }
}

/// The component's own default for [`CallOptions::max_retry_wait`].
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// Per-call choices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallOptions {
    /// Which account's credentials to use (`default` when `None`).
    pub account: Option<String>,
    /// Follow pagination and merge all pages.
    pub all_pages: bool,
    /// Cap on pages when `all_pages` is set.
    pub max_pages: Option<u32>,
    /// With `all_pages`, further pages in flight at once when the first page says how many
    /// there are. `None`: the component's default, 4; 1 follows `next` page by page.
    pub page_concurrency: Option<u32>,
    /// How often one request is sent again after a 429, or (idempotent operations only) a
    /// 502/503/504, refused or reset connection or timeout. `None`: the component's default, 2.
    /// Apart from these, the host's connection pool sends a GET, HEAD, PUT or DELETE once more
    /// on a new connection when a kept-alive one closes before any answer (a server's idle
    /// close racing the request); nothing else is repeated below the component.
    pub max_retries: Option<u32>,
    /// The most the call spends waiting between attempts, in whole seconds. `None`:
    /// [`DEFAULT_MAX_RETRY_WAIT`]. Either way no more than the policy's call deadline, so a
    /// 429 that asks for longer comes back as `rate-limited` rather than as a deadline error.
    pub max_retry_wait: Option<Duration>,
}

/// A successful call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    /// The HTTP status of the last response (with `all_pages`, the last page's).
    pub status: u16,
    /// The last response's `Content-Type`, if it sent one.
    pub content_type: Option<String>,
    /// The decoded result (see the WIT `response.body` for its shapes).
    pub body: serde_json::Value,
    /// The last response's rate-limit headers, when the Hub sent them.
    pub rate_limit: Option<RateLimit>,
    /// How many HTTP pages went into `body` (1 unless `all_pages` followed links).
    pub pages: u32,
}

/// Why a call failed: the component's typed error, or the host's own.
#[derive(Debug)]
pub enum CallError {
    /// What the component (or the host's policy, in the same terms) reported.
    Hub(HubError),
    /// The call's deadline passed.
    Deadline(std::time::Duration),
    /// The component trapped or could not be instantiated; the host keeps serving other calls.
    Host(HostError),
    /// The account's credential could not be had: an account nothing configured, a broken
    /// entry, or a token exchange that failed (with the Hub's status when it answered, without
    /// when it could not be reached). Reported as itself, not as the `unauthorized` the
    /// component sees.
    Credentials(crate::credentials::CredentialError),
}

/// What went wrong in the host itself: what it was doing, and the error that stopped it,
/// kept whole as the source (wasmtime's trap with its backtrace, an I/O error, ...).
#[derive(Debug)]
pub struct HostError {
    context: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl HostError {
    /// An error with nothing below it.
    pub fn new(context: impl Into<String>) -> HostError {
        HostError {
            context: context.into(),
            source: None,
        }
    }

    /// `context` caused by `source`.
    pub fn caused_by(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> HostError {
        HostError {
            context: context.into(),
            source: Some(source.into()),
        }
    }
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.context)?;
        // The whole chain, as `{:#}` of wasmtime's errors would show it.
        let mut next = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Hub(e) => f.write_str(&describe_hub_error(e)),
            CallError::Deadline(d) => write!(
                f,
                "the call did not finish within its {} deadline",
                seconds_or_millis(*d)
            ),
            CallError::Host(m) => write!(f, "host error: {m}"),
            CallError::Credentials(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CallError::Host(e) => Some(e),
            CallError::Credentials(e) => Some(e),
            _ => None,
        }
    }
}

/// A one-line description of a typed error. It carries no credential: the component never
/// holds one, and the host's messages name accounts, not secrets.
pub fn describe_hub_error(e: &HubError) -> String {
    crate::report::problem(e).describe()
}

/// A loaded component plus everything calls share.
pub struct Dockhand {
    runtime: Runtime,
    egress: Arc<Egress>,
    base_url: BaseUrl,
    operations: OnceLock<Vec<OperationInfo>>,
}

impl Dockhand {
    /// Loads (or compiles) the component and prepares the broker and the HTTP pool. Accounts
    /// whose secrets must not go to the base URL are anonymous or refused here (see
    /// [`Accounts::for_base_url`]).
    pub fn new(config: HostConfig, accounts: Accounts) -> Result<Dockhand, CallError> {
        let base_url = BaseUrl::parse(&config.base_url)
            .map_err(|e| CallError::Host(HostError::new(format!("the base URL: {e}"))))?;
        let base = base_url.origin().clone();
        let accounts = accounts.for_base_url(&base_url);
        let mut policy = config.policy;
        if policy.allowed.is_empty() {
            policy.allowed.push(base.clone());
        }
        let client = HttpClient::new(&HttpClientConfig {
            connect_timeout: policy.timeouts.connect,
            response_timeout: Some(policy.timeouts.first_byte),
            http2: config.http2,
            extra_roots: config.extra_roots,
            ..HttpClientConfig::default()
        })
        .map_err(|e| CallError::Host(HostError::caused_by("building the HTTP client", e)))?;
        // Secrets are exchanged at the base URL, so they may go there only if the policy lets
        // requests go there; otherwise calls run anonymously and the hook denies them.
        let secret_origin = policy.allowed.contains(&base).then(|| base.clone());
        let exchange: Arc<dyn TokenExchange> = if secret_origin.is_some() {
            Arc::new(HttpTokenExchange::new(client.clone(), &base_url))
        } else {
            Arc::new(RefusedExchange)
        };
        let broker = Arc::new(Broker::new(accounts, exchange, config.sealed));
        let wasm = config.component.as_deref().unwrap_or(EMBEDDED_COMPONENT);
        let runtime = Runtime::new(wasm, config.cache_dir.as_deref())
            .map_err(|e| CallError::Host(HostError::caused_by("loading the component", e)))?;
        Ok(Dockhand {
            runtime,
            egress: Arc::new(Egress {
                policy,
                client,
                broker,
                secret_origin,
                wasmtime_sender: config.wasmtime_sender,
                budget: Arc::default(),
                idle_tasks: Default::default(),
            }),
            base_url,
            operations: OnceLock::new(),
        })
    }

    /// The credentials broker this host's calls take their bearers from.
    pub fn broker(&self) -> &Broker {
        &self.egress.broker
    }

    /// The rules every call of this host runs under, fixed when it was built.
    pub fn policy(&self) -> &Policy {
        &self.egress.policy
    }

    /// The base URL, normalised (no trailing `/` or `/v2`).
    pub fn base_url(&self) -> &str {
        self.base_url.as_str()
    }

    /// The compiled component and its engine.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Whether the component came from the precompiled cache.
    pub fn loaded_from(&self) -> &LoadedFrom {
        &self.runtime.loaded_from
    }

    /// A fresh store and instance, for calling the typed WIT functions directly. The
    /// read-only policy is checked by [`Dockhand::call`]; callers of typed functions apply
    /// [`Dockhand::check_access`] themselves.
    pub async fn instantiate(&self) -> Result<Session, CallError> {
        let (mut store, instance) = self.new_instance(None, None).await?;
        let plugin = self
            .runtime
            .plugin_exports
            .load(&mut store, &instance)
            .map_err(exports_error)?;
        Ok(Session {
            store,
            plugin,
            instance,
        })
    }

    /// A fresh instance with only its `catalog` interface loaded: what `operations` and `docs`
    /// use, without type-checking the other fifty-odd exports each time ([`Dockhand::call`]
    /// takes `catalog.call` alone). Like [`Dockhand::instantiate`], it leaves the read-only
    /// check to the caller.
    pub async fn instantiate_catalog(&self) -> Result<CatalogSession, CallError> {
        let (mut store, instance) = self.new_instance(None, None).await?;
        let catalog = self
            .runtime
            .catalog_exports
            .load(&mut store, &instance)
            .map_err(exports_error)?;
        Ok(CatalogSession { store, catalog })
    }

    /// A new store and instance for one call that must end by `deadline`, which rate-limit
    /// pacing then does not wait past.
    async fn new_instance(
        &self,
        deadline: Option<tokio::time::Instant>,
        on_request: Option<crate::hooks::RequestObserver>,
    ) -> Result<(Store<CallState>, wasmtime::component::Instance), CallError> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.egress.policy.max_memory_bytes)
            .build();
        let hooks = CallHooks {
            egress: self.egress.clone(),
            deadline,
            on_request,
        };
        let state = CallState::new(hooks, limits);
        let mut store = Store::new(&self.runtime.engine, state);
        store.limiter(|s| &mut s.limits);
        // The guest yields at every epoch tick, so the deadline below can interrupt even a
        // guest that never waits on I/O.
        store.epoch_deadline_async_yield_and_update(1);
        // A new store's deadline is epoch 0, long past: without this the guest would yield at
        // its first check, and a task that wakes itself makes tokio wake an idle worker to
        // share the work, a thread hand-off per instance for nothing.
        store.set_epoch_deadline(1);
        match self.runtime.pre.instantiate_async(&mut store).await {
            Ok(instance) => Ok((store, instance)),
            Err(e) if store.data().limits.refused => Err(CallError::Host(HostError::caused_by(
                format!(
                    "the instance memory limit ({}) is too small for the component",
                    self.memory_limit()
                ),
                e,
            ))),
            Err(e) => Err(CallError::Host(HostError::caused_by(
                "instantiating the component",
                e,
            ))),
        }
    }

    fn memory_limit(&self) -> String {
        format!(
            "{} MiB",
            self.egress.policy.max_memory_bytes as f64 / (1 << 20) as f64
        )
    }

    /// Every operation, as the component describes it.
    pub async fn operations(&self) -> Result<&[OperationInfo], CallError> {
        if let Some(ops) = self.operations.get() {
            return Ok(ops);
        }
        let mut session = self.instantiate_catalog().await?;
        let ops = session
            .catalog
            .call_operations(&mut session.store)
            .await
            .map_err(trap)?;
        Ok(self.operations.get_or_init(|| ops))
    }

    /// The operation a name (or alias, or kebab-case name) refers to.
    pub async fn resolve(&self, name: &str) -> Result<Option<&OperationInfo>, CallError> {
        let kebab_to_snake = name.replace('-', "_");
        Ok(self.operations().await?.iter().find(|op| {
            op.name == name
                || op.name == kebab_to_snake
                || op.aliases.iter().any(|a| a == name || *a == kebab_to_snake)
        }))
    }

    /// Whether calls as `account` (`default` when `None`) carry no credential: the account is
    /// anonymous, or nothing configures it. (One whose secrets are withheld from this base URL
    /// is explained by its errors already.)
    pub fn is_anonymous(&self, account: Option<&str>) -> bool {
        let name = account.filter(|a| !a.is_empty()).unwrap_or(DEFAULT_ACCOUNT);
        self.broker().accounts().get(name).is_none_or(|spec| {
            matches!(spec.auth, crate::credentials::AccountAuth::Anonymous)
                && spec.withheld.is_none()
        })
    }

    /// Refuses `write` operations in read-only mode.
    pub async fn check_access(&self, name: &str) -> Result<(), CallError> {
        if !self.egress.policy.read_only {
            return Ok(());
        }
        match self.resolve(name).await? {
            Some(op) if op.access == Access::Write => Err(CallError::Hub(HubError::Denied(
                format!("read-only mode: `{}` is a write operation", op.name),
            ))),
            _ => Ok(()),
        }
    }

    /// Whether `operation` sends the account's credential (an unknown name is left for the
    /// component to report, so it counts as yes).
    async fn uses_credential(&self, operation: &str) -> Result<bool, CallError> {
        Ok(match self.resolve(operation).await? {
            Some(op) => crate::routes::by_name(&op.name).is_none_or(|r| r.credential),
            None => true,
        })
    }

    /// Markdown reference for the API, an area, or one operation.
    pub async fn docs(&self, topic: Option<&str>) -> Result<String, CallError> {
        let mut session = self.instantiate_catalog().await?;
        session
            .catalog
            .call_docs(&mut session.store, topic)
            .await
            .map_err(trap)?
            .map_err(CallError::Hub)
    }

    /// Runs any operation by name with JSON arguments, in a fresh instance, under the policy.
    pub async fn call(
        &self,
        operation: &str,
        args: &serde_json::Value,
        options: &CallOptions,
    ) -> Result<CallResult, CallError> {
        self.call_observed(operation, args, options, None).await
    }

    /// [`Dockhand::call`], telling `on_request` of each request as it goes out (with
    /// `all_pages`, each page): what a progress display counts.
    pub async fn call_observed(
        &self,
        operation: &str,
        args: &serde_json::Value,
        options: &CallOptions,
        on_request: Option<crate::RequestObserver>,
    ) -> Result<CallResult, CallError> {
        self.check_access(operation).await?;
        let account = self.usable_account(operation, options).await?;
        let deadline = self.egress.policy.timeouts.call;
        let ends_at = tokio::time::Instant::now() + deadline;
        let run = async {
            let (mut store, instance) = self.new_instance(Some(ends_at), on_request).await?;
            let call = instance
                .get_typed_func::<CallParams, (Result<wit::Response, HubError>,)>(
                    &mut store,
                    &self.runtime.catalog_call,
                )
                .map_err(exports_error)?;
            let wit_options = self.wit_options(options, deadline);
            let (answer,) = call
                .call_async(&mut store, (operation, &args.to_string(), &wit_options))
                .await
                .map_err(|e| self.trap_or_memory(&store, e))?;
            // The component checks that answers are JSON and passes them on as text; a
            // document serde_json will not build (a number beyond f64, nesting past 128) ends here.
            self.call_result(
                answer,
                account,
                store.data_mut().take_credential_failure(),
                "the answer is JSON but cannot be read as a value",
            )
        };
        match tokio::time::timeout_at(ends_at, run).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Deadline(deadline)),
        }
    }

    /// Plans a tag cleanup of `namespace/repository` under `policy`, changing nothing: the
    /// component lists every tag (all pages) and decides each (see
    /// `catalog.plan-tag-cleanup`). The plan is `CallResult::body`: `namespace`, `repository`,
    /// `policy`, `tags` (newest first, each with `name`, `digest`, `last_pushed`, `action`,
    /// `rule`, `reason`) and `totals`. `options.all_pages` is implied; `max_pages` caps the
    /// listing (1000 pages when absent), and a listing cut short plans nothing.
    pub async fn plan_tag_cleanup(
        &self,
        namespace: &str,
        repository: &str,
        policy: &TagCleanupPolicy,
        options: &CallOptions,
    ) -> Result<CallResult, CallError> {
        let deadline = self.egress.policy.timeouts.call;
        self.run_catalog(
            "list_repository_tags",
            options,
            deadline,
            "the plan is not a JSON value",
            async |catalog, store, wit_options| {
                catalog
                    .call_plan_tag_cleanup(store, namespace, repository, policy, wit_options)
                    .await
            },
        )
        .await
    }

    /// Applies a plan [`Self::plan_tag_cleanup`] made (see `catalog.apply-tag-cleanup`): each
    /// tag it deletes is read just before its delete and skipped if it was pushed again; one
    /// already gone counts as done. The report is `CallResult::body`: `planned`, `deleted`,
    /// `already_gone`, `skipped`, `failed`, `not_attempted`. A plan deleting more than
    /// `max_delete` tags is refused before anything is sent; read-only mode refuses it too.
    /// The call's deadline is, for each tag the plan deletes, the policy's call timeout plus
    /// the longest the component waits out a 429 for one tag (3 x 60 s), so that a wait is
    /// never cut short and the report always comes back.
    pub async fn apply_tag_cleanup(
        &self,
        plan: &serde_json::Value,
        max_delete: u32,
        options: &CallOptions,
    ) -> Result<CallResult, CallError> {
        self.check_access("delete_repository_tag").await?;
        let deletes = plan["tags"].as_array().map_or(0, |tags| {
            tags.iter().filter(|t| t["action"] == "delete").count()
        });
        let per_tag = self.egress.policy.timeouts.call + Duration::from_secs(3 * 60);
        let deadline = per_tag.saturating_mul(u32::try_from(deletes.max(1)).unwrap_or(u32::MAX));
        let plan_json = plan.to_string();
        self.run_catalog(
            "delete_repository_tag",
            options,
            deadline,
            "the report is not a JSON value",
            async |catalog, store, wit_options| {
                catalog
                    .call_apply_tag_cleanup(store, &plan_json, max_delete, wit_options)
                    .await
            },
        )
        .await
    }

    /// The account `options` names (absent or empty is `default`, as the component names it),
    /// refused when its credential is withheld and `operation` would send it: refused here as
    /// well as in the broker, so that the caller sees a policy denial (nothing was sent) rather
    /// than the component's reading of a credential failure.
    async fn usable_account(
        &self,
        operation: &str,
        options: &CallOptions,
    ) -> Result<Option<&AccountSpec>, CallError> {
        let name = options
            .account
            .as_deref()
            .filter(|a| !a.is_empty())
            .unwrap_or(DEFAULT_ACCOUNT);
        if let Some(why) = self.broker().accounts().broken(name)
            && self.uses_credential(operation).await?
        {
            return Err(CallError::Credentials(why.clone()));
        }
        let account = self.broker().accounts().get(name);
        // `default` unconfigured is anonymous; any other name must exist.
        if account.is_none() && name != DEFAULT_ACCOUNT && self.uses_credential(operation).await? {
            return Err(CallError::Credentials(
                crate::credentials::CredentialError::UnknownAccount {
                    account: name.to_string(),
                },
            ));
        }
        if let Some(spec) = account
            && let Some(why @ Withheld::PlainHttp { .. }) = &spec.withheld
            && self.uses_credential(operation).await?
        {
            return Err(CallError::Hub(HubError::Denied(format!(
                "account '{}' is not used: {why}",
                spec.name
            ))));
        }
        Ok(account)
    }

    /// Runs one of the catalog's own functions in a fresh instance, under the account checks
    /// of `operation` (the operation it sends) and `deadline`.
    async fn run_catalog(
        &self,
        operation: &str,
        options: &CallOptions,
        deadline: std::time::Duration,
        unreadable: &str,
        f: impl AsyncFnOnce(
            &crate::bindings::exports::dockhand::hub::catalog::Guest,
            &mut wasmtime::Store<crate::CallState>,
            &wit::CallOptions,
        ) -> wasmtime::Result<Result<wit::Response, HubError>>,
    ) -> Result<CallResult, CallError> {
        let account = self.usable_account(operation, options).await?;
        let ends_at = tokio::time::Instant::now() + deadline;
        let run = async {
            let (mut store, instance) = self.new_instance(Some(ends_at), None).await?;
            let catalog = self
                .runtime
                .catalog_exports
                .load(&mut store, &instance)
                .map_err(exports_error)?;
            let wit_options = self.wit_options(options, deadline);
            let answer = f(&catalog, &mut store, &wit_options)
                .await
                .map_err(|e| self.trap_or_memory(&store, e))?;
            let failure = store.data_mut().take_credential_failure();
            self.call_result(answer, account, failure, unreadable)
        };
        match tokio::time::timeout_at(ends_at, run).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Deadline(deadline)),
        }
    }

    /// A component answer as the host hands it out: an error resealed and explained, the body
    /// parsed (`unreadable` names what failed to parse) with any echoed bearer resealed. The
    /// component reports a credential it could not get as `unauthorized`; when the host knows
    /// why (`credential_failure`), that is the error.
    fn call_result(
        &self,
        answer: Result<crate::bindings::exports::dockhand::hub::types::Response, HubError>,
        account: Option<&AccountSpec>,
        credential_failure: Option<crate::credentials::CredentialError>,
        unreadable: &str,
    ) -> Result<CallResult, CallError> {
        let response = answer.map_err(|mut e| {
            if let (HubError::Unauthorized(_), Some(failure)) = (&e, credential_failure) {
                return CallError::Credentials(failure);
            }
            reseal_error(&mut e, self.broker());
            CallError::Hub(explain_withheld(e, account))
        })?;
        let mut body = serde_json::from_str(&response.body)
            .map_err(|e| CallError::Hub(HubError::Decode(format!("{unreadable}: {e}"))))?;
        if self.broker().has_sealed_bearers() {
            reseal_value(&mut body, self.broker());
        }
        Ok(CallResult {
            status: response.status,
            content_type: response.content_type,
            body,
            rate_limit: response.rate_limit,
            pages: response.pages,
        })
    }

    /// The component's `call-options` for a call of the host's `options` under `deadline`.
    fn wit_options(&self, options: &CallOptions, deadline: Duration) -> wit::CallOptions {
        let max_retry_wait = options
            .max_retry_wait
            .unwrap_or(DEFAULT_MAX_RETRY_WAIT)
            .min(deadline);
        wit::CallOptions {
            account: options.account.clone(),
            base_url: Some(self.base_url.as_str().to_owned()),
            all_pages: Some(options.all_pages),
            max_pages: options.max_pages,
            page_concurrency: options.page_concurrency,
            max_retries: options.max_retries,
            max_retry_wait_seconds: Some(
                u32::try_from(max_retry_wait.as_secs()).unwrap_or(u32::MAX),
            ),
        }
    }

    /// A trap, or the memory limit's refusal said as such.
    fn trap_or_memory(&self, store: &Store<CallState>, e: wasmtime::Error) -> CallError {
        if store.data().limits.refused {
            CallError::Host(HostError::caused_by(
                format!(
                    "the call hit the instance memory limit ({})",
                    self.memory_limit()
                ),
                e,
            ))
        } else {
            trap(e)
        }
    }
}

/// Every string of a decoded answer with the bearers the host attached turned back into their
/// placeholders (see [`Broker::reseal`]).
fn reseal_value(value: &mut serde_json::Value, broker: &Broker) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            if let Some(sealed) = broker.reseal(text) {
                *text = sealed;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| reseal_value(v, broker)),
        Value::Object(map) => {
            let keys: Vec<String> = map
                .keys()
                .filter(|k| broker.reseal(k).is_some())
                .cloned()
                .collect();
            for key in keys {
                if let Some(v) = map.remove(&key) {
                    map.insert(broker.reseal(&key).unwrap_or(key), v);
                }
            }
            map.values_mut().for_each(|v| reseal_value(v, broker));
        }
        _ => {}
    }
}

/// The same for the texts of a typed error (the Hub's message may quote what it was sent).
fn reseal_error(error: &mut HubError, broker: &Broker) {
    let text = match error {
        HubError::InvalidArgument(a) => &mut a.reason,
        HubError::UnknownOperation(m)
        | HubError::Unauthorized(m)
        | HubError::Forbidden(m)
        | HubError::NotFound(m)
        | HubError::Conflict(m)
        | HubError::Denied(m)
        | HubError::Decode(m) => m,
        HubError::Upstream(u) => &mut u.message,
        HubError::Transport(t) => &mut t.message,
        HubError::RateLimited(_) => return,
    };
    if let Some(sealed) = broker.reseal(text) {
        *text = sealed;
    }
}

/// An authentication failure with an account that is anonymous here because its credentials
/// belong to another base URL says so: otherwise the user sees a bare 401 and a configured
/// account.
fn explain_withheld(error: HubError, account: Option<&AccountSpec>) -> HubError {
    let Some(why) = account.and_then(|spec| spec.withheld.as_ref()) else {
        return error;
    };
    let name = account.map_or("", |spec| spec.name.as_str());
    match error {
        HubError::Unauthorized(m) => {
            HubError::Unauthorized(format!("{m} (account '{name}' is anonymous here: {why})"))
        }
        HubError::Forbidden(m) => {
            HubError::Forbidden(format!("{m} (account '{name}' is anonymous here: {why})"))
        }
        other => other,
    }
}

/// `catalog.call`'s parameters: the operation, its arguments as JSON, the call's options.
type CallParams<'a> = (&'a str, &'a str, &'a wit::CallOptions);

/// `2 s`, or `500 ms` for a deadline under a second (which `as_secs` would show as 0 s).
fn seconds_or_millis(d: Duration) -> String {
    if d >= Duration::from_secs(1) && d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

fn exports_error(e: wasmtime::Error) -> CallError {
    CallError::Host(HostError::caused_by("loading the component's exports", e))
}

fn trap(e: wasmtime::Error) -> CallError {
    CallError::Host(HostError::caused_by("the component trapped", e))
}

/// Stands in for the token exchange when the policy forbids the base URL: no secret leaves.
struct RefusedExchange;

impl TokenExchange for RefusedExchange {
    fn exchange<'a>(&'a self, _: &'a str, _: &'a Secret) -> ExchangeFuture<'a> {
        Box::pin(async {
            Err(ExchangeError {
                status: None,
                message: "the egress policy does not allow the base URL".into(),
            })
        })
    }
}

/// An instance whose `catalog` interface alone is loaded.
pub struct CatalogSession {
    /// The instance's store, which every call into it needs.
    pub store: Store<CallState>,
    /// The `catalog` interface's functions.
    pub catalog: crate::bindings::exports::dockhand::hub::catalog::Guest,
}

/// One instance in its own store: `plugin` has the typed bindings, `instance` the raw exports
/// (for hosts that call functions by name with dynamic values).
pub struct Session {
    /// The instance's store, which every call into it needs.
    pub store: Store<CallState>,
    /// Every export of the world, typed.
    pub plugin: Plugin,
    /// The instance itself, to look exports up by name.
    pub instance: wasmtime::component::Instance,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_error_keeps_its_cause_as_the_source() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = CallError::Host(HostError::caused_by("loading the component", io));
        assert_eq!(
            error.to_string(),
            "host error: loading the component: no such file"
        );
        let source = std::error::Error::source(&error).and_then(std::error::Error::source);
        let io = source.and_then(|e| e.downcast_ref::<std::io::Error>());
        assert_eq!(
            io.map(std::io::Error::kind),
            Some(std::io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn a_deadline_error_names_its_limit_even_under_a_second() {
        let message = |d| CallError::Deadline(d).to_string();
        assert_eq!(
            message(Duration::from_millis(500)),
            "the call did not finish within its 500 ms deadline"
        );
        assert_eq!(
            message(Duration::from_secs(120)),
            "the call did not finish within its 120 s deadline"
        );
        assert_eq!(
            message(Duration::from_millis(1500)),
            "the call did not finish within its 1500 ms deadline"
        );
    }
}
