//! Unique webhook-plugin payloads and their signatures.
//!
//! Every request carries a new message in the format the webhook plugin reads
//! (`plugins/webhook/README.md`), so Silta does the full work for each one:
//! a new provider message id, and a sender out of a fixed set, so there are
//! many parties with several messages each rather than one party or one
//! party per message. Ids start with a per-run prefix, so a rerun against
//! the same data directory never collides with an earlier run's messages
//! (which idempotency would answer without storing anything).

use std::fmt::Write as _;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Filler for `text`: plain ASCII without JSON escapes, so the body length
/// is the byte count we write.
const LOREM: &str = "Hello, I have a question about my order and the delivery date. \
    Could you check the status and tell me when it ships? Thanks in advance. ";

/// Makes the `n`th message of a run and signs it.
#[derive(Clone)]
pub struct Messages {
    run_id: String,
    senders: u64,
    body_bytes: usize,
    padding: String,
    /// Keyed once; each signature clones the keyed state instead of hashing
    /// the key again.
    key: Option<Hmac<Sha256>>,
}

impl Messages {
    /// Messages for one run: ids `lg-<run_id>-<n>`, senders cycling over
    /// `senders` customers, bodies padded to about `body_bytes`, signed with
    /// `signing_key` when one is given.
    pub fn new(
        run_id: impl Into<String>,
        senders: u64,
        body_bytes: usize,
        signing_key: Option<&[u8]>,
    ) -> Self {
        let padding = LOREM.repeat(body_bytes / LOREM.len() + 1);
        Self {
            run_id: run_id.into(),
            senders: senders.max(1),
            body_bytes,
            padding,
            // HMAC accepts keys of any length, so this never fails.
            key: signing_key.and_then(|key| Hmac::<Sha256>::new_from_slice(key).ok()),
        }
    }

    /// The JSON body of message `n`: exactly `body_bytes` long when that is
    /// more than the fields without padding need, else as short as possible.
    pub fn body(&self, n: u64) -> Bytes {
        let k = n % self.senders;
        let mut json = String::with_capacity(self.body_bytes + 64);
        // Writing into a String cannot fail.
        let _ = write!(
            json,
            r#"{{"id":"lg-{run}-{n}","thread_id":"t-{k}","sender":{{"kind":"email","value":"customer{k}@example.com","name":"Customer {k}"}},"text":"Message {n} from customer {k}. "#,
            run = self.run_id,
        );
        let closing = r#""}"#;
        let pad = self
            .body_bytes
            .saturating_sub(json.len() + closing.len())
            .min(self.padding.len());
        json.push_str(&self.padding[..pad]);
        json.push_str(closing);
        Bytes::from(json)
    }

    /// The `x-silta-signature` value for `body`: `sha256=` and the lowercase
    /// hex HMAC-SHA256 of the exact bytes, or `None` without a signing key.
    pub fn signature(&self, body: &[u8]) -> Option<String> {
        let mut mac = self.key.clone()?;
        mac.update(body);
        Some(format!(
            "sha256={}",
            hex::encode(mac.finalize().into_bytes())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_unique_valid_json_of_the_requested_size() {
        let messages = Messages::new("run1", 1000, 2048, None);
        let a = messages.body(7);
        let b = messages.body(1007);
        assert_eq!(a.len(), 2048);
        assert_eq!(b.len(), 2048);
        let a: serde_json::Value = serde_json::from_slice(&a).expect("json");
        let b: serde_json::Value = serde_json::from_slice(&b).expect("json");
        assert_eq!(a["id"], "lg-run1-7");
        assert_eq!(b["id"], "lg-run1-1007");
        assert_eq!(a["sender"]["value"], "customer7@example.com");
        assert_eq!(a["sender"], b["sender"]);
        assert_eq!(a["thread_id"], "t-7");
    }

    #[test]
    fn small_sizes_still_give_valid_json() {
        let body = Messages::new("r", 10, 0, None).body(3);
        let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(value["id"], "lg-r-3");
    }

    #[test]
    fn signature_matches_the_webhook_plugin_format() {
        let messages = Messages::new("r", 10, 100, Some(b"key"));
        // RFC 4231-style check against a known HMAC-SHA256 value.
        let signature = messages
            .signature(b"The quick brown fox jumps over the lazy dog")
            .expect("signed");
        assert_eq!(
            signature,
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert!(Messages::new("r", 10, 100, None).signature(b"x").is_none());
    }
}
