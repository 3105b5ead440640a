//! The data of one instance's `Store`: an empty WASI context, the wasi-http context with the
//! call's hooks, the memory limiter, and the host side of the `credentials` import (the
//! broker, reached through the hooks' send path).

use crate::bindings::dockhand::hub::credentials::{self, Credential, CredentialKind};
use crate::credentials::CredentialKind as BrokerKind;
use crate::hooks::CallHooks;
use crate::outgoing::OutgoingView;
use wasmtime::{ResourceLimiter, StoreLimits};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What every store of a [`crate::Dockhand`] holds (the `T` of its `Store<T>`, so that users
/// of [`crate::Session`] can name the store's type).
pub struct CallState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: CallHooks,
    pub(crate) limits: MemoryCap,
    /// Why the last `credentials.get` failed, for the host to report in place of the
    /// `unauthorized` the component turns it into.
    credential_failure: Option<crate::credentials::CredentialError>,
}

/// The instance's memory cap, remembering whether it refused to grow memory: the guest's
/// allocator then aborts with a plain trap, which the host reports as the limit it was.
pub(crate) struct MemoryCap {
    limits: StoreLimits,
    pub(crate) refused: bool,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        self.refused |= !allowed;
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // Past the pooling allocator's own per-memory maximum.
        self.refused = true;
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl CallState {
    pub(crate) fn new(hooks: CallHooks, limits: StoreLimits) -> CallState {
        CallState {
            // No environment, arguments, stdio, preopened directories or socket permissions:
            // the builder's defaults, which `WasiCtx::default()` gives without the builder
            // (whose `build()` constructs a second default context, RNG seeding included, to
            // leave behind in itself).
            wasi: WasiCtx::default(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks,
            limits: MemoryCap {
                limits,
                refused: false,
            },
            credential_failure: None,
        }
    }

    /// Why the call's last credential request failed, if one did (see [`crate::CallError::Credentials`]).
    pub(crate) fn take_credential_failure(
        &mut self,
    ) -> Option<crate::credentials::CredentialError> {
        self.credential_failure.take()
    }
}

impl OutgoingView for CallState {
    fn call_hooks(&self) -> &CallHooks {
        &self.hooks
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl wasmtime::component::HasData for CallState {
    type Data<'a> = &'a mut CallState;
}

fn broker_kind(kind: CredentialKind) -> BrokerKind {
    match kind {
        CredentialKind::Hub => BrokerKind::Hub,
        CredentialKind::Scim => BrokerKind::Scim,
    }
}

impl credentials::Host for CallState {
    async fn get(
        &mut self,
        account: String,
        kind: CredentialKind,
    ) -> Result<Option<Credential>, String> {
        let egress = &self.hooks.egress;
        if egress.secret_origin.is_none() {
            // Nothing minted for a destination the policy forbids: the request goes out
            // without credentials and the send hook denies it.
            return Ok(None);
        }
        match egress.broker.get(&account, broker_kind(kind)).await {
            Ok(token) => Ok(token.map(|token| Credential { token })),
            Err(e) => {
                let message = e.to_string();
                self.credential_failure = Some(e);
                Err(message)
            }
        }
    }

    async fn invalidate(&mut self, account: String, kind: CredentialKind) {
        self.hooks
            .egress
            .broker
            .invalidate(&account, broker_kind(kind));
    }
}
