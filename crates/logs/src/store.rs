//! Where CloudWatch Logs events live, behind one trait.
//!
//! The engine keeps groups and streams (with bounded per-stream figures) in memory and
//! describes every change as a [`Mutation`]; events are only in the store, which reads
//! them back by key range (`(timestamp, seq)` order) and deletes them for retention.
//!
//! [`SqliteStore`] writes through the group-committing writer of `nimbus_core::storage`
//! (submission never blocks: the group commit does the disk I/O). Reads run on the
//! writer's connection (`DomainStore::read`) after a **barrier**: a no-op job submitted
//! to the writer queue and awaited ([`LogsStore::barrier`]). Jobs commit in submission
//! order, so once the barrier has committed, every event accepted before the read (even
//! by the Lambda log sink, which does not wait for its commit) is in the database.
//! Events are indexed by `(stream_id, ts, seq)`, so a time-range read is a range scan;
//! per-stream byte counts and last ingestion times are kept in `logs_stream_stats`
//! (updated with each insert), so a start reads a few rows per stream, never the events.
//!
//! [`MemoryStore`] (`--in-memory`) keeps events in memory, bounded by retention only.

use crate::tokens::EventKey;
use nimbus_core::storage::{DomainStore, Durability, Pending, StorageError};
use parking_lot::Mutex;
use rusqlite::{params, Connection};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Bytes AWS counts per event on top of its message (response size caps).
pub const EVENT_OVERHEAD: usize = 26;

#[derive(Debug, Clone)]
pub struct GroupRecord {
    pub id: u64,
    pub account: String,
    pub region: String,
    pub name: String,
    pub created_ms: u64,
    pub retention_days: Option<u32>,
    /// The group's tags (TagResource / TagLogGroup, CreateLogGroup's `tags`).
    pub tags: BTreeMap<String, String>,
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

impl EventRecord {
    pub fn key(&self) -> EventKey {
        (self.timestamp, self.seq)
    }

    /// The event's size as AWS counts it against response limits.
    pub fn size(&self) -> usize {
        self.message.len() + EVENT_OVERHEAD
    }
}

/// A metric or subscription filter of a group: its kind (`filters::METRIC` /
/// `filters::SUBSCRIPTION`), name and definition as JSON.
#[derive(Debug, Clone)]
pub struct FilterRecord {
    pub group: u64,
    pub kind: String,
    pub name: String,
    pub body: String,
}

/// An account-level document: a resource policy (`kind` "policy") or a destination
/// ("destination"), its name and its definition as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocRecord {
    pub account: String,
    pub region: String,
    pub kind: String,
    pub name: String,
    pub body: String,
}

/// One change to durable state.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Insert a group or update its retention.
    PutGroup(GroupRecord),
    /// A group and its streams (ids given for stores that do not track the relation).
    DeleteGroup { id: u64, streams: Vec<u64> },
    PutStream(StreamRecord),
    DeleteStream(u64),
    InsertEvents { stream: u64, events: Vec<EventRecord> },
    PutFilter(FilterRecord),
    DeleteFilter { group: u64, kind: String, name: String },
    PutDoc(DocRecord),
    DeleteDoc { account: String, region: String, kind: String, name: String },
}

/// A stream as loaded at start: its record and the figures DescribeLogStreams shows,
/// computed without reading events.
#[derive(Debug, Clone)]
pub struct LoadedStream {
    pub record: StreamRecord,
    pub first_ts: Option<u64>,
    pub last_ts: Option<u64>,
    pub last_ingestion_ms: Option<u64>,
    pub stored_bytes: u64,
    /// The highest event `seq` stored in the stream.
    pub max_seq: u64,
}

/// Everything kept in memory, read once at start.
#[derive(Default)]
pub struct Loaded {
    pub groups: Vec<GroupRecord>,
    pub streams: Vec<LoadedStream>,
    pub filters: Vec<FilterRecord>,
    pub docs: Vec<DocRecord>,
}

/// Inclusive bounds on event keys, and how much to read.
#[derive(Debug, Clone, Copy)]
pub struct Scan {
    pub from: EventKey,
    pub to: EventKey,
    /// Newest first.
    pub backward: bool,
    pub max_events: usize,
    /// Stop before an event that would take the sizes past this (never before the first).
    pub max_bytes: usize,
}

/// What a retention pass did to one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub stream: u64,
    /// Message bytes deleted.
    pub bytes: u64,
    /// The oldest timestamp left in the stream, if any.
    pub first_ts: Option<u64>,
    /// Events below the cut are left (the pass stopped at its batch size).
    pub more: bool,
}

/// A submitted retention pass: its outcome is readable once `pending` committed.
pub struct Expiry {
    pub pending: Pending,
    pub outcome: Arc<Mutex<Vec<Expired>>>,
}

pub trait LogsStore: Send + Sync {
    fn load(&self) -> Result<Loaded, StorageError>;
    /// Makes `batch` durable, atomically, in order with every earlier call. Never blocks.
    fn apply(&self, batch: Vec<Mutation>) -> Pending;
    /// Resolves once everything applied before it can be read.
    fn barrier(&self) -> Pending;
    /// Events of `stream` within `scan`, in key order (reversed when backward). Call
    /// after a [`LogsStore::barrier`] to see every accepted event.
    fn read(&self, stream: u64, scan: &Scan) -> Result<Vec<EventRecord>, StorageError>;
    /// Deletes the oldest events of `streams` older than `before_ts`, at most `batch`
    /// per stream (one pass stays a short transaction), in order with `apply`.
    fn expire(&self, streams: Vec<u64>, before_ts: u64, batch: usize) -> Expiry;
    /// Message bytes of `stream`'s events older than `before_ts` (after a barrier).
    fn bytes_before(&self, stream: u64, before_ts: u64) -> Result<u64, StorageError>;
    /// One document (after a barrier), e.g. a query's results ([`UNLOADED_KIND`]).
    fn read_doc(&self, account: &str, region: &str, kind: &str, name: &str) -> Result<Option<String>, StorageError>;
}

/// Keeps events in memory, nothing on disk: for `--in-memory` and tests.
#[derive(Default)]
pub struct MemoryStore {
    events: Mutex<BTreeMap<u64, BTreeMap<EventKey, EventRecord>>>,
    /// Documents read back by [`LogsStore::read_doc`] (Logs Insights results).
    docs: Mutex<BTreeMap<(String, String, String, String), String>>,
}

impl MemoryStore {
    pub const fn new() -> MemoryStore {
        MemoryStore { events: Mutex::new(BTreeMap::new()), docs: Mutex::new(BTreeMap::new()) }
    }
}

/// Documents of this kind are read one at a time ([`LogsStore::read_doc`]), never
/// loaded at start: Logs Insights query results.
pub const UNLOADED_KIND: &str = "query-results";

/// Takes events (in iteration order) within the scan's count and size caps.
fn capped(events: impl Iterator<Item = EventRecord>, scan: &Scan) -> Vec<EventRecord> {
    let mut out = Vec::new();
    let mut bytes = 0;
    for e in events {
        if out.len() == scan.max_events || (bytes + e.size() > scan.max_bytes && !out.is_empty()) {
            break;
        }
        bytes += e.size();
        out.push(e);
    }
    out
}

impl LogsStore for MemoryStore {
    fn load(&self) -> Result<Loaded, StorageError> {
        Ok(Loaded::default())
    }

    fn apply(&self, batch: Vec<Mutation>) -> Pending {
        let mut all = self.events.lock();
        for m in batch {
            match m {
                Mutation::DeleteGroup { streams, .. } => streams.iter().for_each(|s| drop(all.remove(s))),
                Mutation::DeleteStream(id) => drop(all.remove(&id)),
                Mutation::InsertEvents { stream, events } => all.entry(stream).or_default().extend(events.into_iter().map(|e| (e.key(), e))),
                Mutation::PutDoc(d) if d.kind == UNLOADED_KIND => drop(self.docs.lock().insert((d.account, d.region, d.kind, d.name), d.body)),
                Mutation::DeleteDoc { account, region, kind, name } => drop(self.docs.lock().remove(&(account, region, kind, name))),
                Mutation::PutGroup(_) | Mutation::PutStream(_) | Mutation::PutFilter(_) | Mutation::DeleteFilter { .. } | Mutation::PutDoc(_) => {}
            }
        }
        Pending::done()
    }

    fn barrier(&self) -> Pending {
        Pending::done()
    }

    fn read(&self, stream: u64, scan: &Scan) -> Result<Vec<EventRecord>, StorageError> {
        let all = self.events.lock();
        let Some(events) = all.get(&stream).filter(|_| scan.from <= scan.to) else { return Ok(Vec::new()) };
        let range = events.range(scan.from..=scan.to).map(|(_, e)| e.clone());
        Ok(if scan.backward { capped(range.rev(), scan) } else { capped(range, scan) })
    }

    fn expire(&self, streams: Vec<u64>, before_ts: u64, batch: usize) -> Expiry {
        let mut all = self.events.lock();
        let mut outcome = Vec::new();
        for stream in streams {
            let Some(events) = all.get_mut(&stream) else { continue };
            let doomed: Vec<EventKey> = events.range(..(before_ts, 0)).take(batch).map(|(k, _)| *k).collect();
            let bytes = doomed.iter().filter_map(|k| events.remove(k)).map(|e| e.message.len() as u64).sum();
            let first_ts = events.keys().next().map(|k| k.0);
            outcome.push(Expired { stream, bytes, first_ts, more: first_ts.is_some_and(|t| t < before_ts) });
        }
        Expiry { pending: Pending::done(), outcome: Arc::new(Mutex::new(outcome)) }
    }

    fn bytes_before(&self, stream: u64, before_ts: u64) -> Result<u64, StorageError> {
        let all = self.events.lock();
        let older = all.get(&stream).map(|events| events.range(..(before_ts, 0)).map(|(_, e)| e.message.len() as u64).sum());
        Ok(older.unwrap_or(0))
    }

    fn read_doc(&self, account: &str, region: &str, kind: &str, name: &str) -> Result<Option<String>, StorageError> {
        Ok(self.docs.lock().get(&(account.to_string(), region.to_string(), kind.to_string(), name.to_string())).cloned())
    }
}

pub struct SqliteStore(DomainStore<Loaded>);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS logs_groups (
  id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
  created_ms INTEGER NOT NULL, retention_days INTEGER, tags TEXT, UNIQUE (account, region, name));
CREATE TABLE IF NOT EXISTS logs_streams (
  id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL,
  UNIQUE (group_id, name));
CREATE TABLE IF NOT EXISTS logs_events (
  stream_id INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, ingestion_ms INTEGER NOT NULL,
  message TEXT NOT NULL, PRIMARY KEY (stream_id, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logs_events_by_time ON logs_events (stream_id, ts, seq);
CREATE TABLE IF NOT EXISTS logs_stream_stats (
  stream_id INTEGER PRIMARY KEY, stored_bytes INTEGER NOT NULL, last_ingestion_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS logs_filters (
  group_id INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (group_id, kind, name));
CREATE TABLE IF NOT EXISTS logs_docs (
  account TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (account, region, kind, name));
";

/// `PRAGMA user_version` of a database whose `logs_stream_stats` are filled in.
const LAYOUT_VERSION: i64 = 1;

/// Fills `logs_stream_stats` of a data dir written before it existed (once).
const MIGRATE_STATS: &str = "
INSERT OR REPLACE INTO logs_stream_stats (stream_id, stored_bytes, last_ingestion_ms)
  SELECT stream_id, sum(length(CAST(message AS BLOB))), max(ingestion_ms) FROM logs_events GROUP BY stream_id;
";

impl SqliteStore {
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StorageError> {
        DomainStore::open(path, durability, "logs", SCHEMA, load_all).map(SqliteStore)
    }
}

/// SQLite integers are signed: keys beyond `i64::MAX` are clamped (no event has one).
fn int(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

fn load_all(conn: &Connection) -> Result<Loaded, StorageError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < LAYOUT_VERSION {
        conn.execute_batch(MIGRATE_STATS)?;
        conn.pragma_update(None, "user_version", LAYOUT_VERSION)?;
    }
    // Data dirs written before groups had tags: add the column (NULL: no tags).
    let has_tags: bool = conn.query_row("SELECT count(*) FROM pragma_table_info('logs_groups') WHERE name = 'tags'", [], |r| r.get::<_, i64>(0))? > 0;
    if !has_tags {
        conn.execute_batch("ALTER TABLE logs_groups ADD COLUMN tags TEXT")?;
    }
    let mut out = Loaded::default();
    let mut g = conn.prepare("SELECT id, account, region, name, created_ms, retention_days, tags FROM logs_groups")?;
    let rows = g.query_map([], |r| {
        Ok(GroupRecord {
            id: r.get::<_, i64>(0)? as u64,
            account: r.get(1)?,
            region: r.get(2)?,
            name: r.get(3)?,
            created_ms: r.get::<_, i64>(4)? as u64,
            retention_days: r.get::<_, Option<i64>>(5)?.map(|d| d as u32),
            tags: r.get::<_, Option<String>>(6)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
        })
    })?;
    for row in rows {
        out.groups.push(row?);
    }
    // Each subquery is one descent of an index (SQLite's min/max optimisation).
    let mut s = conn.prepare(
        "SELECT s.id, s.group_id, s.name, s.created_ms,
           (SELECT min(ts) FROM logs_events WHERE stream_id = s.id),
           (SELECT max(ts) FROM logs_events WHERE stream_id = s.id),
           (SELECT max(seq) FROM logs_events WHERE stream_id = s.id),
           st.stored_bytes, st.last_ingestion_ms
         FROM logs_streams s LEFT JOIN logs_stream_stats st ON st.stream_id = s.id",
    )?;
    let rows = s.query_map([], |r| {
        let opt = |i: usize| -> rusqlite::Result<Option<u64>> { Ok(r.get::<_, Option<i64>>(i)?.map(|v| v.max(0) as u64)) };
        Ok(LoadedStream {
            record: StreamRecord { id: r.get::<_, i64>(0)? as u64, group: r.get::<_, i64>(1)? as u64, name: r.get(2)?, created_ms: r.get::<_, i64>(3)? as u64 },
            first_ts: opt(4)?,
            last_ts: opt(5)?,
            max_seq: opt(6)?.unwrap_or(0),
            stored_bytes: opt(7)?.unwrap_or(0),
            last_ingestion_ms: opt(8)?,
        })
    })?;
    for row in rows {
        out.streams.push(row?);
    }
    let mut f = conn.prepare("SELECT group_id, kind, name, body FROM logs_filters")?;
    let rows = f.query_map([], |r| Ok(FilterRecord { group: r.get::<_, i64>(0)? as u64, kind: r.get(1)?, name: r.get(2)?, body: r.get(3)? }))?;
    for row in rows {
        out.filters.push(row?);
    }
    let mut d = conn.prepare("SELECT account, region, kind, name, body FROM logs_docs WHERE kind != ?1")?;
    let rows = d.query_map([UNLOADED_KIND], |r| Ok(DocRecord { account: r.get(0)?, region: r.get(1)?, kind: r.get(2)?, name: r.get(3)?, body: r.get(4)? }))?;
    for row in rows {
        out.docs.push(row?);
    }
    Ok(out)
}

fn insert_events(conn: &Connection, stream: u64, events: &[EventRecord]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("INSERT OR REPLACE INTO logs_events (stream_id, seq, ts, ingestion_ms, message) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    let (mut bytes, mut ingested) = (0u64, 0u64);
    for e in events {
        stmt.execute(params![int(stream), int(e.seq), int(e.timestamp), int(e.ingestion_ms), &*e.message])?;
        bytes += e.message.len() as u64;
        ingested = ingested.max(e.ingestion_ms);
    }
    conn.prepare_cached(
        "INSERT INTO logs_stream_stats (stream_id, stored_bytes, last_ingestion_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT(stream_id) DO UPDATE SET stored_bytes = stored_bytes + excluded.stored_bytes,
           last_ingestion_ms = max(last_ingestion_ms, excluded.last_ingestion_ms)",
    )?
    .execute(params![int(stream), int(bytes), int(ingested)])?;
    Ok(())
}

fn write(conn: &Connection, m: &Mutation) -> rusqlite::Result<()> {
    match m {
        Mutation::PutGroup(g) => {
            conn.prepare_cached(
                "INSERT INTO logs_groups (id, account, region, name, created_ms, retention_days, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(id) DO UPDATE SET retention_days = ?6, tags = ?7",
            )?
            .execute(params![
                int(g.id),
                g.account,
                g.region,
                g.name,
                int(g.created_ms),
                g.retention_days.map(|d| d as i64),
                (!g.tags.is_empty()).then(|| serde_json::to_string(&g.tags).unwrap_or_default())
            ])?;
        }
        Mutation::DeleteGroup { id, .. } => {
            let id = int(*id);
            conn.prepare_cached("DELETE FROM logs_events WHERE stream_id IN (SELECT id FROM logs_streams WHERE group_id = ?1)")?.execute([id])?;
            conn.prepare_cached("DELETE FROM logs_stream_stats WHERE stream_id IN (SELECT id FROM logs_streams WHERE group_id = ?1)")?.execute([id])?;
            conn.prepare_cached("DELETE FROM logs_streams WHERE group_id = ?1")?.execute([id])?;
            conn.prepare_cached("DELETE FROM logs_groups WHERE id = ?1")?.execute([id])?;
            conn.prepare_cached("DELETE FROM logs_filters WHERE group_id = ?1")?.execute([id])?;
        }
        Mutation::PutStream(s) => {
            conn.prepare_cached("INSERT OR REPLACE INTO logs_streams (id, group_id, name, created_ms) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![int(s.id), int(s.group), s.name, int(s.created_ms)])?;
        }
        Mutation::DeleteStream(id) => {
            conn.prepare_cached("DELETE FROM logs_events WHERE stream_id = ?1")?.execute([int(*id)])?;
            conn.prepare_cached("DELETE FROM logs_stream_stats WHERE stream_id = ?1")?.execute([int(*id)])?;
            conn.prepare_cached("DELETE FROM logs_streams WHERE id = ?1")?.execute([int(*id)])?;
        }
        Mutation::InsertEvents { stream, events } => insert_events(conn, *stream, events)?,
        Mutation::PutFilter(f) => {
            conn.prepare_cached("INSERT OR REPLACE INTO logs_filters (group_id, kind, name, body) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![int(f.group), f.kind, f.name, f.body])?;
        }
        Mutation::DeleteFilter { group, kind, name } => {
            conn.prepare_cached("DELETE FROM logs_filters WHERE group_id = ?1 AND kind = ?2 AND name = ?3")?.execute(params![int(*group), kind, name])?;
        }
        Mutation::PutDoc(d) => {
            conn.prepare_cached("INSERT OR REPLACE INTO logs_docs (account, region, kind, name, body) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![d.account, d.region, d.kind, d.name, d.body])?;
        }
        Mutation::DeleteDoc { account, region, kind, name } => {
            conn.prepare_cached("DELETE FROM logs_docs WHERE account = ?1 AND region = ?2 AND kind = ?3 AND name = ?4")?.execute(params![account, region, kind, name])?;
        }
    }
    Ok(())
}

/// The range condition on `(ts, seq)` between `(?2, ?3)` and `(?4, ?5)`, inclusive,
/// written so that SQLite ranges over the `(stream_id, ts, seq)` index.
const RANGE: &str = "stream_id = ?1 AND ts >= ?2 AND ts <= ?4 AND (ts > ?2 OR seq >= ?3) AND (ts < ?4 OR seq <= ?5)";

fn read_events(conn: &Connection, stream: u64, scan: &Scan) -> rusqlite::Result<Vec<EventRecord>> {
    if scan.from > scan.to || scan.max_events == 0 {
        return Ok(Vec::new());
    }
    let order = if scan.backward { "DESC" } else { "ASC" };
    let sql = format!("SELECT seq, ts, ingestion_ms, message FROM logs_events INDEXED BY logs_events_by_time WHERE {RANGE} ORDER BY ts {order}, seq {order}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![int(stream), int(scan.from.0), int(scan.from.1), int(scan.to.0), int(scan.to.1)])?;
    let mut out = Vec::new();
    let mut bytes = 0;
    while let Some(r) = rows.next()? {
        let e = EventRecord {
            seq: r.get::<_, i64>(0)? as u64,
            timestamp: r.get::<_, i64>(1)? as u64,
            ingestion_ms: r.get::<_, i64>(2)? as u64,
            message: Arc::from(r.get::<_, String>(3)?),
        };
        if out.len() == scan.max_events || (bytes + e.size() > scan.max_bytes && !out.is_empty()) {
            break;
        }
        bytes += e.size();
        out.push(e);
    }
    Ok(out)
}

fn bytes_before(conn: &Connection, stream: u64, before_ts: u64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT coalesce(sum(length(CAST(message AS BLOB))), 0) FROM logs_events WHERE stream_id = ?1 AND ts < ?2")?
        .query_row([int(stream), int(before_ts)], |r| r.get(0))
}

/// The oldest `?3` events of stream `?1` older than `?2`.
const OLDEST: &str = "SELECT seq FROM logs_events WHERE stream_id = ?1 AND ts < ?2 ORDER BY ts, seq LIMIT ?3";

fn expire_stream(conn: &Connection, stream: u64, before_ts: u64, batch: usize) -> rusqlite::Result<Expired> {
    let (id, before, batch) = (int(stream), int(before_ts), int(batch as u64));
    let bytes: i64 = conn
        .prepare_cached(&format!("SELECT coalesce(sum(length(CAST(message AS BLOB))), 0) FROM logs_events WHERE stream_id = ?1 AND seq IN ({OLDEST})"))?
        .query_row([id, before, batch], |r| r.get(0))?;
    conn.prepare_cached(&format!("DELETE FROM logs_events WHERE stream_id = ?1 AND seq IN ({OLDEST})"))?.execute([id, before, batch])?;
    conn.prepare_cached("UPDATE logs_stream_stats SET stored_bytes = max(0, stored_bytes - ?2) WHERE stream_id = ?1")?.execute([id, bytes])?;
    let first: Option<i64> = conn.prepare_cached("SELECT min(ts) FROM logs_events WHERE stream_id = ?1")?.query_row([id], |r| r.get(0))?;
    let first_ts = first.map(|t| t.max(0) as u64);
    Ok(Expired { stream, bytes: bytes.max(0) as u64, first_ts, more: first_ts.is_some_and(|t| t < before_ts) })
}

impl LogsStore for SqliteStore {
    fn load(&self) -> Result<Loaded, StorageError> {
        Ok(self.0.take_loaded())
    }

    fn apply(&self, batch: Vec<Mutation>) -> Pending {
        self.0.apply(batch, write)
    }

    fn barrier(&self) -> Pending {
        self.0.submit(Box::new(|_| Ok(())))
    }

    fn read(&self, stream: u64, scan: &Scan) -> Result<Vec<EventRecord>, StorageError> {
        self.0.read(|conn| read_events(conn, stream, scan))
    }

    fn expire(&self, streams: Vec<u64>, before_ts: u64, batch: usize) -> Expiry {
        let outcome = Arc::new(Mutex::new(Vec::new()));
        let slot = outcome.clone();
        let pending = self.0.submit(Box::new(move |conn| {
            let mut done = Vec::with_capacity(streams.len());
            for stream in streams {
                done.push(expire_stream(conn, stream, before_ts, batch)?);
            }
            *slot.lock() = done;
            Ok(())
        }));
        Expiry { pending, outcome }
    }

    fn bytes_before(&self, stream: u64, before_ts: u64) -> Result<u64, StorageError> {
        self.0.read(|conn| bytes_before(conn, stream, before_ts)).map(|b| b.max(0) as u64)
    }

    fn read_doc(&self, account: &str, region: &str, kind: &str, name: &str) -> Result<Option<String>, StorageError> {
        self.0.read(|conn| {
            use rusqlite::OptionalExtension;
            conn.prepare_cached("SELECT body FROM logs_docs WHERE account = ?1 AND region = ?2 AND kind = ?3 AND name = ?4")?
                .query_row(params![account, region, kind, name], |r| r.get::<_, String>(0))
                .optional()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64, ts: u64) -> EventRecord {
        EventRecord { seq, timestamp: ts, ingestion_ms: ts + 1, message: Arc::from(format!("m{seq}")) }
    }

    fn scan(from: EventKey, to: EventKey, backward: bool, max_events: usize) -> Scan {
        Scan { from, to, backward, max_events, max_bytes: usize::MAX }
    }

    fn seqs(events: &[EventRecord]) -> Vec<u64> {
        events.iter().map(|e| e.seq).collect()
    }

    /// Both stores answer the same key-range reads and retention passes.
    async fn reads_and_expiry(store: &dyn LogsStore) {
        let group = GroupRecord { id: 1, account: "a".into(), region: "r".into(), name: "g".into(), created_ms: 0, retention_days: None, tags: Default::default() };
        let stream = StreamRecord { id: 2, group: 1, name: "s".into(), created_ms: 0 };
        // Timestamps out of seq order: reads follow (ts, seq).
        let events = vec![ev(1, 30), ev(2, 10), ev(3, 20), ev(4, 20), ev(5, 40)];
        let p = store.apply(vec![Mutation::PutGroup(group), Mutation::PutStream(stream), Mutation::InsertEvents { stream: 2, events }]);
        p.wait().await.expect("commit");
        store.barrier().wait().await.expect("barrier");
        let all = scan((0, 0), (u64::MAX, u64::MAX), false, 100);
        assert_eq!(seqs(&store.read(2, &all).expect("read")), vec![2, 3, 4, 1, 5]);
        assert_eq!(seqs(&store.read(2, &Scan { backward: true, ..all }).expect("read")), vec![5, 1, 4, 3, 2]);
        assert_eq!(seqs(&store.read(2, &scan((20, 4), (30, 1), false, 100)).expect("read")), vec![4, 1]);
        assert_eq!(seqs(&store.read(2, &scan((20, 4), (40, 0), true, 1)).expect("read")), vec![1]);
        assert_eq!(seqs(&store.read(2, &Scan { max_bytes: 3, ..all }).expect("read")), vec![2], "at least one event");
        assert!(store.read(9, &all).expect("read").is_empty());
        assert_eq!((store.bytes_before(2, 20).expect("bytes"), store.bytes_before(2, 21).expect("bytes")), (2, 6));
        // In batches: the oldest first, `more` until none is left below the cut.
        let expiry = store.expire(vec![2], 25, 2);
        expiry.pending.wait().await.expect("expire");
        assert_eq!(*expiry.outcome.lock(), vec![Expired { stream: 2, bytes: 4, first_ts: Some(20), more: true }]);
        assert_eq!(seqs(&store.read(2, &all).expect("read")), vec![4, 1, 5]);
        let expiry = store.expire(vec![2], 25, 2);
        expiry.pending.wait().await.expect("expire");
        assert_eq!(*expiry.outcome.lock(), vec![Expired { stream: 2, bytes: 2, first_ts: Some(30), more: false }]);
        assert_eq!(seqs(&store.read(2, &all).expect("read")), vec![1, 5]);
    }

    #[tokio::test]
    async fn memory_store_reads_and_expires() {
        reads_and_expiry(&MemoryStore::new()).await;
    }

    /// Reads by time range, retention, and a start that loads per-stream figures (not
    /// events) from the stats table and the time index.
    #[tokio::test]
    async fn sqlite_store_reads_expires_and_loads_figures() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("logs.db");
        {
            let store = SqliteStore::open(&path, Durability::Process).expect("open");
            reads_and_expiry(&store).await;
        }
        let store = SqliteStore::open(&path, Durability::Process).expect("reopen");
        let loaded = store.load().expect("load");
        let s = &loaded.streams[0];
        assert_eq!((s.first_ts, s.last_ts, s.max_seq, s.stored_bytes, s.last_ingestion_ms), (Some(30), Some(40), 5, 4, Some(41)));
    }

    /// A data dir from before the stats table: its figures are computed once at open.
    #[test]
    fn stats_of_an_older_data_dir_are_filled_in() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("logs.db");
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(SCHEMA).expect("schema");
            conn.execute_batch(
                "DROP TABLE logs_stream_stats;
                 CREATE TABLE logs_stream_stats (stream_id INTEGER PRIMARY KEY, stored_bytes INTEGER NOT NULL, last_ingestion_ms INTEGER NOT NULL);
                 INSERT INTO logs_streams VALUES (7, 1, 's', 0);
                 INSERT INTO logs_events VALUES (7, 1, 100, 150, 'héllo'), (7, 2, 90, 160, 'x');",
            )
            .expect("old rows");
        }
        let store = SqliteStore::open(&path, Durability::Process).expect("open");
        let s = store.load().expect("load").streams[0].clone();
        assert_eq!((s.first_ts, s.last_ts, s.stored_bytes, s.last_ingestion_ms, s.max_seq), (Some(90), Some(100), 7, Some(160), 2));
    }

    /// Group tags survive a restart; a data dir whose groups table predates tags gets the
    /// column at open, its groups with none.
    #[tokio::test]
    async fn group_tags_are_stored_and_older_tables_get_the_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("logs.db");
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(
                "CREATE TABLE logs_groups (id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
                   created_ms INTEGER NOT NULL, retention_days INTEGER, UNIQUE (account, region, name));
                 INSERT INTO logs_groups VALUES (1, 'a', 'r', 'old', 0, NULL);",
            )
            .expect("old table");
        }
        {
            let store = SqliteStore::open(&path, Durability::Process).expect("open");
            let loaded = store.load().expect("load");
            assert!(loaded.groups[0].tags.is_empty());
            let tags: BTreeMap<String, String> = [("team".to_string(), "blue".to_string())].into();
            let group = GroupRecord { id: 2, account: "a".into(), region: "r".into(), name: "new".into(), created_ms: 0, retention_days: None, tags };
            store.apply(vec![Mutation::PutGroup(group)]).wait().await.expect("commit");
        }
        let store = SqliteStore::open(&path, Durability::Process).expect("reopen");
        let loaded = store.load().expect("load");
        let new = loaded.groups.iter().find(|g| g.name == "new").expect("new group");
        assert_eq!(new.tags.get("team").map(String::as_str), Some("blue"));
    }
}
