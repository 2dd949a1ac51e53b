//! One stream as nimbus keeps it: the durable description (`StreamMeta`: mode, retention,
//! encryption, tags, consumers, every shard with its hash-key range and lineage), written
//! to the store as one JSON document when it changes, and the working state around it
//! (the stream-wide position counter, each shard's newest record, throughput windows).
//! Records themselves are only in the store.

use crate::keys;
use crate::limits::ShardRates;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::watch;

/// A u128 kept as its decimal text (JSON numbers do not hold 128 bits).
mod u128_text {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardMeta {
    pub index: u32,
    pub parent: Option<u32>,
    pub adjacent_parent: Option<u32>,
    /// Parents past the two a shard description can name (uniform scaling by ratios that
    /// make a new range overlap three old ones); consumers read them first too.
    #[serde(default)]
    pub more_parents: Vec<u32>,
    #[serde(with = "u128_text")]
    pub start_hash: u128,
    #[serde(with = "u128_text")]
    pub end_hash: u128,
    pub created_ms: u64,
    /// The stream position when the shard opened: its records have positions at or after it.
    pub first_position: u64,
    /// When the shard was closed, and the stream position then (none of its records is at
    /// or after it).
    pub closed: Option<(u64, u64)>,
}

impl ShardMeta {
    pub fn id(&self) -> String {
        keys::shard_id(self.index)
    }

    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    pub fn parents(&self) -> Vec<u32> {
        self.parent
            .into_iter()
            .chain(self.adjacent_parent)
            .chain(self.more_parents.iter().copied())
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Consumer {
    pub name: String,
    pub arn: String,
    pub created_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamMeta {
    pub id: i64,
    pub account: String,
    pub region: String,
    pub name: String,
    pub created_ms: u64,
    /// `PROVISIONED` or `ON_DEMAND`.
    pub mode: String,
    pub retention_hours: u32,
    /// The KMS key id while server-side encryption is on.
    pub encryption_key: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub shards: Vec<ShardMeta>,
    #[serde(default)]
    pub consumers: Vec<Consumer>,
    #[serde(default)]
    pub shard_level_metrics: Vec<String>,
    /// Resource policies by the ARN they are on (the stream's, or a consumer's).
    #[serde(default)]
    pub policies: BTreeMap<String, String>,
    /// `MaxRecordSizeInKiB` (1024 to 10240); none is AWS's default, 1024.
    #[serde(default)]
    pub max_record_kib: Option<u32>,
    /// An on-demand stream's warm throughput target (UpdateStreamWarmThroughput).
    #[serde(default)]
    pub warm_throughput_mibps: Option<u32>,
}

impl StreamMeta {
    pub fn arn(&self) -> String {
        stream_arn(&self.region, &self.account, &self.name)
    }

    pub fn shard(&self, index: u32) -> Option<&ShardMeta> {
        self.shards.iter().find(|s| s.index == index)
    }

    pub fn open_shards(&self) -> impl Iterator<Item = &ShardMeta> {
        self.shards.iter().filter(|s| s.is_open())
    }

    /// The open shard whose range holds `hash`.
    pub fn shard_for_hash(&self, hash: u128) -> Option<&ShardMeta> {
        self.open_shards()
            .find(|s| s.start_hash <= hash && hash <= s.end_hash)
    }

    pub fn next_shard_index(&self) -> u32 {
        self.shards.iter().map(|s| s.index + 1).max().unwrap_or(0)
    }

    /// `EncryptionType`: `KMS` or `NONE`.
    pub fn encryption_type(&self) -> &'static str {
        if self.encryption_key.is_some() {
            "KMS"
        } else {
            "NONE"
        }
    }

    /// `MaxRecordSizeInKiB` as the stream shows it.
    pub fn max_record_kib(&self) -> u32 {
        self.max_record_kib.unwrap_or(DEFAULT_MAX_RECORD_KIB)
    }

    /// The largest data blob plus partition key a record of this stream may have.
    pub fn max_record_bytes(&self) -> usize {
        self.max_record_kib() as usize * 1024
    }

    pub fn retention_ms(&self) -> u64 {
        self.retention_hours as u64 * 3_600_000
    }
}

/// A stream's maximum record size unless UpdateMaxRecordSize changed it: 1 MiB.
/// <https://docs.aws.amazon.com/streams/latest/dev/large-records.html>
pub const DEFAULT_MAX_RECORD_KIB: u32 = 1024;

pub fn stream_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kinesis:{region}:{account}:stream/{name}")
}

/// The newest record of a shard.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tail {
    pub last_position: Option<u64>,
    pub last_arrival_ms: u64,
}

/// A stream's state behind its lock.
pub struct StreamState {
    pub meta: StreamMeta,
    /// The position the next record gets (stream-wide, so positions order records across
    /// a shard and its children).
    pub next_position: u64,
    pub tails: HashMap<u32, Tail>,
    pub rates: HashMap<u32, ShardRates>,
    /// The newest arrival time given, so arrival times never go back within the stream.
    pub last_arrival_ms: u64,
    /// Set when DeleteStream took it out of the registry.
    pub deleted: bool,
}

pub struct StreamHandle {
    pub id: i64,
    pub state: Mutex<StreamState>,
    /// Moves (to the newest committed position) whenever committed records were appended.
    pub appended: watch::Sender<u64>,
}

impl StreamHandle {
    pub fn new(meta: StreamMeta, next_position: u64, tails: HashMap<u32, Tail>) -> StreamHandle {
        let (appended, _) = watch::channel(next_position);
        let last_arrival_ms = tails.values().map(|t| t.last_arrival_ms).max().unwrap_or(0);
        StreamHandle {
            id: meta.id,
            state: Mutex::new(StreamState {
                meta,
                next_position,
                tails,
                rates: HashMap::new(),
                last_arrival_ms,
                deleted: false,
            }),
            appended,
        }
    }
}
