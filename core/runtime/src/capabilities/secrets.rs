//! `silta:connector/secrets`: secrets as opaque handles.
//!
//! A plugin opens a secret by name and gets a handle. With it, it can compute
//! or verify an HMAC (the key never enters wasm memory) or ask for a header
//! placeholder. The placeholder is filled in by the host when a request
//! leaves: only in header values, only towards an allowed origin. The
//! placeholder carries a per-plugin random salt, so text arriving in a
//! payload cannot name another plugin's secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use wasmtime::component::Resource;

use crate::bindings::silta::connector::secrets::{Host, HostSecret, SecretError};
use crate::grant::{Policy, SecretValue};
use crate::manifest::Capability;
use crate::state::PluginState;

/// The host side of a `secret` resource.
pub struct SecretHandle {
    name: String,
    value: SecretValue,
}

/// Builds and fills placeholders for one loaded plugin.
#[derive(Debug, Clone)]
pub struct Placeholders {
    salt: String,
}

const PREFIX: &str = "{{silta-secret:";
const SUFFIX: &str = "}}";

impl Placeholders {
    /// A fresh random salt.
    pub fn new() -> Self {
        let salt: [u8; 12] = rand::random();
        Self {
            salt: hex::encode(salt),
        }
    }

    /// The placeholder text for a secret name.
    pub fn placeholder(&self, name: &str) -> String {
        format!("{PREFIX}{}:{name}{SUFFIX}", self.salt)
    }

    /// Replace every placeholder of this plugin in `value` with its secret.
    /// Unknown names are left as they are (and so never match anything real).
    pub fn fill(&self, value: &[u8], policy: &Policy) -> Option<Vec<u8>> {
        let text = std::str::from_utf8(value).ok()?;
        if !text.contains(PREFIX) {
            return None;
        }
        let mut out = Vec::with_capacity(value.len());
        let mut rest = text;
        while let Some(start) = rest.find(PREFIX) {
            out.extend_from_slice(&rest.as_bytes()[..start]);
            let after = &rest[start + PREFIX.len()..];
            let Some(end) = after.find(SUFFIX) else {
                out.extend_from_slice(&rest.as_bytes()[start..]);
                rest = "";
                break;
            };
            let inner = &after[..end];
            let filled = inner
                .split_once(':')
                .filter(|(salt, _)| *salt == self.salt)
                .and_then(|(_, name)| policy.secret(name));
            match filled {
                Some(secret) => out.extend_from_slice(secret.expose()),
                None => out.extend_from_slice(
                    &rest.as_bytes()[start..start + PREFIX.len() + end + SUFFIX.len()],
                ),
            }
            rest = &after[end + SUFFIX.len()..];
        }
        out.extend_from_slice(rest.as_bytes());
        Some(out)
    }
}

impl Default for Placeholders {
    fn default() -> Self {
        Self::new()
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

impl Host for PluginState {
    async fn open(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<Resource<SecretHandle>, SecretError>> {
        let policy = &self.shared.policy;
        if !policy.allows(Capability::Secrets) {
            tracing::warn!(plugin = %self.shared.id, secret = %name, "secret access denied: capability not granted");
            return Ok(Err(SecretError::Denied));
        }
        let Some(value) = policy.secret(&name).cloned() else {
            let requested = self.shared.manifest_secrets.contains(&name);
            tracing::warn!(plugin = %self.shared.id, secret = %name, requested, "secret not available");
            return Ok(Err(if requested {
                SecretError::NotFound
            } else {
                SecretError::Denied
            }));
        };
        let handle = self.table.push(SecretHandle { name, value })?;
        Ok(Ok(handle))
    }
}

impl HostSecret for PluginState {
    async fn header_placeholder(
        &mut self,
        secret: Resource<SecretHandle>,
    ) -> wasmtime::Result<String> {
        let handle = self.table.get(&secret)?;
        Ok(self.shared.placeholders.placeholder(&handle.name))
    }

    async fn hmac_sha256(
        &mut self,
        secret: Resource<SecretHandle>,
        data: Vec<u8>,
    ) -> wasmtime::Result<Vec<u8>> {
        let handle = self.table.get(&secret)?;
        Ok(hmac_sha256(handle.value.expose(), &data))
    }

    async fn verify_hmac_sha256(
        &mut self,
        secret: Resource<SecretHandle>,
        data: Vec<u8>,
        signature: Vec<u8>,
    ) -> wasmtime::Result<bool> {
        let handle = self.table.get(&secret)?;
        let expected = hmac_sha256(handle.value.expose(), &data);
        Ok(expected.len() == signature.len() && bool::from(expected.ct_eq(&signature)))
    }

    async fn drop(&mut self, secret: Resource<SecretHandle>) -> wasmtime::Result<()> {
        self.table.delete(secret)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::Grant;
    use crate::manifest::Manifest;
    use std::path::Path;

    fn policy() -> Policy {
        let m = Manifest::parse(
            "manifest_version = 1\nid = \"p\"\nversion = \"1.0.0\"\nworlds = [\"channel\"]\ncapabilities = [\"secrets\"]\nsecrets = [\"token\"]\n",
            Path::new("m"),
        )
        .expect("valid");
        let mut g = Grant::all_requested(&m);
        g.secrets
            .insert("token".into(), SecretValue::new(*b"s3cr3t"));
        Policy::new(&m, &g)
    }

    #[test]
    fn fills_only_own_salted_placeholders() {
        let p = Placeholders::new();
        let other = Placeholders::new();
        let policy = policy();
        let value = format!("Bearer {}", p.placeholder("token"));
        assert_eq!(
            p.fill(value.as_bytes(), &policy).as_deref(),
            Some(&b"Bearer s3cr3t"[..])
        );
        let foreign = format!("Bearer {}", other.placeholder("token"));
        assert_eq!(
            p.fill(foreign.as_bytes(), &policy).as_deref(),
            Some(foreign.as_bytes())
        );
        let unknown = p.placeholder("nope");
        assert_eq!(
            p.fill(unknown.as_bytes(), &policy).as_deref(),
            Some(unknown.as_bytes())
        );
        assert_eq!(p.fill(b"plain", &policy), None);
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
