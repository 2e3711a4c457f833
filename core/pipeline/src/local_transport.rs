//! Transports the host answers itself: a channel whose "provider" is part
//! of Silta (the web chat gateway). The channel's plugin renders an
//! ordinary HTTP request to an origin its manifest grants, and the sender
//! hands it to the channel account's [`LocalTransport`] instead of the
//! network.

use silta_runtime::contract::{HttpRequest, HttpResponse};

/// A transport answered in this process.
#[async_trait::async_trait]
pub trait LocalTransport: Send + Sync {
    /// Answer `request` as the provider would. An `Err` is a failure to
    /// reach it (retried, like a network error), with the reason.
    async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String>;
}
