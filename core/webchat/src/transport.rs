//! Where the `webchat` plugin's rendered replies go: answered in process.
//!
//! The plugin renders `POST http://webchat.internal/v1/deliver` with the
//! interaction id. Delivering means making the reply visible to the
//! visitor: once the sender records it as sent, [`crate::Live`] pushes it
//! to the visitor's open widgets, and a widget opened later gets it in its
//! history. So the answer only checks that the reply belongs to a web chat
//! visitor's conversation: 200 `{"id": <interaction id>, "online": bool}`,
//! or 404 when it does not (a conversation from another channel).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use silta_model::InteractionId;
use silta_pipeline::local_transport::LocalTransport;
use silta_runtime::contract::{HttpRequest, HttpResponse};
use silta_store::Store;

use crate::{Live, history};

/// The URL the `webchat` plugin renders replies to.
pub const DELIVER_URL: &str = "http://webchat.internal/v1/deliver";

/// The in-process transport of one web chat channel account.
pub struct GatewayTransport {
    store: Arc<dyn Store>,
    live: Arc<Live>,
    account: String,
}

impl GatewayTransport {
    /// The transport of channel account `account`.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, live: Arc<Live>, account: impl Into<String>) -> Self {
        Self {
            store,
            live,
            account: account.into(),
        }
    }
}

#[derive(Deserialize)]
struct Delivery {
    interaction_id: InteractionId,
}

fn answer(status: u16, body: &serde_json::Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

#[async_trait::async_trait]
impl LocalTransport for GatewayTransport {
    async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String> {
        if request.method != "POST" || request.url != DELIVER_URL {
            return Ok(answer(
                404,
                &json!({ "error": format!("the web chat gateway answers only POST {DELIVER_URL}") }),
            ));
        }
        let Ok(delivery) = serde_json::from_slice::<Delivery>(&request.body) else {
            return Ok(answer(
                400,
                &json!({ "error": "the delivery names no interaction_id" }),
            ));
        };
        let interaction = self
            .store
            .interaction(delivery.interaction_id)
            .await
            .map_err(|err| format!("reading the reply: {err}"))?;
        let conversation = match interaction.and_then(|i| i.conversation_id) {
            Some(id) => self
                .store
                .conversation(id)
                .await
                .map_err(|err| format!("reading the conversation: {err}"))?,
            None => None,
        };
        let Some(visitor) = conversation.as_ref().and_then(history::visitor_of) else {
            return Ok(answer(
                404,
                &json!({ "error": "the reply is not in a web chat visitor's conversation" }),
            ));
        };
        Ok(answer(
            200,
            &json!({
                "id": delivery.interaction_id,
                "online": self.live.is_online(&self.account, visitor),
            }),
        ))
    }
}
