//! Silta's web chat gateway: the host half of the web chat (the other
//! half is the `webchat` channel plugin, and the widget it serves).
//!
//! A site embeds the widget with one script tag; the widget talks to the
//! routes under `/v1/webchat/{account}` (see `PROTOCOL.md`):
//!
//! - [`visitor_token`]: anonymous visitors get an id in a token Silta signs;
//! - [`routes`]: the widget script, sessions, the WebSocket ([`socket`]),
//!   the SSE and `POST` fallback ([`fallback`]), uploads ([`uploads`]),
//!   and CORS for the site's origins;
//! - [`visitor_frames`]: what the widget sends, checked and handed to the
//!   `webchat` plugin through the inbound pipeline (journaled before the
//!   widget hears `accepted`);
//! - [`live`]: which visitors have a widget open, fed by the event log, so
//!   an agent's reply reaches the widget as soon as it is sent;
//! - [`history`]: a visitor's conversation as the widget shows it;
//! - [`transport`]: the in-process transport the `webchat` plugin's
//!   rendered replies go to.

mod error;
pub mod fallback;
pub mod history;
pub mod live;
pub mod routes;
mod settings;
pub mod socket;
pub mod transport;
pub mod uploads;
pub mod visitor_frames;
pub mod visitor_token;
pub mod widget_frames;

use std::collections::HashMap;
use std::sync::Arc;

use silta_pipeline::channels::ChannelAccount;
use silta_pipeline::inbound::Inbound;
use silta_store::Store;
use tokio::sync::watch;

pub use error::{Result, WebchatError};
pub use live::Live;
pub use routes::router;
pub use settings::WebchatSettings;
pub use transport::GatewayTransport;
pub use visitor_token::VisitorKeys;

/// The widget script, served as `/v1/webchat/{account}/widget.js`.
pub const WIDGET_JS: &str = include_str!("../widget/silta-chat.js");

/// One web chat channel account as the gateway serves it.
pub struct WebchatAccount {
    /// The channel account (served by the `webchat` plugin).
    pub channel: Arc<ChannelAccount>,
    /// How it is offered to sites.
    pub settings: WebchatSettings,
}

/// The gateway: every web chat account of this node.
pub struct Gateway {
    store: Arc<dyn Store>,
    inbound: Arc<Inbound>,
    accounts: HashMap<String, WebchatAccount>,
    keys: VisitorKeys,
    live: Arc<Live>,
    closing: watch::Receiver<bool>,
}

impl Gateway {
    /// A gateway for `accounts` (by name), signing visitor sessions with
    /// `keys`, pushing through `live` (the same registry the accounts'
    /// [`GatewayTransport`] reports to). Open sockets and streams end when
    /// `closing` turns `true` (the server is shutting down).
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        inbound: Arc<Inbound>,
        accounts: HashMap<String, WebchatAccount>,
        keys: VisitorKeys,
        live: Arc<Live>,
        closing: watch::Receiver<bool>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            inbound,
            accounts,
            keys,
            live,
            closing,
        })
    }

    /// The account named `name`, or `NotFound`.
    pub fn account(&self, name: &str) -> Result<&WebchatAccount> {
        self.accounts
            .get(name)
            .ok_or_else(|| WebchatError::NotFound(format!("no web chat account is named {name:?}")))
    }

    /// Show (or hide) the typing indicator in the widgets of the visitor
    /// of `conversation`; returns how many widgets were open. `NotFound`
    /// when the conversation is not a web chat visitor's.
    pub async fn agent_typing(
        &self,
        conversation: silta_model::ConversationId,
        active: bool,
    ) -> Result<usize> {
        let Some(found) = self.store.conversation(conversation).await? else {
            return Err(WebchatError::NotFound(format!(
                "no conversation {conversation}"
            )));
        };
        let Some(visitor) = history::visitor_of(&found) else {
            return Err(WebchatError::NotFound(format!(
                "conversation {conversation} is not a web chat visitor's"
            )));
        };
        let Some(account) = self
            .accounts
            .iter()
            .find(|(_, account)| account.channel.record.id == found.channel_account_id)
            .map(|(name, _)| name)
        else {
            return Err(WebchatError::NotFound(format!(
                "conversation {conversation} is not on a web chat account"
            )));
        };
        let frame = widget_frames::typing(active);
        Ok(self.live.push_to_visitor(account, visitor, &frame))
    }
}
