//! `kinesis.db`: each stream's description (one JSON document), its position counter,
//! and every record (by stream, shard and position), read back from here by GetRecords and
//! the `StreamSource`, never kept in memory; and each account's settings per region
//! (UpdateAccountSettings), read from here when asked. Writes go through core's group-committing
//! writer: a PutRecords answers once its records are committed, so acknowledged records
//! survive `kill -9`.

use crate::stream::{StreamMeta, Tail};
use nimbus_core::storage::{DomainStore, Durability, Pending, StorageError};
use rusqlite::{params, Connection};
use std::collections::HashMap;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS streams (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (stream_id INTEGER PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  stream_id INTEGER NOT NULL, shard INTEGER NOT NULL, position INTEGER NOT NULL,
  arrival_ms INTEGER NOT NULL, partition_key TEXT NOT NULL, data BLOB NOT NULL, kms INTEGER NOT NULL,
  PRIMARY KEY (stream_id, shard, position)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_settings (scope TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
";

/// A stream as loaded at start: its description, next position and shard tails.
pub struct LoadedStream {
    pub meta: StreamMeta,
    pub next_position: u64,
    pub tails: HashMap<u32, Tail>,
}

/// One record to store.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub shard: u32,
    pub position: u64,
    pub arrival_ms: u64,
    pub partition_key: String,
    pub data: Vec<u8>,
    pub kms: bool,
}

/// One stored record.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub position: u64,
    pub arrival_ms: u64,
    pub partition_key: String,
    pub data: Vec<u8>,
    pub kms: bool,
}

pub enum Change {
    Meta {
        id: i64,
        doc: String,
    },
    Records {
        stream_id: i64,
        next_position: u64,
        records: Vec<NewRecord>,
    },
    Delete {
        stream_id: i64,
    },
    /// Records older than the cutoff (retention), shard by shard. Arrival times never go
    /// back within a stream, so each shard's expired records are a prefix of its
    /// positions: the delete reads only them and the first one kept.
    Trim {
        stream_id: i64,
        shards: Vec<u32>,
        before_ms: u64,
    },
    /// An account's settings in a region (`scope` = "<account>/<region>").
    AccountSettings {
        scope: String,
        doc: String,
    },
}

pub struct Store(DomainStore<Vec<LoadedStream>>);

fn load(conn: &Connection) -> Result<Vec<LoadedStream>, StorageError> {
    let docs: Vec<(i64, String)> = {
        let mut stmt = conn.prepare("SELECT id, doc FROM streams ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::new();
    for (id, doc) in docs {
        let meta: StreamMeta = serde_json::from_str(&doc).map_err(|e| {
            StorageError::Io(std::io::Error::other(format!(
                "kinesis.db: stream {id}: {e}"
            )))
        })?;
        let next: i64 = conn.query_row(
            "SELECT COALESCE((SELECT next FROM positions WHERE stream_id = ?1), 0)",
            params![id],
            |r| r.get(0),
        )?;
        let mut tails = HashMap::new();
        for shard in &meta.shards {
            let tail = conn
                .query_row("SELECT position, arrival_ms FROM records WHERE stream_id = ?1 AND shard = ?2 ORDER BY position DESC LIMIT 1", params![id, shard.index], |r| {
                    Ok(Tail { last_position: Some(r.get::<_, i64>(0)? as u64), last_arrival_ms: r.get::<_, i64>(1)? as u64 })
                })
                .ok();
            if let Some(t) = tail {
                tails.insert(shard.index, t);
            }
        }
        out.push(LoadedStream {
            meta,
            next_position: next as u64,
            tails,
        });
    }
    Ok(out)
}

fn write(conn: &Connection, c: &Change) -> rusqlite::Result<()> {
    match c {
        Change::Meta { id, doc } => {
            conn.prepare_cached("INSERT OR REPLACE INTO streams VALUES (?1, ?2)")?
                .execute(params![id, doc])?;
        }
        Change::Records {
            stream_id,
            next_position,
            records,
        } => {
            let mut insert = conn.prepare_cached(
                "INSERT OR REPLACE INTO records VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for r in records {
                insert.execute(params![
                    stream_id,
                    r.shard,
                    r.position as i64,
                    r.arrival_ms as i64,
                    r.partition_key,
                    r.data,
                    r.kms
                ])?;
            }
            conn.prepare_cached("INSERT OR REPLACE INTO positions VALUES (?1, ?2)")?
                .execute(params![stream_id, *next_position as i64])?;
        }
        Change::Delete { stream_id } => {
            conn.prepare_cached("DELETE FROM streams WHERE id = ?1")?
                .execute(params![stream_id])?;
            conn.prepare_cached("DELETE FROM positions WHERE stream_id = ?1")?
                .execute(params![stream_id])?;
            conn.prepare_cached("DELETE FROM records WHERE stream_id = ?1")?
                .execute(params![stream_id])?;
        }
        Change::AccountSettings { scope, doc } => {
            conn.prepare_cached("INSERT OR REPLACE INTO account_settings VALUES (?1, ?2)")?
                .execute(params![scope, doc])?;
        }
        Change::Trim { stream_id, shards, before_ms } => {
            let mut keep = conn.prepare_cached("SELECT position FROM records WHERE stream_id = ?1 AND shard = ?2 AND arrival_ms >= ?3 ORDER BY position LIMIT 1")?;
            let mut below = conn.prepare_cached("DELETE FROM records WHERE stream_id = ?1 AND shard = ?2 AND position < ?3")?;
            let mut all = conn.prepare_cached("DELETE FROM records WHERE stream_id = ?1 AND shard = ?2")?;
            for shard in shards {
                let first_kept: Option<i64> = keep.query_row(params![stream_id, shard, *before_ms as i64], |r| r.get(0)).ok();
                match first_kept {
                    Some(p) => below.execute(params![stream_id, shard, p])?,
                    None => all.execute(params![stream_id, shard])?,
                };
            }
        }
    }
    Ok(())
}

fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRecord> {
    Ok(StoredRecord {
        position: r.get::<_, i64>(0)? as u64,
        arrival_ms: r.get::<_, i64>(1)? as u64,
        partition_key: r.get(2)?,
        data: r.get(3)?,
        kms: r.get(4)?,
    })
}

impl Store {
    /// `None`: `--in-memory` (an SQLite database in memory).
    pub fn open(path: Option<&Path>, durability: Durability) -> Result<Store, StorageError> {
        let path = path.unwrap_or(Path::new(":memory:"));
        DomainStore::open(path, durability, "kinesis", SCHEMA, load).map(Store)
    }

    pub fn take_loaded(&self) -> Vec<LoadedStream> {
        self.0.take_loaded()
    }

    pub fn apply(&self, change: Change) -> Pending {
        self.0.apply(vec![change], write)
    }

    /// The settings document of `scope` ("<account>/<region>"), if ever updated.
    pub fn account_settings(&self, scope: &str) -> Result<Option<String>, StorageError> {
        self.0.read(|c| {
            let mut stmt = c.prepare_cached("SELECT doc FROM account_settings WHERE scope = ?1")?;
            let mut rows = stmt.query(params![scope])?;
            Ok(match rows.next()? {
                Some(row) => Some(row.get(0)?),
                None => None,
            })
        })
    }

    /// Up to `limit` records of a shard at positions `from..` that arrived at or after
    /// `min_arrival_ms` (the retention cutoff), at most about `max_bytes` of data (always
    /// at least one record). Sees what is committed.
    pub fn read(
        &self,
        stream_id: i64,
        shard: u32,
        from: u64,
        min_arrival_ms: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredRecord>, StorageError> {
        self.0.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT position, arrival_ms, partition_key, data, kms FROM records WHERE stream_id = ?1 AND shard = ?2 AND position >= ?3 AND arrival_ms >= ?4 ORDER BY position LIMIT ?5",
            )?;
            let mut rows = stmt.query(params![stream_id, shard, from as i64, min_arrival_ms as i64, limit as i64])?;
            let mut out = Vec::new();
            let mut bytes = 0usize;
            while let Some(row) = rows.next()? {
                let rec = record_row(row)?;
                bytes += rec.data.len() + rec.partition_key.len();
                if bytes > max_bytes && !out.is_empty() {
                    break;
                }
                out.push(rec);
            }
            Ok(out)
        })
    }

    /// The position of the shard's first record that arrived at or after `at_ms`.
    pub fn first_at(
        &self,
        stream_id: i64,
        shard: u32,
        at_ms: u64,
    ) -> Result<Option<u64>, StorageError> {
        self.0.read(|c| {
            let mut stmt = c.prepare_cached("SELECT position FROM records WHERE stream_id = ?1 AND shard = ?2 AND arrival_ms >= ?3 ORDER BY position LIMIT 1")?;
            let mut rows = stmt.query(params![stream_id, shard, at_ms as i64])?;
            Ok(match rows.next()? {
                Some(r) => Some(r.get::<_, i64>(0)? as u64),
                None => None,
            })
        })
    }
}
