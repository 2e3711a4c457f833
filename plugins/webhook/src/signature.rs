//! `x-silta-signature: sha256=<hex>`: HMAC-SHA256 of the raw body, keyed
//! with the secret `signing-key`, both ways.
//!
//! The key never enters the plugin: the host computes and compares the MAC
//! (`silta:connector/secrets`). Parsing and formatting the header are pure
//! and tested natively; [`verify`] and [`sign`] need the host.

use silta_sdk::PluginError;
use silta_sdk::secrets::Secret;
use silta_sdk::types::InboundEvent;

/// The header carrying the signature, inbound and outbound.
pub const HEADER: &str = "x-silta-signature";

/// The secret (by its manifest name) the signatures are keyed with.
pub const SECRET: &str = "signing-key";

/// The scheme prefix of the header value.
const PREFIX: &str = "sha256=";

/// Refuses the event unless its signature header matches its body.
///
/// A missing, malformed or wrong signature is `unauthorized`; a signing key
/// that is not configured is `permanent` (configuration must change).
pub fn verify(event: &InboundEvent) -> Result<(), PluginError> {
    let signature = parse_header(event.header(HEADER))?;
    let secret = Secret::open(SECRET)?;
    if secret.verify_hmac_sha256(&event.body, &signature) {
        Ok(())
    } else {
        Err(PluginError::unauthorized(format!(
            "`{HEADER}` does not match the body: expected HMAC-SHA256 of the raw body with the shared signing key"
        )))
    }
}

/// The header value for `body`: `sha256=<hex of its HMAC-SHA256>`.
pub fn sign(body: &[u8]) -> Result<String, PluginError> {
    let secret = Secret::open(SECRET)?;
    Ok(format_header(&secret.hmac_sha256(body)))
}

/// The MAC bytes of a header value; `unauthorized` with the reason when
/// absent or malformed.
pub fn parse_header(value: Option<&str>) -> Result<Vec<u8>, PluginError> {
    let value = value.map(str::trim).ok_or_else(|| {
        PluginError::unauthorized(format!(
            "`{HEADER}` header is missing; send `{PREFIX}<hex HMAC-SHA256 of the raw body>`"
        ))
    })?;
    let hex_digits = value
        .get(..PREFIX.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(PREFIX))
        .map(|_| &value[PREFIX.len()..])
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

/// Formats MAC bytes as a header value.
pub fn format_header(mac: &[u8]) -> String {
    format!("{PREFIX}{}", hex::encode(mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let mac = [0xab_u8; 32];
        let header = format_header(&mac);
        assert_eq!(header, format!("sha256={}", "ab".repeat(32)));
        assert_eq!(parse_header(Some(&header)).expect("valid"), mac.to_vec());
        let upper = format!(" SHA256={} ", "AB".repeat(32));
        assert_eq!(
            parse_header(Some(&upper)).expect("case-insensitive"),
            mac.to_vec()
        );
    }

    #[test]
    fn bad_headers_are_unauthorized_with_a_reason() {
        for (value, reason) in [
            (None, "is missing"),
            (Some("md5=00"), "must start with `sha256=`"),
            (Some("sha256=zz"), "64 hex digits"),
            (Some("sha256=abcd"), "64 hex digits"),
            (Some("é"), "must start with"),
        ] {
            let error = parse_header(value).unwrap_err();
            assert_eq!(error.kind(), "unauthorized");
            assert!(error.message().contains(reason), "{value:?}: {error:?}");
        }
    }

    #[test]
    fn verify_refuses_unsigned_events_before_touching_the_host() {
        let event = InboundEvent {
            channel_account: "a".into(),
            received_at: silta_sdk::types::Timestamp {
                seconds: 0,
                nanoseconds: 0,
            },
            transport: silta_sdk::types::TransportMeta::Other(Vec::new()),
            body: b"{}".to_vec(),
        };
        assert_eq!(verify(&event).unwrap_err().kind(), "unauthorized");
    }
}
