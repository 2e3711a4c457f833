//! `X-Telegram-Bot-Api-Secret-Token`: the `secret_token` the operator gave
//! `setWebhook`, which Telegram sends back verbatim with every update.
//!
//! # Comparing a header with a secret the plugin cannot read
//!
//! The secret is a host handle (secret `webhook-secret-token`); the plugin
//! can only ask the host for HMAC-SHA256 keyed with it, or to check such a
//! MAC in constant time. Telegram does not sign the body, so there is no
//! MAC to check directly. Instead:
//!
//! 1. the plugin computes, locally, `mac = HMAC-SHA256(key = header value,
//!    data = DOMAIN)`, where [`DOMAIN`] is a fixed string;
//! 2. it asks the host `secret.verify_hmac_sha256(DOMAIN, mac)`, which
//!    computes `HMAC-SHA256(key = secret, data = DOMAIN)` and compares the
//!    two in constant time.
//!
//! They are equal exactly when the header equals the secret (HMAC is a PRF
//! in its key; see the caveats below), so this is an equality test that
//! never reveals the secret to the guest and leaks nothing through timing:
//! the guest's work depends only on the header (the attacker's own input)
//! and the host's comparison is constant-time. The domain string keeps
//! these MACs apart from any other use of the same key.
//!
//! Two HMAC key quirks are closed by refusing header values Telegram could
//! never send ([`parse_header`]): HMAC pads short keys with zero bytes (so
//! `"abc"` and `"abc\0"` would be the same key) and hashes keys longer than
//! the block size (so a 65-byte secret and its SHA-256 digest would be).
//! Telegram's `secret_token` is 1–256 characters of `A–Z a–z 0–9 _ -`, so
//! a header with a NUL byte or binary digest bytes is refused before any
//! MAC is computed. (An operator must configure such a token, too; a
//! secret outside that alphabet could never be registered with
//! `setWebhook`.)

use hmac::{Hmac, Mac};
use sha2::Sha256;
use silta_sdk::PluginError;
use silta_sdk::secrets::Secret;
use silta_sdk::types::InboundEvent;

/// The header Telegram sends the webhook's `secret_token` in (lowercase,
/// as the host gives header names).
pub const HEADER: &str = "x-telegram-bot-api-secret-token";

/// The secret (by its manifest name) the header must equal: the
/// `secret_token` the operator passed to `setWebhook`.
pub const SECRET: &str = "webhook-secret-token";

/// What both MACs are computed over. Versioned, so a change of scheme can
/// never be confused with this one.
pub const DOMAIN: &[u8] = b"silta telegram secret-token check v1";

/// Telegram's limit on `secret_token`'s length.
pub const MAX_TOKEN_LEN: usize = 256;

/// Refuses the event unless its secret-token header equals the configured
/// secret.
///
/// A missing, malformed or wrong header is `unauthorized`; a secret that
/// is not configured is `permanent` (configuration must change).
pub fn verify(event: &InboundEvent) -> Result<(), PluginError> {
    let token = parse_header(event.header(HEADER))?;
    let secret = Secret::open(SECRET)?;
    if secret.verify_hmac_sha256(DOMAIN, &local_mac(token)) {
        Ok(())
    } else {
        Err(PluginError::unauthorized(format!(
            "`{HEADER}` does not match: it must equal the `secret_token` given to setWebhook (secret `{SECRET}`)"
        )))
    }
}

/// HMAC-SHA256 keyed with the header value over [`DOMAIN`]: what the host
/// computes with the secret as the key.
#[must_use]
pub fn local_mac(token: &str) -> Vec<u8> {
    // `new_from_slice` accepts keys of any length for HMAC; the error arm
    // is unreachable but handled without a panic.
    match <Hmac<Sha256> as Mac>::new_from_slice(token.as_bytes()) {
        Ok(mut mac) => {
            mac.update(DOMAIN);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// The header value, when it could be a Telegram secret token;
/// `unauthorized` with the reason otherwise.
pub fn parse_header(value: Option<&str>) -> Result<&str, PluginError> {
    let token = value.ok_or_else(|| {
        PluginError::unauthorized(format!(
            "`{HEADER}` header is missing; call setWebhook with `secret_token` set to secret `{SECRET}`"
        ))
    })?;
    let well_formed = !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if well_formed {
        Ok(token)
    } else {
        Err(PluginError::unauthorized(format!(
            "`{HEADER}` must be 1-{MAX_TOKEN_LEN} characters of A-Z, a-z, 0-9, `_` and `-`, as Telegram sends it"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_mac_equals_one_keyed_with_the_same_secret() {
        // What the host computes for a secret equal to the header.
        let mut host = <Hmac<Sha256> as Mac>::new_from_slice(b"s3cr3t_T0ken-x").expect("key");
        host.update(DOMAIN);
        let host = host.finalize().into_bytes().to_vec();
        assert_eq!(local_mac("s3cr3t_T0ken-x"), host);
        assert_ne!(local_mac("s3cr3t_T0ken-y"), host);
        assert_eq!(local_mac("x").len(), 32);
    }

    #[test]
    fn bad_headers_are_unauthorized_with_a_reason() {
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        for (value, reason) in [
            (None, "is missing"),
            (Some(""), "1-256 characters"),
            (Some("abc\0"), "1-256 characters"),
            (Some("with space"), "1-256 characters"),
            (Some("é"), "1-256 characters"),
            (Some(long.as_str()), "1-256 characters"),
        ] {
            let error = parse_header(value).unwrap_err();
            assert_eq!(error.kind(), "unauthorized");
            assert!(error.message().contains(reason), "{value:?}: {error:?}");
        }
        let max = "Z".repeat(MAX_TOKEN_LEN);
        assert_eq!(parse_header(Some(&max)).expect("256 is fine"), max);
    }
}
