//! Reads of merges, a party's cases and the enrichment queue.

use silta_model::{Case, MergeId, MergeRecord, Party, PartyId};
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::records::EnrichmentJob;
use crate::sqlite::SqliteStore;
use crate::sqlite::rows::{self, parse_id};

impl SqliteStore {
    pub(super) async fn party_row(&self, id: PartyId) -> Result<Option<Party>> {
        self.doc_by_id(
            "SELECT id, data FROM parties WHERE id = ?",
            id.to_string(),
            "party",
        )
        .await
    }

    pub(super) async fn party_case_rows(&self, id: PartyId) -> Result<Vec<Case>> {
        let rows = sqlx::query(
            "SELECT id, data FROM cases WHERE party_id = ? ORDER BY opened_ms DESC, id DESC",
        )
        .bind(id.to_string())
        .fetch_all(&self.reads)
        .await
        .map_err(StoreError::db("list a party's cases"))?;
        rows.iter().map(|r| rows::doc(r, "case")).collect()
    }

    pub(super) async fn merge_by_id(&self, id: MergeId) -> Result<Option<MergeRecord>> {
        self.doc_by_id(
            "SELECT id, data FROM merges WHERE id = ?",
            id.to_string(),
            "merge",
        )
        .await
    }

    pub(super) async fn merge_rows_of_party(&self, id: PartyId) -> Result<Vec<MergeRecord>> {
        let rows = sqlx::query(
            "SELECT m.id, m.data FROM merges m JOIN merge_parties p ON p.merge_id = m.id \
             WHERE p.party_id = ? ORDER BY m.at_ms, m.id",
        )
        .bind(id.to_string())
        .fetch_all(&self.reads)
        .await
        .map_err(StoreError::db("list a party's merges"))?;
        rows.iter().map(|r| rows::doc(r, "merge")).collect()
    }

    pub(super) async fn lookup_expires_row(
        &self,
        party: PartyId,
        plugin: &str,
    ) -> Result<Option<i64>> {
        sqlx::query_scalar("SELECT expires_ms FROM party_lookups WHERE party_id = ? AND plugin = ?")
            .bind(party.to_string())
            .bind(plugin)
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db("read lookup"))
    }

    pub(super) async fn enrichment_due_rows(
        &self,
        plugin: &str,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<EnrichmentJob>> {
        let rows = sqlx::query(
            "SELECT id, interaction_id, plugin, attempts, next_attempt_ms, last_error \
             FROM enrichment_jobs WHERE plugin = ? AND state = 'pending' AND next_attempt_ms <= ? \
             ORDER BY next_attempt_ms, id LIMIT ?",
        )
        .bind(plugin)
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.reads)
        .await
        .map_err(StoreError::db("list due enrichment"))?;
        rows.iter()
            .map(|row| {
                let interaction: String = row.get("interaction_id");
                Ok(EnrichmentJob {
                    id: row.get("id"),
                    interaction_id: parse_id("enrichment job", &interaction)?,
                    plugin: row.get("plugin"),
                    attempts: row.get::<i64, _>("attempts").try_into().unwrap_or(u32::MAX),
                    next_attempt_ms: row.get("next_attempt_ms"),
                    last_error: row.get("last_error"),
                })
            })
            .collect()
    }
}
