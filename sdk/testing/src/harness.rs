//! Build, load and call a plugin under test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use silta_model::{ChannelAccountId, Identity, Timestamp};
use silta_runtime::contract::{
    Activity, AttachmentBytes, Background, DeliveryOutcome, InboundEvent, Normalized,
    OutboundMessage, Ticket, TransportMeta, TransportRequest, TransportResponse,
};
use silta_runtime::grant::{Grant, SecretValue};
use silta_runtime::manifest::Manifest;
use silta_runtime::{Plugin, PluginSource, Runtime, RuntimeOptions};

use crate::build;
use crate::error::{Error, Result};
use crate::recording::{Mode, RecordingTransport};

/// Builder for a [`PluginUnderTest`].
#[must_use]
pub struct Harness {
    source: Source,
    manifest: Option<PathBuf>,
    secrets: BTreeMap<String, SecretValue>,
    config: BTreeMap<String, String>,
    recordings: Option<PathBuf>,
    record: bool,
    channel_account: ChannelAccountId,
}

/// The channel account id events come from unless a test sets another:
/// fixed, so golden files are stable.
pub const TEST_CHANNEL_ACCOUNT: &str = "01890a5d-ac96-7000-8000-00000000c0de";

/// When the harness's events are received: fixed, for the same reason.
pub const TEST_RECEIVED_AT: &str = "2026-11-23T20:00:00Z";

enum Source {
    Crate(PathBuf),
    Component(PathBuf),
}

impl Harness {
    /// Test the plugin crate at `crate_dir` (usually
    /// `env!("CARGO_MANIFEST_DIR")`); its manifest is `plugin.toml` there.
    pub fn for_crate(crate_dir: impl AsRef<Path>) -> Self {
        let dir = crate_dir.as_ref().to_path_buf();
        Self::new(Source::Crate(dir.clone()), Some(dir.join("plugin.toml")))
    }

    /// Test an already built component with the manifest at `manifest`.
    pub fn for_component(wasm: impl AsRef<Path>, manifest: impl AsRef<Path>) -> Self {
        Self::new(
            Source::Component(wasm.as_ref().to_path_buf()),
            Some(manifest.as_ref().to_path_buf()),
        )
    }

    fn new(source: Source, manifest: Option<PathBuf>) -> Self {
        Self {
            source,
            manifest,
            secrets: BTreeMap::new(),
            config: BTreeMap::new(),
            recordings: None,
            record: false,
            channel_account: ChannelAccountId::parse("TEST_CHANNEL_ACCOUNT", TEST_CHANNEL_ACCOUNT)
                .unwrap_or_default(),
        }
    }

    /// The channel account events come from (default [`TEST_CHANNEL_ACCOUNT`]).
    pub fn channel_account(mut self, id: ChannelAccountId) -> Self {
        self.channel_account = id;
        self
    }

    /// Record instead of replaying, whatever `SILTA_RECORD` says.
    pub fn record(mut self) -> Self {
        self.record = true;
        self
    }

    /// Configure a secret the manifest requests.
    pub fn secret(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.secrets
            .insert(name.to_string(), SecretValue::new(value));
        self
    }

    /// Set a configuration value.
    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.config.insert(key.to_string(), value.to_string());
        self
    }

    /// Answer outbound HTTP from this recordings file (relative paths are
    /// taken from the current directory, which `cargo test` sets to the
    /// crate). With `SILTA_RECORD=1` in the environment, requests go to the
    /// live endpoints and the file is rewritten with what they answered.
    pub fn recordings(mut self, path: impl AsRef<Path>) -> Self {
        self.recordings = Some(path.as_ref().to_path_buf());
        self
    }

    /// Build (if needed) and load the plugin, granting everything its
    /// manifest requests. Panics with the reason if that fails: a test
    /// cannot go on without its plugin.
    pub async fn start(self) -> PluginUnderTest {
        match self.try_start().await {
            Ok(p) => p,
            Err(e) => panic!("could not start the plugin under test: {e}"),
        }
    }

    /// Like [`Harness::start`], returning the error.
    pub async fn try_start(self) -> Result<PluginUnderTest> {
        let wasm_path = match &self.source {
            Source::Crate(dir) => build::component(dir)?,
            Source::Component(path) => path.clone(),
        };
        let manifest_path = self
            .manifest
            .clone()
            .unwrap_or_else(|| wasm_path.with_extension("toml"));
        let manifest = Manifest::load(&manifest_path)?;
        let mode = if self.record || std::env::var("SILTA_RECORD").is_ok_and(|v| v == "1") {
            Mode::Record
        } else {
            Mode::Replay
        };
        let transport = Arc::new(RecordingTransport::new(mode, self.recordings.clone())?);
        let runtime = Runtime::new(RuntimeOptions {
            http_transport: Some(transport.clone()),
            ..RuntimeOptions::default()
        })?;
        let mut grant = Grant::all_requested(&manifest);
        grant.secrets = self.secrets;
        grant.config = self.config;
        let wasm = std::fs::read(&wasm_path).map_err(|e| Error::File {
            path: wasm_path.clone(),
            reason: e.to_string(),
        })?;
        let plugin = runtime
            .load(PluginSource {
                wasm,
                origin: wasm_path,
                manifest,
                grant,
            })
            .await?;
        Ok(PluginUnderTest {
            _runtime: runtime,
            plugin,
            transport,
            channel_account: self.channel_account,
        })
    }
}

/// A plugin loaded in the real runtime, ready to call.
pub struct PluginUnderTest {
    _runtime: Runtime,
    plugin: Arc<Plugin>,
    transport: Arc<RecordingTransport>,
    channel_account: ChannelAccountId,
}

impl PluginUnderTest {
    /// The loaded plugin (manifest, info, limits).
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// The channel account the harness's events come from.
    pub fn channel_account(&self) -> ChannelAccountId {
        self.channel_account
    }

    /// An inbound webhook event as the HTTP ingest would build it,
    /// received at [`TEST_RECEIVED_AT`] so that output is reproducible.
    pub fn http_event(&self, body: &[u8], headers: &[(&str, &str)]) -> InboundEvent {
        self.event(
            TransportMeta::Http {
                method: "POST".into(),
                path: "/v1/ingest".into(),
                query: None,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                    .collect(),
            },
            body.to_vec(),
        )
    }

    /// A raw email as the IMAP ingest would hand it over (INBOX, UID 1),
    /// received at [`TEST_RECEIVED_AT`].
    pub fn imap_event(&self, raw: Vec<u8>) -> InboundEvent {
        self.event(
            TransportMeta::Imap {
                mailbox: "INBOX".into(),
                uid_validity: 1,
                uid: 1,
                flags: Vec::new(),
            },
            raw,
        )
    }

    /// An event a host component hands over itself (the web chat
    /// gateway), with transport metadata `other(meta)`, received at
    /// [`TEST_RECEIVED_AT`].
    pub fn other_event(&self, meta: &[(&str, &str)], body: Vec<u8>) -> InboundEvent {
        self.event(
            TransportMeta::Other(
                meta.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            body,
        )
    }

    fn event(&self, transport: TransportMeta, body: Vec<u8>) -> InboundEvent {
        InboundEvent {
            channel_account: self.channel_account,
            received_at: Timestamp::parse_rfc3339("TEST_RECEIVED_AT", TEST_RECEIVED_AT)
                .unwrap_or_else(|_| Timestamp::now()),
            transport,
            body,
        }
    }

    /// Normalize a webhook body with these headers.
    pub async fn normalize_http(
        &self,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> silta_runtime::Result<Vec<Normalized>> {
        self.normalize(&self.http_event(body, headers)).await
    }

    /// Normalize an inbound event.
    pub async fn normalize(&self, event: &InboundEvent) -> silta_runtime::Result<Vec<Normalized>> {
        let out = self.plugin.normalize(event).await;
        self.after_call();
        out
    }

    /// Render an outbound message.
    pub async fn render(
        &self,
        message: &OutboundMessage,
    ) -> silta_runtime::Result<TransportRequest> {
        let out = self.plugin.render(message).await;
        self.after_call();
        out
    }

    /// Render an outbound message whose attachment parts name bytes by
    /// content hash, as the host does: `attachments` stands in for its
    /// blob store, and the plugin gets the bytes in each part's `content`.
    pub async fn render_with(
        &self,
        message: &OutboundMessage,
        attachments: &AttachmentBytes,
    ) -> silta_runtime::Result<TransportRequest> {
        let out = self.plugin.render_with(message, attachments).await;
        self.after_call();
        out
    }

    /// Interpret a transport response.
    pub async fn interpret_response(
        &self,
        request: &TransportRequest,
        response: &TransportResponse,
    ) -> silta_runtime::Result<DeliveryOutcome> {
        let out = self.plugin.interpret_response(request, response).await;
        self.after_call();
        out
    }

    /// Look up a party's background.
    pub async fn lookup_party(
        &self,
        identities: &[Identity],
    ) -> silta_runtime::Result<Option<Background>> {
        let out = self.plugin.lookup(identities).await;
        self.after_call();
        out
    }

    /// Record an activity.
    pub async fn record_activity(
        &self,
        activity: &Activity,
    ) -> silta_runtime::Result<silta_model::BackofficeLink> {
        let out = self.plugin.record_activity(activity).await;
        self.after_call();
        out
    }

    /// Create or update a ticket.
    pub async fn upsert_ticket(
        &self,
        ticket: &Ticket,
    ) -> silta_runtime::Result<silta_model::BackofficeLink> {
        let out = self.plugin.upsert_ticket(ticket).await;
        self.after_call();
        out
    }

    /// Fail the test if the plugin made a request with no recording.
    fn after_call(&self) {
        let unrecorded = self.transport.take_unrecorded();
        if let Some(first) = unrecorded.first() {
            panic!(
                "plugin `{}` made an HTTP request that has no recording:\n\n{first}\n\nRecord it against the live endpoint with SILTA_RECORD=1, or add it to the recordings file.",
                self.plugin.id()
            );
        }
    }
}

impl Drop for PluginUnderTest {
    fn drop(&mut self) {
        if let Err(e) = self.transport.save() {
            eprintln!("could not save recordings: {e}");
        }
    }
}
