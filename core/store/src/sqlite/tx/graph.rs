//! Writes that reshape the contact graph: identities updated, a party's
//! records moved (merges and unmerges), merge records kept.

use rusqlite::params;
use silta_model::{Identity, MergeId, MergeRecord, PartyId, PartyRecords, Timestamp};

use crate::error::{Result, StoreError};
use crate::sqlite::codec::{millis, to_json};
use crate::sqlite::tx::SqliteTx;

/// Tables whose rows belong to a party, with the party in their JSON
/// document too (`data.party_id`).
const DOCUMENT_TABLES: [&str; 4] = ["identities", "conversations", "interactions", "cases"];

impl SqliteTx<'_> {
    pub(crate) fn update_identity_row(&self, identity: &Identity) -> Result<()> {
        self.execute(
            "update identity",
            "UPDATE identities SET party_id = ?, data = ? WHERE id = ?",
            params![
                identity.party_id.map(|p| p.to_string()),
                to_json("identity", identity)?,
                identity.id.to_string()
            ],
        )?;
        Ok(())
    }

    fn ids_of_party(&self, table: &'static str, party: PartyId) -> Result<Vec<String>> {
        let sql = format!("SELECT id FROM {table} WHERE party_id = ? ORDER BY id");
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut statement| {
                statement
                    .query_map([party.to_string()], |row| row.get(0))?
                    .collect()
            })
            .map_err(StoreError::db("list a party's records"))
    }

    fn move_row(&self, table: &'static str, id: &str, to: PartyId) -> Result<()> {
        let sql = if DOCUMENT_TABLES.contains(&table) {
            format!(
                "UPDATE {table} SET party_id = ?1, data = json_set(data, '$.party_id', ?1) WHERE id = ?2"
            )
        } else {
            format!("UPDATE {table} SET party_id = ?1 WHERE id = ?2")
        };
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut statement| statement.execute(params![to.to_string(), id]))
            .map_err(StoreError::db("move a record to another party"))?;
        Ok(())
    }

    pub(crate) fn move_party_rows(&self, from: PartyId, to: PartyId) -> Result<PartyRecords> {
        let mut moved = PartyRecords {
            party: Some(from),
            ..PartyRecords::default()
        };
        for table in DOCUMENT_TABLES.into_iter().chain(["backoffice_links"]) {
            let ids = self.ids_of_party(table, from)?;
            for id in &ids {
                self.move_row(table, id, to)?;
            }
            match table {
                "identities" => moved.identities = parse_ids(table, &ids)?,
                "conversations" => moved.conversations = parse_ids(table, &ids)?,
                "interactions" => moved.interactions = parse_ids(table, &ids)?,
                "cases" => moved.cases = parse_ids(table, &ids)?,
                _ => moved.links = parse_ids(table, &ids)?,
            }
        }
        Ok(moved)
    }

    pub(crate) fn move_record_rows(&self, records: &PartyRecords, to: PartyId) -> Result<()> {
        let rows = records
            .identities
            .iter()
            .map(|id| ("identities", id.to_string()))
            .chain(
                records
                    .conversations
                    .iter()
                    .map(|id| ("conversations", id.to_string())),
            )
            .chain(
                records
                    .interactions
                    .iter()
                    .map(|id| ("interactions", id.to_string())),
            )
            .chain(records.cases.iter().map(|id| ("cases", id.to_string())))
            .chain(
                records
                    .links
                    .iter()
                    .map(|id| ("backoffice_links", id.to_string())),
            );
        for (table, id) in rows {
            self.move_row(table, &id, to)?;
        }
        Ok(())
    }

    pub(crate) fn save_merge_row(&self, merge: &MergeRecord) -> Result<()> {
        self.execute(
            "save merge",
            "INSERT INTO merges (id, survivor, at_ms, reverted, data) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET reverted = excluded.reverted, data = excluded.data",
            params![
                merge.id.to_string(),
                merge.survivor.to_string(),
                millis(&merge.at),
                merge.is_reverted(),
                to_json("merge", merge)?
            ],
        )?;
        for party in std::iter::once(&merge.survivor).chain(&merge.merged) {
            self.execute(
                "save merge",
                "INSERT OR IGNORE INTO merge_parties (merge_id, party_id) VALUES (?, ?)",
                params![merge.id.to_string(), party.to_string()],
            )?;
        }
        Ok(())
    }

    pub(crate) fn merge_row(&self, id: MergeId) -> Result<Option<MergeRecord>> {
        self.doc(
            "read merge",
            "merge",
            "SELECT id, data FROM merges WHERE id = ?",
            [id.to_string()],
        )
    }

    pub(crate) fn later_merge_rows(
        &self,
        party: PartyId,
        after: Timestamp,
    ) -> Result<Vec<MergeId>> {
        let ids: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT m.id FROM merges m JOIN merge_parties p ON p.merge_id = m.id \
                 WHERE p.party_id = ? AND m.reverted = 0 AND m.at_ms >= ? ORDER BY m.at_ms",
            )
            .and_then(|mut statement| {
                statement
                    .query_map(params![party.to_string(), millis(&after)], |row| row.get(0))?
                    .collect()
            })
            .map_err(StoreError::db("list later merges"))?;
        parse_ids("merges", &ids)
    }
}

fn parse_ids<T: TryFrom<String>>(table: &'static str, ids: &[String]) -> Result<Vec<T>> {
    ids.iter()
        .map(|id| {
            T::try_from(id.clone()).map_err(|_| StoreError::Corrupt {
                what: table,
                key: id.clone(),
                reason: "not an id".to_owned(),
            })
        })
        .collect()
}
