//! Identities: how a party is reached or recognised.

use schemars::JsonSchema;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::assurance::Assurance;
use crate::consent::{ChannelWindow, Consent};
use crate::error::Result;
use crate::id::{IdentityId, PartyId};
use crate::identity_key::IdentityKey;
use crate::identity_kind::IdentityKind;
use crate::options::NormalizeOptions;
use crate::scope::IdentityScope;

/// How a party is reached or recognised: an email address, a phone number,
/// a Messenger PSID, a CRM contact id.
///
/// Kind, scope and value form the [`IdentityKey`], unique across
/// identities; they are fixed at construction (the value normalized) and
/// read through accessors, so they cannot drift apart. The rest is plain
/// data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// The identity's id.
    pub id: IdentityId,
    /// What the value is.
    kind: IdentityKind,
    /// The normalized value (see [`IdentityKey::new`]).
    value: String,
    /// Where the value is unique.
    scope: IdentityScope,
    /// How sure we are that the party controls it.
    pub assurance: Assurance,
    /// A display name that came with the identity (`"Aino Virtanen"`).
    pub display_name: Option<String>,
    /// The party's consent to be contacted here.
    pub consent: Option<Consent>,
    /// The provider's free-form messaging window, where there is one.
    pub window: Option<ChannelWindow>,
    /// The party the identity belongs to, once resolved.
    pub party_id: Option<PartyId>,
    /// Who asserted it first: the channel plugin (`"email"`) or the back
    /// office (`"backoffice:tryton"`). A later claim from the same source
    /// is the same claim again; see the identity-resolution rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

// === impl Identity ===

impl Identity {
    /// A new identity with a fresh id, the value normalized for `kind`
    /// (see [`IdentityKey::new`]), and no display name, consent, window or
    /// party yet.
    pub fn new(
        kind: IdentityKind,
        raw_value: &str,
        scope: IdentityScope,
        assurance: Assurance,
        options: &NormalizeOptions,
    ) -> Result<Self> {
        let key = IdentityKey::new(kind, raw_value, scope, options)?;
        Ok(Self::from_key(key, assurance))
    }

    /// A new identity for an already normalized key.
    #[must_use]
    pub fn from_key(key: IdentityKey, assurance: Assurance) -> Self {
        let (kind, scope, value) = key.into_parts();
        Self {
            id: IdentityId::new(),
            kind,
            value,
            scope,
            assurance,
            display_name: None,
            consent: None,
            window: None,
            party_id: None,
            source: None,
        }
    }

    /// The same identity with a display name.
    #[must_use]
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// What the value is.
    #[must_use]
    pub fn kind(&self) -> &IdentityKind {
        &self.kind
    }

    /// The normalized value.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Where the value is unique.
    #[must_use]
    pub fn scope(&self) -> &IdentityScope {
        &self.scope
    }

    /// The uniqueness key (kind, scope, value).
    #[must_use]
    pub fn key(&self) -> IdentityKey {
        // The parts were normalized when this identity was built.
        IdentityKey::from_normalized(self.kind.clone(), self.scope.clone(), self.value.clone())
    }
}

/// The JSON shape of an [`Identity`], before normalization.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    id: IdentityId,
    kind: IdentityKind,
    value: String,
    scope: IdentityScope,
    assurance: Assurance,
    display_name: Option<String>,
    consent: Option<Consent>,
    window: Option<ChannelWindow>,
    party_id: Option<PartyId>,
    #[serde(default)]
    source: Option<String>,
}

impl<'de> Deserialize<'de> for Identity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawIdentity::deserialize(deserializer)?;
        let key = IdentityKey::new(
            raw.kind,
            &raw.value,
            raw.scope,
            &NormalizeOptions::default(),
        )
        .map_err(D::Error::custom)?;
        let mut identity = Identity::from_key(key, raw.assurance);
        identity.id = raw.id;
        identity.display_name = raw.display_name;
        identity.consent = raw.consent;
        identity.window = raw.window;
        identity.party_id = raw.party_id;
        identity.source = raw.source;
        Ok(identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::Region;

    #[test]
    fn new_normalizes_and_key_matches() {
        let options = NormalizeOptions {
            default_region: Some(Region::FI),
        };
        let identity = Identity::new(
            IdentityKind::Phone,
            "040 123 4567",
            IdentityScope::Global,
            Assurance::ChannelAttested,
            &options,
        )
        .expect("valid phone")
        .with_display_name("Aino Virtanen");
        assert_eq!(identity.value(), "+358401234567");
        assert_eq!(identity.display_name.as_deref(), Some("Aino Virtanen"));
        let key = IdentityKey::new(
            IdentityKind::Phone,
            "+358 40 1234567",
            IdentityScope::Global,
            &NormalizeOptions::default(),
        )
        .expect("valid key");
        assert_eq!(identity.key(), key);
    }

    #[test]
    fn invalid_value_names_the_field() {
        let err = Identity::new(
            IdentityKind::Phone,
            "12",
            IdentityScope::Global,
            Assurance::Unverified,
            &NormalizeOptions::default(),
        )
        .expect_err("too short")
        .in_field("sender");
        assert_eq!(err.field(), "sender.value");
    }

    #[test]
    fn deserialization_normalizes_the_value() {
        let id = IdentityId::new();
        let json = serde_json::json!({
            "id": id,
            "kind": "email",
            "value": " Aino@EXAMPLE.fi",
            "scope": "global",
            "assurance": "channel_asserted",
            "display_name": null,
            "consent": null,
            "window": null,
            "party_id": null,
        });
        let identity: Identity = serde_json::from_value(json).expect("valid identity");
        assert_eq!(identity.id, id);
        assert_eq!(identity.value(), "Aino@example.fi");

        let bad = serde_json::json!({
            "id": id,
            "kind": "email",
            "value": "Aino Virtanen",
            "scope": "global",
            "assurance": "channel_asserted",
            "display_name": null,
            "consent": null,
            "window": null,
            "party_id": null,
        });
        let err = serde_json::from_value::<Identity>(bad).expect_err("invalid email");
        assert!(err.to_string().contains("email"), "{err}");
    }
}
