//! Silta's store: everything Silta must not lose.
//!
//! - [`records`]: the journal of raw inbound events, the outbox, dead
//!   letters, events and webhook subscriptions, as the pipeline sees them.
//!   Parties, identities, conversations, cases and interactions are the
//!   common contact format's own types (`silta_model`).
//! - [`Store`] is the backend-neutral interface: reads, and
//!   [`Store::run_tx`] for writes, each a unit of work against a
//!   [`StoreTx`]. [`transact`] runs a closure as one such unit and returns
//!   its value.
//! - [`sqlite::SqliteStore`] is the embedded default: one SQLite file in WAL
//!   mode, migrations under `core/store/migrations/`, and one writer thread
//!   that commits concurrent units of work together (group commit), so
//!   many accepts share one fsync and each returns only after it is
//!   durable.
//!
//! The pipeline holds an `Arc<dyn Store>` and never sees SQL, so a
//! PostgreSQL backend implements the same two traits.

mod error;
pub mod records;
pub mod sqlite;
mod store;

pub use error::{Result, StoreError};
pub use store::{Store, StoreTx, TxFn, transact};
