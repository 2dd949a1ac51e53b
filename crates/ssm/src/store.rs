//! `ssm.db`: parameters' index entries (one JSON document each) and every kept version
//! with its value (SecureString values as KMS ciphertext). Index entries are read back
//! whole at start; values and older versions' settings are read from here when asked for,
//! never kept in memory. Writes go through core's group-committing writer; reads first
//! wait for every earlier write (a barrier job) so they see what was acknowledged.

use crate::params::{Meta, VersionMeta};
use nimbus_core::storage::{DomainStore, Durability, Pending, StorageError};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS parameters (
  account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (account, region, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS versions (
  account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
  doc TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (account, region, name, version)) WITHOUT ROWID;
";

/// (account, region, name) → index entry, as loaded at start.
pub type Loaded = Vec<((String, String), String, Meta)>;

/// One stored version.
pub struct StoredVersion {
    pub version: i64,
    pub meta: VersionMeta,
    pub value: String,
}

/// A change, submitted while the registry's lock is held (so the store sees changes in
/// memory order).
pub enum Change {
    /// A new version, the index entry after it, and a version dropped to make room.
    Put { account: String, region: String, name: String, meta: String, version: i64, vmeta: String, value: String, drop: Option<i64> },
    /// The index entry only (labels, tags).
    Meta { account: String, region: String, name: String, meta: String },
    Delete { account: String, region: String, name: String },
}

pub struct Store(DomainStore<Loaded>);

fn load(conn: &Connection) -> Result<Loaded, StorageError> {
    let mut stmt = conn.prepare("SELECT account, region, name, doc FROM parameters")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (account, region, name, doc) = row?;
        match serde_json::from_str::<Meta>(&doc) {
            Ok(meta) => out.push(((account, region), name, meta)),
            Err(e) => return Err(StorageError::Io(std::io::Error::other(format!("ssm.db: parameter {name}: {e}")))),
        }
    }
    Ok(out)
}

fn write(conn: &Connection, c: &Change) -> rusqlite::Result<()> {
    match c {
        Change::Put { account, region, name, meta, version, vmeta, value, drop } => {
            conn.prepare_cached("INSERT OR REPLACE INTO parameters VALUES (?1, ?2, ?3, ?4)")?.execute(params![account, region, name, meta])?;
            conn.prepare_cached("INSERT OR REPLACE INTO versions VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![account, region, name, version, vmeta, value])?;
            if let Some(old) = drop {
                conn.prepare_cached("DELETE FROM versions WHERE account = ?1 AND region = ?2 AND name = ?3 AND version = ?4")?.execute(params![account, region, name, old])?;
            }
        }
        Change::Meta { account, region, name, meta } => {
            conn.prepare_cached("UPDATE parameters SET doc = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3")?.execute(params![account, region, name, meta])?;
        }
        Change::Delete { account, region, name } => {
            conn.prepare_cached("DELETE FROM parameters WHERE account = ?1 AND region = ?2 AND name = ?3")?.execute(params![account, region, name])?;
            conn.prepare_cached("DELETE FROM versions WHERE account = ?1 AND region = ?2 AND name = ?3")?.execute(params![account, region, name])?;
        }
    }
    Ok(())
}

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn decode(rows: Vec<(i64, String, String)>) -> Result<Vec<StoredVersion>, StorageError> {
    rows.into_iter()
        .map(|(version, doc, value)| {
            let meta = serde_json::from_str(&doc).map_err(|e| StorageError::Io(std::io::Error::other(format!("ssm.db: version {version}: {e}"))))?;
            Ok(StoredVersion { version, meta, value })
        })
        .collect()
}

impl Store {
    /// `None`: `--in-memory` (an SQLite database in memory).
    pub fn open(path: Option<&Path>, durability: Durability) -> Result<Store, StorageError> {
        let path = path.unwrap_or(Path::new(":memory:"));
        DomainStore::open(path, durability, "ssm", SCHEMA, load).map(Store)
    }

    pub fn take_loaded(&self) -> Loaded {
        self.0.take_loaded()
    }

    pub fn apply(&self, change: Change) -> Pending {
        self.0.apply(vec![change], write)
    }

    /// Waits until every write submitted before it is committed.
    pub async fn barrier(&self) -> Result<(), StorageError> {
        self.0.submit(Box::new(|_| Ok(()))).wait().await.map_err(|e| StorageError::Io(std::io::Error::other(e)))
    }

    /// One version with its value (call after [`Store::barrier`]).
    pub fn version(&self, account: &str, region: &str, name: &str, version: i64) -> Result<Option<StoredVersion>, StorageError> {
        let row = self.0.read(|c| {
            c.prepare_cached("SELECT version, doc, value FROM versions WHERE account = ?1 AND region = ?2 AND name = ?3 AND version = ?4")?
                .query_row(params![account, region, name, version], version_row)
                .optional()
        })?;
        Ok(decode(row.into_iter().collect())?.pop())
    }

    /// Versions `from..` in order, at most `limit` (call after [`Store::barrier`]).
    pub fn history(&self, account: &str, region: &str, name: &str, from: i64, limit: usize) -> Result<Vec<StoredVersion>, StorageError> {
        let rows = self.0.read(|c| {
            let mut stmt = c.prepare_cached("SELECT version, doc, value FROM versions WHERE account = ?1 AND region = ?2 AND name = ?3 AND version >= ?4 ORDER BY version LIMIT ?5")?;
            let rows = stmt.query_map(params![account, region, name, from, limit as i64], version_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        decode(rows)
    }
}
