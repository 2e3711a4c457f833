//! Channel accounts: which plugin serves which endpoint.

use std::collections::HashMap;
use std::sync::Arc;

use silta_email::SmtpSender;
use silta_model::ChannelAccountId;
use silta_runtime::Plugin;
use silta_runtime::rate_limits::RateLimits;
use silta_store::records::ChannelAccountRecord;
use silta_store::{Store, transact};

use crate::error::{PipelineError, Result};
use crate::local_transport::LocalTransport;
use crate::send_limiter::SendLimiter;

/// One channel account and its plugin.
#[derive(Clone)]
pub struct ChannelAccount {
    /// Name, id and plugin id as registered in the store.
    pub record: ChannelAccountRecord,
    /// The loaded plugin.
    pub plugin: Arc<Plugin>,
    /// The SMTP server that sends what the plugin renders as email.
    pub smtp: Option<Arc<SmtpSender>>,
    /// The in-process transport that answers what the plugin renders as
    /// HTTP, for a channel served by Silta itself (web chat).
    pub local: Option<Arc<dyn LocalTransport>>,
    /// Its sends' schedule: the provider's rate limits.
    pub limiter: Arc<SendLimiter>,
    /// Who may post events to its ingest endpoint.
    pub ingest_auth: IngestAuth,
}

/// How `POST /v1/ingest/{channel_account}` is authenticated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IngestAuth {
    /// Silta's API token, like every other API call: for a sender that can
    /// present one (an in-house system, a proxy in front of Silta).
    #[default]
    ApiToken,
    /// The provider's own signature, which the channel's plugin verifies
    /// (Meta's `X-Hub-Signature-256`, Telegram's secret token): for a
    /// provider that cannot send Silta's token. Its webhook handshake, if
    /// any, is answered without the token too.
    ProviderSignature,
}

/// What a channel account is made of, before it is registered.
pub struct ChannelSetup {
    /// The account's name (in ingest URLs and the configuration).
    pub name: String,
    /// Its plugin.
    pub plugin: Arc<Plugin>,
    /// Its SMTP server, for an email channel.
    pub smtp: Option<Arc<SmtpSender>>,
    /// Its in-process transport, for a channel Silta serves itself.
    pub local: Option<Arc<dyn LocalTransport>>,
    /// The operator's rate limits, used where stricter than the plugin
    /// manifest's.
    pub rate_limits: RateLimits,
    /// Who may post events to its ingest endpoint.
    pub ingest_auth: IngestAuth,
}

impl ChannelSetup {
    /// An account served by `plugin` alone (no native transport).
    #[must_use]
    pub fn new(name: impl Into<String>, plugin: Arc<Plugin>) -> Self {
        Self {
            name: name.into(),
            plugin,
            smtp: None,
            local: None,
            rate_limits: RateLimits::default(),
            ingest_auth: IngestAuth::default(),
        }
    }
}

impl std::fmt::Debug for ChannelAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelAccount")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// Every configured channel account, by name and by id.
#[derive(Debug, Default, Clone)]
pub struct Channels {
    by_name: HashMap<String, Arc<ChannelAccount>>,
    by_id: HashMap<ChannelAccountId, Arc<ChannelAccount>>,
}

impl Channels {
    /// Register accounts in the store (an account keeps the id it got the
    /// first time) and index them.
    pub async fn register(store: &dyn Store, accounts: Vec<ChannelSetup>) -> Result<Self> {
        let mut channels = Channels::default();
        for ChannelSetup {
            name,
            plugin,
            smtp,
            local,
            rate_limits,
            ingest_auth,
        } in accounts
        {
            let limits = plugin.manifest().rate_limits.stricter(rate_limits);
            let limiter = Arc::new(SendLimiter::new(limits));
            let plugin_id = plugin.id().to_string();
            let account_name = name.clone();
            let record = transact(store, move |tx| {
                Box::pin(
                    async move { tx.register_channel_account(&account_name, &plugin_id).await },
                )
            })
            .await?;
            let account = Arc::new(ChannelAccount {
                record,
                plugin,
                smtp,
                local,
                limiter,
                ingest_auth,
            });
            channels
                .by_id
                .insert(account.record.id, Arc::clone(&account));
            channels.by_name.insert(name, account);
        }
        Ok(channels)
    }

    /// The account with this name, or this id written as text.
    pub fn get(&self, name_or_id: &str) -> Result<Arc<ChannelAccount>> {
        if let Some(account) = self.by_name.get(name_or_id) {
            return Ok(Arc::clone(account));
        }
        name_or_id
            .parse::<ChannelAccountId>()
            .ok()
            .and_then(|id| self.by_id.get(&id).cloned())
            .ok_or_else(|| PipelineError::UnknownChannelAccount(name_or_id.to_owned()))
    }

    /// The account with this id.
    pub fn by_id(&self, id: ChannelAccountId) -> Result<Arc<ChannelAccount>> {
        self.by_id
            .get(&id)
            .cloned()
            .ok_or_else(|| PipelineError::UnknownChannelAccount(id.to_string()))
    }

    /// All accounts, by name.
    pub fn all(&self) -> Vec<Arc<ChannelAccount>> {
        let mut all: Vec<_> = self.by_name.values().cloned().collect();
        all.sort_by(|a, b| a.record.name.cmp(&b.record.name));
        all
    }
}
