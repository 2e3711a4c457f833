//! What the operator grants a plugin, and the effective policy.
//!
//! A plugin gets a capability only when its manifest requests it *and* the
//! operator grants it; an outbound origin only when it matches a manifest
//! pattern *and* a granted pattern; a secret only when requested and
//! configured. Everything else is denied.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use crate::allowed_hosts::AllowedHost;
use crate::manifest::{Capability, Limits, Manifest};

/// A secret value. Its `Debug` never prints it.
#[derive(Clone)]
pub struct SecretValue(Arc<[u8]>);

impl SecretValue {
    /// Wrap secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into().into())
    }

    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// The operator's grant for one plugin (from the Silta config file).
#[derive(Debug, Clone, Default)]
pub struct Grant {
    /// Capabilities granted.
    pub capabilities: BTreeSet<Capability>,
    /// Origins granted for outbound HTTP.
    pub allowed_hosts: Vec<AllowedHost>,
    /// Secret values by name.
    pub secrets: BTreeMap<String, SecretValue>,
    /// Configuration values the plugin can read.
    pub config: BTreeMap<String, String>,
    /// Lower limits than the manifest asks for, if any.
    pub limits: Option<Limits>,
}

impl Grant {
    /// Grant everything the manifest requests, with no secrets or config.
    /// For tests and trusted bundled plugins.
    pub fn all_requested(manifest: &Manifest) -> Self {
        Self {
            capabilities: manifest.capabilities.clone(),
            allowed_hosts: manifest.allowed_hosts.clone(),
            ..Self::default()
        }
    }
}

/// The effective policy for a loaded plugin: the manifest intersected with
/// the grant.
#[derive(Debug, Clone)]
pub struct Policy {
    capabilities: BTreeSet<Capability>,
    requested_hosts: Vec<AllowedHost>,
    granted_hosts: Vec<AllowedHost>,
    secrets: BTreeMap<String, SecretValue>,
    config: BTreeMap<String, String>,
    limits: Limits,
}

impl Policy {
    /// Intersect what the manifest asks with what the operator grants.
    pub fn new(manifest: &Manifest, grant: &Grant) -> Self {
        let capabilities = manifest
            .capabilities
            .intersection(&grant.capabilities)
            .copied()
            .collect();
        let secrets = grant
            .secrets
            .iter()
            .filter(|(name, _)| manifest.secrets.contains(*name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let limits = match grant.limits {
            None => manifest.limits,
            Some(op) => Limits {
                memory_bytes: op.memory_bytes.min(manifest.limits.memory_bytes),
                deadline_ms: op.deadline_ms.min(manifest.limits.deadline_ms),
                output_bytes: op.output_bytes.min(manifest.limits.output_bytes),
            },
        };
        Self {
            capabilities,
            requested_hosts: manifest.allowed_hosts.clone(),
            granted_hosts: grant.allowed_hosts.clone(),
            secrets,
            config: grant.config.clone(),
            limits,
        }
    }

    /// Is the capability both requested and granted?
    pub fn allows(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    /// The capabilities in force.
    pub fn capabilities(&self) -> &BTreeSet<Capability> {
        &self.capabilities
    }

    /// May the plugin send a request to this origin?
    pub fn allows_origin(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.allows(Capability::Http)
            && self
                .requested_hosts
                .iter()
                .any(|h| h.matches(scheme, host, port))
            && self
                .granted_hosts
                .iter()
                .any(|h| h.matches(scheme, host, port))
    }

    /// May the host send a request the plugin *rendered* to this origin?
    ///
    /// The plugin does not send it; the host does, to an endpoint the
    /// operator configured (a webhook URL, a provider API), which a
    /// manifest cannot know in advance. So the operator's grant alone
    /// decides, and the `http` capability (the plugin's own requests) is
    /// not needed.
    pub fn allows_rendered_origin(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.granted_hosts
            .iter()
            .any(|h| h.matches(scheme, host, port))
    }

    /// The secret of that name, if requested and configured.
    pub fn secret(&self, name: &str) -> Option<&SecretValue> {
        if !self.allows(Capability::Secrets) {
            return None;
        }
        self.secrets.get(name)
    }

    /// The plugin's configuration values (empty without the capability).
    pub fn config(&self) -> Option<&BTreeMap<String, String>> {
        self.allows(Capability::Config).then_some(&self.config)
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn manifest() -> Manifest {
        Manifest::parse(
            r#"
manifest_version = 1
id = "p"
version = "1.0.0"
worlds = ["channel"]
capabilities = ["http", "secrets", "log"]
allowed_hosts = ["https://*.example.com"]
secrets = ["k"]
"#,
            Path::new("m.toml"),
        )
        .expect("valid")
    }

    #[test]
    fn origin_needs_manifest_and_grant() {
        let m = manifest();
        let mut g = Grant::all_requested(&m);
        g.allowed_hosts = vec![AllowedHost::parse("https://api.example.com").expect("ok")];
        let p = Policy::new(&m, &g);
        assert!(p.allows_origin("https", "api.example.com", 443));
        assert!(!p.allows_origin("https", "other.example.com", 443));
        g.capabilities.remove(&Capability::Http);
        let p = Policy::new(&m, &g);
        assert!(!p.allows_origin("https", "api.example.com", 443));
    }

    #[test]
    fn rendered_requests_need_only_the_operator_grant() {
        let m = manifest();
        let mut g = Grant::all_requested(&m);
        g.capabilities.clear();
        g.allowed_hosts = vec![AllowedHost::parse("https://hooks.customer.test").expect("ok")];
        let p = Policy::new(&m, &g);
        assert!(p.allows_rendered_origin("https", "hooks.customer.test", 443));
        assert!(
            !p.allows_origin("https", "hooks.customer.test", 443),
            "the plugin itself may not call it"
        );
        assert!(
            !p.allows_rendered_origin("https", "api.example.com", 443),
            "requested but not granted"
        );
    }

    #[test]
    fn secrets_need_request_and_grant() {
        let m = manifest();
        let mut g = Grant::all_requested(&m);
        g.secrets.insert("k".into(), SecretValue::new(*b"v"));
        g.secrets.insert("other".into(), SecretValue::new(*b"w"));
        let p = Policy::new(&m, &g);
        assert!(p.secret("k").is_some());
        assert!(p.secret("other").is_none(), "not requested in the manifest");
        assert!(format!("{:?}", p.secret("k")).contains("redacted"));
    }

    #[test]
    fn operator_can_only_lower_limits() {
        let m = manifest();
        let mut g = Grant::all_requested(&m);
        g.limits = Some(Limits {
            memory_bytes: usize::MAX,
            deadline_ms: 10,
            output_bytes: 1,
        });
        let l = Policy::new(&m, &g).limits();
        assert_eq!(l.memory_bytes, m.limits.memory_bytes);
        assert_eq!(l.deadline_ms, 10);
        assert_eq!(l.output_bytes, 1);
    }
}
