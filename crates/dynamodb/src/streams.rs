//! Table streams: one shard per stream holding change records in commit order, 24-hour
//! retention, sequence numbers, shard iterators, and the notification consumers wait
//! on (`watch` of the last sequence number) instead of polling.
//!
//! Memory holds a tail of each stream (the records consumers usually read next); with a
//! store that keeps records, older ones are evicted from memory once committed and are
//! read back from the store (`Engine::read_stream`).

use crate::keys::KeySchema;
use base64::Engine as _;
use nimbus_dynamodb_expr::value::{item_size, item_to_json};
use nimbus_dynamodb_expr::Item;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::watch;

pub const RETENTION_MS: u64 = 24 * 3600 * 1000;
pub const ITERATOR_TTL_MS: u64 = 15 * 60 * 1000;
/// Sequence numbers are this plus a per-stream counter: 21 digits, increasing.
const SEQ_BASE: u128 = 100_000_000_000_000_000_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamMeta {
    pub id: u64,
    pub arn: String,
    pub label: String,
    pub account: String,
    pub region: String,
    pub table_name: String,
    pub view_type: String,
    pub key: KeySchema,
    pub created_ms: u64,
    pub shard_id: String,
    /// Set when the stream was disabled (or its table deleted): the shard is closed.
    pub closed_ms: Option<u64>,
    /// The sequence number the next record gets at least: written when retention trims
    /// every record, so that a restart (which reads the last record's number) does not
    /// hand out numbers again.
    #[serde(default)]
    pub next_seq_floor: u64,
}

/// One change record, images already cut down to the stream's view type.
#[derive(Debug, Clone)]
pub struct StreamRecord {
    pub seq: u64,
    pub event_id: String,
    pub event_name: &'static str,
    pub created_ms: u64,
    pub keys: Item,
    pub old: Option<Arc<Item>>,
    pub new: Option<Arc<Item>>,
    /// Deleted by TTL: the record names the DynamoDB service as the actor.
    pub by_service: bool,
    /// The writing request's trace header (nimbus's link from a stream-triggered
    /// invocation to the write; not part of the record AWS shows).
    pub trace: Option<Arc<str>>,
}

/// Most records a stream's in-memory tail keeps once they are committed…
pub const TAIL_RECORDS: usize = 1024;
/// …and most bytes (item sizes as DynamoDB counts them).
pub const TAIL_BYTES: usize = 8 << 20;

pub struct StreamState {
    pub meta: StreamMeta,
    /// The newest records, in order; all of them when the store keeps none.
    pub records: VecDeque<Arc<StreamRecord>>,
    /// Sum of the tail's record sizes.
    pub tail_bytes: usize,
    /// The oldest retained record's sequence number (in the tail or in the store);
    /// `next_seq` when there is none.
    pub first_seq: u64,
    /// The sequence the next record gets.
    pub next_seq: u64,
}

impl StreamState {
    /// Where the in-memory tail starts.
    pub fn tail_start(&self) -> u64 {
        self.records.front().map_or(self.next_seq, |r| r.seq)
    }

    pub fn push(&mut self, record: Arc<StreamRecord>) {
        self.tail_bytes += record.size();
        self.records.push_back(record);
    }

    /// Drops the oldest tail records past the tail's bounds, but only committed ones
    /// (`seq <= committed`): those are readable from the store.
    pub fn evict(&mut self, committed: u64) {
        while self.records.len() > TAIL_RECORDS || self.tail_bytes > TAIL_BYTES {
            match self.records.front() {
                Some(r) if r.seq <= committed => {
                    self.tail_bytes -= r.size();
                    self.records.pop_front();
                }
                _ => break,
            }
        }
    }

    /// Forgets every record below `seq` (retention).
    pub fn trim_below(&mut self, seq: u64) {
        while self.records.front().is_some_and(|r| r.seq < seq) {
            if let Some(r) = self.records.pop_front() {
                self.tail_bytes -= r.size();
            }
        }
        self.first_seq = self.first_seq.max(seq.min(self.next_seq));
    }
}

pub struct Stream {
    pub state: Mutex<StreamState>,
    /// The last sequence number appended (or 0): consumers wait on changes.
    pub tx: watch::Sender<u64>,
}

impl Stream {
    /// A stream with its newest `records` in memory and its oldest retained record at
    /// `first_seq` (if older than the tail, it is in the store).
    pub fn new(meta: StreamMeta, records: Vec<StreamRecord>, first_seq: Option<u64>) -> Stream {
        let next_seq = records.last().map(|r| r.seq + 1).unwrap_or(1).max(meta.next_seq_floor);
        let (tx, _) = watch::channel(next_seq - 1);
        let first_seq = first_seq.or(records.first().map(|r| r.seq)).unwrap_or(next_seq).min(next_seq);
        let mut state = StreamState { meta, records: VecDeque::new(), tail_bytes: 0, first_seq, next_seq };
        for r in records {
            state.push(Arc::new(r));
        }
        Stream { state: Mutex::new(state), tx }
    }
}

impl StreamRecord {
    /// The record's size as its `SizeBytes` counts it.
    pub fn size(&self) -> usize {
        item_size(&self.keys) + self.new.as_deref().map_or(0, item_size) + self.old.as_deref().map_or(0, item_size)
    }
}

pub fn seq_text(seq: u64) -> String {
    (SEQ_BASE + seq as u128).to_string()
}

pub fn parse_seq(text: &str) -> Option<u64> {
    let n: u128 = text.parse().ok()?;
    n.checked_sub(SEQ_BASE).and_then(|v| u64::try_from(v).ok())
}

pub fn event_name(old: bool, new: bool) -> &'static str {
    match (old, new) {
        (false, _) => "INSERT",
        (true, true) => "MODIFY",
        (true, false) => "REMOVE",
    }
}

/// Cuts the images down to what the view type keeps.
pub fn images_for(view_type: &str, old: Option<Arc<Item>>, new: Option<Arc<Item>>) -> (Option<Arc<Item>>, Option<Arc<Item>>) {
    match view_type {
        "KEYS_ONLY" => (None, None),
        "NEW_IMAGE" => (None, new),
        "OLD_IMAGE" => (old, None),
        _ => (old, new),
    }
}

/// A JSON object of these members, moved in. (`json!` would serialize a `Value` member
/// again — a deep copy through the serializer — which made stream records costly.)
fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(members.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<String, Value>>())
}

/// The `Record` shape GetRecords returns.
pub fn record_json(r: &StreamRecord, meta: &StreamMeta) -> Value {
    let mut d = object([
        ("ApproximateCreationDateTime", json!((r.created_ms / 1000) as f64)),
        ("Keys", item_to_json(&r.keys)),
        ("SequenceNumber", Value::String(seq_text(r.seq))),
        ("StreamViewType", Value::String(meta.view_type.clone())),
    ]);
    if let Some(n) = &r.new {
        d["NewImage"] = item_to_json(n);
    }
    if let Some(o) = &r.old {
        d["OldImage"] = item_to_json(o);
    }
    d["SizeBytes"] = json!(r.size());
    let mut rec = object([
        ("eventID", Value::String(r.event_id.clone())),
        ("eventName", Value::String(r.event_name.to_string())),
        ("eventVersion", Value::String("1.1".to_string())),
        ("eventSource", Value::String("aws:dynamodb".to_string())),
        ("awsRegion", Value::String(meta.region.clone())),
        ("dynamodb", d),
    ]);
    if r.by_service {
        // The API spells the members as its model does; Lambda events use type / principalId.
        rec["userIdentity"] = json!({"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"});
    }
    rec
}

/// The durable form of a record.
pub fn record_to_storage(r: &StreamRecord) -> String {
    let image = |i: &Option<Arc<Item>>| i.as_deref().map_or(Value::Null, item_to_json);
    let record = object([
        ("id", Value::String(r.event_id.clone())),
        ("name", Value::String(r.event_name.to_string())),
        ("at", json!(r.created_ms)),
        ("keys", item_to_json(&r.keys)),
        ("old", image(&r.old)),
        ("new", image(&r.new)),
        ("svc", Value::Bool(r.by_service)),
    ]);
    let mut record = record;
    if let Some(t) = &r.trace {
        record["tr"] = Value::String(t.to_string());
    }
    crate::store::json_text(&record)
}

pub fn record_from_storage(seq: u64, text: &str) -> Option<StreamRecord> {
    let v: Value = serde_json::from_str(text).ok()?;
    let item = |k: &str| -> Option<Arc<Item>> { v.get(k).filter(|x| !x.is_null()).and_then(|x| nimbus_dynamodb_expr::value::item_from_json(x).ok()).map(Arc::new) };
    let event_name = match v.get("name")?.as_str()? {
        "INSERT" => "INSERT",
        "MODIFY" => "MODIFY",
        _ => "REMOVE",
    };
    Some(StreamRecord {
        seq,
        event_id: v.get("id")?.as_str()?.to_string(),
        event_name,
        created_ms: v.get("at")?.as_u64()?,
        keys: nimbus_dynamodb_expr::value::item_from_json(v.get("keys")?).ok()?,
        old: item("old"),
        new: item("new"),
        by_service: v.get("svc").and_then(Value::as_bool).unwrap_or(false),
        trace: v.get("tr").and_then(Value::as_str).map(Arc::from),
    })
}

/// What a shard iterator encodes: where to read next and when it was issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Iterator {
    pub arn: String,
    pub shard: String,
    /// The next sequence number to read.
    pub pos: u64,
    pub issued_ms: u64,
}

impl Iterator {
    pub fn encode(&self) -> String {
        let raw = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::STANDARD.encode(raw)
    }
    pub fn decode(text: &str) -> Option<Iterator> {
        let raw = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
        serde_json::from_slice(&raw).ok()
    }
}

/// `shardId-<20 digits>-<8 hex>`, like AWS's.
pub fn shard_id(created_ms: u64) -> String {
    format!("shardId-{:020}-{:08x}", created_ms, rand::random::<u32>())
}
