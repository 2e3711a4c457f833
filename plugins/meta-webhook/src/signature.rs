//! `X-Hub-Signature-256: sha256=<hex>`: Meta's HMAC-SHA256 of the raw
//! webhook body, keyed with the app secret.
//!
//! The app secret never enters the plugin: it is a handle (secret
//! `app-secret`) and the host computes and compares the MAC. Parsing the
//! header is pure and tested natively; [`verify`] needs the host.

use silta_sdk::PluginError;
use silta_sdk::secrets::Secret;
use silta_sdk::types::InboundEvent;

/// The header Meta signs every webhook with.
pub const HEADER: &str = "x-hub-signature-256";

/// The secret (by its manifest name) the signature is keyed with: the
/// Meta app's App Secret.
pub const SECRET: &str = "app-secret";

/// The scheme prefix of the header value.
const PREFIX: &str = "sha256=";

/// Refuses the event unless its signature matches its body.
///
/// A missing, malformed or wrong signature is `unauthorized`; an app
/// secret that is not configured is `permanent` (configuration must
/// change).
pub fn verify(event: &InboundEvent) -> Result<(), PluginError> {
    let signature = parse_header(event.header(HEADER))?;
    let secret = Secret::open(SECRET)?;
    if secret.verify_hmac_sha256(&event.body, &signature) {
        Ok(())
    } else {
        Err(PluginError::unauthorized(format!(
            "`{HEADER}` does not match the body: it must be the HMAC-SHA256 of the raw body keyed with the Meta app's App Secret (secret `{SECRET}`)"
        )))
    }
}

/// The MAC bytes of a header value; `unauthorized` with the reason when
/// absent or malformed.
pub fn parse_header(value: Option<&str>) -> Result<Vec<u8>, PluginError> {
    let value = value.map(str::trim).ok_or_else(|| {
        PluginError::unauthorized(format!(
            "`{HEADER}` header is missing; Meta signs every webhook with `{PREFIX}<hex HMAC-SHA256>`"
        ))
    })?;
    let hex_digits = value
        .get(..PREFIX.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(PREFIX))
        .and_then(|_| value.get(PREFIX.len()..))
        .ok_or_else(|| {
            PluginError::unauthorized(format!("`{HEADER}` must start with `{PREFIX}`"))
        })?;
    match hex::decode(hex_digits) {
        Ok(mac) if mac.len() == 32 => Ok(mac),
        _ => Err(PluginError::unauthorized(format!(
            "`{HEADER}` must be `{PREFIX}` followed by 64 hex digits"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_mac() {
        let header = format!("sha256={}", "ab".repeat(32));
        assert_eq!(parse_header(Some(&header)).expect("valid"), vec![0xab; 32]);
        let upper = format!(" SHA256={} ", "AB".repeat(32));
        assert_eq!(
            parse_header(Some(&upper)).expect("any case"),
            vec![0xab; 32]
        );
    }

    #[test]
    fn bad_headers_are_unauthorized_with_a_reason() {
        for (value, reason) in [
            (None, "is missing"),
            (Some("sha1=00"), "must start with `sha256=`"),
            (Some("sha256=zz"), "64 hex digits"),
            (Some("sha256=abcd"), "64 hex digits"),
            (Some("é"), "must start with"),
        ] {
            let error = parse_header(value).unwrap_err();
            assert_eq!(error.kind(), "unauthorized");
            assert!(error.message().contains(reason), "{value:?}: {error:?}");
        }
    }
}
