//! Where an identity value is unique.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where an identity value is unique. Mirrors the WIT `identity-scope`.
///
/// An email address means the same person everywhere; a Messenger PSID only
/// within the page (channel account) that issued it; a CRM contact id only
/// within that CRM. Two identities are the same only if kind, scope and
/// value all match.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IdentityScope {
    /// Unique everywhere (an email address, an E.164 phone number).
    Global,
    /// Unique within one of our channel accounts; the string names it.
    ChannelAccount(String),
    /// Unique within one application or back-office system (`"tryton"`).
    App(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms() {
        assert_eq!(
            serde_json::to_string(&IdentityScope::Global).expect("serialize"),
            "\"global\""
        );
        let scope: IdentityScope =
            serde_json::from_str("{\"channel_account\":\"fb-page\"}").expect("valid scope");
        assert_eq!(scope, IdentityScope::ChannelAccount("fb-page".into()));
    }
}
