//! The web chat accounts (`webchat = { ... }` on a channel account): their
//! in-process transport, and the gateway that serves their widgets.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use silta_pipeline::channels::ChannelSetup;
use silta_pipeline::inbound::Inbound;
use silta_store::Store;
use silta_webchat::{Gateway, GatewayTransport, Live, VisitorKeys, WebchatAccount};
use tokio::sync::watch;

use crate::config::Config;
use crate::secret_file;

/// Give each web chat account the gateway as its transport, so its
/// plugin's rendered replies are answered in process.
pub fn attach_transports(
    setups: &mut [ChannelSetup],
    config: &Config,
    store: &Arc<dyn Store>,
    live: &Arc<Live>,
) {
    for setup in setups {
        let is_webchat = config
            .channel_accounts
            .iter()
            .any(|account| account.name == setup.name && account.webchat.is_some());
        if is_webchat {
            setup.local = Some(Arc::new(GatewayTransport::new(
                Arc::clone(store),
                Arc::clone(live),
                setup.name.clone(),
            )));
        }
    }
}

/// The gateway of the configured web chat accounts, or `None` without
/// any. Visitor sessions are signed with a key kept in the data directory
/// (`webchat-key`, made on first use), so they survive restarts.
pub fn gateway(
    config: &Config,
    store: &Arc<dyn Store>,
    inbound: &Arc<Inbound>,
    live: &Arc<Live>,
    closing: &watch::Receiver<bool>,
) -> anyhow::Result<Option<Arc<Gateway>>> {
    let mut accounts = HashMap::new();
    for account in &config.channel_accounts {
        let Some(webchat) = &account.webchat else {
            continue;
        };
        let channel = inbound
            .channels()
            .get(&account.name)
            .with_context(|| format!("web chat account `{}`", account.name))?;
        accounts.insert(
            account.name.clone(),
            WebchatAccount {
                channel,
                settings: webchat.clone(),
            },
        );
    }
    if accounts.is_empty() {
        return Ok(None);
    }
    let path = config.data_dir.join("webchat-key");
    let key = if path.exists() {
        secret_file::read(&path)?
    } else {
        secret_file::generate(&path)?
    };
    let keys = VisitorKeys::new(key.into_bytes())
        .with_context(|| format!("the web chat key in {}", path.display()))?;
    Ok(Some(Gateway::new(
        Arc::clone(store),
        Arc::clone(inbound),
        accounts,
        keys,
        Arc::clone(live),
        closing.clone(),
    )))
}
