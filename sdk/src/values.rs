//! Constructors and small helpers on the WIT records a plugin builds most:
//! identities, attachments, delivery updates and outcomes, and its own
//! description.
//!
//! Records are plain structs, so a plugin can always fill every field by
//! hand; these save the boilerplate and pick the defaults the host expects.

use crate::types::{
    Assurance, Attachment, DeliveryOutcome, DeliveryState, DeliveryUpdate, Identity, IdentityKind,
    IdentityScope, PluginInfo, Timestamp,
};

// === impl IdentityKind ===

impl IdentityKind {
    /// Every kind but `custom`, in WIT order.
    pub const KNOWN: [IdentityKind; 9] = [
        IdentityKind::Email,
        IdentityKind::Phone,
        IdentityKind::Whatsapp,
        IdentityKind::Telegram,
        IdentityKind::Messenger,
        IdentityKind::Instagram,
        IdentityKind::WebchatVisitor,
        IdentityKind::CrmContact,
        IdentityKind::ErpCustomer,
    ];

    /// The kind's name as the contact format's JSON writes it
    /// (`"webchat_visitor"`); a custom kind gives its own name.
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

    /// The known kind named `name` (as [`IdentityKind::name`] writes it);
    /// `None` for anything else, which a plugin may map to `custom`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<IdentityKind> {
        Self::KNOWN.into_iter().find(|kind| kind.name() == name)
    }
}

// === impl Identity ===

impl Identity {
    /// An identity of `kind` with the value as the provider gave it:
    /// globally unique, unverified, without a display name. The host
    /// normalizes the value (see [`crate::validate::identity_value`]).
    pub fn new(kind: IdentityKind, value: impl Into<String>) -> Self {
        Self {
            kind,
            value: value.into(),
            scope: IdentityScope::Global,
            assurance: Assurance::Unverified,
            display_name: None,
        }
    }

    /// An email address.
    pub fn email(address: impl Into<String>) -> Self {
        Self::new(IdentityKind::Email, address)
    }

    /// A phone number (E.164, or national in the channel account's region).
    pub fn phone(number: impl Into<String>) -> Self {
        Self::new(IdentityKind::Phone, number)
    }

    /// The same identity, unique only within `scope` (a page-scoped id is
    /// unique within one channel account).
    #[must_use]
    pub fn with_scope(mut self, scope: IdentityScope) -> Self {
        self.scope = scope;
        self
    }

    /// The same identity with the given assurance.
    #[must_use]
    pub fn with_assurance(mut self, assurance: Assurance) -> Self {
        self.assurance = assurance;
        self
    }

    /// The same identity with a display name (`"Aino Virtanen"`).
    #[must_use]
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }
}

// === impl Attachment ===

impl Attachment {
    /// An attachment the host fetches from `url`.
    pub fn from_url(media_type: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            ..Self::empty(media_type.into())
        }
    }

    /// An attachment whose bytes travel with it (small content such as an
    /// email part); the host stores them by content hash.
    pub fn from_bytes(media_type: impl Into<String>, content: Vec<u8>) -> Self {
        Self {
            size_bytes: Some(content.len() as u64),
            content: Some(content),
            ..Self::empty(media_type.into())
        }
    }

    /// An attachment whose bytes the host already holds in its blob store
    /// (a file a visitor uploaded to Silta), by `sha256:<hex>` content hash.
    pub fn stored(media_type: impl Into<String>, content_hash: impl Into<String>) -> Self {
        Self {
            content_hash: Some(content_hash.into()),
            ..Self::empty(media_type.into())
        }
    }

    /// The same attachment with a file name.
    #[must_use]
    pub fn with_filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    /// The same attachment with its size as the provider reported it.
    #[must_use]
    pub fn with_size_bytes(mut self, size_bytes: u64) -> Self {
        self.size_bytes = Some(size_bytes);
        self
    }

    /// The same attachment with a known `sha256:<hex>` content hash.
    #[must_use]
    pub fn with_content_hash(mut self, content_hash: impl Into<String>) -> Self {
        self.content_hash = Some(content_hash.into());
        self
    }

    /// The same attachment shown inline, referred to by `Content-ID`.
    #[must_use]
    pub fn inline_with_content_id(mut self, content_id: impl Into<String>) -> Self {
        self.content_id = Some(content_id.into());
        self.inline = true;
        self
    }

    fn empty(media_type: String) -> Self {
        Self {
            filename: None,
            media_type,
            size_bytes: None,
            content_hash: None,
            url: None,
            content: None,
            content_id: None,
            inline: false,
        }
    }
}

// === impl DeliveryUpdate ===

impl DeliveryUpdate {
    /// The provider's report that the message it knows as
    /// `provider_message_id` reached `state` at `occurred_at`.
    pub fn new(
        provider_message_id: impl Into<String>,
        state: DeliveryState,
        occurred_at: Timestamp,
    ) -> Self {
        Self {
            provider_message_id: provider_message_id.into(),
            state,
            provider_code: None,
            detail: None,
            occurred_at,
        }
    }

    /// The same update with the provider's own code (`"131047"`, `"5.1.1"`).
    #[must_use]
    pub fn with_provider_code(mut self, code: impl Into<String>) -> Self {
        self.provider_code = Some(code.into());
        self
    }

    /// The same update with a human-readable detail.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

// === impl DeliveryOutcome ===

impl DeliveryOutcome {
    /// An outcome of `state` with nothing else known.
    #[must_use]
    pub fn new(state: DeliveryState) -> Self {
        Self {
            state,
            provider_message_id: None,
            provider_code: None,
            detail: None,
        }
    }

    /// The provider accepted the message, under its own id when it gave one.
    #[must_use]
    pub fn sent(provider_message_id: Option<String>) -> Self {
        Self {
            provider_message_id,
            ..Self::new(DeliveryState::Sent)
        }
    }

    /// The provider refused the message for good, with its code.
    pub fn failed(provider_code: impl Into<String>) -> Self {
        Self {
            provider_code: Some(provider_code.into()),
            ..Self::new(DeliveryState::Failed)
        }
    }

    /// The same outcome with a human-readable detail.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

// === impl PluginInfo ===

impl PluginInfo {
    /// A description with no identity kinds yet. `id` and `version` must
    /// equal the manifest's (the host checks at load).
    pub fn new(
        id: impl Into<String>,
        version: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            version: version.into(),
            name: name.into(),
            description: description.into(),
            identity_kinds: Vec::new(),
        }
    }

    /// The same description with the identity kinds the plugin produces or
    /// needs.
    #[must_use]
    pub fn with_identity_kinds(mut self, kinds: impl IntoIterator<Item = IdentityKind>) -> Self {
        self.identity_kinds = kinds.into_iter().collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_match_the_model() {
        for kind in IdentityKind::KNOWN {
            assert_eq!(IdentityKind::from_name(kind.name()), Some(kind.clone()));
            let model: silta_model::IdentityKind =
                serde_json::from_value(serde_json::Value::String(kind.name().to_owned()))
                    .expect("the model knows every WIT kind by this name");
            assert_eq!(model.name(), kind.name());
        }
        assert_eq!(IdentityKind::from_name("fax"), None);
        assert_eq!(IdentityKind::Custom("slack".into()).name(), "slack");
    }

    #[test]
    fn identity_defaults() {
        let identity = Identity::email("a@example.test")
            .with_assurance(Assurance::ChannelAsserted)
            .with_display_name("A");
        assert_eq!(identity.scope, IdentityScope::Global);
        assert_eq!(identity.assurance, Assurance::ChannelAsserted);
        assert_eq!(identity.display_name.as_deref(), Some("A"));
    }

    #[test]
    fn attachments_and_outcomes() {
        let bytes = Attachment::from_bytes("text/plain", b"hi".to_vec());
        assert_eq!(bytes.size_bytes, Some(2));
        let by_url =
            Attachment::from_url("image/png", "https://x.test/a.png").with_filename("a.png");
        assert_eq!(by_url.url.as_deref(), Some("https://x.test/a.png"));
        assert!(!by_url.inline);
        assert_eq!(DeliveryOutcome::failed("404").state, DeliveryState::Failed);
        assert_eq!(
            DeliveryOutcome::sent(Some("m1".into()))
                .provider_message_id
                .as_deref(),
            Some("m1")
        );
    }
}
