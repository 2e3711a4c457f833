//! Paging cursors: opaque to clients, `base64url("<at_ms>:<id>")` inside.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use silta_store::records::Cursor;
use utoipa::IntoParams;

use crate::ApiError;

/// `?cursor=…&limit=…`
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct PageParams {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page (1–500, default 50).
    pub limit: Option<u32>,
}

impl PageParams {
    pub(crate) fn limit(&self) -> u32 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }

    pub(crate) fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        self.cursor.as_deref().map(decode).transpose()
    }
}

pub(crate) fn encode(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", cursor.at_ms, cursor.id))
}

fn decode(raw: &str) -> Result<Cursor, ApiError> {
    let invalid = || ApiError::bad_request(format!("cursor {raw:?} is not one this API returned"));
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (at, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok(Cursor {
        at_ms: at.parse().map_err(|_| invalid())?,
        id: id.to_owned(),
    })
}
