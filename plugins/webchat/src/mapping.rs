//! Gateway frames → interactions and delivery updates. Pure functions of
//! the event and a MAC check, so the golden fixtures run natively.
//!
//! # A `message` frame
//!
//! One inbound interaction:
//! - sender: an anonymous visitor is `webchat-visitor <visitor id>`,
//!   scoped to the channel account and channel-attested (the visitor
//!   holds a session Silta signed). A signed-in visitor (a valid identity
//!   token) is the user the site vouches for, HMAC-verified: their email
//!   address, else their phone number, else `site-user <sub>` scoped to
//!   the channel account; so they are the same party as that user on
//!   every other channel.
//! - provider message id `<visitor>:<client_id>`: the widget resends a
//!   message with the same `client_id` until Silta accepts it, and the
//!   same id gives the same idempotency key, so it is recorded once.
//! - thread key `provider-thread visitor:<visitor>`: one conversation per
//!   visitor, signed in or not.
//! - parts: the text, then one attachment per uploaded blob.
//! - attributes `webchat.visitor`, `webchat.client_id`, and
//!   `webchat.site_user` (the token's `sub`) for a signed-in visitor.
//!
//! # A `receipt` frame
//!
//! One delivery update per message id: `delivered` or `read`. The
//! provider message id of an agent message is its interaction id (what
//! the gateway answered when it was sent).

use silta_sdk::types::{
    Assurance, Attachment, DeliveryState, DeliveryUpdate, Identity, IdentityKind, IdentityScope,
    InboundEvent, Normalized, PluginError, ThreadKey,
};
use silta_sdk::{InteractionBuilder, validate};

use crate::frames::{self, Frame, Message, Receipt, ReceiptState};
use crate::gateway;
use crate::identity_token::{self, Claims};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// The custom identity kind of a site's own user id.
pub const SITE_USER: &str = "site-user";

/// All the interactions or delivery updates of one frame.
///
/// `verify(data, mac)` checks an identity token's HMAC-SHA256 with the
/// identity secret.
pub fn normalize(
    event: &InboundEvent,
    verify: impl Fn(&[u8], &[u8]) -> Result<bool>,
) -> Result<Vec<Normalized>> {
    let visitor = gateway::visitor(event)?;
    match frames::parse(&event.body)? {
        Frame::Message(message) => Ok(vec![Normalized::Interaction(self::message(
            event, visitor, &message, verify,
        )?)]),
        Frame::Receipt(receipt) => receipts(event, &receipt),
    }
}

/// The thread key of a visitor's conversation.
#[must_use]
pub fn thread_key(visitor: &str) -> ThreadKey {
    ThreadKey::ProviderThread(format!("visitor:{visitor}"))
}

fn message(
    event: &InboundEvent,
    visitor: &str,
    message: &Message,
    verify: impl Fn(&[u8], &[u8]) -> Result<bool>,
) -> Result<silta_sdk::types::Interaction> {
    let claims = match &message.identity_token {
        Some(token) => Some(identity_token::verify(token, event.received_at, verify)?),
        None => None,
    };
    let sender = match &claims {
        Some(claims) => signed_in(event, claims)?,
        None => Identity::new(IdentityKind::WebchatVisitor, visitor)
            .with_scope(IdentityScope::ChannelAccount(event.channel_account.clone()))
            .with_assurance(Assurance::ChannelAttested),
    };
    let mut builder = InteractionBuilder::inbound_message(
        sender,
        format!("{visitor}:{}", message.client_id),
        event.received_at,
    )
    .thread_key(thread_key(visitor))
    .attribute("webchat.visitor", visitor)
    .attribute("webchat.client_id", &message.client_id);
    if let Some(claims) = &claims {
        builder = builder.attribute("webchat.site_user", &claims.sub);
    }
    if !message.text.trim().is_empty() {
        builder = builder.text(message.text.trim());
    }
    for upload in &message.attachments {
        let mut attachment = Attachment::stored(upload.media_type.clone(), upload.blob.clone());
        if let Some(size) = upload.size {
            attachment = attachment.with_size_bytes(size);
        }
        if let Some(name) = &upload.name {
            attachment = attachment.with_filename(name.clone());
        }
        builder = builder.attachment(attachment);
    }
    builder.build()
}

/// The identity a valid token vouches for.
fn signed_in(event: &InboundEvent, claims: &Claims) -> Result<Identity> {
    let identity = if let Some(email) = non_blank(claims.email.as_deref()) {
        Identity::email(email)
    } else if let Some(phone) = non_blank(claims.phone_number.as_deref()) {
        Identity::phone(phone)
    } else {
        Identity::new(IdentityKind::Custom(SITE_USER.into()), claims.sub.clone())
            .with_scope(IdentityScope::ChannelAccount(event.channel_account.clone()))
    };
    let mut identity = identity.with_assurance(Assurance::HmacVerified);
    if let Some(name) = non_blank(claims.name.as_deref()) {
        identity = identity.with_display_name(name);
    }
    validate::identity("identity token", &identity).map_err(|error| {
        PluginError::bad_input(format!(
            "the identity token's user is not a valid identity: {}",
            error.message()
        ))
    })?;
    Ok(identity)
}

fn receipts(event: &InboundEvent, receipt: &Receipt) -> Result<Vec<Normalized>> {
    let state = match receipt.state {
        ReceiptState::Delivered => DeliveryState::Delivered,
        ReceiptState::Read => DeliveryState::Read,
    };
    receipt
        .ids
        .iter()
        .map(|id| {
            let update = DeliveryUpdate::new(id.clone(), state, event.received_at);
            validate::delivery_update(&update)?;
            Ok(Normalized::DeliveryUpdate(update))
        })
        .collect()
}

fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}
