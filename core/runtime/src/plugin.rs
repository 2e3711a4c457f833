//! A loaded plugin and the calls into it.
//!
//! Every call gets a fresh instance in its own store: no state leaks between
//! calls or between customers, and a plugin that trapped or ran out of time
//! is simply dropped. With the pooling allocator a fresh instance costs
//! microseconds (see `benches/RESULTS.md`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Instance, InstancePre};
use wasmtime::{Store, UpdateDeadline};

use crate::bindings::{backoffice_export, channel_export, plugin_export, wit};
use crate::cache::CompileOutcome;
use crate::contract::{
    Activity, AttachmentBytes, Background, DeliveryOutcome, InboundEvent, Normalized,
    OutboundMessage, PluginInfo, Ticket, TransportRequest, TransportResponse,
};
use crate::conversions;
use crate::engine::SiltaEngine;
use crate::error::{Error, Result};
use crate::limiter::{DeadlineHit, MemoryCapHit};
use crate::manifest::{Limits, Manifest, PluginId, World};
use crate::output_size::OutputSize;
use crate::state::{PluginShared, PluginState};
use silta_model::{BackofficeLink, Identity, NormalizeOptions};

/// A plugin ready to be called.
pub struct Plugin {
    pub(crate) shared: Arc<PluginShared>,
    pub(crate) manifest: Manifest,
    pub(crate) engine: SiltaEngine,
    pub(crate) pre: InstancePre<PluginState>,
    pub(crate) plugin_indices: plugin_export::GuestIndices,
    pub(crate) channel_indices: Option<channel_export::GuestIndices>,
    pub(crate) backoffice_indices: Option<backoffice_export::GuestIndices>,
    pub(crate) info: PluginInfo,
    pub(crate) compile: CompileOutcome,
    pub(crate) normalize_options: NormalizeOptions,
    pub(crate) warm: std::sync::Mutex<Vec<Call>>,
    pub(crate) warm_limit: usize,
}

/// An instance serves at most this many calls before it is recycled, so a
/// slow leak in a plugin never accumulates.
pub const MAX_CALLS_PER_INSTANCE: u32 = 1000;

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.shared.id)
            .field("version", &self.manifest.version)
            .field("worlds", &self.manifest.worlds)
            .finish_non_exhaustive()
    }
}

/// One call's store and instance.
pub(crate) struct Call {
    pub(crate) store: Store<PluginState>,
    pub(crate) instance: Instance,
    started: Instant,
    /// The instance's exports, looked up (and type-checked) on its first
    /// call and reused by the calls after it.
    exports: Exports,
}

/// Export handles of one instance, each loaded on first use.
#[derive(Default)]
struct Exports {
    channel: Option<channel_export::Guest>,
    backoffice: Option<backoffice_export::Guest>,
}

impl Call {
    /// The `channel` world's exports of this instance.
    fn channel(
        &mut self,
        indices: &channel_export::GuestIndices,
    ) -> wasmtime::Result<channel_export::Guest> {
        if let Some(guest) = &self.exports.channel {
            return Ok(guest.clone());
        }
        let guest = indices.load(&mut self.store, &self.instance)?;
        self.exports.channel = Some(guest.clone());
        Ok(guest)
    }

    /// The `backoffice` world's exports of this instance.
    fn backoffice(
        &mut self,
        indices: &backoffice_export::GuestIndices,
    ) -> wasmtime::Result<backoffice_export::Guest> {
        if let Some(guest) = &self.exports.backoffice {
            return Ok(guest.clone());
        }
        let guest = indices.load(&mut self.store, &self.instance)?;
        self.exports.backoffice = Some(guest.clone());
        Ok(guest)
    }
}

impl Plugin {
    /// The plugin's id.
    pub fn id(&self) -> &PluginId {
        &self.shared.id
    }

    /// Its manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// What the plugin said about itself at load time.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Whether its code came from the on-disk cache.
    pub fn compile_outcome(&self) -> CompileOutcome {
        self.compile
    }

    /// The limits in force (manifest, lowered by the operator's grant).
    pub fn limits(&self) -> Limits {
        self.shared.policy.limits()
    }

    /// Outbound requests allowed and denied so far.
    pub fn egress_counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.shared.egress.allowed.load(Relaxed),
            self.shared.egress.denied.load(Relaxed),
        )
    }

    /// Fill this plugin's secret placeholders in a rendered HTTP request (in
    /// header values, and in the URL's path and query), when the operator
    /// granted its origin (see
    /// [`Policy::allows_rendered_origin`](crate::grant::Policy::allows_rendered_origin)).
    /// Returns `false` (and leaves the request as it is) when the origin is
    /// not granted; the host must then not send it.
    pub fn prepare_http_request(&self, request: &mut crate::contract::HttpRequest) -> bool {
        let Some(outbound) = self.outbound_request(request) else {
            return false;
        };
        request.url = outbound.url;
        request.headers = outbound
            .headers
            .into_iter()
            .map(|header| {
                let value = String::from_utf8_lossy(&header.value).into_owned();
                (header.name, value)
            })
            .collect();
        true
    }

    /// The request the host sends for a rendered HTTP request: secrets filled
    /// in (headers that hold one, and `authorization`, are marked
    /// sensitive; a URL that holds one keeps a redacted copy for logs).
    /// `None` when the operator did not grant the origin to this plugin, or
    /// the URL is not an absolute one; the host must then not send it.
    pub fn outbound_request(
        &self,
        request: &crate::contract::HttpRequest,
    ) -> Option<crate::capabilities::transport::OutboundRequest> {
        use crate::capabilities::transport::{OutboundHeader, OutboundRequest};
        let uri = request.url.parse::<http::Uri>().ok()?;
        let policy = &self.shared.policy;
        let allowed = crate::capabilities::http_egress::origin_of(&uri)
            .is_some_and(|(s, h, p)| policy.allows_rendered_origin(&s, &h, p));
        if !allowed {
            tracing::warn!(plugin = %self.shared.id, url = %request.url, "rendered request denied: origin not granted to the plugin in the configuration");
            return None;
        }
        let placeholders = &self.shared.placeholders;
        let (url, redacted_url) = match placeholders.fill_url(&request.url, policy) {
            Some(url) => (url.filled, Some(url.redacted)),
            None => (request.url.clone(), None),
        };
        let headers = request
            .headers
            .iter()
            .map(|(name, value)| {
                let filled = placeholders.fill(value.as_bytes(), policy);
                OutboundHeader {
                    sensitive: filled.is_some() || name.eq_ignore_ascii_case("authorization"),
                    name: name.to_ascii_lowercase(),
                    value: filled.unwrap_or_else(|| value.clone().into_bytes()),
                }
            })
            .collect();
        Some(OutboundRequest {
            method: request.method.clone(),
            url,
            redacted_url,
            headers,
            body: request.body.clone(),
        })
    }

    /// The answer to a provider's webhook subscription handshake (the
    /// decoded query parameters of `GET /v1/ingest/{channel_account}`),
    /// when the manifest declares one; see [`crate::handshake`]. Runs no
    /// plugin code.
    pub fn answer_webhook_handshake(
        &self,
        query: &std::collections::HashMap<String, String>,
    ) -> std::result::Result<String, crate::handshake::HandshakeRefusal> {
        let plugin = self.shared.id.as_str();
        let Some(handshake) = &self.manifest.webhook_handshake else {
            return Err(crate::handshake::HandshakeRefusal::NotDeclared {
                plugin: plugin.to_owned(),
            });
        };
        handshake.answer(plugin, &self.shared.policy, query)
    }

    // === calls ===

    /// Normalize a raw inbound event (world `channel`).
    pub async fn normalize(&self, event: &InboundEvent) -> Result<Vec<Normalized>> {
        let indices = self.channel()?;
        let wit_event = conversions::inbound_event_to_wit(event);
        let out = self
            .run(async |call: &mut Call| {
                let guest = call.channel(indices)?;
                guest.call_normalize(&mut call.store, &wit_event).await
            })
            .await?;
        let items = self.plugin_result(out)?;
        conversions::normalized_from_wit(items, event, &self.manifest, &self.normalize_options)
            .map_err(|source| Error::InvalidOutput {
                plugin: self.id().clone(),
                source,
            })
    }

    /// Render an outbound message into a transport request (world `channel`).
    pub async fn render(&self, message: &OutboundMessage) -> Result<TransportRequest> {
        self.render_with(message, &AttachmentBytes::new()).await
    }

    /// Render an outbound message whose attachment parts name bytes by
    /// content hash; `attachments` holds those bytes, which the plugin
    /// receives in each part's `content`.
    pub async fn render_with(
        &self,
        message: &OutboundMessage,
        attachments: &AttachmentBytes,
    ) -> Result<TransportRequest> {
        let indices = self.channel()?;
        let wit_message = conversions::outbound_message_to_wit(message, attachments);
        let out = self
            .run(async |call: &mut Call| {
                let guest = call.channel(indices)?;
                guest.call_render(&mut call.store, &wit_message).await
            })
            .await?;
        Ok(conversions::transport_request_from_wit(
            self.plugin_result(out)?,
        ))
    }

    /// Map a transport response to a delivery outcome (world `channel`).
    pub async fn interpret_response(
        &self,
        request: &TransportRequest,
        response: &TransportResponse,
    ) -> Result<DeliveryOutcome> {
        let indices = self.channel()?;
        let req = conversions::transport_request_to_wit(request);
        let resp = conversions::transport_response_to_wit(response);
        let out = self
            .run(async |call: &mut Call| {
                let guest = call.channel(indices)?;
                guest
                    .call_interpret_response(&mut call.store, &req, &resp)
                    .await
            })
            .await?;
        Ok(conversions::delivery_outcome_from_wit(
            self.plugin_result(out)?,
        ))
    }

    /// Look up a party's background by its identities (world `backoffice`).
    pub async fn lookup(&self, identities: &[Identity]) -> Result<Option<Background>> {
        let indices = self.backoffice()?;
        let ids: Vec<wit::Identity> = identities
            .iter()
            .map(conversions::identity_to_wit)
            .collect();
        let out = self
            .run(async |call: &mut Call| {
                let guest = call.backoffice(indices)?;
                guest.call_lookup_party(&mut call.store, &ids).await
            })
            .await?;
        match self.plugin_result(out)? {
            None => Ok(None),
            Some(bg) => conversions::background_from_wit(bg, &self.normalize_options)
                .map(Some)
                .map_err(|source| Error::InvalidOutput {
                    plugin: self.id().clone(),
                    source,
                }),
        }
    }

    /// Record an interaction as a back-office activity (world `backoffice`).
    pub async fn record_activity(&self, activity: &Activity) -> Result<BackofficeLink> {
        let indices = self.backoffice()?;
        let a = conversions::activity_to_wit(activity);
        let out = self
            .run(async |call: &mut Call| {
                let guest = call.backoffice(indices)?;
                guest.call_record_activity(&mut call.store, &a).await
            })
            .await?;
        Ok(conversions::backoffice_link_from_wit(
            self.plugin_result(out)?,
        ))
    }

    /// Create or update a ticket (world `backoffice`).
    pub async fn upsert_ticket(&self, ticket: &Ticket) -> Result<BackofficeLink> {
        let indices = self.backoffice()?;
        let t = conversions::ticket_to_wit(ticket);
        let out = self
            .run(async |call: &mut Call| {
                let guest = call.backoffice(indices)?;
                guest.call_upsert_ticket(&mut call.store, &t).await
            })
            .await?;
        Ok(conversions::backoffice_link_from_wit(
            self.plugin_result(out)?,
        ))
    }

    /// Ask the plugin to describe itself.
    pub async fn describe(&self) -> Result<PluginInfo> {
        let indices = &self.plugin_indices;
        let out = self
            .run(async |call: &mut Call| {
                let guest = indices.load(&mut call.store, &call.instance)?;
                guest.call_describe(&mut call.store).await
            })
            .await?;
        Ok(conversions::plugin_info_from_wit(out))
    }

    /// Instantiate and drop a fresh instance (used by benchmarks and
    /// readiness checks).
    pub async fn instantiate_only(&self) -> Result<()> {
        // Always fresh: this measures and checks instantiation.
        self.run_on(None, async |_call: &mut Call| Ok(())).await
    }

    /// For benchmarks: instantiate once, call `describe` `n` times on that
    /// instance, and return how long the calls took (instantiation
    /// excluded). Measures the cost of crossing into wasm and back.
    #[doc(hidden)]
    pub async fn time_describe_calls(&self, n: u64) -> Result<Duration> {
        let indices = &self.plugin_indices;
        self.run(async |call: &mut Call| {
            let guest = indices.load(&mut call.store, &call.instance)?;
            let started = Instant::now();
            for _ in 0..n {
                std::hint::black_box(guest.call_describe(&mut call.store).await?);
            }
            Ok(started.elapsed())
        })
        .await
    }

    // === machinery ===

    fn channel(&self) -> Result<&channel_export::GuestIndices> {
        self.channel_indices
            .as_ref()
            .ok_or(Error::WorldNotImplemented {
                plugin: self.id().clone(),
                world: World::Channel.as_str(),
            })
    }

    fn backoffice(&self) -> Result<&backoffice_export::GuestIndices> {
        self.backoffice_indices
            .as_ref()
            .ok_or(Error::WorldNotImplemented {
                plugin: self.id().clone(),
                world: World::Backoffice.as_str(),
            })
    }

    fn plugin_result<T>(&self, out: std::result::Result<T, wit::PluginError>) -> Result<T> {
        out.map_err(|e| Error::Plugin {
            plugin: self.id().clone(),
            error: conversions::plugin_error_from_wit(e),
        })
    }

    fn new_store(&self, deadline: Instant) -> Store<PluginState> {
        let mut state = PluginState::new(self.shared.clone());
        state.deadline = deadline;
        let mut store = Store::new(self.engine.engine(), state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            if Instant::now() >= ctx.data().deadline {
                Err(wasmtime::Error::new(DeadlineHit))
            } else {
                // tokio's own yield lets the scheduler poll its I/O and
                // timer drivers before resuming us, so other tasks (and
                // timeouts) make progress even on a single-threaded runtime.
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });
        store
    }

    /// Run `f` under the plugin's deadline, memory cap and output cap, and
    /// turn every way it can fail into a typed error.
    ///
    /// The instance is a warm one from an earlier successful call when one
    /// is idle, else a fresh one. An instance goes back to the warm set only
    /// after a call that returned normally, while its memory is under half
    /// its cap and it has served fewer than [`MAX_CALLS_PER_INSTANCE`]
    /// calls; after a trap, a deadline or a memory cap it is dropped.
    pub(crate) async fn run<R: OutputSize>(
        &self,
        f: impl AsyncFnOnce(&mut Call) -> wasmtime::Result<R>,
    ) -> Result<R> {
        self.run_on(self.take_warm(), f).await
    }

    async fn run_on<R: OutputSize>(
        &self,
        warm: Option<Call>,
        f: impl AsyncFnOnce(&mut Call) -> wasmtime::Result<R>,
    ) -> Result<R> {
        let limits = self.limits();
        let started = Instant::now();
        let deadline = started + limits.deadline();
        let mut call = match warm {
            Some(mut call) => {
                call.started = started;
                call.store.data_mut().begin_call(deadline);
                call.store.set_epoch_deadline(1);
                call
            }
            None => {
                let mut store = self.new_store(deadline);
                let instantiated = tokio::time::timeout_at(
                    deadline.into(),
                    self.pre.instantiate_async(&mut store),
                )
                .await;
                let instance = match instantiated {
                    Err(_) => return Err(self.deadline_error(limits.deadline())),
                    Ok(Err(e)) => return Err(self.classify(e, &store, limits)),
                    Ok(Ok(instance)) => instance,
                };
                Call {
                    store,
                    instance,
                    started,
                    exports: Exports::default(),
                }
            }
        };
        let outcome = tokio::time::timeout_at(deadline.into(), f(&mut call)).await;
        let value = match outcome {
            Err(_) => return Err(self.deadline_error(limits.deadline())),
            Ok(Err(e)) => return Err(self.classify(e, &call.store, limits)),
            Ok(Ok(value)) => value,
        };
        let size = value.output_size();
        tracing::trace!(plugin = %self.id(), elapsed_us = call.started.elapsed().as_micros() as u64, "plugin call done");
        self.give_back(call, limits);
        if size > limits.output_bytes {
            return Err(Error::OutputTooLarge {
                plugin: self.id().clone(),
                limit_bytes: limits.output_bytes,
                actual_bytes: size,
            });
        }
        Ok(value)
    }

    /// Idle warm instances (for tests and metrics).
    pub fn warm_instances(&self) -> usize {
        self.warm.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn take_warm(&self) -> Option<Call> {
        self.warm.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    fn give_back(&self, call: Call, limits: Limits) {
        let state = call.store.data();
        let reusable = state.calls < MAX_CALLS_PER_INSTANCE
            && state.limiter.memory_bytes() <= limits.memory_bytes / 2
            && state.table_is_empty();
        if !reusable {
            return;
        }
        let mut warm = self.warm.lock().unwrap_or_else(|p| p.into_inner());
        if warm.len() < self.warm_limit {
            warm.push(call);
        }
    }

    fn deadline_error(&self, limit: Duration) -> Error {
        tracing::warn!(plugin = %self.id(), limit_ms = limit.as_millis() as u64, "plugin call stopped at its deadline");
        Error::DeadlineExceeded {
            plugin: self.id().clone(),
            limit,
        }
    }

    fn classify(&self, e: wasmtime::Error, store: &Store<PluginState>, limits: Limits) -> Error {
        if let Some(hit) = e.downcast_ref::<MemoryCapHit>() {
            tracing::warn!(plugin = %self.id(), limit = hit.limit, requested = hit.requested, "plugin stopped at its memory cap");
            return Error::MemoryCapExceeded {
                plugin: self.id().clone(),
                limit_bytes: hit.limit,
                requested_bytes: hit.requested,
            };
        }
        if e.downcast_ref::<DeadlineHit>().is_some() {
            return self.deadline_error(limits.deadline());
        }
        let stderr = store.data().stderr.text();
        let mut message = format!("{e:#}");
        if !stderr.is_empty() {
            message = format!("{message}; plugin stderr: {stderr}");
        }
        tracing::warn!(plugin = %self.id(), %message, "plugin trapped");
        Error::Trapped {
            plugin: self.id().clone(),
            message,
        }
    }
}
