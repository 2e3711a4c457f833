//! What an identity value is.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What an identity value is; decides how the value is normalized.
///
/// Mirrors the WIT `identity-kind`. In JSON a plain kind is a string
/// (`"email"`) and a custom kind an object (`{"custom": "slack_user"}`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// An email address; normalized as an [`EmailAddress`](crate::EmailAddress).
    Email,
    /// A phone number; normalized to E.164.
    Phone,
    /// A WhatsApp id: the user's phone number, normalized to E.164.
    Whatsapp,
    /// A Telegram user id.
    Telegram,
    /// A Facebook Messenger page-scoped id (PSID).
    Messenger,
    /// An Instagram-scoped user id.
    Instagram,
    /// A visitor id of our web chat.
    WebchatVisitor,
    /// A contact id in a CRM.
    CrmContact,
    /// A customer number in an ERP.
    ErpCustomer,
    /// Anything else; the string names the kind (`"slack_user"`).
    Custom(String),
}

// === impl IdentityKind ===

impl IdentityKind {
    /// The kind's name as in JSON and WIT (`"webchat_visitor"`); a custom
    /// kind gives its own name.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            IdentityKind::Email => "email",
            IdentityKind::Phone => "phone",
            IdentityKind::Whatsapp => "whatsapp",
            IdentityKind::Telegram => "telegram",
            IdentityKind::Messenger => "messenger",
            IdentityKind::Instagram => "instagram",
            IdentityKind::WebchatVisitor => "webchat_visitor",
            IdentityKind::CrmContact => "crm_contact",
            IdentityKind::ErpCustomer => "erp_customer",
            IdentityKind::Custom(name) => name,
        }
    }

    /// Whether a value of this kind names the same person everywhere (an
    /// email address, a phone or WhatsApp number), so its natural scope is
    /// [`IdentityScope::Global`](crate::IdentityScope::Global).
    #[must_use]
    pub fn is_global(&self) -> bool {
        matches!(
            self,
            IdentityKind::Email | IdentityKind::Phone | IdentityKind::Whatsapp
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms() {
        assert_eq!(
            serde_json::to_string(&IdentityKind::WebchatVisitor).expect("serialize"),
            "\"webchat_visitor\""
        );
        assert_eq!(
            serde_json::to_string(&IdentityKind::Custom("slack_user".into())).expect("serialize"),
            "{\"custom\":\"slack_user\"}"
        );
        let kind: IdentityKind = serde_json::from_str("\"erp_customer\"").expect("known kind");
        assert_eq!(kind, IdentityKind::ErpCustomer);
        assert!(serde_json::from_str::<IdentityKind>("\"fax\"").is_err());
    }

    #[test]
    fn names_match_json() {
        for kind in [
            IdentityKind::Email,
            IdentityKind::Phone,
            IdentityKind::Whatsapp,
            IdentityKind::Telegram,
            IdentityKind::Messenger,
            IdentityKind::Instagram,
            IdentityKind::WebchatVisitor,
            IdentityKind::CrmContact,
            IdentityKind::ErpCustomer,
        ] {
            let json = serde_json::to_string(&kind).expect("serialize");
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
    }
}
