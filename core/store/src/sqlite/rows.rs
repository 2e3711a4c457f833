//! Decoding rows into records.

use std::str::FromStr;

use serde::de::DeserializeOwned;
use silta_model::{ChannelAccountId, Direction, InteractionId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::error::{Result, StoreError};
use crate::records::{Cursor, OutboxItem, Page};
use crate::sqlite::codec::from_json;

/// The `data` document of a row selected as `id, data`.
pub(crate) fn doc<T: DeserializeOwned>(row: &SqliteRow, what: &'static str) -> Result<T> {
    let id: String = row.get(0);
    let data: String = row.get(1);
    from_json(what, &id, &data)
}

/// An id column.
pub(crate) fn parse_id<T>(what: &'static str, raw: &str) -> Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    raw.parse::<T>().map_err(|err| StoreError::Corrupt {
        what,
        key: raw.to_owned(),
        reason: err.to_string(),
    })
}

/// The direction column of an interaction.
pub(crate) fn direction(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}

/// Columns of [`outbox_item`].
pub(crate) const OUTBOX_COLUMNS: &str =
    "id, interaction_id, channel_account, payload, attempts, next_attempt_ms, last_error";

/// One outbox item by id.
pub(crate) const OUTBOX_SELECT_BY_ID: &str = "SELECT id, interaction_id, channel_account, payload, \
     attempts, next_attempt_ms, last_error FROM outbox WHERE id = ?";

/// The columns of an outbox row, as any driver reads them.
pub(crate) struct OutboxRow {
    pub(crate) id: i64,
    pub(crate) interaction_id: String,
    pub(crate) channel_account: String,
    pub(crate) payload: String,
    pub(crate) attempts: i64,
    pub(crate) next_attempt_ms: i64,
    pub(crate) last_error: Option<String>,
}

impl OutboxRow {
    /// Decode the columns into an [`OutboxItem`].
    pub(crate) fn into_item(self) -> Result<OutboxItem> {
        Ok(OutboxItem {
            id: self.id,
            interaction_id: parse_id::<InteractionId>("outbox interaction", &self.interaction_id)?,
            channel_account: parse_id::<ChannelAccountId>(
                "outbox channel account",
                &self.channel_account,
            )?,
            payload: from_json("outbox payload", &self.id.to_string(), &self.payload)?,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            next_attempt_ms: self.next_attempt_ms,
            last_error: self.last_error,
        })
    }
}

/// An outbox row selected with [`OUTBOX_COLUMNS`].
pub(crate) fn outbox_item(row: &SqliteRow) -> Result<OutboxItem> {
    OutboxRow {
        id: row.get(0),
        interaction_id: row.get(1),
        channel_account: row.get(2),
        payload: row.get(3),
        attempts: row.get(4),
        next_attempt_ms: row.get(5),
        last_error: row.get(6),
    }
    .into_item()
}

/// A page from rows selected as `id, data, <sort key>` with one row more
/// than `limit` (which tells whether another page follows).
pub(crate) fn page<T: DeserializeOwned>(
    rows: &[SqliteRow],
    limit: u32,
    what: &'static str,
) -> Result<Page<T>> {
    let limit = limit as usize;
    let items = rows
        .iter()
        .take(limit)
        .map(|row| doc(row, what))
        .collect::<Result<Vec<T>>>()?;
    let next = if rows.len() > limit {
        rows.get(limit - 1).map(|row| Cursor {
            at_ms: row.get(2),
            id: row.get(0),
        })
    } else {
        None
    };
    Ok(Page { items, next })
}
