//! Plugin manifests: what a plugin is and what it asks for.
//!
//! A manifest is a TOML file beside the `.wasm` component. Unknown fields are
//! rejected, so a typo never silently grants or drops a capability.
//!
//! ```toml
//! manifest_version = 1
//! id = "webhook"
//! version = "0.1.0"
//! worlds = ["channel"]
//! capabilities = ["log", "kv", "secrets", "config", "http"]
//! allowed_hosts = ["https://api.example.com", "http://127.0.0.1:*"]
//! secrets = ["signing-key"]
//!
//! [limits]
//! memory_bytes = 67108864
//! deadline_ms = 2000
//! output_bytes = 4194304
//!
//! [rate_limits]                 # a channel provider's send limits
//! messages_per_second = 30
//! per_recipient_per_second = 1
//!
//! threading = "per-thread"      # or "per-contact", see `Threading`
//!
//! [webhook_handshake]           # answered by the host, see `handshake`
//! style = "hub-challenge"
//! secret = "verify-token"       # listed under `secrets`
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::allowed_hosts::AllowedHost;
use crate::error::{Error, Result};
use crate::handshake::WebhookHandshake;
use crate::rate_limits::RateLimits;

/// A plugin's id: lowercase letters, digits and `-`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PluginId(String);

impl PluginId {
    /// Parse and check a plugin id.
    pub fn new(id: impl Into<String>) -> std::result::Result<Self, String> {
        let id = id.into();
        let ok_chars = id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let starts_ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if id.is_empty() || id.len() > 64 || !ok_chars || !starts_ok {
            return Err(format!(
                "plugin id `{id}` must be 1-64 characters of a-z, 0-9 and `-`, starting with a letter (e.g. `email-imap`)"
            ));
        }
        Ok(Self(id))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PluginId {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        Self::new(s)
    }
}

impl From<PluginId> for String {
    fn from(id: PluginId) -> String {
        id.0
    }
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a channel keeps its conversations, which decides where a new
/// outbound message to a contact goes, and where their answer goes
/// (`threading` in the manifest).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Threading {
    /// Each message may start a thread of its own (email, a generic
    /// webhook with thread ids): a new message starts a new conversation.
    #[default]
    PerThread,
    /// The provider has one thread per contact (a web chat visitor's
    /// widget, a messaging app's chat): a new message to a contact
    /// continues their conversation on the channel account (the one they
    /// last wrote in, or the one we began that they have not answered),
    /// where they will see it; and when we began a conversation with a
    /// contact, their answer (which names only the chat) joins it.
    PerContact,
}

/// A world of the `silta:connector` package a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// Customer channel: normalize inbound, render outbound.
    Channel,
    /// Back-office system: lookup, activities, tickets.
    Backoffice,
}

impl World {
    /// The world's name in WIT.
    pub fn as_str(self) -> &'static str {
        match self {
            World::Channel => "channel",
            World::Backoffice => "backoffice",
        }
    }

    /// The fully qualified interface a component exports for this world
    /// (at [`CONTRACT_VERSION`]).
    pub fn export_name(self) -> &'static str {
        match self {
            World::Channel => "silta:connector/channel-api@0.2.1",
            World::Backoffice => "silta:connector/backoffice-api@0.2.1",
        }
    }

    /// Whether `export` is this world's interface at a contract version this
    /// host loads: the same `0.x` line, no newer than [`CONTRACT_VERSION`]
    /// (`channel-api@0.2.0` for a host at 0.2.1: additions since are
    /// imports the plugin does not use).
    #[must_use]
    pub fn is_export(self, export: &str) -> bool {
        let (wanted, _) = self
            .export_name()
            .split_once('@')
            .unwrap_or((self.export_name(), ""));
        export
            .split_once('@')
            .is_some_and(|(name, version)| name == wanted && is_loadable_version(version))
    }
}

/// A `silta:connector` version this host loads: its own `0.x` line, at or
/// below its own patch.
fn is_loadable_version(version: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
        Some((parts.next()??, parts.next()??, parts.next()??))
    };
    match (parse(version), parse(CONTRACT_VERSION)) {
        (Some((0, minor, patch)), Some((0, host_minor, host_patch))) => {
            minor == host_minor && patch <= host_patch
        }
        (Some((major, minor, _)), Some((host_major, host_minor, _))) => {
            major == host_major && major > 0 && minor <= host_minor
        }
        _ => false,
    }
}

/// The version of the `silta:connector` WIT package this host speaks.
pub const CONTRACT_VERSION: &str = "0.2.1";

/// When a component exports `silta:connector` interfaces of another
/// version than [`CONTRACT_VERSION`], a sentence saying so and what to do.
#[must_use]
pub fn contract_version_hint(exports: &[String]) -> Option<String> {
    let mut versions: Vec<&str> = exports
        .iter()
        .filter_map(|name| name.strip_prefix("silta:connector/"))
        .filter_map(|rest| rest.split_once('@').map(|(_, version)| version))
        .filter(|version| !is_loadable_version(version))
        .collect();
    versions.sort_unstable();
    versions.dedup();
    (!versions.is_empty()).then(|| {
        format!(
            "it was built against silta:connector@{} and this Silta speaks {CONTRACT_VERSION}: \
             rebuild it with the current SDK (see sdk/README.md, versioning)",
            versions.join(", @")
        )
    })
}

/// A host capability a plugin can import. All are denied unless requested in
/// the manifest and granted by the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Logging into the host's `tracing`.
    Log,
    /// Per-plugin key-value state.
    Kv,
    /// Secrets as opaque handles.
    Secrets,
    /// Operator configuration values.
    Config,
    /// Outbound HTTP through `wasi:http`, limited to the allowed hosts.
    Http,
}

impl Capability {
    /// Every capability, in a stable order.
    pub const ALL: [Capability; 5] = [
        Capability::Log,
        Capability::Kv,
        Capability::Secrets,
        Capability::Config,
        Capability::Http,
    ];

    /// The capability's name as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Log => "log",
            Capability::Kv => "kv",
            Capability::Secrets => "secrets",
            Capability::Config => "config",
            Capability::Http => "http",
        }
    }
}

/// Resource limits for every call into a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Linear memory cap per instance, in bytes.
    pub memory_bytes: usize,
    /// Wall-clock deadline per call, including time spent in host calls.
    pub deadline_ms: u64,
    /// Cap on the size of what one call returns, in bytes.
    pub output_bytes: usize,
}

impl Limits {
    /// The deadline as a [`Duration`].
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            deadline_ms: 5_000,
            output_bytes: 8 << 20,
        }
    }
}

/// The largest limits a manifest may ask for; the operator can lower them.
pub const MAX_LIMITS: Limits = Limits {
    memory_bytes: 1 << 30,
    deadline_ms: 300_000,
    output_bytes: 256 << 20,
};

/// A parsed, checked plugin manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version of this file; must be 1.
    pub manifest_version: u32,
    /// The plugin's id.
    pub id: PluginId,
    /// The plugin's version (semver).
    pub version: String,
    /// A one-line description.
    #[serde(default)]
    pub description: String,
    /// The worlds the component implements.
    pub worlds: BTreeSet<World>,
    /// The host capabilities it asks for.
    #[serde(default)]
    pub capabilities: BTreeSet<Capability>,
    /// Where it may send HTTP requests (`scheme://host[:port]`).
    #[serde(default)]
    pub allowed_hosts: Vec<AllowedHost>,
    /// Secret names it wants to open.
    #[serde(default)]
    pub secrets: BTreeSet<String>,
    /// Limits it needs (capped by [`MAX_LIMITS`] and by the operator).
    #[serde(default)]
    pub limits: Limits,
    /// A channel provider's send limits, enforced by the host per channel
    /// account (an operator may set stricter ones).
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// A webhook subscription handshake the host answers for the plugin
    /// (`GET /v1/ingest/{channel_account}`), see [`crate::handshake`].
    #[serde(default)]
    pub webhook_handshake: Option<WebhookHandshake>,
    /// How the channel keeps its conversations (channel plugins only).
    #[serde(default)]
    pub threading: Threading,
}

impl Manifest {
    /// Parse a manifest from TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Self> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| Error::Manifest {
            path: origin.to_path_buf(),
            reason: e.to_string(),
        })?;
        manifest.check(origin)?;
        Ok(manifest)
    }

    /// Read and parse a manifest file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    fn check(&self, origin: &Path) -> Result<()> {
        let fail = |reason: String| {
            Err(Error::Manifest {
                path: origin.to_path_buf(),
                reason,
            })
        };
        if self.manifest_version != 1 {
            return fail(format!(
                "manifest_version {} is not supported; this Silta reads manifest_version = 1",
                self.manifest_version
            ));
        }
        if !is_semver(&self.version) {
            return fail(format!(
                "version `{}` is not a semantic version (e.g. `1.2.0`)",
                self.version
            ));
        }
        if self.worlds.is_empty() {
            return fail(
                "worlds is empty; name at least one of \"channel\", \"backoffice\"".into(),
            );
        }
        if !self.allowed_hosts.is_empty() && !self.capabilities.contains(&Capability::Http) {
            return fail("allowed_hosts is set but capabilities does not include \"http\"".into());
        }
        if !self.secrets.is_empty() && !self.capabilities.contains(&Capability::Secrets) {
            return fail("secrets is set but capabilities does not include \"secrets\"".into());
        }
        if self.threading != Threading::PerThread && !self.worlds.contains(&World::Channel) {
            return fail(
                "threading is set but worlds does not include \"channel\"; it describes a channel's conversations".into(),
            );
        }
        if let Some(problem) = self.rate_limits.problem() {
            return fail(problem);
        }
        if let Some(problem) = self
            .webhook_handshake
            .as_ref()
            .and_then(|handshake| handshake.problem(&self.secrets))
        {
            return fail(problem);
        }
        let l = &self.limits;
        if l.memory_bytes == 0 || l.deadline_ms == 0 || l.output_bytes == 0 {
            return fail("limits must all be greater than zero".into());
        }
        if l.memory_bytes > MAX_LIMITS.memory_bytes
            || l.deadline_ms > MAX_LIMITS.deadline_ms
            || l.output_bytes > MAX_LIMITS.output_bytes
        {
            return fail(format!(
                "limits {l:?} exceed the maximum {MAX_LIMITS:?}; ask for less"
            ));
        }
        Ok(())
    }
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, Path::new("test.toml"))
    }

    const GOOD: &str = r#"
manifest_version = 1
id = "webhook"
version = "0.1.0"
worlds = ["channel"]
capabilities = ["log", "http", "secrets"]
allowed_hosts = ["https://api.example.com"]
secrets = ["signing-key"]
[limits]
memory_bytes = 1048576
deadline_ms = 100
output_bytes = 1024
"#;

    #[test]
    fn parses_a_complete_manifest() {
        let m = parse(GOOD).expect("valid");
        assert_eq!(m.id.as_str(), "webhook");
        assert!(m.worlds.contains(&World::Channel));
        assert!(m.capabilities.contains(&Capability::Http));
        assert_eq!(m.limits.deadline_ms, 100);
    }

    #[test]
    fn rejects_unknown_fields() {
        let err = parse(&GOOD.replace("worlds", "world")).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn rejects_hosts_without_http_capability() {
        let err = parse(&GOOD.replace("\"log\", \"http\", ", "\"log\", ")).unwrap_err();
        assert!(
            err.to_string().contains("does not include \"http\""),
            "{err}"
        );
    }

    #[test]
    fn rejects_bad_ids_versions_and_limits() {
        assert!(parse(&GOOD.replace("\"webhook\"", "\"Web Hook\"")).is_err());
        assert!(parse(&GOOD.replace("\"0.1.0\"", "\"one\"")).is_err());
        assert!(parse(&GOOD.replace("deadline_ms = 100", "deadline_ms = 0")).is_err());
        assert!(parse(&GOOD.replace("manifest_version = 1", "manifest_version = 2")).is_err());
        assert!(parse(&GOOD.replace("worlds = [\"channel\"]", "worlds = []")).is_err());
    }

    #[test]
    fn threading_is_per_thread_unless_a_channel_says_per_contact() {
        assert_eq!(parse(GOOD).expect("valid").threading, Threading::PerThread);
        let chat = GOOD.replace("worlds =", "threading = \"per-contact\"\nworlds =");
        assert_eq!(
            parse(&chat).expect("valid").threading,
            Threading::PerContact
        );
        let err = parse(&chat.replace("[\"channel\"]", "[\"backoffice\"]")).unwrap_err();
        assert!(err.to_string().contains("threading"), "{err}");
        let err =
            parse(&GOOD.replace("worlds =", "threading = \"per-visit\"\nworlds =")).unwrap_err();
        assert!(err.to_string().contains("per-contact"), "{err}");
    }

    #[test]
    fn export_names_use_the_contract_version() {
        for world in [World::Channel, World::Backoffice] {
            assert!(
                world
                    .export_name()
                    .ends_with(&format!("@{CONTRACT_VERSION}"))
            );
        }
    }

    #[test]
    fn an_older_contract_is_named_with_the_fix() {
        let old = vec![
            "silta:connector/plugin@0.1.0".to_owned(),
            "silta:connector/channel-api@0.1.0".to_owned(),
        ];
        let hint = contract_version_hint(&old).expect("a hint");
        assert!(hint.contains("silta:connector@0.1.0"), "{hint}");
        assert!(hint.contains(CONTRACT_VERSION), "{hint}");
        let current = vec![World::Channel.export_name().to_owned()];
        assert_eq!(contract_version_hint(&current), None);
        let additive = vec!["silta:connector/channel-api@0.2.0".to_owned()];
        assert_eq!(contract_version_hint(&additive), None, "0.2.0 still loads");
        let newer = vec!["silta:connector/channel-api@0.2.9".to_owned()];
        assert!(
            contract_version_hint(&newer).is_some(),
            "newer than the host"
        );
    }

    #[test]
    fn exports_of_the_same_line_match_their_world() {
        assert!(World::Channel.is_export("silta:connector/channel-api@0.2.1"));
        assert!(World::Channel.is_export("silta:connector/channel-api@0.2.0"));
        assert!(!World::Channel.is_export("silta:connector/channel-api@0.1.0"));
        assert!(!World::Channel.is_export("silta:connector/channel-api@0.3.0"));
        assert!(!World::Channel.is_export("silta:connector/channel-api@0.2.2"));
        assert!(!World::Channel.is_export("silta:connector/backoffice-api@0.2.1"));
        assert!(!World::Channel.is_export("silta:connector/channel-api"));
    }
}
