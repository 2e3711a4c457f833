//! The core's own checks, for refusing bad input early.
//!
//! The host validates and normalizes everything a plugin returns, with the
//! `silta-model` constructors. These functions run those same constructors
//! inside the plugin, so a plugin can answer a malformed payload with a
//! [`PluginError::BadInput`] that names the payload's field
//! (`sender.value: "x" is not a usable email address: has no '@'`) instead
//! of handing the host a value it will refuse later, further from the
//! cause. `field` is always the name to put into the message.
//!
//! Phone numbers (kinds `phone` and `whatsapp`) are checked against the
//! full numbering-plan metadata. Its first use in an instance loads that
//! metadata, and the host starts a fresh instance per call, so every call
//! that checks a phone number pays for it (on the order of 0.1 ms in
//! WebAssembly, against microseconds for an email address) and the
//! component grows by the metadata (about 1 MB). A channel on a hot path
//! may leave phone numbers to the host, which checks them anyway.

use silta_model::{
    ChannelAccountId, ContentHash, EmailAddress, IdempotencyKey, IdentityKey, LanguageTag,
    ModelError, NormalizeOptions, PhoneNumber, parse_region,
};

use crate::time;
use crate::types::{
    Attachment, DeliveryUpdate, Identity, IdentityKind, IdentityScope, Interaction, Part,
    PluginError, Timestamp,
};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// An email address, normalized as the core stores it (trimmed, domain in
/// lower case).
pub fn email(field: &str, raw: &str) -> Result<String> {
    Ok(EmailAddress::parse(field, raw)?.into())
}

/// A phone number in international form (`+358 40 123 4567`), as E.164.
pub fn phone(field: &str, raw: &str) -> Result<String> {
    Ok(PhoneNumber::parse(field, raw, None)?.into())
}

/// A phone number in international or national form; national numbers are
/// read in `region` (an ISO 3166-1 code such as `"FI"`).
pub fn phone_in_region(field: &str, raw: &str, region: &str) -> Result<String> {
    let region = parse_region("region", region)?;
    Ok(PhoneNumber::parse(field, raw, Some(region))?.into())
}

/// An identity value normalized for its kind, the way the host does with
/// no default region: email addresses and phone numbers as above, WhatsApp
/// ids as E.164, other kinds trimmed and free of control characters.
pub fn identity_value(field: &str, kind: &IdentityKind, raw: &str) -> Result<String> {
    let key = IdentityKey::new(
        model_kind(kind),
        raw,
        silta_model::IdentityScope::Global,
        &NormalizeOptions::default(),
    )
    .map_err(|error| renamed(error, "value", field))?;
    Ok(key.value().to_owned())
}

/// Checks an identity as the host will: its value for its kind, a custom
/// kind's name and a scope's name. Errors name `field.value`, `field.kind`
/// or `field.scope`.
pub fn identity(field: &str, identity: &Identity) -> Result<()> {
    let scope = match &identity.scope {
        IdentityScope::Global => silta_model::IdentityScope::Global,
        IdentityScope::ChannelAccount(name) => {
            silta_model::IdentityScope::ChannelAccount(name.clone())
        }
        IdentityScope::App(name) => silta_model::IdentityScope::App(name.clone()),
    };
    IdentityKey::new(
        model_kind(&identity.kind),
        &identity.value,
        scope,
        &NormalizeOptions::default(),
    )
    .map_err(|error| error.in_field(field))?;
    Ok(())
}

/// An RFC 3339 time (`2026-11-23T22:54:41+02:00`) as a WIT timestamp.
pub fn timestamp(field: &str, raw: &str) -> Result<Timestamp> {
    let at = silta_model::Timestamp::parse_rfc3339(field, raw)?;
    Ok(time::from_model(at))
}

/// A timestamp the core can store (1970 to 9999, nanoseconds below one
/// second).
pub fn timestamp_in_range(field: &str, at: &Timestamp) -> Result<()> {
    time::to_model(field, at)?;
    Ok(())
}

/// A BCP 47 language tag (`fi`, `en-GB`), in its canonical form.
pub fn language(field: &str, raw: &str) -> Result<String> {
    Ok(LanguageTag::parse(field, raw)?.as_str().to_owned())
}

/// A `sha256:<64 hex digits>` content hash.
pub fn content_hash(field: &str, raw: &str) -> Result<String> {
    Ok(ContentHash::parse(field, raw)?.as_str().to_owned())
}

/// Text that must not be empty; returned trimmed.
pub fn non_empty(field: &str, raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ModelError::Empty {
            field: field.to_owned(),
        }
        .into());
    }
    Ok(trimmed.to_owned())
}

/// A provider's id as the host keys messages on it: not empty, no control
/// characters, kept exactly as given.
pub fn provider_id(field: &str, raw: &str) -> Result<()> {
    IdempotencyKey::new(probe_account(), "plugin", raw)
        .map_err(|error| renamed(error, "provider_message_id", field))?;
    Ok(())
}

/// An absolute `http` or `https` URL with a host, without spaces or
/// control characters: enough for the host to fetch an attachment.
///
/// This is a plausibility check, not a full URL parser.
pub fn http_url(field: &str, raw: &str) -> Result<()> {
    let invalid = |reason: &str| PluginError::BadInput(format!("{field}: {raw:?} {reason}"));
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(|| {
            invalid("is not an absolute http(s) URL (e.g. https://cdn.example.com/a.png)")
        })?;
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("contains spaces or control characters"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(invalid("has no host"));
    }
    Ok(())
}

/// Checks an interaction as the host will when the plugin returns it:
/// sender, recipients, provider message id, time and parts. Errors name
/// fields relative to the interaction (`sender.value`, `parts[1].url`).
pub fn interaction(interaction: &Interaction) -> Result<()> {
    identity("sender", &interaction.sender)?;
    for (n, recipient) in interaction.recipients.iter().enumerate() {
        identity(&format!("recipients[{n}]"), recipient)?;
    }
    provider_id("provider_message_id", &interaction.provider_message_id)?;
    timestamp_in_range("occurred_at", &interaction.occurred_at)?;
    for (n, part) in interaction.parts.iter().enumerate() {
        self::part(&format!("parts[{n}]"), part)?;
    }
    Ok(())
}

/// Checks a delivery update as the host will.
pub fn delivery_update(update: &DeliveryUpdate) -> Result<()> {
    provider_id("provider_message_id", &update.provider_message_id)?;
    timestamp_in_range("occurred_at", &update.occurred_at)
}

/// Checks one part as the host will: attachments, locations and templates
/// have rules; text is free.
pub fn part(field: &str, part: &Part) -> Result<()> {
    match part {
        Part::Attachment(attachment) => self::attachment(field, attachment),
        Part::Location(location) => {
            let in_range = (-90.0..=90.0).contains(&location.latitude)
                && (-180.0..=180.0).contains(&location.longitude);
            if in_range {
                Ok(())
            } else {
                Err(PluginError::BadInput(format!(
                    "{field}: latitude must be within ±90 and longitude within ±180, got {},{}",
                    location.latitude, location.longitude
                )))
            }
        }
        Part::Template(template) => {
            non_empty(&format!("{field}.name"), &template.name)?;
            language(&format!("{field}.language"), &template.language)?;
            Ok(())
        }
        Part::Text(_)
        | Part::Html(_)
        | Part::Quoted(_)
        | Part::Interactive(_)
        | Part::Reaction(_) => Ok(()),
    }
}

/// Checks an attachment as the host will: a media type, and the bytes, a
/// content hash or a URL to find them by; a declared hash must match the
/// bytes.
pub fn attachment(field: &str, attachment: &Attachment) -> Result<()> {
    non_empty(&format!("{field}.media_type"), &attachment.media_type)?;
    let hash_field = format!("{field}.content_hash");
    let declared = attachment
        .content_hash
        .as_deref()
        .map(|hash| ContentHash::parse(&hash_field, hash))
        .transpose()?;
    match (&attachment.content, declared) {
        (Some(bytes), Some(declared)) if ContentHash::of(bytes) != declared => {
            Err(PluginError::BadInput(format!(
                "{hash_field}: does not match the content, whose hash is {}",
                ContentHash::of(bytes).as_str()
            )))
        }
        (None, None) if attachment.url.is_none() => Err(PluginError::BadInput(format!(
            "{field}: an attachment needs its content, a content hash or a url"
        ))),
        _ => Ok(()),
    }
}

fn model_kind(kind: &IdentityKind) -> silta_model::IdentityKind {
    use silta_model::IdentityKind as Model;
    match kind {
        IdentityKind::Email => Model::Email,
        IdentityKind::Phone => Model::Phone,
        IdentityKind::Whatsapp => Model::Whatsapp,
        IdentityKind::Telegram => Model::Telegram,
        IdentityKind::Messenger => Model::Messenger,
        IdentityKind::Instagram => Model::Instagram,
        IdentityKind::WebchatVisitor => Model::WebchatVisitor,
        IdentityKind::CrmContact => Model::CrmContact,
        IdentityKind::ErpCustomer => Model::ErpCustomer,
        IdentityKind::Custom(name) => Model::Custom(name.clone()),
    }
}

/// The model names some fields itself (`value`, `provider_message_id`);
/// put the caller's name in their place.
fn renamed(error: ModelError, model_field: &str, field: &str) -> PluginError {
    let message = error.to_string();
    let message = match message.strip_prefix(model_field) {
        Some(rest) => format!("{field}{rest}"),
        None => message,
    };
    PluginError::BadInput(message)
}

/// A fixed channel account, only to run the core's idempotency-key checks;
/// parsed once per instance, not per provider id checked.
fn probe_account() -> ChannelAccountId {
    static PROBE: std::sync::LazyLock<ChannelAccountId> = std::sync::LazyLock::new(|| {
        ChannelAccountId::parse("probe", "01890a5d-ac96-7000-8000-000000000000")
            .unwrap_or_else(|_| unreachable!("a valid UUIDv7 literal"))
    });
    *PROBE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_and_phone_use_the_model() {
        assert_eq!(
            email("from", " A@Example.TEST ").as_deref(),
            Ok("A@example.test")
        );
        let error = email("sender.value", "nope").unwrap_err();
        assert_eq!(error.kind(), "bad-input");
        assert!(error.message().starts_with("sender.value:"), "{error:?}");
        assert_eq!(
            phone("to", "+358 40 123 4567").as_deref(),
            Ok("+358401234567")
        );
        assert!(phone("to", "040 123 4567").is_err());
        assert_eq!(
            phone_in_region("to", "040 123 4567", "FI").as_deref(),
            Ok("+358401234567")
        );
    }

    #[test]
    fn identity_values_name_the_callers_field() {
        assert_eq!(
            identity_value("sender.value", &IdentityKind::Whatsapp, "358401234567").as_deref(),
            Ok("+358401234567")
        );
        let error = identity_value("sender.value", &IdentityKind::Telegram, "  ").unwrap_err();
        assert_eq!(error.message(), "sender.value must not be empty");
        let error = identity("sender", &Identity::email("x")).unwrap_err();
        assert!(error.message().starts_with("sender.value:"), "{error:?}");
        let custom = Identity::new(IdentityKind::Custom(" ".into()), "v");
        assert!(
            identity("sender", &custom)
                .unwrap_err()
                .message()
                .starts_with("sender.kind")
        );
    }

    #[test]
    fn provider_ids_and_times() {
        assert!(provider_id("id", "abc/def").is_ok());
        assert_eq!(
            provider_id("id", " ").unwrap_err().message(),
            "id must not be empty"
        );
        assert!(
            provider_id("id", "a\nb")
                .unwrap_err()
                .message()
                .starts_with("id:")
        );
        let at = timestamp("timestamp", "2026-11-23T22:54:41+02:00").expect("valid");
        assert_eq!((at.seconds, at.nanoseconds), (1_795_467_281, 0));
        assert!(
            timestamp("timestamp", "yesterday")
                .unwrap_err()
                .message()
                .starts_with("timestamp:")
        );
        let late = Timestamp {
            seconds: u64::MAX,
            nanoseconds: 0,
        };
        assert!(timestamp_in_range("occurred_at", &late).is_err());
    }

    #[test]
    fn urls() {
        assert!(http_url("url", "https://cdn.example.com/a.png").is_ok());
        assert!(http_url("url", "http://127.0.0.1:8080").is_ok());
        for bad in [
            "ftp://x/y",
            "https://",
            "https:///a",
            "https://a b",
            "cdn.example.com/a",
        ] {
            assert!(http_url("url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attachments_need_a_source() {
        let none = Attachment::from_url("image/png", "https://x.test/a").clone();
        assert!(attachment("a", &none).is_ok());
        let mut sourceless = none.clone();
        sourceless.url = None;
        assert!(
            attachment("parts[0]", &sourceless)
                .unwrap_err()
                .message()
                .starts_with("parts[0]:")
        );
        let mut wrong = Attachment::from_bytes("text/plain", b"hi".to_vec());
        wrong.content_hash = Some(format!("sha256:{}", "0".repeat(64)));
        assert!(attachment("a", &wrong).is_err());
        let mut no_type = none;
        no_type.media_type = " ".into();
        assert_eq!(
            attachment("a", &no_type).unwrap_err().message(),
            "a.media_type must not be empty"
        );
    }
}
