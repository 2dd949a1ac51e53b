//! SubscribeToShard: enhanced fan-out delivery as an event stream. The request is checked
//! (a registered consumer, an existing shard, the starting position as GetShardIterator
//! reads it), then the answer streams `initial-response` and `SubscribeToShardEvent`s:
//! records as they are committed (the reader waits on the stream's watch, no polling), an
//! empty event at least every 5 seconds, `ChildShards` at the end of a closed shard. A
//! subscription lasts 5 minutes of nimbus's clock, as on AWS; the client then subscribes
//! again from `ContinuationSequenceNumber`. Subscribing the same consumer to the same
//! shard again within 5 seconds answers ResourceInUseException, as AWS.
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_SubscribeToShard.html>

use crate::errors::{KinesisError, KinesisResult};
use crate::keys;
use crate::ops_records::{check_iterator_type, child_shards, record_json};
use crate::service::{req, s, timestamp_ms, KinesisService};
use crate::store::Store;
use crate::stream::StreamHandle;
use bytes::Bytes;
use nimbus_core::protocol::event_stream;
use nimbus_core::service::Streamed;
use nimbus_core::Clock;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::mpsc::Sender;

/// How soon the same consumer may subscribe to the same shard again.
const RESUBSCRIBE_MS: u64 = 5_000;
/// How long one subscription delivers.
pub const SUBSCRIPTION_MS: u64 = 300_000;
/// The longest gap between two events.
const HEARTBEAT_MS: u64 = 5_000;
/// Data per event (AWS delivers up to 2 MiB per second per shard and consumer).
const EVENT_BYTES: usize = 2 << 20;

impl KinesisService {
    pub(crate) fn subscribe_to_shard(&self, input: &Value) -> KinesisResult<Streamed> {
        let consumer_arn = req(input, "ConsumerARN")?;
        let shard_id = req(input, "ShardId")?;
        let start = input.get("StartingPosition").ok_or_else(|| KinesisError::missing("startingPosition"))?;
        let kind = req(start, "Type").map_err(|_| KinesisError::missing("startingPosition.type"))?;
        check_iterator_type(kind, "startingPosition.type")?;
        if !consumer_arn.contains("/consumer/") {
            return Err(KinesisError::constraint(consumer_arn, "consumerARN", "Member must satisfy regular expression pattern: ^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+"));
        }
        let handle = self.stream_by_arn(consumer_arn).filter(|_| self.consumer_registered(consumer_arn)).ok_or_else(|| KinesisError::ResourceNotFound(format!("Consumer {consumer_arn} not found.")))?;
        let (shard, position) = self.start_position(&handle, shard_id, kind, s(start, "SequenceNumber"), timestamp_ms(start, "Timestamp"), "SubscribeToShard")?;
        // A second subscription of the consumer to the shard within 5 seconds of the last one.
        let now = self.clock.now_ms();
        {
            let mut recent = self.subscriptions.lock();
            recent.retain(|_, at| now < *at + RESUBSCRIBE_MS);
            let key = (consumer_arn.to_string(), shard);
            if recent.contains_key(&key) {
                return Err(KinesisError::ResourceInUse(format!("Another active subscription exists for this consumer: {consumer_arn}")));
            }
            recent.insert(key, now);
        }
        let (tx, body) = event_stream::channel(4);
        tokio::spawn(deliver(self.store.clone(), handle, self.clock.clone(), shard, position, consumer_arn.to_string(), tx));
        Ok(Streamed { output: json!({}), body: Some(body) })
    }
}

/// Sends the subscription's events until it ends, the consumer or stream goes, or the
/// client hangs up.
async fn deliver(store: Arc<Store>, handle: Arc<StreamHandle>, clock: Clock, shard: u32, mut position: u64, consumer_arn: String, tx: Sender<Bytes>) {
    if tx.send(event_stream::event("initial-response", b"{}")).await.is_err() {
        return;
    }
    let deadline = clock.now_ms() + SUBSCRIPTION_MS;
    let mut appended = handle.appended.subscribe();
    let mut last_sent: Option<u64> = None;
    loop {
        appended.borrow_and_update();
        let now = clock.now_ms();
        if now >= deadline {
            return;
        }
        let (meta, closed, tail, gone) = {
            let st = handle.state.lock();
            let gone = st.deleted || !st.meta.consumers.iter().any(|c| c.arn == consumer_arn);
            (st.meta.clone(), st.meta.shard(shard).map(|s| s.closed.is_some()).unwrap_or(true), st.tails.get(&shard).copied().unwrap_or_default(), gone)
        };
        if gone {
            let _ = tx.send(event_stream::exception("ResourceNotFoundException", &format!("Consumer {consumer_arn} not found."))).await;
            return;
        }
        let records = match store.read(handle.id, shard, position, now.saturating_sub(meta.retention_ms()), 10_000, EVENT_BYTES) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(event_stream::exception("InternalFailureException", &e.to_string())).await;
                return;
            }
        };
        let next = records.last().map(|r| r.position + 1).unwrap_or(position);
        let caught_up = tail.last_position.is_none_or(|last| last < next);
        let ended = closed && caught_up;
        let heartbeat_due = last_sent.is_none_or(|t| now >= t + HEARTBEAT_MS);
        if !records.is_empty() || heartbeat_due || ended {
            let millis_behind = match records.last() {
                Some(r) if !caught_up => now.saturating_sub(r.arrival_ms),
                _ => 0,
            };
            let mut event = json!({
                "Records": records.iter().map(|r| record_json(&meta, shard, r)).collect::<Vec<_>>(),
                "ContinuationSequenceNumber": keys::sequence_number(meta.created_ms, shard, next.saturating_sub(1)),
                "MillisBehindLatest": millis_behind,
            });
            if ended {
                event["ChildShards"] = json!(child_shards(&meta, shard));
            }
            if tx.send(event_stream::event("SubscribeToShardEvent", event.to_string().as_bytes())).await.is_err() {
                return;
            }
            last_sent = Some(now);
        }
        if ended {
            return;
        }
        position = next;
        if !caught_up {
            continue;
        }
        let wake = deadline.min(last_sent.unwrap_or(now) + HEARTBEAT_MS);
        tokio::select! {
            changed = appended.changed() => if changed.is_err() { return },
            _ = clock.sleep_until(wake) => {}
            _ = tx.closed() => return,
        }
    }
}
