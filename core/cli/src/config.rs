//! The Silta configuration file: parsed once, at the edge, into types.
//!
//! ```toml
//! config_version = 1
//! data_dir = "./silta-data"
//!
//! [api]
//! listen = "127.0.0.1:8080"
//! tokens = []                  # bearer tokens; also SILTA_API_TOKEN; else one is generated
//! max_body_bytes = 1048576
//! max_blob_bytes = 26214400    # largest attachment upload (POST /v1/blobs)
//!
//! [store]
//! fsync = true                 # fsync every commit (off: safe from crashes, not power cuts)
//!
//! [pipeline]
//! workers = 4                  # inbound workers; a party always uses the same one
//! max_attempts = 10            # outbound attempts before dead-lettering
//! retry_initial_ms = 1000
//! retry_max_seconds = 300
//! shutdown_grace_seconds = 30
//!
//! case_window_hours = 168     # a new channel joins an open case this recent
//!
//! [[channel_accounts]]
//! name = "shop"                # POST /v1/ingest/shop
//! plugin = "webhook"
//! rate_limits = { messages_per_second = 5 }   # stricter than the plugin's own
//! ingest_auth = "api-token"    # or "provider-signature" (WhatsApp, Telegram)
//!
//! [[channel_accounts]]
//! name = "site"                # the web chat: /v1/webchat/site/widget.js
//! plugin = "webchat"
//! webchat = { allowed_origins = ["https://shop.example.com"] }
//!
//! [[backoffice]]               # enrich every interaction from a CRM or ERP
//! plugin = "tryton"
//! snapshot_ttl_seconds = 900   # lookups are cached this long
//! record_activities = false    # true: record each interaction in the system
//! calls_per_second = 10
//! timeout_ms = 10000
//!
//! [engine]
//! pooling = true
//! warm_instances_per_plugin = 2   # 0: a fresh instance for every call
//!
//! # Grant a bundled or external plugin what it asks for.
//! [[plugins]]
//! id = "webhook"
//! # path = "/opt/silta/plugins/webhook.wasm"   # omit for a bundled plugin
//! capabilities = ["log", "kv", "secrets", "config", "http"]
//! allowed_hosts = ["https://hooks.example.com"]
//! secrets = { signing-key = { env = "SILTA_WEBHOOK_SIGNING_KEY" } }
//! config = { endpoint = "https://hooks.example.com/silta" }
//! ```
//!
//! Unknown fields are rejected. Secrets are never written in the file: each
//! names the environment variable (`env`) or the file (`file`) that holds it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;
use silta_pipeline::channels::IngestAuth;
use silta_runtime::allowed_hosts::AllowedHost;
use silta_runtime::engine::EngineOptions;
use silta_runtime::grant::{Grant, SecretValue};
use silta_runtime::manifest::{Capability, Limits, PluginId};
use silta_runtime::rate_limits::RateLimits;

use crate::email_config::{ImapConfig, SmtpConfig};

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version; must be 1.
    pub config_version: u32,
    /// Where Silta keeps its data.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The HTTP API.
    #[serde(default)]
    pub api: ApiConfig,
    /// Engine settings.
    #[serde(default)]
    pub engine: EngineConfig,
    /// How the common contact format normalizes values.
    #[serde(default)]
    pub contact_format: ContactFormatConfig,
    /// Offer the plugins bundled in the binary. A bundled plugin is loaded
    /// only when a `[[plugins]]` entry, a channel account or a
    /// `[[backoffice]]` entry names it.
    #[serde(default = "yes")]
    pub bundled_plugins: bool,
    /// Plugin grants (and external plugins).
    #[serde(default)]
    pub plugins: Vec<PluginConfig>,
    /// The store.
    #[serde(default)]
    pub store: StoreConfig,
    /// Pipeline tuning.
    #[serde(default)]
    pub pipeline: PipelineConfig,
    /// Our endpoints and the plugins that serve them.
    #[serde(default)]
    pub channel_accounts: Vec<ChannelAccountConfig>,
    /// Back offices (CRM, ERP) every interaction is enriched from.
    #[serde(default)]
    pub backoffice: Vec<BackofficeConfig>,
}

/// One back office: a plugin of the `backoffice` world and how to use it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackofficeConfig {
    /// The plugin's id (bundled or under `[[plugins]]`).
    pub plugin: String,
    /// How long a lookup's answer is trusted, in seconds.
    #[serde(default = "default_snapshot_ttl")]
    pub snapshot_ttl_seconds: u64,
    /// Record every interaction as an activity in this system.
    #[serde(default)]
    pub record_activities: bool,
    /// At most this many calls per second.
    #[serde(default = "default_calls_per_second")]
    pub calls_per_second: f64,
    /// Give up a call after this many milliseconds.
    #[serde(default = "default_backoffice_timeout_ms")]
    pub timeout_ms: u64,
    /// Attempts at one interaction's enrichment before it is marked
    /// failed (retried with the pipeline's backoff in between).
    #[serde(default = "default_backoffice_attempts")]
    pub max_attempts: u32,
}

fn default_snapshot_ttl() -> u64 {
    900
}

fn default_calls_per_second() -> f64 {
    10.0
}

fn default_backoffice_timeout_ms() -> u64 {
    10_000
}

fn default_backoffice_attempts() -> u32 {
    20
}

/// Store settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Fsync every commit.
    #[serde(default = "yes")]
    pub fsync: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { fsync: true }
    }
}

/// Pipeline settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Inbound workers.
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Outbound attempts before dead-lettering.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// First retry delay, in milliseconds (outbound sends and back-office
    /// enrichment).
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
    /// Longest retry delay, in seconds.
    #[serde(default = "default_retry_max_seconds")]
    pub retry_max_seconds: u64,
    /// How long shutdown waits for in-flight work.
    #[serde(default = "default_grace")]
    pub shutdown_grace_seconds: u64,
    /// A message on a new channel joins the party's open case when that
    /// case saw activity within this many hours.
    #[serde(default = "default_case_window_hours")]
    pub case_window_hours: u64,
}

fn default_case_window_hours() -> u64 {
    168
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            workers: default_workers(),
            max_attempts: default_max_attempts(),
            retry_initial_ms: default_retry_initial_ms(),
            retry_max_seconds: default_retry_max_seconds(),
            shutdown_grace_seconds: default_grace(),
            case_window_hours: default_case_window_hours(),
        }
    }
}

fn default_workers() -> usize {
    4
}
fn default_max_attempts() -> u32 {
    10
}
fn default_retry_initial_ms() -> u64 {
    1000
}
fn default_retry_max_seconds() -> u64 {
    300
}
fn default_grace() -> u64 {
    30
}

/// A channel account: the name in the ingest URL and its plugin.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelAccountConfig {
    /// Name (`POST /v1/ingest/{name}`); letters, digits, `-` and `_`.
    pub name: String,
    /// The channel plugin serving it.
    pub plugin: PluginId,
    /// Where an email account's mail comes from (IMAP).
    pub imap: Option<ImapConfig>,
    /// Where an email account's mail goes out (SMTP).
    pub smtp: Option<SmtpConfig>,
    /// Send limits stricter than the plugin's (a trial account, a shared
    /// number): `{ messages_per_second = 1, per_recipient_per_second = 1 }`.
    pub rate_limits: Option<RateLimits>,
    /// Who may post to `POST /v1/ingest/{name}`: `"api-token"` (the
    /// default) or `"provider-signature"`, for a provider that cannot send
    /// Silta's API token (WhatsApp, Telegram): the plugin's check of the
    /// provider's signature is then what authenticates an event.
    #[serde(default)]
    pub ingest_auth: IngestAuth,
    /// Makes the account a web chat served by Silta: which sites may
    /// embed the widget, and what visitors may upload.
    pub webchat: Option<silta_webchat::WebchatSettings>,
}

/// HTTP API settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Listen address; loopback by default.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Accepted bearer tokens (besides `SILTA_API_TOKEN`). With none, a
    /// token is generated and kept in the data directory.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Largest ingest body, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Largest attachment upload (`POST /v1/blobs`), in bytes.
    #[serde(default = "default_max_blob")]
    pub max_blob_bytes: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            tokens: Vec::new(),
            max_body_bytes: default_max_body(),
            max_blob_bytes: default_max_blob(),
        }
    }
}

fn default_max_body() -> usize {
    1024 * 1024
}

fn default_max_blob() -> usize {
    25 * 1024 * 1024
}

/// Normalization settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactFormatConfig {
    /// Region for phone numbers written without a country code (ISO 3166
    /// alpha-2, e.g. `"FI"`). Without it such numbers are rejected.
    pub default_phone_region: Option<String>,
}

impl ContactFormatConfig {
    /// The model's normalization options.
    pub fn normalize_options(&self) -> anyhow::Result<silta_model::NormalizeOptions> {
        match &self.default_phone_region {
            None => Ok(silta_model::NormalizeOptions::default()),
            Some(region) => silta_model::NormalizeOptions::with_default_region(region)
                .with_context(|| format!("contact_format.default_phone_region = {region:?}")),
        }
    }
}

/// Engine settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Use the pooling allocator when the host allows.
    #[serde(default = "yes")]
    pub pooling: bool,
    /// Concurrent plugin instances in the pool.
    #[serde(default = "default_pool_instances")]
    pub pool_instances: u32,
    /// Idle instances kept per plugin for later calls; 0 gives every call
    /// a fresh instance (no plugin memory survives between calls).
    #[serde(default = "default_warm_instances")]
    pub warm_instances_per_plugin: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            pooling: true,
            pool_instances: default_pool_instances(),
            warm_instances_per_plugin: default_warm_instances(),
        }
    }
}

/// Where a secret's value comes from: `{ env = "VAR" }` or
/// `{ file = "path" }` (its contents, trailing whitespace trimmed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// The environment variable holding it.
    pub env: Option<String>,
    /// The file holding it.
    pub file: Option<PathBuf>,
    /// Create the file with a random value when it is missing.
    #[serde(default)]
    pub generate: bool,
}

impl SecretSource {
    /// The secret's value; `what` names it in errors.
    pub fn read(&self, what: &str) -> anyhow::Result<String> {
        match (&self.env, &self.file) {
            (Some(var), None) => std::env::var(var)
                .with_context(|| format!("{what} expects environment variable {var} to be set")),
            (None, Some(file)) => {
                if self.generate && !file.exists() {
                    crate::secret_file::generate(file)?;
                }
                crate::secret_file::read(file)
                    .with_context(|| format!("{what} from file {}", file.display()))
            }
            _ => bail!("{what} needs exactly one of `env = \"VAR\"` or `file = \"path\"`"),
        }
    }
}

/// One plugin's grant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// The plugin id.
    pub id: PluginId,
    /// The component; omitted for a bundled plugin. Its manifest is the
    /// `.toml` file beside it.
    pub path: Option<PathBuf>,
    /// Capabilities granted.
    #[serde(default)]
    pub capabilities: BTreeSet<Capability>,
    /// Outbound origins granted.
    #[serde(default)]
    pub allowed_hosts: Vec<AllowedHost>,
    /// Secrets, each from an environment variable.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretSource>,
    /// Settings the plugin reads.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Lower limits than the manifest's.
    pub limits: Option<Limits>,
}

impl PluginConfig {
    /// The runtime grant, reading secrets from the environment.
    pub fn grant(&self) -> anyhow::Result<Grant> {
        let mut secrets = BTreeMap::new();
        for (name, source) in &self.secrets {
            let value = source.read(&format!("plugin {}: secret `{name}`", self.id))?;
            secrets.insert(name.clone(), SecretValue::new(value.into_bytes()));
        }
        Ok(Grant {
            capabilities: self.capabilities.clone(),
            allowed_hosts: self.allowed_hosts.clone(),
            secrets,
            config: self.config.clone(),
            limits: self.limits,
        })
    }
}

/// `true`, for `#[serde(default = "yes")]`.
pub(crate) fn yes() -> bool {
    true
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./silta-data")
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

// Engine defaults come from the runtime, so the two cannot drift.
fn default_pool_instances() -> u32 {
    EngineOptions::default().pool_instances
}

fn default_warm_instances() -> usize {
    EngineOptions::default().warm_instances_per_plugin
}

impl Config {
    /// The embedded default: data in `./silta-data`, API on
    /// 127.0.0.1:8080, the bundled plugins, and a channel account
    /// `webhook` served by the webhook plugin, whose signing key is
    /// generated into `silta-data/secrets/webhook-signing-key`.
    pub fn embedded_default() -> Self {
        let data_dir = default_data_dir();
        let webhook = PluginConfig {
            id: PluginId::new("webhook").unwrap_or_else(|_| unreachable!("valid id")),
            path: None,
            capabilities: [Capability::Log, Capability::Secrets, Capability::Config]
                .into_iter()
                .collect(),
            allowed_hosts: Vec::new(),
            secrets: [(
                "signing-key".to_owned(),
                SecretSource {
                    env: None,
                    file: Some(data_dir.join("secrets").join("webhook-signing-key")),
                    generate: true,
                },
            )]
            .into_iter()
            .collect(),
            config: BTreeMap::new(),
            limits: None,
        };
        Self {
            config_version: 1,
            api: ApiConfig::default(),
            engine: EngineConfig::default(),
            contact_format: ContactFormatConfig::default(),
            bundled_plugins: true,
            channel_accounts: vec![ChannelAccountConfig {
                name: "webhook".into(),
                plugin: webhook.id.clone(),
                imap: None,
                smtp: None,
                rate_limits: None,
                ingest_auth: IngestAuth::ApiToken,
                webchat: None,
            }],
            plugins: vec![webhook],
            backoffice: Vec::new(),
            store: StoreConfig::default(),
            pipeline: PipelineConfig::default(),
            data_dir,
        }
    }

    /// Whether a `[[plugins]]` entry, a channel account or a
    /// `[[backoffice]]` entry names the plugin `id`.
    pub fn names_plugin(&self, id: &str) -> bool {
        self.plugins.iter().any(|p| p.id.as_str() == id)
            || self
                .channel_accounts
                .iter()
                .any(|a| a.plugin.as_str() == id)
            || self.backoffice.iter().any(|b| b.plugin == id)
    }

    /// Parse TOML text.
    pub fn parse(text: &str, origin: &Path) -> anyhow::Result<Self> {
        let config: Config =
            toml::from_str(text).with_context(|| format!("configuration {}", origin.display()))?;
        if config.config_version != 1 {
            bail!(
                "configuration {}: config_version {} is not supported; this Silta reads config_version = 1",
                origin.display(),
                config.config_version
            );
        }
        config.contact_format.normalize_options()?;
        let mut seen = BTreeSet::new();
        for p in &config.plugins {
            if !seen.insert(p.id.clone()) {
                bail!(
                    "configuration {}: plugin `{}` is listed twice",
                    origin.display(),
                    p.id
                );
            }
            if let Some(any) = p.allowed_hosts.iter().find(|h| h.is_any_host()) {
                bail!(
                    "configuration {}: plugin `{}`: allowed_hosts {any:?} grants any host; name the origin the plugin may call (`https://crm.example.com`, `https://*.example.com`)",
                    origin.display(),
                    p.id
                );
            }
        }
        let mut names = BTreeSet::new();
        for account in &config.channel_accounts {
            let valid = !account.name.is_empty()
                && account
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid {
                bail!(
                    "configuration {}: channel account name {:?} may hold only letters, digits, `-` and `_`",
                    origin.display(),
                    account.name
                );
            }
            if let Some(problem) = account.rate_limits.and_then(|r| r.problem()) {
                bail!(
                    "configuration {}: channel account `{}`: {problem}",
                    origin.display(),
                    account.name
                );
            }
            if let Some(problem) = account
                .webchat
                .as_ref()
                .and_then(silta_webchat::WebchatSettings::problem)
            {
                bail!(
                    "configuration {}: channel account `{}`: {problem}",
                    origin.display(),
                    account.name
                );
            }
            if !names.insert(account.name.clone()) {
                bail!(
                    "configuration {}: channel account `{}` is listed twice",
                    origin.display(),
                    account.name
                );
            }
        }
        Ok(config)
    }

    /// Load from a file, or the embedded default.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        match path {
            None => Ok(Self::embedded_default()),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading configuration {}", path.display()))?;
                Self::parse(&text, path)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config() {
        let c = Config::parse(
            r#"
config_version = 1
data_dir = "/tmp/x"
[api]
listen = "127.0.0.1:9000"
[[plugins]]
id = "webhook"
capabilities = ["log", "http"]
allowed_hosts = ["https://hooks.example.com"]
config = { endpoint = "https://hooks.example.com/in" }
"#,
            Path::new("c.toml"),
        )
        .expect("valid");
        assert_eq!(c.api.listen.port(), 9000);
        assert_eq!(
            c.engine.warm_instances_per_plugin,
            EngineOptions::default().warm_instances_per_plugin
        );
        let fresh = Config::parse(
            "config_version = 1\n[engine]\nwarm_instances_per_plugin = 0\n",
            Path::new("c.toml"),
        )
        .expect("valid");
        assert_eq!(fresh.engine.warm_instances_per_plugin, 0);
        assert_eq!(c.plugins[0].allowed_hosts.len(), 1);
    }

    #[test]
    fn rejects_unknown_fields_and_bad_hosts() {
        let err =
            Config::parse("config_version = 1\nlisten = 1\n", Path::new("c.toml")).unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
        let err = Config::parse(
            "config_version = 1\n[[plugins]]\nid = \"w\"\nallowed_hosts = [\"example.com\"]\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("does not contain a scheme"),
            "{err:#}"
        );
        let err = Config::parse(
            "config_version = 1\n[[plugins]]\nid = \"w\"\nallowed_hosts = [\"https://*:*\"]\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("grants any host"), "{err:#}");
    }

    #[test]
    fn phone_region_is_checked() {
        let ok = Config::parse(
            "config_version = 1\n[contact_format]\ndefault_phone_region = \"FI\"\n",
            Path::new("c.toml"),
        );
        assert!(ok.is_ok());
        let err = Config::parse(
            "config_version = 1\n[contact_format]\ndefault_phone_region = \"XX\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("default_phone_region"),
            "{err:#}"
        );
    }

    #[test]
    fn missing_secret_env_names_the_variable() {
        let c = Config::parse(
            "config_version = 1\n[[plugins]]\nid = \"w\"\nsecrets = { k = { env = \"SILTA_TEST_UNSET_VAR_1\" } }\n",
            Path::new("c.toml"),
        )
        .expect("valid");
        let err = c.plugins[0].grant().unwrap_err().to_string();
        assert!(err.contains("SILTA_TEST_UNSET_VAR_1"), "{err}");
    }
}
