//! What a store holds while a plugin runs, and what all calls of one loaded
//! plugin share.

use std::collections::BTreeSet;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::http_egress::{EgressCounters, EgressHooks};
use crate::capabilities::kv::{KvQuota, KvStore};
use crate::capabilities::secrets::Placeholders;
use crate::capabilities::stdio::CapturedOutput;
use crate::grant::Policy;
use crate::limiter::MemoryLimiter;
use crate::manifest::PluginId;

/// Shared by every call of one loaded plugin.
pub struct PluginShared {
    pub(crate) id: PluginId,
    pub(crate) policy: Policy,
    pub(crate) manifest_secrets: BTreeSet<String>,
    pub(crate) kv: Arc<dyn KvStore>,
    pub(crate) kv_quota: KvQuota,
    pub(crate) placeholders: Placeholders,
    pub(crate) egress: EgressCounters,
    pub(crate) transport: Option<Arc<dyn crate::capabilities::transport::HttpTransport>>,
}

/// The data of one store: one call's worth of plugin state.
pub struct PluginState {
    pub(crate) shared: Arc<PluginShared>,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) stderr: CapturedOutput,
    /// When the current call must be done.
    pub(crate) deadline: std::time::Instant,
    /// Calls this instance has served.
    pub(crate) calls: u32,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: EgressHooks,
}

impl PluginState {
    /// Fresh state for one call: no files, no environment, no arguments,
    /// no sockets, no inherited stdio.
    pub(crate) fn new(shared: Arc<PluginShared>) -> Self {
        let stderr = CapturedOutput::default();
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        let limit = shared.policy.limits().memory_bytes;
        Self {
            limiter: MemoryLimiter::new(shared.id.clone(), limit),
            hooks: EgressHooks::new(shared.clone()),
            shared,
            table: ResourceTable::new(),
            stderr,
            deadline: std::time::Instant::now(),
            calls: 1,
            wasi,
            http: WasiHttpCtx::new(),
        }
    }
}

impl PluginState {
    /// Prepare a warm instance's state for its next call.
    pub(crate) fn begin_call(&mut self, deadline: std::time::Instant) {
        self.deadline = deadline;
        self.calls += 1;
        self.stderr.clear();
    }

    /// No resources (secret handles, HTTP bodies) left over from the call.
    pub(crate) fn table_is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for PluginState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl crate::bindings::silta::connector::types::Host for PluginState {}
