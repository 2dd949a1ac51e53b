//! Durable IAM state: one JSON document per entity, keyed by (account, kind, key), written
//! through the shared group-committing writer. IAM's entities are configuration — a few
//! thousand at most per account — so they are all read back at start; temporary
//! credentials are stored too (a restart does not log out a running function) and
//! removed when they expire.

use nimbus_core::storage::{Database, Durability, Pending, StorageError, Writer};
use rusqlite::params;
use std::path::Path;

/// One stored row.
#[derive(Debug, Clone)]
pub struct Row {
    pub account: String,
    pub kind: String,
    pub key: String,
    pub doc: String,
}

pub trait IamStore: Send + Sync {
    /// Every stored document (at start).
    fn load(&self) -> Result<Vec<Row>, StorageError>;
    fn put(&self, row: Row) -> Pending;
    fn delete(&self, account: &str, kind: &str, key: &str) -> Pending;
}

/// `--in-memory`: nothing kept.
pub struct MemoryStore;

impl IamStore for MemoryStore {
    fn load(&self) -> Result<Vec<Row>, StorageError> {
        Ok(Vec::new())
    }
    fn put(&self, _: Row) -> Pending {
        Pending::done()
    }
    fn delete(&self, _: &str, _: &str, _: &str) -> Pending {
        Pending::done()
    }
}

pub struct SqliteStore {
    writer: Writer,
    loaded: parking_lot::Mutex<Vec<Row>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS iam_entities (
  account TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (account, kind, key)) WITHOUT ROWID;
";

impl SqliteStore {
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StorageError> {
        let db = Database::open(path, durability)?;
        db.conn().execute_batch(SCHEMA)?;
        let rows = {
            let mut q = db.conn().prepare("SELECT account, kind, key, doc FROM iam_entities")?;
            let rows = q.query_map([], |r| Ok(Row { account: r.get(0)?, kind: r.get(1)?, key: r.get(2)?, doc: r.get(3)? }))?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        Ok(SqliteStore { writer: db.into_writer("iam")?, loaded: parking_lot::Mutex::new(rows) })
    }
}

impl IamStore for SqliteStore {
    fn load(&self) -> Result<Vec<Row>, StorageError> {
        Ok(std::mem::take(&mut *self.loaded.lock()))
    }
    fn put(&self, row: Row) -> Pending {
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO iam_entities (account, kind, key, doc) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![row.account, row.kind, row.key, row.doc])?;
            Ok(())
        }))
    }
    fn delete(&self, account: &str, kind: &str, key: &str) -> Pending {
        let (account, kind, key) = (account.to_string(), kind.to_string(), key.to_string());
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("DELETE FROM iam_entities WHERE account = ?1 AND kind = ?2 AND key = ?3")?.execute(params![account, kind, key])?;
            Ok(())
        }))
    }
}
