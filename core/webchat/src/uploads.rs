//! `POST /uploads`: a visitor's file, stored by content hash before the
//! message that names it is sent.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;
use silta_model::ContentHash;
use silta_store::transact;

use crate::{Gateway, Result, WebchatError, routes};

/// Store the body; 201 `{"blob", "size", "media_type"}`.
pub async fn upload(
    State(gateway): State<Arc<Gateway>>,
    Path(account): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let settings = &gateway.account(&account)?.settings;
    routes::visitor(&gateway, &account, &headers, &query)?;
    let limit = settings.max_upload_bytes;
    let too_large = || WebchatError::TooLarge(format!("the file is larger than {limit} bytes"));
    let body = body.map_err(|_| too_large())?;
    if body.len() > limit {
        return Err(too_large());
    }
    if body.is_empty() {
        return Err(WebchatError::BadRequest("the file is empty".into()));
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "application/octet-stream".into());
    if !accepts(&settings.upload_media_types, &media_type) {
        return Err(WebchatError::UnsupportedMediaType(format!(
            "files of type {media_type} are not accepted here; accepted: {}",
            settings.upload_media_types.join(", ")
        )));
    }
    let hash = ContentHash::of(&body);
    let size = body.len();
    let stored = hash.clone();
    transact(&*gateway.store, move |tx| {
        Box::pin(async move { tx.put_blob(&stored, &body).await })
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "blob": hash.to_string(), "size": size, "media_type": media_type })),
    )
        .into_response())
}

/// Whether `media_type` matches one of `patterns` (`image/*`, `text/plain`).
fn accepts(patterns: &[String], media_type: &str) -> bool {
    patterns
        .iter()
        .any(|pattern| match pattern.strip_suffix("/*") {
            Some(kind) => media_type
                .split_once('/')
                .is_some_and(|(actual, _)| actual == kind),
            None => pattern == media_type,
        })
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn media_type_patterns_match_whole_types() {
        let patterns = ["image/*".to_owned(), "application/pdf".to_owned()];
        assert!(accepts(&patterns, "image/png"));
        assert!(accepts(&patterns, "application/pdf"));
        assert!(!accepts(&patterns, "application/pdfx"));
        assert!(!accepts(&patterns, "imagex/png"));
        assert!(!accepts(&patterns, "text/html"));
    }
}
