//! Attachment bytes by content hash.
//!
//! Inbound attachments are stored by the pipeline in the same commit as
//! the interaction that names them; `GET
//! /v1/interactions/{id}/parts/{index}/content` serves one with its media
//! type and file name. Outbound attachments are uploaded first (`POST
//! /v1/blobs`), then named by `content_hash` in a message's parts.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use silta_model::{Attachment, ContentHash, InteractionId, Part};
use silta_store::transact;
use utoipa::ToSchema;

use crate::query::parse;
use crate::{ApiError, AppState};

/// Where uploaded bytes are kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredBlob {
    /// `sha256:<hex>`: name it as an attachment's `content_hash`.
    pub content_hash: String,
    /// Bytes stored.
    pub size_bytes: u64,
    /// False when the same bytes were already stored.
    pub created: bool,
}

/// Upload attachment bytes for outbound messages.
#[utoipa::path(post, path = "/v1/blobs",
    request_body(content = Vec<u8>, description = "The file's bytes", content_type = "application/octet-stream"),
    responses((status = 201, description = "Stored", body = StoredBlob),
              (status = 200, description = "Already stored", body = StoredBlob),
              (status = 400, description = "Empty body"),
              (status = 413, description = "Larger than api.max_blob_bytes")),
    security(("bearer" = [])))]
pub async fn upload(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<StoredBlob>), ApiError> {
    let body = body.map_err(|rejection| {
        ApiError::unreadable_body(
            &rejection,
            "the file",
            state.max_blob_bytes,
            "api.max_blob_bytes",
        )
    })?;
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty: send the file's bytes",
        ));
    }
    let hash = ContentHash::of(&body);
    let size_bytes = u64::try_from(body.len()).unwrap_or(u64::MAX);
    let stored_hash = hash.clone();
    let created = transact(&*state.store, move |tx| {
        Box::pin(async move { tx.put_blob(&stored_hash, &body).await })
    })
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(StoredBlob {
            content_hash: hash.to_string(),
            size_bytes,
            created,
        }),
    ))
}

/// Stored bytes by content hash, as `application/octet-stream`.
#[utoipa::path(get, path = "/v1/blobs/{hash}",
    params(("hash" = String, Path, description = "`sha256:<hex>`")),
    responses((status = 200, description = "The bytes", content_type = "application/octet-stream"),
              (status = 400, description = "Not a content hash"),
              (status = 404, description = "Nothing stored under the hash")),
    security(("bearer" = [])))]
pub async fn download(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    let hash =
        ContentHash::parse("hash", &hash).map_err(|err| ApiError::bad_request(err.to_string()))?;
    let bytes = state
        .store
        .blob(&hash)
        .await?
        .ok_or_else(|| ApiError::not_found("blob", hash.as_str()))?;
    Ok(serve(bytes, "application/octet-stream", None))
}

/// The bytes of one attachment part of an interaction, with its media type
/// and file name.
#[utoipa::path(get, path = "/v1/interactions/{id}/parts/{index}/content",
    params(("id" = String, Path, description = "Interaction id"),
           ("index" = usize, Path, description = "Index into the interaction's `parts`")),
    responses((status = 200, description = "The attachment's bytes, as its media type"),
              (status = 404, description = "No such interaction or part, or its bytes were never stored (a URL-only attachment)"),
              (status = 400, description = "The part is not an attachment")),
    security(("bearer" = [])))]
pub async fn attachment_content(
    State(state): State<Arc<AppState>>,
    Path((id, index)): Path<(String, usize)>,
) -> Result<Response, ApiError> {
    let interaction_id: InteractionId = parse("interaction", &id)?;
    let interaction = state
        .store
        .interaction(interaction_id)
        .await?
        .ok_or_else(|| ApiError::not_found("interaction", &id))?;
    let attachment = match interaction.parts.get(index) {
        Some(Part::Attachment(attachment)) => attachment,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "parts[{index}] of interaction {id} is not an attachment"
            )));
        }
        None => {
            return Err(ApiError::not_found(
                "part",
                &format!("{index} of interaction {id}"),
            ));
        }
    };
    let bytes = match &attachment.content_hash {
        Some(hash) => state.store.blob(hash).await?,
        None => None,
    };
    let bytes = bytes.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_stored",
            format!(
                "the bytes of parts[{index}] were not stored{}",
                attachment
                    .url
                    .as_deref()
                    .map(|url| format!("; the provider offers them at {url}"))
                    .unwrap_or_default()
            ),
        )
    })?;
    Ok(serve(bytes, &attachment.media_type, Some(attachment)))
}

/// An answer carrying stored customer bytes. They are never sniffed or run
/// as a page of ours: `nosniff` and a sandboxing CSP, whatever the type.
fn serve(bytes: Vec<u8>, media_type: &str, attachment: Option<&Attachment>) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(media_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    if let Some(attachment) = attachment
        && let Ok(value) = HeaderValue::from_str(&content_disposition(attachment))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Everything but RFC 8187's `attr-char` is percent-encoded.
const RFC_8187_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `inline` or `attachment`, with the file name in RFC 6266/8187 form.
fn content_disposition(attachment: &Attachment) -> String {
    let disposition = if attachment.inline {
        "inline"
    } else {
        "attachment"
    };
    match attachment.filename.as_deref().filter(|n| !n.is_empty()) {
        None => disposition.to_owned(),
        Some(name) => {
            let encoded = utf8_percent_encode(name, RFC_8187_ESCAPED);
            format!("{disposition}; filename*=UTF-8''{encoded}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(filename: Option<&str>, inline: bool) -> Attachment {
        Attachment {
            filename: filename.map(str::to_owned),
            media_type: "application/pdf".into(),
            size_bytes: None,
            content_hash: None,
            url: None,
            content_id: None,
            inline,
        }
    }

    #[test]
    fn file_names_are_percent_encoded_utf8() {
        assert_eq!(
            content_disposition(&attachment(Some("Lasku 12/ä.pdf"), false)),
            "attachment; filename*=UTF-8''Lasku%2012%2F%C3%A4.pdf"
        );
        assert_eq!(
            content_disposition(&attachment(Some("a\"b\r\n.png"), true)),
            "inline; filename*=UTF-8''a%22b%0D%0A.png"
        );
        assert_eq!(content_disposition(&attachment(None, false)), "attachment");
    }
}
