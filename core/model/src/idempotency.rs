//! Idempotency keys: the same provider message is recorded once.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{ModelError, Result};
use crate::id::ChannelAccountId;

/// Identifies one provider message on one of our channel accounts.
///
/// Providers redeliver webhooks and IMAP shows a message again after a
/// restart; the pipeline records an interaction only if its key is new.
///
/// The text form ([`Display`](fmt::Display), [`FromStr`]) is
/// `{channel_account}/{provider}/{provider_message_id}` with `%` written as
/// `%25` and `/` as `%2F` inside the last two parts, so a `/` in a
/// provider's id (`<a/b@example.fi>`) cannot shift the boundaries: each key
/// has exactly one text form and each text form one key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyKey {
    /// Our channel account that received or sent the message.
    channel_account: ChannelAccountId,
    /// The provider (`"whatsapp-cloud"`, `"imap"`).
    provider: String,
    /// The provider's id of the message, exactly as given.
    provider_message_id: String,
}

// === impl IdempotencyKey ===

impl IdempotencyKey {
    /// Builds a key; `provider` and `provider_message_id` must not be empty
    /// or hold control characters. They are kept exactly as given (not
    /// trimmed), since they are someone else's identifiers.
    pub fn new(
        channel_account: ChannelAccountId,
        provider: &str,
        provider_message_id: &str,
    ) -> Result<Self> {
        Ok(Self {
            channel_account,
            provider: check_part("provider", provider)?,
            provider_message_id: check_part("provider_message_id", provider_message_id)?,
        })
    }

    /// Our channel account.
    #[must_use]
    pub fn channel_account(&self) -> ChannelAccountId {
        self.channel_account
    }

    /// The provider.
    #[must_use]
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The provider's message id.
    #[must_use]
    pub fn provider_message_id(&self) -> &str {
        &self.provider_message_id
    }

    /// Parses the text form; `field` names the input in errors.
    pub fn parse(field: &str, raw: &str) -> Result<Self> {
        let invalid = |reason: &str| ModelError::InvalidValue {
            field: field.to_owned(),
            value: raw.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = raw.split('/');
        let (Some(account), Some(provider), Some(message), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(
                "expected {channel_account}/{provider}/{provider_message_id}",
            ));
        };
        let account = ChannelAccountId::parse(field, account)?;
        let provider = unescape(provider).ok_or_else(|| invalid("bad %-escape in provider"))?;
        let message =
            unescape(message).ok_or_else(|| invalid("bad %-escape in provider_message_id"))?;
        Self::new(account, &provider, &message).map_err(|err| err.in_field(field))
    }
}

/// Rejects empty parts and control characters, keeping the text as is.
fn check_part(field: &str, raw: &str) -> Result<String> {
    if raw.trim().is_empty() {
        return Err(ModelError::Empty {
            field: field.to_owned(),
        });
    }
    if raw.chars().any(char::is_control) {
        return Err(ModelError::InvalidValue {
            field: field.to_owned(),
            value: raw.to_owned(),
            reason: "contains control characters".to_owned(),
        });
    }
    Ok(raw.to_owned())
}

/// Escapes `%` and `/`.
fn escape(part: &str) -> String {
    part.replace('%', "%25").replace('/', "%2F")
}

/// Undoes [`escape`]; `None` for any other `%` sequence, so that every key
/// has a single text form.
fn unescape(part: &str) -> Option<String> {
    let mut out = String::with_capacity(part.len());
    let mut rest = part;
    while let Some(index) = rest.find('%') {
        out.push_str(&rest[..index]);
        let escape = rest.get(index..index + 3)?;
        match escape {
            "%25" => out.push('%'),
            "%2F" => out.push('/'),
            _ => return None,
        }
        rest = &rest[index + 3..];
    }
    out.push_str(rest);
    Some(out)
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.channel_account,
            escape(&self.provider),
            escape(&self.provider_message_id)
        )
    }
}

impl FromStr for IdempotencyKey {
    type Err = ModelError;

    fn from_str(raw: &str) -> Result<Self> {
        Self::parse("IdempotencyKey", raw)
    }
}

/// The JSON shape of an [`IdempotencyKey`], before checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdempotencyKey {
    channel_account: ChannelAccountId,
    provider: String,
    provider_message_id: String,
}

impl<'de> Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawIdempotencyKey::deserialize(deserializer)?;
        IdempotencyKey::new(raw.channel_account, &raw.provider, &raw.provider_message_id)
            .map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_with_slashes_and_percents() {
        let account = ChannelAccountId::new();
        let key = IdempotencyKey::new(account, "imap", "<a/b%2F@example.fi>").expect("valid");
        let text = key.to_string();
        assert_eq!(text, format!("{account}/imap/<a%2Fb%252F@example.fi>"));
        assert_eq!(text.parse::<IdempotencyKey>(), Ok(key));
    }

    #[test]
    fn different_keys_have_different_text() {
        let account = ChannelAccountId::new();
        let a = IdempotencyKey::new(account, "p/x", "y").expect("valid");
        let b = IdempotencyKey::new(account, "p", "x/y").expect("valid");
        assert_ne!(a.to_string(), b.to_string());
    }

    #[test]
    fn empty_parts_are_rejected_by_name() {
        let account = ChannelAccountId::new();
        let err = IdempotencyKey::new(account, "whatsapp", " ").expect_err("empty id");
        assert_eq!(
            err,
            ModelError::Empty {
                field: "provider_message_id".into()
            }
        );
        let err = IdempotencyKey::new(account, "", "x").expect_err("empty provider");
        assert_eq!(err.field(), "provider");
    }

    #[test]
    fn malformed_text_is_rejected() {
        let account = ChannelAccountId::new();
        for bad in [
            format!("{account}/imap"),
            format!("{account}/imap/a/b"),
            format!("{account}/imap/a%2fb"),
            format!("{account}/imap/a%"),
            "not-an-id/imap/x".to_owned(),
        ] {
            assert!(IdempotencyKey::parse("key", &bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deserialization_checks_parts() {
        let account = ChannelAccountId::new();
        let json = serde_json::json!({
            "channel_account": account,
            "provider": "telegram",
            "provider_message_id": "",
        });
        assert!(serde_json::from_value::<IdempotencyKey>(json).is_err());
    }
}
