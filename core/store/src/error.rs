//! The store's error type.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed the operation.
    #[error("database error during {operation}: {source}")]
    Database {
        /// What the store was doing.
        operation: &'static str,
        /// The driver's error (sqlx for reads, rusqlite in the writer).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Applying the schema migrations failed.
    #[error("migrating the database at {path}: {source}")]
    Migrate {
        /// The database file.
        path: String,
        /// The migrator's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A record would break a uniqueness rule (an identity already
    /// belongs to a party, a thread key to a conversation).
    #[error("{what} already exists: {key}")]
    Conflict {
        /// The kind of record.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// A stored record could not be read back.
    #[error("stored {what} {key} is unreadable: {reason}")]
    Corrupt {
        /// The kind of record.
        what: &'static str,
        /// Its key.
        key: String,
        /// Why.
        reason: String,
    },
    /// A unit of work failed for a reason of its own.
    #[error("{0}")]
    Aborted(String),
    /// The writer task has stopped (the store is shutting down).
    #[error("the store is closed")]
    Closed,
}

/// Shorthand for results of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub(crate) fn db<E>(operation: &'static str) -> impl FnOnce(E) -> StoreError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |source| StoreError::Database {
            operation,
            source: Box::new(source),
        }
    }

    pub(crate) fn corrupt(
        what: &'static str,
        key: impl ToString,
    ) -> impl FnOnce(serde_json::Error) -> StoreError {
        let key = key.to_string();
        move |err| StoreError::Corrupt {
            what,
            key,
            reason: err.to_string(),
        }
    }
}
