//! `silta:connector/secrets`: secrets as opaque handles.
//!
//! A plugin opens a secret by name and gets a handle. With it, it can compute
//! or verify an HMAC (the key never enters wasm memory) or ask for a
//! placeholder. The placeholder is filled in by the host when a request
//! leaves: in header values and in the URL's path and query (never its
//! host), only towards an allowed origin. The
//! placeholder carries a per-plugin random salt, so text arriving in a
//! payload cannot name another plugin's secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use wasmtime::component::Resource;

pub use crate::bindings::silta::connector::secrets::HashAlgorithm;
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
/// Between a secret's name and the hex of a Basic user name.
const BASIC: &str = ":basic:";

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

    /// The placeholder text for HTTP Basic credentials: `user` and the
    /// secret as the password, filled in as `Basic base64(user:secret)`.
    pub fn basic_auth_placeholder(&self, name: &str, user: &str) -> String {
        format!(
            "{PREFIX}{}:{name}{BASIC}{}{SUFFIX}",
            self.salt,
            hex::encode(user)
        )
    }

    /// Replace every placeholder of this plugin in `value` with its secret.
    /// Unknown names are left as they are (and so never match anything real).
    /// `None` when `value` holds no placeholder at all.
    pub fn fill(&self, value: &[u8], policy: &Policy) -> Option<Vec<u8>> {
        let text = std::str::from_utf8(value).ok()?;
        let pieces = self.pieces(text, policy)?;
        let mut out = Vec::with_capacity(value.len());
        for piece in pieces {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text.as_bytes()),
                Piece::Secret { value, .. } => out.extend_from_slice(&value),
            }
        }
        Some(out)
    }

    /// Fill this plugin's placeholders in the path and query of `url` (a bot
    /// token in `https://api.telegram.org/bot<token>/sendMessage`), the
    /// secret percent-encoded. Placeholders in the scheme and authority are
    /// never filled: a secret must not choose where a request goes. `None`
    /// when no secret was filled in.
    pub fn fill_url(&self, url: &str, policy: &Policy) -> Option<FilledUrl> {
        let (origin, rest) = split_origin(url)?;
        let pieces = self.pieces(rest, policy)?;
        if !pieces.iter().any(|p| matches!(p, Piece::Secret { .. })) {
            return None;
        }
        let mut filled = String::from(origin);
        let mut redacted = String::from(origin);
        for piece in pieces {
            match piece {
                Piece::Text(text) => {
                    filled.push_str(text);
                    redacted.push_str(text);
                }
                Piece::Secret { name, value } => {
                    percent_encode_into(&value, &mut filled);
                    redacted.push_str(&format!("{{{{secret:{name}}}}}"));
                }
            }
        }
        Some(FilledUrl { filled, redacted })
    }

    /// `text` split into plain text and this plugin's known secrets; `None`
    /// when it holds no placeholder.
    fn pieces<'a>(&self, text: &'a str, policy: &'a Policy) -> Option<Vec<Piece<'a>>> {
        if !text.contains(PREFIX) {
            return None;
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(PREFIX) {
            pieces.push(Piece::Text(&rest[..start]));
            let after = &rest[start + PREFIX.len()..];
            let Some(end) = after.find(SUFFIX) else {
                pieces.push(Piece::Text(&rest[start..]));
                rest = "";
                break;
            };
            let known = after[..end]
                .split_once(':')
                .filter(|(salt, _)| *salt == self.salt)
                .and_then(|(_, rest)| fill_one(rest, policy));
            pieces.push(match known {
                Some((name, value)) => Piece::Secret { name, value },
                None => Piece::Text(&rest[start..start + PREFIX.len() + end + SUFFIX.len()]),
            });
            rest = &after[end + SUFFIX.len()..];
        }
        pieces.push(Piece::Text(rest));
        Some(pieces)
    }
}

/// A URL with secrets filled in, and the same URL fit for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledUrl {
    /// The URL to send.
    pub filled: String,
    /// The URL with each secret shown as `{{secret:<name>}}`.
    pub redacted: String,
}

/// Plain text or a known secret (as it is filled in), in the order they
/// appear.
enum Piece<'a> {
    Text(&'a str),
    Secret { name: &'a str, value: Vec<u8> },
}

/// The name and the bytes that replace a placeholder naming `rest`
/// (`name`, or `name:basic:<hex user>`), when the secret is granted.
fn fill_one<'a>(rest: &'a str, policy: &Policy) -> Option<(&'a str, Vec<u8>)> {
    match rest.split_once(BASIC) {
        None => Some((rest, policy.secret(rest)?.expose().to_vec())),
        Some((name, user_hex)) => {
            use base64::Engine as _;
            let mut credentials = hex::decode(user_hex).ok()?;
            credentials.push(b':');
            credentials.extend_from_slice(policy.secret(name)?.expose());
            let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
            Some((name, format!("Basic {encoded}").into_bytes()))
        }
    }
}

/// `scheme://authority` and what follows it (path, query, fragment).
fn split_origin(url: &str) -> Option<(&str, &str)> {
    let authority_start = url.find("://")? + 3;
    let authority_len = url[authority_start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - authority_start);
    Some(url.split_at(authority_start + authority_len))
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `:`,
/// so a secret stays one path segment or one query value.
fn percent_encode_into(bytes: &[u8], out: &mut String) {
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

impl Default for Placeholders {
    fn default() -> Self {
        Self::new()
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac_with(HashAlgorithm::Sha256, key, data)
}

/// HMAC of `data` under `key` with `algorithm`.
fn hmac_with(algorithm: HashAlgorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"));
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        HashAlgorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, data),
        HashAlgorithm::Sha256 => run::<Hmac<Sha256>>(key, data),
        HashAlgorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, data),
    }
}

/// Whether `signature` equals `expected`, in constant time.
fn same_mac(expected: &[u8], signature: &[u8]) -> bool {
    expected.len() == signature.len() && bool::from(expected.ct_eq(signature))
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
        Ok(same_mac(&expected, &signature))
    }

    async fn hmac(
        &mut self,
        secret: Resource<SecretHandle>,
        algorithm: HashAlgorithm,
        data: Vec<u8>,
    ) -> wasmtime::Result<Vec<u8>> {
        let handle = self.table.get(&secret)?;
        Ok(hmac_with(algorithm, handle.value.expose(), &data))
    }

    async fn verify_hmac(
        &mut self,
        secret: Resource<SecretHandle>,
        algorithm: HashAlgorithm,
        data: Vec<u8>,
        signature: Vec<u8>,
    ) -> wasmtime::Result<bool> {
        let handle = self.table.get(&secret)?;
        let expected = hmac_with(algorithm, handle.value.expose(), &data);
        Ok(same_mac(&expected, &signature))
    }

    async fn basic_auth_placeholder(
        &mut self,
        secret: Resource<SecretHandle>,
        user: String,
    ) -> wasmtime::Result<String> {
        let handle = self.table.get(&secret)?;
        Ok(self
            .shared
            .placeholders
            .basic_auth_placeholder(&handle.name, &user))
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
    fn fills_urls_only_after_the_authority_and_encoded() {
        let p = Placeholders::new();
        let policy = policy();
        let token = p.placeholder("token");
        let url = format!("https://api.example.test/bot{token}/send?key={token}");
        let filled = p.fill_url(&url, &policy).expect("a secret filled in");
        assert_eq!(
            filled.filled,
            "https://api.example.test/bots3cr3t/send?key=s3cr3t"
        );
        assert_eq!(
            filled.redacted,
            "https://api.example.test/bot{{secret:token}}/send?key={{secret:token}}"
        );
        let in_host = format!("https://{token}.example.test/send");
        assert_eq!(p.fill_url(&in_host, &policy), None, "never in the host");
        assert_eq!(p.fill_url("https://api.example.test/plain", &policy), None);
        let unknown = format!("https://api.example.test/{}", p.placeholder("nope"));
        assert_eq!(p.fill_url(&unknown, &policy), None);
        let mut encoded = String::new();
        percent_encode_into(b"12:ab/c d&e", &mut encoded);
        assert_eq!(encoded, "12:ab%2Fc%20d%26e");
    }

    #[test]
    fn fills_basic_credentials() {
        let p = Placeholders::new();
        let policy = policy();
        let value = p.basic_auth_placeholder("token", "AC123");
        assert!(!value.contains("AC123"), "the user is hex-encoded: {value}");
        // base64("AC123:s3cr3t")
        assert_eq!(
            p.fill(value.as_bytes(), &policy).as_deref(),
            Some(&b"Basic QUMxMjM6czNjcjN0"[..])
        );
        let unknown = p.basic_auth_placeholder("nope", "AC123");
        assert_eq!(
            p.fill(unknown.as_bytes(), &policy).as_deref(),
            Some(unknown.as_bytes())
        );
    }

    #[test]
    fn hmac_sha1_and_sha512_match_rfc_vectors() {
        // RFC 2202 case 2 (SHA-1) and RFC 4231 case 2 (SHA-512).
        assert_eq!(
            hex::encode(hmac_with(
                HashAlgorithm::Sha1,
                b"Jefe",
                b"what do ya want for nothing?"
            )),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert!(
            hex::encode(hmac_with(
                HashAlgorithm::Sha512,
                b"Jefe",
                b"what do ya want for nothing?"
            ))
            .starts_with("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554")
        );
        assert!(same_mac(b"abc", b"abc") && !same_mac(b"abc", b"abd") && !same_mac(b"abc", b"ab"));
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
