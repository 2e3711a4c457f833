//! [`InteractionBuilder`]: the common ways to assemble an [`Interaction`].

use crate::types::{
    Attachment, Direction, EmailHeaders, Identity, Interaction, InteractionKind, Part, PluginError,
    SenderRole, ThreadKey, Timestamp,
};

/// Builds an [`Interaction`] step by step and checks it the way the host
/// will before handing it over.
///
/// ```
/// use silta_sdk::InteractionBuilder;
/// use silta_sdk::types::{Assurance, Identity, ThreadKey, Timestamp};
///
/// let sender = Identity::email("aino@example.fi").with_assurance(Assurance::ChannelAsserted);
/// let at = Timestamp { seconds: 1_795_467_281, nanoseconds: 0 };
/// let interaction = InteractionBuilder::inbound_message(sender, "msg-1", at)
///     .text("Where is my order?")
///     .thread_key(ThreadKey::ProviderThread("thread-7".into()))
///     .build()
///     .expect("a valid interaction");
/// assert_eq!(interaction.parts.len(), 1);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct InteractionBuilder {
    interaction: Interaction,
}

// === impl InteractionBuilder ===

impl InteractionBuilder {
    /// An inbound message from a customer: the usual result of `normalize`.
    ///
    /// `provider_message_id` is the provider's id for this message; with the
    /// channel account and the plugin it is the idempotency key, so the
    /// same provider message must always give the same id. `occurred_at`
    /// comes from the payload, not the clock, to keep `normalize`
    /// deterministic.
    pub fn inbound_message(
        sender: Identity,
        provider_message_id: impl Into<String>,
        occurred_at: Timestamp,
    ) -> Self {
        Self::new(
            InteractionKind::Message,
            Direction::Inbound,
            SenderRole::Customer,
            sender,
            provider_message_id,
            occurred_at,
        )
    }

    /// Any interaction: a note, an event, a call, an outbound message an
    /// agent sent from the provider's own tool.
    pub fn new(
        kind: InteractionKind,
        direction: Direction,
        sender_role: SenderRole,
        sender: Identity,
        provider_message_id: impl Into<String>,
        occurred_at: Timestamp,
    ) -> Self {
        Self {
            interaction: Interaction {
                kind,
                direction,
                sender_role,
                sender,
                recipients: Vec::new(),
                provider_message_id: provider_message_id.into(),
                occurred_at,
                subject: None,
                parts: Vec::new(),
                thread_keys: Vec::new(),
                email: None,
                attributes: Vec::new(),
            },
        }
    }

    /// Adds a recipient (one of our addresses, or a copied party).
    pub fn recipient(mut self, recipient: Identity) -> Self {
        self.interaction.recipients.push(recipient);
        self
    }

    /// Sets the subject, for channels that have one.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.interaction.subject = Some(subject.into());
        self
    }

    /// Adds a plain-text part.
    pub fn text(self, text: impl Into<String>) -> Self {
        self.part(Part::Text(text.into()))
    }

    /// Adds an HTML part.
    pub fn html(self, html: impl Into<String>) -> Self {
        self.part(Part::Html(html.into()))
    }

    /// Adds quoted earlier history, kept apart from the new text.
    pub fn quoted(self, quoted: impl Into<String>) -> Self {
        self.part(Part::Quoted(quoted.into()))
    }

    /// Adds an attachment part.
    pub fn attachment(self, attachment: Attachment) -> Self {
        self.part(Part::Attachment(attachment))
    }

    /// Adds any part; parts keep the order they are added in.
    pub fn part(mut self, part: Part) -> Self {
        self.interaction.parts.push(part);
        self
    }

    /// Adds a thread key the host threads the interaction on.
    pub fn thread_key(mut self, key: ThreadKey) -> Self {
        self.interaction.thread_keys.push(key);
        self
    }

    /// Sets the RFC 5322 headers of an email.
    pub fn email_headers(mut self, headers: EmailHeaders) -> Self {
        self.interaction.email = Some(headers);
        self
    }

    /// Adds a provider-specific fact worth keeping (`"telegram.chat_id"`).
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.interaction
            .attributes
            .push((name.into(), value.into()));
        self
    }

    /// The interaction, checked as the host will check it (see
    /// [`crate::validate::interaction`]); the error is bad input naming the
    /// field (`sender.value`, `parts[0].media_type`).
    pub fn build(self) -> Result<Interaction, PluginError> {
        crate::validate::interaction(&self.interaction)?;
        Ok(self.interaction)
    }

    /// The interaction as built, unchecked.
    #[must_use]
    pub fn build_unchecked(self) -> Interaction {
        self.interaction
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Assurance, DeliveryState};

    fn at() -> Timestamp {
        Timestamp {
            seconds: 1_795_467_281,
            nanoseconds: 0,
        }
    }

    #[test]
    fn builds_an_inbound_message() {
        let sender = Identity::email("aino@example.fi").with_assurance(Assurance::ChannelAsserted);
        let interaction = InteractionBuilder::inbound_message(sender, "m-1", at())
            .text("hello")
            .attachment(Attachment::from_url(
                "image/png",
                "https://cdn.example.fi/a.png",
            ))
            .thread_key(ThreadKey::ProviderThread("t-1".into()))
            .attribute("k", "v")
            .build()
            .expect("valid");
        assert_eq!(interaction.kind, InteractionKind::Message);
        assert_eq!(interaction.direction, Direction::Inbound);
        assert_eq!(interaction.sender_role, SenderRole::Customer);
        assert_eq!(interaction.parts.len(), 2);
        assert_eq!(interaction.attributes, vec![("k".into(), "v".into())]);
        let _ = DeliveryState::Sent;
    }

    #[test]
    fn refuses_what_the_host_would_refuse() {
        let error = InteractionBuilder::inbound_message(Identity::email("nope"), "m-1", at())
            .build()
            .unwrap_err();
        assert!(error.message().starts_with("sender.value:"), "{error:?}");
        let error = InteractionBuilder::inbound_message(Identity::email("a@b.fi"), "", at())
            .build()
            .unwrap_err();
        assert_eq!(error.message(), "provider_message_id must not be empty");
        let mut attachment = Attachment::from_url("", "https://x.fi/a");
        attachment.url = None;
        let error = InteractionBuilder::inbound_message(Identity::email("a@b.fi"), "m", at())
            .text("x")
            .attachment(attachment)
            .build()
            .unwrap_err();
        assert_eq!(error.message(), "parts[1].media_type must not be empty");
    }
}
