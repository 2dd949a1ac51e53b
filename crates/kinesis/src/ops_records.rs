//! The data plane: PutRecord and PutRecords (partition key → MD5 → the open shard whose
//! range holds it, or `ExplicitHashKey`; per-shard write limits; per-record errors in
//! PutRecords), GetShardIterator (the five iterator types) and GetRecords (reads from the
//! store, `MillisBehindLatest`, `ChildShards` at the end of a closed shard).
//! Records are acknowledged only once committed, and readers are woken after the commit.
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html>
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html>

use crate::errors::{KinesisError, KinesisResult};
use crate::iterator::Iterator;
use crate::keys;
use crate::service::{int_in, req, s, secs, timestamp_ms, KinesisService};
use crate::store::{Change, NewRecord, StoredRecord};
use crate::stream::{StreamHandle, StreamMeta, Tail};
use base64::Engine;
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use std::sync::Arc;

/// The largest data blob the API takes (the model's `Data` limit); a stream's own
/// `MaxRecordSizeInKiB` (1 MiB unless raised) bounds data plus partition key.
pub const MAX_DATA_BYTES: usize = 10 << 20;
pub const MAX_PUT_RECORDS: usize = 500;
/// A PutRecords request's records, data plus partition keys: 10 MiB since large records
/// (https://docs.aws.amazon.com/streams/latest/dev/large-records.html; 5 MiB before).
pub const MAX_PUT_RECORDS_BYTES: usize = 10 << 20;
pub const MAX_GET_RECORDS_BYTES: usize = 10 << 20;

/// One record checked and hashed, ready to append.
pub struct Prepared {
    pub partition_key: String,
    pub data: Vec<u8>,
    pub hash: u128,
}

/// What became of one record of an append.
pub enum Outcome {
    Stored { shard: u32, sequence_number: String },
    Throttled { shard: u32 },
}

/// Checks one record's members against the stream's maximum record size `max_bytes`;
/// `at` is the member path AWS names (`records.3.member.` or "").
pub fn prepare(record: &Value, at: &str, max_bytes: usize) -> KinesisResult<Prepared> {
    let partition_key = req(record, "PartitionKey")
        .map_err(|_| KinesisError::missing(&format!("{at}partitionKey")))?;
    let chars = partition_key.chars().count();
    if chars == 0 {
        return Err(KinesisError::constraint(
            partition_key,
            &format!("{at}partitionKey"),
            "Member must have length greater than or equal to 1",
        ));
    }
    if chars > 256 {
        return Err(KinesisError::constraint(
            partition_key,
            &format!("{at}partitionKey"),
            "Member must have length less than or equal to 256",
        ));
    }
    let encoded = req(record, "Data").map_err(|_| KinesisError::missing(&format!("{at}data")))?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| {
            KinesisError::Validation(format!("Could not decode the base64 value at '{at}data'."))
        })?;
    if data.len() > MAX_DATA_BYTES {
        return Err(KinesisError::constraint(
            "java.nio.HeapByteBuffer",
            &format!("{at}data"),
            "Member must have length less than or equal to 10485760",
        ));
    }
    if data.len() + partition_key.len() > max_bytes {
        return Err(KinesisError::InvalidArgument(format!("The size of the record's data blob and partition key ({} bytes) exceeds the maximum of {max_bytes} bytes.", data.len() + partition_key.len())));
    }
    let hash = match s(record, "ExplicitHashKey") {
        Some(text) => {
            if !(text == "0"
                || (text.len() <= 39
                    && !text.starts_with('0')
                    && text.bytes().all(|b| b.is_ascii_digit())))
            {
                return Err(KinesisError::constraint(
                    text,
                    &format!("{at}explicitHashKey"),
                    "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
                ));
            }
            keys::parse_hash_key(text).ok_or_else(|| {
                KinesisError::InvalidArgument(format!("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {text}"))
            })?
        }
        None => keys::hash_of_partition_key(partition_key),
    };
    Ok(Prepared {
        partition_key: partition_key.to_string(),
        data,
        hash,
    })
}

pub fn throttled_message(shard: u32, meta: &StreamMeta) -> String {
    format!(
        "Rate exceeded for shard {} in stream {} under account {}.",
        keys::shard_id(shard),
        meta.name,
        meta.account
    )
}

impl KinesisService {
    /// Appends records in order; with `limits`, a record over its shard's write rate is
    /// not stored (`Outcome::Throttled`). Answers once the stored records are committed,
    /// then wakes the stream's readers. Also the encryption type the records got.
    pub(crate) async fn append(
        &self,
        handle: &Arc<StreamHandle>,
        records: Vec<Prepared>,
        limits: bool,
    ) -> KinesisResult<(Vec<Outcome>, &'static str)> {
        let (outcomes, pending, newest, encryption) = {
            let mut st = handle.state.lock();
            if st.deleted {
                return Err(KinesisError::stream_not_found(
                    &st.meta.name,
                    &st.meta.account,
                ));
            }
            let now = self.clock.now_ms();
            let arrival = now.max(st.last_arrival_ms);
            st.last_arrival_ms = arrival;
            let limits = limits && st.meta.mode == "PROVISIONED";
            let kms = st.meta.encryption_key.is_some();
            let mut rows = Vec::with_capacity(records.len());
            let mut outcomes = Vec::with_capacity(records.len());
            for r in records {
                let shard = st
                    .meta
                    .shard_for_hash(r.hash)
                    .map(|s| s.index)
                    .ok_or_else(|| {
                        KinesisError::Internal("no open shard holds the hash key".into())
                    })?;
                if limits
                    && !st
                        .rates
                        .entry(shard)
                        .or_default()
                        .take_write(now, (r.data.len() + r.partition_key.len()) as u64)
                {
                    outcomes.push(Outcome::Throttled { shard });
                    continue;
                }
                let position = st.next_position;
                st.next_position += 1;
                st.tails.insert(
                    shard,
                    Tail {
                        last_position: Some(position),
                        last_arrival_ms: arrival,
                    },
                );
                outcomes.push(Outcome::Stored {
                    shard,
                    sequence_number: keys::sequence_number(st.meta.created_ms, shard, position),
                });
                rows.push(NewRecord {
                    shard,
                    position,
                    arrival_ms: arrival,
                    partition_key: r.partition_key,
                    data: r.data,
                    kms,
                });
            }
            let pending = (!rows.is_empty()).then(|| {
                self.store.apply(Change::Records {
                    stream_id: handle.id,
                    next_position: st.next_position,
                    records: rows,
                })
            });
            (
                outcomes,
                pending,
                st.next_position,
                st.meta.encryption_type(),
            )
        };
        if let Some(pending) = pending {
            // Committed (and readers woken) even if the caller goes away meanwhile.
            let h = handle.clone();
            let done = tokio::spawn(async move {
                let r = pending.wait().await;
                if r.is_ok() {
                    h.appended.send_modify(|v| *v = (*v).max(newest));
                }
                r
            });
            done.await
                .map_err(|e| KinesisError::Internal(e.to_string()))?
                .map_err(KinesisError::Internal)?;
        }
        Ok((outcomes, encryption))
    }

    pub(crate) async fn put_record(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let handle = self.stream(ctx, input)?;
        let max_bytes = handle.state.lock().meta.max_record_bytes();
        let record = prepare(input, "", max_bytes)?;
        if let Some(ordering) = s(input, "SequenceNumberForOrdering") {
            if !keys::looks_like_sequence_number(ordering) {
                return Err(KinesisError::constraint(
                    ordering,
                    "sequenceNumberForOrdering",
                    "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
                ));
            }
        }
        let (mut outcomes, encryption) =
            self.append(&handle, vec![record], self.limits_on()).await?;
        match outcomes.pop() {
            Some(Outcome::Stored {
                shard,
                sequence_number,
            }) => Ok(
                json!({ "ShardId": keys::shard_id(shard), "SequenceNumber": sequence_number, "EncryptionType": encryption }),
            ),
            Some(Outcome::Throttled { shard }) => Err(KinesisError::ProvisionedThroughputExceeded(
                throttled_message(shard, &handle.state.lock().meta),
            )),
            None => Err(KinesisError::Internal("no outcome".into())),
        }
    }

    pub(crate) async fn put_records(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let entries = input
            .get("Records")
            .and_then(Value::as_array)
            .ok_or_else(|| KinesisError::missing("records"))?;
        if entries.is_empty() {
            return Err(KinesisError::constraint(
                "[]",
                "records",
                "Member must have length greater than or equal to 1",
            ));
        }
        if entries.len() > MAX_PUT_RECORDS {
            return Err(KinesisError::constraint(
                "[...]",
                "records",
                "Member must have length less than or equal to 500",
            ));
        }
        let handle = self.stream(ctx, input)?;
        let max_bytes = handle.state.lock().meta.max_record_bytes();
        let records = entries
            .iter()
            .enumerate()
            .map(|(i, r)| prepare(r, &format!("records.{}.member.", i + 1), max_bytes))
            .collect::<KinesisResult<Vec<_>>>()?;
        let total: usize = records
            .iter()
            .map(|r| r.data.len() + r.partition_key.len())
            .sum();
        if total > MAX_PUT_RECORDS_BYTES {
            return Err(KinesisError::InvalidArgument(format!("Records size exceeds 10 MB limit. The size of the records in this request is {total} bytes.")));
        }
        let (outcomes, encryption) = self.append(&handle, records, self.limits_on()).await?;
        let meta_name_account = {
            let st = handle.state.lock();
            (st.meta.name.clone(), st.meta.account.clone())
        };
        let mut failed = 0;
        let results: Vec<Value> = outcomes
            .into_iter()
            .map(|o| match o {
                Outcome::Stored { shard, sequence_number } => json!({ "SequenceNumber": sequence_number, "ShardId": keys::shard_id(shard) }),
                Outcome::Throttled { shard } => {
                    failed += 1;
                    json!({
                        "ErrorCode": "ProvisionedThroughputExceededException",
                        "ErrorMessage": format!("Rate exceeded for shard {} in stream {} under account {}.", keys::shard_id(shard), meta_name_account.0, meta_name_account.1),
                    })
                }
            })
            .collect();
        Ok(json!({ "FailedRecordCount": failed, "Records": results, "EncryptionType": encryption }))
    }

    pub(crate) fn get_shard_iterator(&self, ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        let shard_id = req(input, "ShardId")?;
        let kind = req(input, "ShardIteratorType")?;
        check_iterator_type(kind, "shardIteratorType")?;
        let handle = self.stream(ctx, input)?;
        let (index, position) = self.start_position(&handle, shard_id, kind, s(input, "StartingSequenceNumber"), timestamp_ms(input, "Timestamp"), "GetShardIterator")?;
        let name = handle.state.lock().meta.name.clone();
        let it = Iterator { stream_id: handle.id, stream_name: name, shard: index, position, issued_ms: self.clock.now_ms() };
        Ok(json!({ "ShardIterator": it.encode() }))
    }

    /// Where a reader of `shard_id` starts (GetShardIterator, SubscribeToShard's
    /// `StartingPosition`): the shard's index and the first position to read.
    pub(crate) fn start_position(&self, handle: &StreamHandle, shard_id: &str, kind: &str, sequence_number: Option<&str>, at_ms: Option<u64>, op: &str) -> KinesisResult<(u32, u64)> {
        let now = self.clock.now_ms();
        let (meta_id, name, account, created_ms, index, first_position, end_position) = {
            let st = handle.state.lock();
            let meta = &st.meta;
            let shard = keys::shard_index(shard_id)
                .and_then(|i| meta.shard(i))
                .filter(|sh| crate::ops_streams::listed(meta, sh, now))
                .ok_or_else(|| KinesisError::shard_not_found(shard_id, &meta.name, &meta.account))?;
            let end = shard.closed.map(|(_, at)| at).unwrap_or(st.next_position);
            (meta.id, meta.name.clone(), meta.account.clone(), meta.created_ms, shard.index, shard.first_position, end)
        };
        let position = match kind {
            "TRIM_HORIZON" => first_position,
            "LATEST" => end_position,
            "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" => {
                let text = sequence_number.ok_or_else(|| KinesisError::InvalidArgument(format!("StartingSequenceNumber must be provided for ShardIteratorType {kind}.")))?;
                if !keys::looks_like_sequence_number(text) {
                    return Err(KinesisError::constraint(text, "startingSequenceNumber", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})"));
                }
                let position = match keys::parse_sequence_number(text) {
                    Some((c, sh, p)) if c == created_ms % 100_000_000_000_000 && sh == index => p,
                    Some((c, sh, _)) if c == created_ms % 100_000_000_000_000 => {
                        return Err(KinesisError::InvalidArgument(format!(
                            "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {shard_id}",
                            keys::shard_id(sh)
                        )))
                    }
                    _ => {
                        return Err(KinesisError::InvalidArgument(format!(
                            "StartingSequenceNumber {text} used in {op} on shard {shard_id} in stream {name} under account {account} is invalid because it did not come from this stream."
                        )))
                    }
                };
                if kind == "AT_SEQUENCE_NUMBER" {
                    position
                } else {
                    position + 1
                }
            }
            _ => {
                let at = at_ms.ok_or_else(|| KinesisError::InvalidArgument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.".into()))?;
                if at > now {
                    return Err(KinesisError::InvalidArgument(format!("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {at}, currentTimestampInMillis: {now}")));
                }
                self.store.first_at(meta_id, index, at)?.unwrap_or(end_position).max(first_position)
            }
        };
        Ok((index, position))
    }

    pub(crate) fn get_records(&self, ctx: &RequestContext, input: &Value) -> KinesisResult<Value> {
        let text = req(input, "ShardIterator")?;
        if text.len() > 512 {
            return Err(KinesisError::constraint(
                text,
                "shardIterator",
                "Member must have length less than or equal to 512",
            ));
        }
        let limit = int_in(input, "Limit", 1, 10_000)?.unwrap_or(10_000) as usize;
        let it = Iterator::decode(text)?;
        let now = self.clock.now_ms();
        it.check_fresh(now)?;
        let handle = self
            .registry
            .read()
            .by_id
            .get(&it.stream_id)
            .cloned()
            .ok_or_else(|| KinesisError::stream_not_found(&it.stream_name, &ctx.account_id))?;
        let (cutoff, closed_at, tail, meta_snapshot, limits) = {
            let mut st = handle.state.lock();
            let limits = self.limits_on() && st.meta.mode == "PROVISIONED";
            let shard = st.meta.shard(it.shard).cloned().ok_or_else(|| {
                KinesisError::shard_not_found(
                    &keys::shard_id(it.shard),
                    &st.meta.name,
                    &st.meta.account,
                )
            })?;
            if limits && !st.rates.entry(it.shard).or_default().take_read_call(now) {
                return Err(KinesisError::ProvisionedThroughputExceeded(format!(
                    "Rate exceeded for Shard - {} in stream {} under account {}.",
                    keys::shard_id(it.shard),
                    st.meta.name,
                    st.meta.account
                )));
            }
            let tail = st.tails.get(&it.shard).copied().unwrap_or_default();
            (
                now.saturating_sub(st.meta.retention_ms()),
                shard.closed.map(|(_, at)| at),
                tail,
                st.meta.clone(),
                limits,
            )
        };
        let records: Vec<StoredRecord> = self.store.read(
            it.stream_id,
            it.shard,
            it.position,
            cutoff,
            limit,
            MAX_GET_RECORDS_BYTES,
        )?;
        let bytes: usize = records
            .iter()
            .map(|r| r.data.len() + r.partition_key.len())
            .sum();
        if limits {
            handle
                .state
                .lock()
                .rates
                .entry(it.shard)
                .or_default()
                .charge_read(now, bytes as u64);
        }
        let next_position = records
            .last()
            .map(|r| r.position + 1)
            .unwrap_or(it.position);
        let caught_up = tail.last_position.is_none_or(|last| last < next_position);
        let millis_behind = match records.last() {
            Some(r) if !caught_up => now.saturating_sub(r.arrival_ms),
            _ => 0,
        };
        let mut out = json!({
            "Records": records.iter().map(|r| record_json(&meta_snapshot, it.shard, r)).collect::<Vec<_>>(),
            "MillisBehindLatest": millis_behind,
        });
        if closed_at.is_some() && caught_up {
            out["ChildShards"] = json!(child_shards(&meta_snapshot, it.shard));
        } else {
            out["NextShardIterator"] = json!(Iterator {
                position: next_position,
                issued_ms: now,
                ..it
            }
            .encode());
        }
        Ok(out)
    }
}

/// ValidationException unless `kind` is one of the five iterator types.
pub fn check_iterator_type(kind: &str, member: &str) -> KinesisResult<()> {
    const KINDS: [&str; 5] = ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"];
    if !KINDS.contains(&kind) {
        return Err(KinesisError::constraint(kind, member, "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, AT_TIMESTAMP, TRIM_HORIZON, LATEST]"));
    }
    Ok(())
}

/// One record as GetRecords shows it.
pub fn record_json(meta: &StreamMeta, shard: u32, r: &StoredRecord) -> Value {
    let mut v = json!({
        "SequenceNumber": keys::sequence_number(meta.created_ms, shard, r.position),
        "ApproximateArrivalTimestamp": secs(r.arrival_ms),
        "Data": base64::engine::general_purpose::STANDARD.encode(&r.data),
        "PartitionKey": r.partition_key,
    });
    if r.kms {
        v["EncryptionType"] = json!("KMS");
    }
    v
}

/// The shards made from `shard` by a split or merge, as GetRecords' `ChildShards`.
pub fn child_shards(meta: &StreamMeta, shard: u32) -> Vec<Value> {
    meta.shards
        .iter()
        .filter(|c| c.parents().contains(&shard))
        .map(|c| {
            json!({
                "ShardId": c.id(),
                "ParentShards": c.parents().into_iter().map(keys::shard_id).collect::<Vec<_>>(),
                "HashKeyRange": { "StartingHashKey": c.start_hash.to_string(), "EndingHashKey": c.end_hash.to_string() },
            })
        })
        .collect()
}
