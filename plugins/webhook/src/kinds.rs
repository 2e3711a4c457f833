//! Identity kinds as the payload writes them: the contact format's names
//! (`email`, `webchat_visitor`) and `custom:<name>` for anything else.

use silta_sdk::PluginError;
use silta_sdk::types::{IdentityKind, IdentityScope};

/// The prefix of a custom kind (`custom:slack_user`).
const CUSTOM_PREFIX: &str = "custom:";

/// Reads a kind; `field` names it in the error.
pub fn parse(field: &str, raw: &str) -> Result<IdentityKind, PluginError> {
    if let Some(kind) = IdentityKind::from_name(raw) {
        return Ok(kind);
    }
    match raw.strip_prefix(CUSTOM_PREFIX) {
        Some(name) if !name.trim().is_empty() => Ok(IdentityKind::Custom(name.to_owned())),
        Some(_) => Err(PluginError::bad_input(format!(
            "`{field}` names no custom kind after `custom:` (e.g. `custom:slack_user`)"
        ))),
        None => {
            let known: Vec<&str> = IdentityKind::KNOWN.iter().map(IdentityKind::name).collect();
            Err(PluginError::bad_input(format!(
                "`{field}` must be one of {}, or custom:<name>; got {raw:?}",
                known.join(", ")
            )))
        }
    }
}

/// The payload's name of a kind.
pub fn name(kind: &IdentityKind) -> String {
    match kind {
        IdentityKind::Custom(name) => format!("{CUSTOM_PREFIX}{name}"),
        known => known.name().to_owned(),
    }
}

/// Where a sender's value is unique. Email addresses and phone, WhatsApp
/// and Telegram numbers or ids are the same everywhere; page-scoped ids,
/// visitor ids, CRM and ERP numbers and custom ids mean something only to
/// the system behind this webhook, which is the channel account.
pub fn scope(kind: &IdentityKind, channel_account: &str) -> IdentityScope {
    match kind {
        IdentityKind::Email
        | IdentityKind::Phone
        | IdentityKind::Whatsapp
        | IdentityKind::Telegram => IdentityScope::Global,
        IdentityKind::Messenger
        | IdentityKind::Instagram
        | IdentityKind::WebchatVisitor
        | IdentityKind::CrmContact
        | IdentityKind::ErpCustomer
        | IdentityKind::Custom(_) => IdentityScope::ChannelAccount(channel_account.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in IdentityKind::KNOWN
            .into_iter()
            .chain([IdentityKind::Custom("slack_user".into())])
        {
            assert_eq!(parse("k", &name(&kind)).expect("known"), kind);
        }
        assert!(parse("k", "custom:").is_err());
        let error = parse("sender.kind", "fax").unwrap_err();
        assert!(
            error
                .message()
                .starts_with("`sender.kind` must be one of email, phone")
        );
    }
}
