//! Durable SQS state behind one trait.
//!
//! The queue engine keeps its working set in memory and describes every change as a
//! [`Mutation`]; a store makes a batch of them durable before the API call that caused them
//! is answered. [`SqliteStore`] writes them through the group-committing writer of
//! `nimbus_core::storage`; [`MemoryStore`] (`--in-memory`) keeps nothing. A PostgreSQL
//! store for several nodes would implement the same trait (and move queue selection into
//! SQL); see ARCHITECTURE.md.

use crate::arn::QueueKey;
use crate::message::Attributes;
use crate::queue::Message;
use nimbus_core::storage::{DomainStore, Durability, Pending, StorageError};
use rusqlite::{params, Connection};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// A queue's stored definition.
#[derive(Debug, Clone)]
pub struct QueueRecord {
    pub id: u64,
    pub key: QueueKey,
    pub fifo: bool,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub created_s: u64,
    pub modified_s: u64,
}

/// One change to durable state.
#[derive(Debug, Clone)]
pub enum Mutation {
    PutQueue(Arc<QueueRecord>),
    DeleteQueue(u64),
    InsertMessage(u64, Arc<Message>),
    /// The receive-related fields of a message changed.
    UpdateMessage { queue: u64, seq: u64, visible_at_ms: u64, receive_count: u32, first_receive_ms: Option<u64>, last_receive_ms: Option<u64>, nonce: u64 },
    DeleteMessage { queue: u64, seq: u64 },
    /// Every message of a queue and its deduplication history.
    PurgeMessages(u64),
    PutDedup { queue: u64, key: String, expires_ms: u64, message_id: String, sequence_number: Option<String> },
}

/// A dedup window entry (FIFO): a deduplication id seen within the last five minutes.
#[derive(Debug, Clone)]
pub struct DedupRecord {
    pub queue: u64,
    pub key: String,
    pub expires_ms: u64,
    pub message_id: String,
    pub sequence_number: Option<String>,
}

/// Everything a store holds, read once at start.
#[derive(Default)]
pub struct Loaded {
    pub queues: Vec<QueueRecord>,
    pub messages: Vec<(u64, Message)>,
    pub dedup: Vec<DedupRecord>,
}

pub trait SqsStore: Send + Sync {
    fn load(&self) -> Result<Loaded, StorageError>;
    /// Makes `batch` durable, atomically, in order with every earlier call.
    fn apply(&self, batch: Vec<Mutation>) -> Pending;
}

/// Keeps nothing: for `--in-memory` and tests.
pub struct MemoryStore;

impl SqsStore for MemoryStore {
    fn load(&self) -> Result<Loaded, StorageError> {
        Ok(Loaded::default())
    }
    fn apply(&self, _batch: Vec<Mutation>) -> Pending {
        Pending::done()
    }
}

pub struct SqliteStore(DomainStore<Loaded>);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sqs_queues (
  id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
  fifo INTEGER NOT NULL, attributes TEXT NOT NULL, tags TEXT NOT NULL,
  created_s INTEGER NOT NULL, modified_s INTEGER NOT NULL, UNIQUE (account, region, name));
CREATE TABLE IF NOT EXISTS sqs_messages (
  id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, body TEXT NOT NULL,
  attributes TEXT, md5_body TEXT NOT NULL, md5_attributes TEXT, trace_header TEXT, md5_system TEXT,
  sender_id TEXT NOT NULL, sent_ms INTEGER NOT NULL, visible_at_ms INTEGER NOT NULL,
  receive_count INTEGER NOT NULL, first_receive_ms INTEGER, last_receive_ms INTEGER, nonce INTEGER NOT NULL,
  group_id TEXT, dedup_id TEXT, sequence_number TEXT, dead_letter_source TEXT);
CREATE TABLE IF NOT EXISTS sqs_dedup (
  queue_id INTEGER NOT NULL, key TEXT NOT NULL, expires_ms INTEGER NOT NULL, message_id TEXT NOT NULL,
  sequence_number TEXT, PRIMARY KEY (queue_id, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sqs_dedup_expiry ON sqs_dedup (expires_ms);
";

/// A message's row id: its queue in the high bits, its position in the queue below.
/// (A rowid table: message rows are large, which WITHOUT ROWID tables handle poorly.)
const SEQ_BITS: u32 = 40;

fn row_id(queue: u64, seq: u64) -> i64 {
    ((queue << SEQ_BITS) | (seq & ((1 << SEQ_BITS) - 1))) as i64
}

/// Row ids of one queue's messages: [first, last].
fn queue_rows(queue: u64) -> (i64, i64) {
    (row_id(queue, 0), row_id(queue + 1, 0) - 1)
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

impl SqliteStore {
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StorageError> {
        DomainStore::open(path, durability, "sqs", SCHEMA, load_all).map(SqliteStore)
    }
}

fn load_all(conn: &Connection) -> Result<Loaded, StorageError> {
    let mut out = Loaded::default();
    let mut q = conn.prepare("SELECT id, account, region, name, fifo, attributes, tags, created_s, modified_s FROM sqs_queues")?;
    let rows = q.query_map([], |r| {
        Ok(QueueRecord {
            id: r.get::<_, i64>(0)? as u64,
            key: QueueKey { account: r.get(1)?, region: r.get(2)?, name: r.get(3)? },
            fifo: r.get::<_, i64>(4)? != 0,
            attributes: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
            tags: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
            created_s: r.get::<_, i64>(7)? as u64,
            modified_s: r.get::<_, i64>(8)? as u64,
        })
    })?;
    for row in rows {
        out.queues.push(row?);
    }
    let mut m = conn.prepare(
        "SELECT id >> 40, id & 1099511627775, message_id, body, attributes, md5_body, md5_attributes, trace_header, md5_system, sender_id, sent_ms,
                visible_at_ms, receive_count, first_receive_ms, last_receive_ms, nonce, group_id, dedup_id, sequence_number, dead_letter_source
         FROM sqs_messages ORDER BY id",
    )?;
    let rows = m.query_map([], |r| {
        let attributes: Option<String> = r.get(4)?;
        let attributes: Attributes = attributes.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or_default();
        Ok((
            r.get::<_, i64>(0)? as u64,
            Message {
                seq: r.get::<_, i64>(1)? as u64,
                message_id: r.get(2)?,
                body: Arc::from(r.get::<_, String>(3)?),
                attributes: Arc::new(attributes),
                md5_body: r.get(5)?,
                md5_attributes: r.get(6)?,
                trace_header: r.get(7)?,
                md5_system: r.get(8)?,
                sender_id: r.get(9)?,
                sent_ms: r.get::<_, i64>(10)? as u64,
                visible_at_ms: r.get::<_, i64>(11)? as u64,
                receive_count: r.get::<_, i64>(12)? as u32,
                first_receive_ms: r.get::<_, Option<i64>>(13)?.map(|v| v as u64),
                last_receive_ms: r.get::<_, Option<i64>>(14)?.map(|v| v as u64),
                nonce: r.get::<_, i64>(15)? as u64,
                group_id: r.get(16)?,
                dedup_id: r.get(17)?,
                sequence_number: r.get(18)?,
                dead_letter_source: r.get(19)?,
            },
        ))
    })?;
    for row in rows {
        out.messages.push(row?);
    }
    let mut d = conn.prepare("SELECT queue_id, key, expires_ms, message_id, sequence_number FROM sqs_dedup")?;
    let rows = d.query_map([], |r| {
        Ok(DedupRecord {
            queue: r.get::<_, i64>(0)? as u64,
            key: r.get(1)?,
            expires_ms: r.get::<_, i64>(2)? as u64,
            message_id: r.get(3)?,
            sequence_number: r.get(4)?,
        })
    })?;
    for row in rows {
        out.dedup.push(row?);
    }
    Ok(out)
}

fn write(conn: &Connection, m: &Mutation) -> rusqlite::Result<()> {
    match m {
        Mutation::PutQueue(q) => {
            conn.prepare_cached(
                "INSERT INTO sqs_queues (id, account, region, name, fifo, attributes, tags, created_s, modified_s)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(id) DO UPDATE SET attributes = ?6, tags = ?7, modified_s = ?9",
            )?
            .execute(params![
                q.id as i64,
                q.key.account,
                q.key.region,
                q.key.name,
                q.fifo as i64,
                to_json(&q.attributes),
                to_json(&q.tags),
                q.created_s as i64,
                q.modified_s as i64
            ])?;
        }
        Mutation::DeleteQueue(id) => {
            let (first, last) = queue_rows(*id);
            conn.prepare_cached("DELETE FROM sqs_messages WHERE id BETWEEN ?1 AND ?2")?.execute([first, last])?;
            conn.prepare_cached("DELETE FROM sqs_dedup WHERE queue_id = ?1")?.execute([*id as i64])?;
            conn.prepare_cached("DELETE FROM sqs_queues WHERE id = ?1")?.execute([*id as i64])?;
        }
        Mutation::InsertMessage(queue, msg) => {
            let attributes = if msg.attributes.is_empty() { None } else { Some(to_json(&*msg.attributes)) };
            conn.prepare_cached(
                "INSERT OR REPLACE INTO sqs_messages (id, message_id, body, attributes, md5_body, md5_attributes, trace_header, md5_system,
                   sender_id, sent_ms, visible_at_ms, receive_count, first_receive_ms, last_receive_ms, nonce, group_id, dedup_id, sequence_number, dead_letter_source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            )?
            .execute(params![
                row_id(*queue, msg.seq),
                msg.message_id,
                &*msg.body,
                attributes,
                msg.md5_body,
                msg.md5_attributes,
                msg.trace_header,
                msg.md5_system,
                msg.sender_id,
                msg.sent_ms as i64,
                msg.visible_at_ms as i64,
                msg.receive_count as i64,
                msg.first_receive_ms.map(|v| v as i64),
                msg.last_receive_ms.map(|v| v as i64),
                msg.nonce as i64,
                msg.group_id,
                msg.dedup_id,
                msg.sequence_number,
                msg.dead_letter_source
            ])?;
        }
        Mutation::UpdateMessage { queue, seq, visible_at_ms, receive_count, first_receive_ms, last_receive_ms, nonce } => {
            conn.prepare_cached(
                "UPDATE sqs_messages SET visible_at_ms = ?2, receive_count = ?3, first_receive_ms = ?4, last_receive_ms = ?5, nonce = ?6
                 WHERE id = ?1",
            )?
            .execute(params![
                row_id(*queue, *seq),
                *visible_at_ms as i64,
                *receive_count as i64,
                first_receive_ms.map(|v| v as i64),
                last_receive_ms.map(|v| v as i64),
                *nonce as i64
            ])?;
        }
        Mutation::DeleteMessage { queue, seq } => {
            conn.prepare_cached("DELETE FROM sqs_messages WHERE id = ?1")?.execute([row_id(*queue, *seq)])?;
        }
        Mutation::PurgeMessages(queue) => {
            let (first, last) = queue_rows(*queue);
            conn.prepare_cached("DELETE FROM sqs_messages WHERE id BETWEEN ?1 AND ?2")?.execute([first, last])?;
            conn.prepare_cached("DELETE FROM sqs_dedup WHERE queue_id = ?1")?.execute([*queue as i64])?;
        }
        Mutation::PutDedup { queue, key, expires_ms, message_id, sequence_number } => {
            // Expired windows go as new ones open (indexed by expiry, so this stays cheap).
            conn.prepare_cached("DELETE FROM sqs_dedup WHERE expires_ms <= ?1")?.execute([(*expires_ms as i64) - crate::queue::DEDUP_WINDOW_MS as i64])?;
            conn.prepare_cached("INSERT OR REPLACE INTO sqs_dedup (queue_id, key, expires_ms, message_id, sequence_number) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![*queue as i64, key, *expires_ms as i64, message_id, sequence_number])?;
        }
    }
    Ok(())
}

impl SqsStore for SqliteStore {
    fn load(&self) -> Result<Loaded, StorageError> {
        Ok(self.0.take_loaded())
    }

    fn apply(&self, batch: Vec<Mutation>) -> Pending {
        self.0.apply(batch, write)
    }
}
