//! Events as CloudEvents 1.0 in structured JSON mode, and the signature
//! that lets a webhook receiver trust them.
//!
//! Structured mode puts every attribute and the payload into one JSON
//! body ([`CONTENT_TYPE`]), so a receiver needs no `ce-*` headers and can
//! store the body as it came. `source` + `id` identify an event: a
//! receiver that may see an event twice (webhooks are at-least-once)
//! dedups on them.
//!
//! The signature header ([`SIGNATURE_HEADER`]) follows Stripe's shape,
//! `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: signing the
//! time with the body lets a receiver reject a captured request replayed
//! later ([`verify_signature`] with a tolerance of a few minutes).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use silta_store::records::StoredEvent;

/// The `content-type` of a structured-mode CloudEvent.
pub const CONTENT_TYPE: &str = "application/cloudevents+json";

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "silta-signature";

/// The CloudEvents version written in `specversion`.
pub const SPEC_VERSION: &str = "1.0";

/// The extension attribute carrying the event's position in the event log.
///
/// CloudEvents extension names are lowercase letters and digits only.
pub const SEQ_EXTENSION: &str = "siltaseq";

type HmacSha256 = Hmac<Sha256>;

/// The event as a structured-mode CloudEvent.
///
/// `source` names this Silta node (`urn:silta:<node>`); together with the
/// event's `id` it identifies the event for deduplication. `siltaseq`
/// carries the position in the event log, so a receiver can tell order and
/// resume an event stream; it is written as a JSON integer (the
/// CloudEvents `Integer` type is 32-bit, which the log will not outgrow in
/// practice). `data` is left out when the event has none (`null`).
#[must_use]
pub fn to_cloudevent(event: &StoredEvent, source: &str) -> serde_json::Value {
    let mut ce = serde_json::Map::new();
    ce.insert("specversion".into(), SPEC_VERSION.into());
    ce.insert("id".into(), event.id.clone().into());
    ce.insert("source".into(), source.into());
    ce.insert("type".into(), event.event_type.clone().into());
    if let Some(subject) = &event.subject {
        ce.insert("subject".into(), subject.clone().into());
    }
    ce.insert("time".into(), event.time.to_rfc3339().into());
    ce.insert(SEQ_EXTENSION.into(), event.seq.into());
    if !event.data.is_null() {
        ce.insert("datacontenttype".into(), "application/json".into());
        ce.insert("data".into(), event.data.clone());
    }
    serde_json::Value::Object(ce)
}

/// The [`SIGNATURE_HEADER`] value for `body` sent at `timestamp_secs`:
/// `t=<timestamp_secs>,v1=<hex HMAC-SHA256 over "<t>.<body>">`.
///
/// The key is `secret` as given (a subscription's secret string is used as
/// its UTF-8 bytes, not hex-decoded), which is what a receiver holding the
/// same string will do.
#[must_use]
pub fn signature_header(secret: &[u8], timestamp_secs: u64, body: &[u8]) -> String {
    let mac = signed_payload_mac(secret, timestamp_secs, body);
    format!(
        "t={timestamp_secs},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Whether `header_value` is a valid signature of `body` under `secret`,
/// made no more than `tolerance_secs` away from `now_secs`.
///
/// Accepts several `v1=` entries (a sender rotating its secret may sign
/// with both) and ignores unknown schemes, as Stripe does. Compares in
/// constant time.
#[must_use]
pub fn verify_signature(
    secret: &[u8],
    header_value: &str,
    body: &[u8],
    now_secs: u64,
    tolerance_secs: u64,
) -> bool {
    let mut timestamp: Option<u64> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for part in header_value.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return false;
        };
        match key {
            "t" => {
                if timestamp.is_some() {
                    return false;
                }
                match value.parse() {
                    Ok(t) => timestamp = Some(t),
                    Err(_) => return false,
                }
            }
            "v1" => {
                if let Ok(sig) = hex::decode(value) {
                    signatures.push(sig);
                }
            }
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if now_secs.abs_diff(timestamp) > tolerance_secs {
        return false;
    }
    signatures.iter().any(|sig| {
        signed_payload_mac(secret, timestamp, body)
            .verify_slice(sig)
            .is_ok()
    })
}

/// The MAC over `"<t>.<body>"`, ready to finalize or verify.
fn signed_payload_mac(secret: &[u8], timestamp_secs: u64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this never fails; the fallback
    // (an empty key) is unreachable but keeps the function total.
    let mut mac = HmacSha256::new_from_slice(secret)
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()));
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_model::Timestamp;

    fn event(subject: Option<&str>, data: serde_json::Value) -> StoredEvent {
        StoredEvent {
            seq: 42,
            id: "0190b8e4-7c5a-7000-8000-000000000001".into(),
            event_type: "silta.interaction.created".into(),
            subject: subject.map(str::to_owned),
            time: Timestamp::parse_rfc3339("t", "2026-11-23T20:54:41.123Z").expect("valid time"),
            data,
        }
    }

    #[test]
    fn structured_mode_carries_every_attribute() {
        let ce = to_cloudevent(
            &event(Some("interaction-1"), serde_json::json!({"a": 1})),
            "urn:silta:node-1",
        );
        assert_eq!(
            ce,
            serde_json::json!({
                "specversion": "1.0",
                "id": "0190b8e4-7c5a-7000-8000-000000000001",
                "source": "urn:silta:node-1",
                "type": "silta.interaction.created",
                "subject": "interaction-1",
                "time": "2026-11-23T20:54:41.123Z",
                "siltaseq": 42,
                "datacontenttype": "application/json",
                "data": {"a": 1},
            })
        );
    }

    #[test]
    fn absent_subject_and_data_are_left_out() {
        let ce = to_cloudevent(&event(None, serde_json::Value::Null), "urn:silta:n");
        let object = ce.as_object().expect("an object");
        assert!(!object.contains_key("subject"));
        assert!(!object.contains_key("data"));
        assert!(!object.contains_key("datacontenttype"));
        assert_eq!(object["siltaseq"], 42);
    }

    #[test]
    fn extension_name_is_valid() {
        assert!(
            SEQ_EXTENSION
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn signature_has_stripe_shape_and_known_value() {
        let header = signature_header(b"secret", 1_700_000_000, b"{}");
        // HMAC-SHA256("secret", "1700000000.{}"), computed independently
        // with `printf '1700000000.{}' | openssl dgst -sha256 -hmac secret`.
        assert_eq!(
            header,
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }

    #[test]
    fn verify_accepts_own_signature_within_tolerance() {
        let header = signature_header(b"k", 1000, b"body");
        assert!(verify_signature(b"k", &header, b"body", 1000, 300));
        assert!(verify_signature(b"k", &header, b"body", 1300, 300));
        assert!(verify_signature(b"k", &header, b"body", 700, 300));
    }

    #[test]
    fn verify_rejects_replays_tampering_and_wrong_keys() {
        let header = signature_header(b"k", 1000, b"body");
        assert!(!verify_signature(b"k", &header, b"body", 1301, 300));
        assert!(!verify_signature(b"k", &header, b"body", 699, 300));
        assert!(!verify_signature(b"k", &header, b"bodY", 1000, 300));
        assert!(!verify_signature(b"other", &header, b"body", 1000, 300));
        // Moving the time forward breaks the MAC.
        let moved = header.replace("t=1000", "t=1200");
        assert!(!verify_signature(b"k", &moved, b"body", 1200, 300));
    }

    #[test]
    fn verify_rejects_malformed_headers() {
        let good = signature_header(b"k", 1000, b"body");
        let v1 = good.split_once(",v1=").map(|(_, v)| v).expect("has v1");
        for header in [
            "",
            "t=1000",
            &format!("v1={v1}"),
            &format!("t=abc,v1={v1}"),
            &format!("t=1000,t=1000,v1={v1}"),
            "t=1000,v1=zz",
            &format!("t=1000;v1={v1}"),
        ] {
            assert!(
                !verify_signature(b"k", header, b"body", 1000, 300),
                "accepted {header:?}"
            );
        }
    }

    #[test]
    fn verify_accepts_any_of_several_signatures() {
        let good = signature_header(b"new", 1000, b"body");
        let v1 = good.split_once(",v1=").map(|(_, v)| v).expect("has v1");
        let rotated = format!("t=1000,v1={},v1={v1},v0=legacy", "00".repeat(32));
        assert!(verify_signature(b"new", &rotated, b"body", 1000, 300));
    }
}
