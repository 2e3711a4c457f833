//! Writes of back-office enrichment: the job queue, lookups and the
//! links they returned.

use rusqlite::params;
use silta_model::{BackofficeLink, InteractionId, LinkId, PartyId};

use crate::error::Result;
use crate::sqlite::codec::to_json;
use crate::sqlite::tx::SqliteTx;

impl SqliteTx<'_> {
    pub(crate) fn enqueue_enrichment_row(
        &self,
        interaction: InteractionId,
        plugin: &str,
        due_ms: i64,
    ) -> Result<()> {
        self.execute(
            "queue enrichment",
            "INSERT OR IGNORE INTO enrichment_jobs (interaction_id, plugin, next_attempt_ms) \
             VALUES (?, ?, ?)",
            params![interaction.to_string(), plugin, due_ms],
        )?;
        Ok(())
    }

    pub(crate) fn finish_enrichment_row(&self, id: i64) -> Result<()> {
        self.execute(
            "finish enrichment",
            "DELETE FROM enrichment_jobs WHERE id = ?",
            [id],
        )?;
        Ok(())
    }

    pub(crate) fn fail_enrichment_row(
        &self,
        id: i64,
        attempts: u32,
        next_attempt_ms: i64,
        error: &str,
        give_up: bool,
    ) -> Result<()> {
        self.execute(
            "record enrichment failure",
            "UPDATE enrichment_jobs SET attempts = ?, next_attempt_ms = ?, last_error = ?, state = ? \
             WHERE id = ?",
            params![
                attempts,
                next_attempt_ms,
                error,
                if give_up { "failed" } else { "pending" },
                id
            ],
        )?;
        Ok(())
    }

    pub(crate) fn pending_enrichment_rows(&self, interaction: InteractionId) -> Result<u32> {
        Ok(self
            .value(
                "count pending enrichment",
                "SELECT COUNT(*) FROM enrichment_jobs WHERE interaction_id = ? AND state = 'pending'",
                [interaction.to_string()],
            )?
            .unwrap_or(0))
    }

    pub(crate) fn save_lookup_rows(
        &self,
        party: PartyId,
        plugin: &str,
        fetched_ms: i64,
        expires_ms: i64,
        links: &[BackofficeLink],
    ) -> Result<()> {
        self.execute(
            "save lookup",
            "INSERT INTO party_lookups (party_id, plugin, fetched_ms, expires_ms) VALUES (?, ?, ?, ?) \
             ON CONFLICT (party_id, plugin) DO UPDATE SET fetched_ms = excluded.fetched_ms, \
             expires_ms = excluded.expires_ms",
            params![party.to_string(), plugin, fetched_ms, expires_ms],
        )?;
        self.execute(
            "replace back-office links",
            "DELETE FROM backoffice_links WHERE party_id = ? AND plugin = ?",
            params![party.to_string(), plugin],
        )?;
        for link in links {
            self.execute(
                "replace back-office links",
                "INSERT INTO backoffice_links (id, party_id, data, plugin) VALUES (?, ?, ?, ?)",
                params![
                    LinkId::new().to_string(),
                    party.to_string(),
                    to_json("back-office link", link)?,
                    plugin
                ],
            )?;
        }
        Ok(())
    }

    pub(crate) fn party_link_rows(&self, party: PartyId) -> Result<Vec<BackofficeLink>> {
        self.docs(
            "list back-office links",
            "back-office link",
            "SELECT id, data FROM backoffice_links WHERE party_id = ? ORDER BY id",
            [party.to_string()],
        )
    }
}
