//! Durable DynamoDB state behind one trait: table definitions, items, streams and their
//! records. The engine describes every change as a [`Mutation`] and hands one batch per
//! API call to the store (an item change and its stream record travel together, so both
//! or neither survive a crash). [`SqliteStore`] writes through the group-committing
//! writer of `nimbus_core::storage`; [`MemoryStore`] keeps nothing.
//!
//! Stream records are the one kind of state that grows with write traffic (24 hours of
//! it), so only a tail of each stream is loaded at open and kept in memory; older
//! records are read back from the store ([`DdbStore::read_records`]) when a consumer
//! lags behind the tail.

use crate::backups::BackupMeta;
use crate::schema::TableDef;
use crate::streams::{record_from_storage, record_to_storage, StreamMeta, StreamRecord};
use nimbus_core::storage::{DomainStore, Durability, Pending, StorageError};
use nimbus_dynamodb_expr::value::{item_from_json, item_to_json};
use nimbus_dynamodb_expr::Item;
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Mutation {
    PutTable(Arc<TableDef>),
    /// Drops the table and its items.
    DeleteTable(u64),
    PutItem { table: u64, key: Vec<u8>, item: Arc<Item> },
    DeleteItem { table: u64, key: Vec<u8> },
    PutStream(Arc<StreamMeta>),
    DeleteStream(u64),
    AppendRecord { stream: u64, record: Arc<StreamRecord> },
    /// Drops records with a sequence number below `below`.
    TrimRecords { stream: u64, below: u64 },
    /// A backup: its metadata and a copy of the table's items.
    PutBackup { meta: Arc<BackupMeta>, items: Arc<Vec<Arc<Item>>> },
    DeleteBackup(u64),
    /// Point-in-time recovery log: the item at `key` from `at_ms` on (`None`: deleted).
    /// Enabling logs every current item.
    PitrLog { table: u64, at_ms: u64, key: Vec<u8>, item: Option<Arc<Item>> },
    /// Forgets what no restore within the window can need: entries older than
    /// `horizon_ms` that a later entry (also older) of the same key supersedes.
    PitrTrim { table: u64, horizon_ms: u64 },
    /// Drops a table's log (recovery disabled, or the table deleted).
    PitrDrop(u64),
}

#[derive(Default)]
pub struct Loaded {
    pub tables: Vec<TableDef>,
    pub items: Vec<(u64, Item)>,
    pub streams: Vec<StreamMeta>,
    /// The newest records of each stream (at most [`LOADED_TAIL`] per stream), in order.
    pub records: Vec<(u64, StreamRecord)>,
    /// Each stream's oldest stored sequence number.
    pub first_seqs: Vec<(u64, u64)>,
    /// Backups' metadata (their items stay in the store).
    pub backups: Vec<BackupMeta>,
}

/// Records per stream loaded at open.
pub const LOADED_TAIL: u64 = 1024;

pub trait DdbStore: Send + Sync {
    fn load(&self) -> Result<Loaded, StorageError>;
    /// Makes `batch` durable, atomically, in order with every earlier call.
    fn apply(&self, batch: Vec<Mutation>) -> Pending;
    /// Whether committed stream records can be read back ([`Self::read_records`]), so
    /// memory need only hold a tail of each stream.
    fn keeps_records(&self) -> bool {
        false
    }
    /// Committed records of `stream` with `from <= seq < below`, in order, at most `limit`.
    fn read_records(&self, _stream: u64, _from: u64, _below: u64, _limit: usize) -> Result<Vec<StreamRecord>, StorageError> {
        Ok(Vec::new())
    }
    /// The first sequence number in `from..below` whose record was created at or after
    /// `horizon_ms` (`below` if none): everything before it is past retention.
    fn retained_from(&self, _stream: u64, from: u64, _below: u64, _horizon_ms: u64) -> Result<u64, StorageError> {
        Ok(from)
    }
    /// A backup's items (stores that keep records only).
    fn backup_items(&self, _backup: u64) -> Result<Vec<Item>, StorageError> {
        Ok(Vec::new())
    }
    /// The table's items as they were at `at_ms`, from its point-in-time log (stores that
    /// keep records only).
    fn pitr_items(&self, _table: u64, _at_ms: u64) -> Result<Vec<Item>, StorageError> {
        Ok(Vec::new())
    }
}

/// Keeps nothing: for `--in-memory` and tests.
pub struct MemoryStore;

impl DdbStore for MemoryStore {
    fn load(&self) -> Result<Loaded, StorageError> {
        Ok(Loaded::default())
    }
    fn apply(&self, _batch: Vec<Mutation>) -> Pending {
        Pending::done()
    }
}

pub struct SqliteStore(DomainStore<Loaded>);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ddb_tables (id INTEGER PRIMARY KEY, definition TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ddb_items (
  table_id INTEGER NOT NULL, key BLOB NOT NULL, item TEXT NOT NULL,
  PRIMARY KEY (table_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ddb_streams (id INTEGER PRIMARY KEY, meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ddb_stream_log (id INTEGER PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ddb_backups (id INTEGER PRIMARY KEY, meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ddb_pitr (
  id INTEGER PRIMARY KEY, table_id INTEGER NOT NULL, at_ms INTEGER NOT NULL, key BLOB NOT NULL, item TEXT);
CREATE INDEX IF NOT EXISTS ddb_pitr_key ON ddb_pitr (table_id, key, id);
CREATE TABLE IF NOT EXISTS ddb_backup_items (
  backup_id INTEGER NOT NULL, n INTEGER NOT NULL, item TEXT NOT NULL,
  PRIMARY KEY (backup_id, n)) WITHOUT ROWID;
";

/// Stream records live in a rowid table keyed by (stream << SEQ_BITS | seq): appends go to
/// the right edge of one b-tree, which SQLite splits cheaply. (Data dirs from before keep
/// them in `ddb_stream_records`, moved over at open.)
const SEQ_BITS: u32 = 40;

fn record_row(stream: u64, seq: u64) -> u64 {
    (stream << SEQ_BITS) | (seq & ((1 << SEQ_BITS) - 1))
}

fn seq_of(row: u64) -> u64 {
    row & ((1 << SEQ_BITS) - 1)
}

/// The first stored record of `stream` at or after `seq` (and before `below`).
fn record_at_or_after(conn: &Connection, stream: u64, seq: u64, below: u64) -> rusqlite::Result<Option<StreamRecord>> {
    let mut q = conn.prepare_cached("SELECT id, record FROM ddb_stream_log WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 1")?;
    let mut rows = q.query([record_row(stream, seq) as i64, record_row(stream, below) as i64])?;
    match rows.next()? {
        Some(row) => Ok(record_from_storage(seq_of(row.get::<_, i64>(0)? as u64), &row.get::<_, String>(1)?)),
        None => Ok(None),
    }
}

const MIGRATE_STREAM_RECORDS: &str = "
INSERT OR REPLACE INTO ddb_stream_log (id, record)
  SELECT (stream_id << 40) | seq, record FROM ddb_stream_records;
DROP TABLE ddb_stream_records;
";

impl SqliteStore {
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StorageError> {
        DomainStore::open(path, durability, "dynamodb", SCHEMA, load_all).map(SqliteStore)
    }
}

fn load_all(conn: &Connection) -> Result<Loaded, StorageError> {
    let mut out = Loaded::default();
    let mut q = conn.prepare("SELECT definition FROM ddb_tables ORDER BY id")?;
    for row in q.query_map([], |r| r.get::<_, String>(0))? {
        match serde_json::from_str::<TableDef>(&row?) {
            Ok(def) => out.tables.push(def),
            Err(e) => tracing::error!(error = %e, "unreadable DynamoDB table definition skipped"),
        }
    }
    let mut q = conn.prepare("SELECT table_id, item FROM ddb_items")?;
    for row in q.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)))? {
        let (table, text) = row?;
        let item = item_of(&text);
        match item {
            Some(item) => out.items.push((table, item)),
            None => tracing::error!(table, "unreadable DynamoDB item skipped"),
        }
    }
    let mut q = conn.prepare("SELECT meta FROM ddb_streams ORDER BY id")?;
    for row in q.query_map([], |r| r.get::<_, String>(0))? {
        if let Ok(meta) = serde_json::from_str::<StreamMeta>(&row?) {
            out.streams.push(meta);
        }
    }
    let old_layout: i64 = conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ddb_stream_records'", [], |r| r.get(0))?;
    if old_layout > 0 {
        conn.execute_batch(MIGRATE_STREAM_RECORDS)?;
    }
    let mut q = conn.prepare("SELECT meta FROM ddb_backups ORDER BY id")?;
    for row in q.query_map([], |r| r.get::<_, String>(0))? {
        match serde_json::from_str::<BackupMeta>(&row?) {
            Ok(meta) => out.backups.push(meta),
            Err(e) => tracing::error!(error = %e, "unreadable DynamoDB backup skipped"),
        }
    }
    let ids: Vec<u64> = out.streams.iter().map(|m| m.id).collect();
    for stream in ids {
        let bounds: (Option<i64>, Option<i64>) = conn.query_row(
            "SELECT min(id), max(id) FROM ddb_stream_log WHERE id >= ?1 AND id < ?2",
            [record_row(stream, 0) as i64, record_row(stream + 1, 0) as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (Some(first), Some(last)) = bounds else { continue };
        out.first_seqs.push((stream, seq_of(first as u64)));
        let from = (last as u64).saturating_sub(LOADED_TAIL - 1).max(first as u64);
        let mut q = conn.prepare_cached("SELECT id, record FROM ddb_stream_log WHERE id >= ?1 AND id <= ?2 ORDER BY id")?;
        for row in q.query_map([from as i64, last], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)))? {
            let (id, text) = row?;
            if let Some(rec) = record_from_storage(seq_of(id), &text) {
                out.records.push((stream, rec));
            }
        }
    }
    Ok(out)
}

/// An item from its stored JSON text.
fn item_of(text: &str) -> Option<Item> {
    serde_json::from_str::<serde_json::Value>(text).ok().and_then(|v| item_from_json(&v).ok())
}

/// The items of `rows` of stored JSON texts; unreadable ones are logged and skipped.
fn items_of(rows: impl Iterator<Item = rusqlite::Result<String>>, what: &str) -> rusqlite::Result<Vec<Item>> {
    let mut out = Vec::new();
    for row in rows {
        match item_of(&row?) {
            Some(item) => out.push(item),
            None => tracing::error!(what, "unreadable stored item skipped"),
        }
    }
    Ok(out)
}

/// One SQL statement with its parameters.
type Statement = (&'static str, Vec<SqlValue>);

fn int(n: u64) -> SqlValue {
    SqlValue::Integer(n as i64)
}

/// The statements that make a mutation durable. JSON is written here, in the caller's
/// task, so the group commit — which runs one at a time — only executes statements.
fn statements(m: &Mutation, out: &mut Vec<Statement>) {
    match m {
        Mutation::PutTable(def) => {
            let text = serde_json::to_string(&**def).unwrap_or_default();
            out.push(("INSERT OR REPLACE INTO ddb_tables (id, definition) VALUES (?1, ?2)", vec![int(def.id), SqlValue::Text(text)]));
        }
        Mutation::DeleteTable(id) => {
            out.push(("DELETE FROM ddb_items WHERE table_id = ?1", vec![int(*id)]));
            out.push(("DELETE FROM ddb_tables WHERE id = ?1", vec![int(*id)]));
        }
        Mutation::PutItem { table, key, item } => {
            let text = json_text(&item_to_json(item));
            out.push(("INSERT OR REPLACE INTO ddb_items (table_id, key, item) VALUES (?1, ?2, ?3)", vec![int(*table), SqlValue::Blob(key.clone()), SqlValue::Text(text)]));
        }
        Mutation::DeleteItem { table, key } => {
            out.push(("DELETE FROM ddb_items WHERE table_id = ?1 AND key = ?2", vec![int(*table), SqlValue::Blob(key.clone())]));
        }
        Mutation::PutStream(meta) => {
            let text = serde_json::to_string(&**meta).unwrap_or_default();
            out.push(("INSERT OR REPLACE INTO ddb_streams (id, meta) VALUES (?1, ?2)", vec![int(meta.id), SqlValue::Text(text)]));
        }
        Mutation::DeleteStream(id) => {
            out.push(("DELETE FROM ddb_stream_log WHERE id >= ?1 AND id < ?2", vec![int(record_row(*id, 0)), int(record_row(*id + 1, 0))]));
            out.push(("DELETE FROM ddb_streams WHERE id = ?1", vec![int(*id)]));
        }
        Mutation::AppendRecord { stream, record } => {
            out.push(("INSERT OR REPLACE INTO ddb_stream_log (id, record) VALUES (?1, ?2)", vec![int(record_row(*stream, record.seq)), SqlValue::Text(record_to_storage(record))]));
        }
        Mutation::TrimRecords { stream, below } => {
            out.push(("DELETE FROM ddb_stream_log WHERE id >= ?1 AND id < ?2", vec![int(record_row(*stream, 0)), int(record_row(*stream, *below))]));
        }
        Mutation::PutBackup { meta, items } => {
            let text = serde_json::to_string(&**meta).unwrap_or_default();
            out.push(("INSERT OR REPLACE INTO ddb_backups (id, meta) VALUES (?1, ?2)", vec![int(meta.id), SqlValue::Text(text)]));
            for (n, item) in items.iter().enumerate() {
                out.push(("INSERT OR REPLACE INTO ddb_backup_items (backup_id, n, item) VALUES (?1, ?2, ?3)", vec![int(meta.id), int(n as u64), SqlValue::Text(json_text(&item_to_json(item)))]));
            }
        }
        Mutation::DeleteBackup(id) => {
            out.push(("DELETE FROM ddb_backup_items WHERE backup_id = ?1", vec![int(*id)]));
            out.push(("DELETE FROM ddb_backups WHERE id = ?1", vec![int(*id)]));
        }
        Mutation::PitrLog { table, at_ms, key, item } => {
            let text = item.as_deref().map_or(SqlValue::Null, |i| SqlValue::Text(json_text(&item_to_json(i))));
            out.push(("INSERT INTO ddb_pitr (table_id, at_ms, key, item) VALUES (?1, ?2, ?3, ?4)", vec![int(*table), int(*at_ms), SqlValue::Blob(key.clone()), text]));
        }
        Mutation::PitrTrim { table, horizon_ms } => {
            out.push((
                "DELETE FROM ddb_pitr WHERE table_id = ?1 AND at_ms < ?2 AND EXISTS \
                 (SELECT 1 FROM ddb_pitr later WHERE later.table_id = ddb_pitr.table_id AND later.key = ddb_pitr.key AND later.id > ddb_pitr.id AND later.at_ms < ?2)",
                vec![int(*table), int(*horizon_ms)],
            ));
        }
        Mutation::PitrDrop(table) => {
            out.push(("DELETE FROM ddb_pitr WHERE table_id = ?1", vec![int(*table)]));
        }
    }
}

impl DdbStore for SqliteStore {
    fn load(&self) -> Result<Loaded, StorageError> {
        Ok(self.0.take_loaded())
    }

    fn keeps_records(&self) -> bool {
        true
    }

    fn read_records(&self, stream: u64, from: u64, below: u64, limit: usize) -> Result<Vec<StreamRecord>, StorageError> {
        self.0.read(|conn| {
            let mut q = conn.prepare_cached("SELECT id, record FROM ddb_stream_log WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3")?;
            let rows = q.query_map([record_row(stream, from) as i64, record_row(stream, below) as i64, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, text) = row?;
                match record_from_storage(seq_of(id), &text) {
                    Some(rec) => out.push(rec),
                    None => tracing::error!(stream, seq = seq_of(id), "unreadable stream record skipped"),
                }
            }
            Ok(out)
        })
    }

    fn backup_items(&self, backup: u64) -> Result<Vec<Item>, StorageError> {
        self.0.read(|conn| {
            let mut q = conn.prepare_cached("SELECT item FROM ddb_backup_items WHERE backup_id = ?1 ORDER BY n")?;
            let items = items_of(q.query_map([backup as i64], |r| r.get::<_, String>(0))?, "backup");
            items
        })
    }

    /// The newest entry of each key at or before `at_ms`, deletions left out.
    fn pitr_items(&self, table: u64, at_ms: u64) -> Result<Vec<Item>, StorageError> {
        self.0.read(|conn| {
            let mut q = conn.prepare_cached(
                "SELECT item FROM ddb_pitr p WHERE table_id = ?1 AND id = \
                 (SELECT max(id) FROM ddb_pitr WHERE table_id = ?1 AND key = p.key AND at_ms <= ?2) AND item IS NOT NULL",
            )?;
            let items = items_of(q.query_map([table as i64, at_ms as i64], |r| r.get::<_, String>(0))?, "point-in-time");
            items
        })
    }

    /// A binary search over sequence numbers (records are in creation order), one
    /// indexed lookup per step: no scan, nothing held in memory.
    fn retained_from(&self, stream: u64, from: u64, below: u64, horizon_ms: u64) -> Result<u64, StorageError> {
        self.0.read(|conn| {
            let (mut lo, mut hi) = (from, below);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                match record_at_or_after(conn, stream, mid, hi)? {
                    Some(rec) if rec.created_ms < horizon_ms => lo = rec.seq + 1,
                    _ => hi = mid,
                }
            }
            Ok(lo)
        })
    }

    fn apply(&self, batch: Vec<Mutation>) -> Pending {
        if batch.is_empty() {
            return Pending::done();
        }
        let mut todo = Vec::with_capacity(batch.len());
        for m in &batch {
            statements(m, &mut todo);
        }
        self.0.submit(Box::new(move |conn| {
            for (sql, values) in &todo {
                conn.prepare_cached(sql)?.execute(rusqlite::params_from_iter(values))?;
            }
            Ok(())
        }))
    }
}

/// A value's JSON text for storage. `serde_json::to_string` writes into one buffer;
/// `Value::to_string` (`Display`) goes through the formatter token by token, which
/// callgrind showed costing several times as much.
pub(crate) fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::StreamRecord;
    use nimbus_core::storage::Durability;

    fn record(seq: u64) -> StreamRecord {
        StreamRecord { seq, event_id: format!("e{seq}"), event_name: "INSERT", created_ms: 1_700_000_000_000 + seq, keys: Item::new(), old: None, new: None, by_service: false, trace: None }
    }

    fn meta(id: u64) -> StreamMeta {
        StreamMeta {
            id,
            arn: format!("arn:aws:dynamodb:us-east-1:000000000000:table/t{id}/stream/x"),
            label: "x".into(),
            account: "000000000000".into(),
            region: "us-east-1".into(),
            table_name: format!("t{id}"),
            view_type: "NEW_AND_OLD_IMAGES".into(),
            key: crate::keys::KeySchema::simple(("pk".into(), crate::keys::KeyType::S), None),
            created_ms: 0,
            shard_id: "shardId-1".into(),
            closed_ms: None,
            next_seq_floor: 0,
        }
    }

    /// Only the newest LOADED_TAIL records of a stream are loaded; the rest are read
    /// back in ranges, and retention finds its cut by creation time.
    #[test]
    fn stream_tail_loaded_and_older_records_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dynamodb.db");
        let total = LOADED_TAIL + 500;
        {
            let store = SqliteStore::open(&path, Durability::Process).expect("open");
            let mut batch = vec![Mutation::PutStream(Arc::new(meta(3)))];
            batch.extend((1..=total).map(|seq| Mutation::AppendRecord { stream: 3, record: Arc::new(record(seq)) }));
            drop(store.apply(batch));
        }
        let store = SqliteStore::open(&path, Durability::Process).expect("reopen");
        let loaded = store.load().expect("load");
        let seqs: Vec<u64> = loaded.records.iter().map(|(_, r)| r.seq).collect();
        assert_eq!(seqs, (501..=total).collect::<Vec<_>>());
        assert_eq!(loaded.first_seqs, vec![(3, 1)]);
        let older = store.read_records(3, 1, 501, 1000).expect("read");
        assert_eq!(older.iter().map(|r| r.seq).collect::<Vec<_>>(), (1..=500).collect::<Vec<_>>());
        assert_eq!(store.read_records(3, 490, 501, 5).expect("read").iter().map(|r| r.seq).collect::<Vec<_>>(), vec![490, 491, 492, 493, 494]);
        // record(seq) was created at 1_700_000_000_000 + seq.
        assert_eq!(store.retained_from(3, 1, 501, 1_700_000_000_000 + 200).expect("cut"), 200);
        assert_eq!(store.retained_from(3, 1, 501, 1_700_000_000_000 + 9_999).expect("cut"), 501);
        assert_eq!(store.retained_from(3, 1, 501, 0).expect("cut"), 1);
    }

    /// The point-in-time log answers "as of t" with the newest entry per key, and trimming
    /// drops only entries a later (also expired) entry supersedes.
    #[test]
    fn point_in_time_log_reads_and_trims() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dynamodb.db");
        let store = SqliteStore::open(&path, Durability::Process).expect("open");
        let item = |v: &str| -> Option<Arc<Item>> {
            Some(Arc::new(item_from_json(&serde_json::json!({"pk": {"S": "x"}, "v": {"S": v}})).expect("item")))
        };
        let log = |key: &str, at_ms: u64, it: Option<Arc<Item>>| Mutation::PitrLog { table: 9, at_ms, key: key.as_bytes().to_vec(), item: it };
        drop(store.apply(vec![log("k", 1, item("k1")), log("j", 1, item("j1")), log("k", 2, item("k2")), log("k", 3, None)]));
        let values = |store: &SqliteStore, at: u64| -> Vec<String> {
            let mut v: Vec<String> = store.pitr_items(9, at).expect("read").iter().map(|i| match &i["v"] { nimbus_dynamodb_expr::AttributeValue::S(s) => s.clone(), _ => String::new() }).collect();
            v.sort();
            v
        };
        assert_eq!(values(&store, 0), Vec::<String>::new());
        assert_eq!(values(&store, 1), vec!["j1", "k1"]);
        assert_eq!(values(&store, 2), vec!["j1", "k2"]);
        assert_eq!(values(&store, 3), vec!["j1"]);
        drop(store.apply(vec![Mutation::PitrTrim { table: 9, horizon_ms: 10 }]));
        assert_eq!(values(&store, 3), vec!["j1"], "the newest entries survive trimming");
        let rows: i64 = store.0.read(|c| c.query_row("SELECT count(*) FROM ddb_pitr", [], |r| r.get(0))).expect("count");
        assert_eq!(rows, 2, "k's two superseded entries are gone");
        drop(store.apply(vec![Mutation::PitrDrop(9)]));
        assert_eq!(values(&store, 3), Vec::<String>::new());
    }

    /// A data dir from before the stream log moved to a rowid table: its records are
    /// moved over at open, in order, and the old table is gone.
    #[test]
    fn stream_records_of_the_old_layout_are_migrated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dynamodb.db");
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(
                "CREATE TABLE ddb_stream_records (stream_id INTEGER NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (stream_id, seq)) WITHOUT ROWID;",
            )
            .expect("old schema");
            conn.execute_batch(SCHEMA).expect("schema");
            for stream in [1u64, 2] {
                conn.execute("INSERT INTO ddb_streams (id, meta) VALUES (?1, ?2)", rusqlite::params![stream as i64, serde_json::to_string(&meta(stream)).unwrap()]).expect("meta");
            }
            for (stream, seq) in [(2u64, 7u64), (1, 5), (1, 6)] {
                conn.execute("INSERT INTO ddb_stream_records VALUES (?1, ?2, ?3)", rusqlite::params![stream as i64, seq as i64, record_to_storage(&record(seq))]).expect("insert");
            }
        }
        let store = SqliteStore::open(&path, Durability::Process).expect("open store");
        let loaded = store.load().expect("load");
        let got: Vec<(u64, u64, String)> = loaded.records.iter().map(|(s, r)| (*s, r.seq, r.event_id.clone())).collect();
        assert_eq!(got, vec![(1, 5, "e5".to_string()), (1, 6, "e6".to_string()), (2, 7, "e7".to_string())]);
        drop(store);
        let conn = Connection::open(&path).expect("reopen");
        let old: i64 = conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'ddb_stream_records'", [], |r| r.get(0)).expect("query");
        assert_eq!(old, 0, "the old table is dropped");
    }
}
