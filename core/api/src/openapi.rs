//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Silta's API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Silta API", description = "Omnichannel integration sidecar: ingest, contact graph, outbound messages, events."),
    paths(
        crate::health::healthz,
        crate::health::readyz,
        crate::health::metrics,
        crate::ingest::ingest,
        crate::ingest::handshake,
        crate::query::list_parties,
        crate::query::get_party,
        crate::query::party_timeline,
        crate::query::get_conversation,
        crate::query::conversation_interactions,
        crate::query::get_case,
        crate::query::case_interactions,
        crate::query::get_interaction,
        crate::blobs::attachment_content,
        crate::blobs::upload,
        crate::blobs::download,
        crate::messages::reply,
        crate::messages::send_new,
        crate::typing::agent_typing,
        crate::contacts::merge_parties,
        crate::contacts::get_merge,
        crate::contacts::unmerge,
        crate::contacts::explain,
        crate::contacts::party_cases,
        crate::contacts::update_case,
        crate::contacts::move_conversation,
        crate::contacts::case_message,
        crate::contacts::create_ticket,
        crate::events::stream,
        crate::subscriptions::create,
        crate::subscriptions::list,
        crate::subscriptions::delete,
        crate::dead_letters::list,
        crate::dead_letters::replay,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_every_route_with_bearer_auth() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("serializes");
        let paths = doc["paths"].as_object().expect("paths");
        for path in [
            "/healthz",
            "/readyz",
            "/metrics",
            "/v1/ingest/{channel_account}",
            "/v1/parties/{id}/timeline",
            "/v1/conversations/{id}/messages",
            "/v1/messages",
            "/v1/events",
            "/v1/subscriptions",
            "/v1/dead-letters/replay",
            "/v1/parties/merge",
            "/v1/merges/{id}/unmerge",
            "/v1/interactions/{id}/explain",
            "/v1/cases/{id}/messages",
            "/v1/cases/{id}/ticket",
        ] {
            assert!(paths.contains_key(path), "missing {path}");
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let ingest = &doc["paths"]["/v1/ingest/{channel_account}"]["post"];
        for status in ["202", "400", "401", "404", "413", "503"] {
            assert!(
                ingest["responses"].get(status).is_some(),
                "ingest documents {status}"
            );
        }
        assert!(doc["paths"]["/healthz"]["get"].get("security").is_none());
    }
}
