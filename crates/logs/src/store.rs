//! Durable CloudWatch Logs state behind one trait.
//!
//! The engine keeps groups, streams and events in memory and describes every change as a
//! [`Mutation`]; a store makes a batch durable. [`SqliteStore`] writes through the
//! group-committing writer of `nimbus_core::storage` (submission never blocks: the
//! group commit does the disk I/O); [`MemoryStore`] (`--in-memory`) keeps nothing.

use nimbus_core::storage::{DomainStore, Durability, Pending, StorageError};
use rusqlite::{params, Connection};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct GroupRecord {
    pub id: u64,
    pub account: String,
    pub region: String,
    pub name: String,
    pub created_ms: u64,
    pub retention_days: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct StreamRecord {
    pub id: u64,
    pub group: u64,
    pub name: String,
    pub created_ms: u64,
}

/// One stored log event. `seq` orders events with equal timestamps and is unique.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub seq: u64,
    pub timestamp: u64,
    pub ingestion_ms: u64,
    pub message: Arc<str>,
}

/// One change to durable state.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Insert a group or update its retention.
    PutGroup(GroupRecord),
    DeleteGroup(u64),
    PutStream(StreamRecord),
    DeleteStream(u64),
    InsertEvents { stream: u64, events: Vec<EventRecord> },
}

/// Everything a store holds, read once at start. Events come ordered by stream, then
/// timestamp, then seq.
#[derive(Default)]
pub struct Loaded {
    pub groups: Vec<GroupRecord>,
    pub streams: Vec<StreamRecord>,
    pub events: Vec<(u64, EventRecord)>,
}

pub trait LogsStore: Send + Sync {
    fn load(&self) -> Result<Loaded, StorageError>;
    /// Makes `batch` durable, atomically, in order with every earlier call. Never blocks.
    fn apply(&self, batch: Vec<Mutation>) -> Pending;
}

/// Keeps nothing: for `--in-memory` and tests.
pub struct MemoryStore;

impl LogsStore for MemoryStore {
    fn load(&self) -> Result<Loaded, StorageError> {
        Ok(Loaded::default())
    }
    fn apply(&self, _batch: Vec<Mutation>) -> Pending {
        Pending::done()
    }
}

pub struct SqliteStore(DomainStore<Loaded>);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS logs_groups (
  id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
  created_ms INTEGER NOT NULL, retention_days INTEGER, UNIQUE (account, region, name));
CREATE TABLE IF NOT EXISTS logs_streams (
  id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL,
  UNIQUE (group_id, name));
CREATE TABLE IF NOT EXISTS logs_events (
  stream_id INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, ingestion_ms INTEGER NOT NULL,
  message TEXT NOT NULL, PRIMARY KEY (stream_id, seq)) WITHOUT ROWID;
";

impl SqliteStore {
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StorageError> {
        DomainStore::open(path, durability, "logs", SCHEMA, load_all).map(SqliteStore)
    }
}

fn load_all(conn: &Connection) -> Result<Loaded, StorageError> {
    let mut out = Loaded::default();
    let mut g = conn.prepare("SELECT id, account, region, name, created_ms, retention_days FROM logs_groups")?;
    let rows = g.query_map([], |r| {
        Ok(GroupRecord {
            id: r.get::<_, i64>(0)? as u64,
            account: r.get(1)?,
            region: r.get(2)?,
            name: r.get(3)?,
            created_ms: r.get::<_, i64>(4)? as u64,
            retention_days: r.get::<_, Option<i64>>(5)?.map(|d| d as u32),
        })
    })?;
    for row in rows {
        out.groups.push(row?);
    }
    let mut s = conn.prepare("SELECT id, group_id, name, created_ms FROM logs_streams")?;
    let rows = s.query_map([], |r| {
        Ok(StreamRecord { id: r.get::<_, i64>(0)? as u64, group: r.get::<_, i64>(1)? as u64, name: r.get(2)?, created_ms: r.get::<_, i64>(3)? as u64 })
    })?;
    for row in rows {
        out.streams.push(row?);
    }
    let mut e = conn.prepare("SELECT stream_id, seq, ts, ingestion_ms, message FROM logs_events ORDER BY stream_id, ts, seq")?;
    let rows = e.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            EventRecord {
                seq: r.get::<_, i64>(1)? as u64,
                timestamp: r.get::<_, i64>(2)? as u64,
                ingestion_ms: r.get::<_, i64>(3)? as u64,
                message: Arc::from(r.get::<_, String>(4)?),
            },
        ))
    })?;
    for row in rows {
        out.events.push(row?);
    }
    Ok(out)
}

fn write(conn: &Connection, m: &Mutation) -> rusqlite::Result<()> {
    match m {
        Mutation::PutGroup(g) => {
            conn.prepare_cached(
                "INSERT INTO logs_groups (id, account, region, name, created_ms, retention_days) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(id) DO UPDATE SET retention_days = ?6",
            )?
            .execute(params![g.id as i64, g.account, g.region, g.name, g.created_ms as i64, g.retention_days.map(|d| d as i64)])?;
        }
        Mutation::DeleteGroup(id) => {
            conn.prepare_cached("DELETE FROM logs_events WHERE stream_id IN (SELECT id FROM logs_streams WHERE group_id = ?1)")?.execute([*id as i64])?;
            conn.prepare_cached("DELETE FROM logs_streams WHERE group_id = ?1")?.execute([*id as i64])?;
            conn.prepare_cached("DELETE FROM logs_groups WHERE id = ?1")?.execute([*id as i64])?;
        }
        Mutation::PutStream(s) => {
            conn.prepare_cached("INSERT OR REPLACE INTO logs_streams (id, group_id, name, created_ms) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![s.id as i64, s.group as i64, s.name, s.created_ms as i64])?;
        }
        Mutation::DeleteStream(id) => {
            conn.prepare_cached("DELETE FROM logs_events WHERE stream_id = ?1")?.execute([*id as i64])?;
            conn.prepare_cached("DELETE FROM logs_streams WHERE id = ?1")?.execute([*id as i64])?;
        }
        Mutation::InsertEvents { stream, events } => {
            let mut stmt = conn.prepare_cached("INSERT OR REPLACE INTO logs_events (stream_id, seq, ts, ingestion_ms, message) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for e in events {
                stmt.execute(params![*stream as i64, e.seq as i64, e.timestamp as i64, e.ingestion_ms as i64, &*e.message])?;
            }
        }
    }
    Ok(())
}

impl LogsStore for SqliteStore {
    fn load(&self) -> Result<Loaded, StorageError> {
        Ok(self.0.take_loaded())
    }

    fn apply(&self, batch: Vec<Mutation>) -> Pending {
        self.0.apply(batch, write)
    }
}
