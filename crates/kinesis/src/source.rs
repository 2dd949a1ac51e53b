//! Kinesis as other services see it: the `StreamSource` Lambda's event source mappings
//! read (shards with their lineage, records after a stream-wide position in the shape of
//! Lambda's Kinesis event record, notification on commit) and the `RecordSink` that
//! DynamoDB's streaming destination, Logs subscription filters and EventBridge targets
//! write through (no throughput limits: AWS's service-side writers are not throttled here).

use crate::keys;
use crate::ops_records::{prepare, Outcome};
use crate::service::KinesisService;
use base64::Engine;
use nimbus_core::internal::{RecordSink, StreamEntry, StreamRecordInput, StreamSource};
use nimbus_core::service::BoxFuture;
use nimbus_core::AwsError;
use serde_json::json;
use std::sync::Arc;

impl KinesisService {
    fn handle_of(&self, stream_arn: &str) -> Result<Arc<crate::stream::StreamHandle>, String> {
        let arn = match stream_arn.find("/consumer/") {
            Some(i) => &stream_arn[..i],
            None => stream_arn,
        };
        self.stream_by_arn(arn)
            .ok_or_else(|| format!("stream {stream_arn} does not exist"))
    }
}

impl StreamSource for KinesisService {
    fn shards(&self, stream_arn: &str) -> Result<Vec<String>, String> {
        let h = self.handle_of(stream_arn)?;
        let now = self.clock.now_ms();
        let st = h.state.lock();
        Ok(st
            .meta
            .shards
            .iter()
            .filter(|s| crate::ops_streams::listed(&st.meta, s, now))
            .map(|s| s.id())
            .collect())
    }

    fn read(
        &self,
        stream_arn: &str,
        shard_id: &str,
        after: Option<u64>,
        max: usize,
    ) -> Result<Vec<StreamEntry>, String> {
        let h = self.handle_of(stream_arn)?;
        let shard = keys::shard_index(shard_id).ok_or_else(|| format!("no shard {shard_id}"))?;
        let (meta, cutoff) = {
            let st = h.state.lock();
            (
                st.meta.clone(),
                self.clock.now_ms().saturating_sub(st.meta.retention_ms()),
            )
        };
        let from = after.map(|a| a + 1).unwrap_or(0);
        let rows = self
            .store
            .read(
                h.id,
                shard,
                from,
                cutoff,
                max.max(1),
                crate::ops_records::MAX_GET_RECORDS_BYTES,
            )
            .map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let sequence_number = keys::sequence_number(meta.created_ms, shard, r.position);
                let record = json!({
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": r.partition_key,
                        "sequenceNumber": sequence_number,
                        "data": base64::engine::general_purpose::STANDARD.encode(&r.data),
                        "approximateArrivalTimestamp": r.arrival_ms as f64 / 1000.0,
                    }
                });
                StreamEntry {
                    seq: r.position,
                    sequence_number,
                    created_ms: r.arrival_ms,
                    partition_key: r.partition_key,
                    record,
                    trace: None,
                }
            })
            .collect())
    }

    fn latest(&self, stream_arn: &str) -> Result<Option<u64>, String> {
        let h = self.handle_of(stream_arn)?;
        let next = h.state.lock().next_position;
        Ok(next.checked_sub(1))
    }

    /// Positions are stream-wide, so the stream's newest position is every shard's LATEST.
    fn latest_in(&self, stream_arn: &str, _shard_id: &str) -> Result<Option<u64>, String> {
        self.latest(stream_arn)
    }

    fn position_at(
        &self,
        stream_arn: &str,
        shard_id: &str,
        at_ms: u64,
    ) -> Result<Option<u64>, String> {
        let h = self.handle_of(stream_arn)?;
        let shard = keys::shard_index(shard_id).ok_or_else(|| format!("no shard {shard_id}"))?;
        match self
            .store
            .first_at(h.id, shard, at_ms)
            .map_err(|e| e.to_string())?
        {
            Some(p) => Ok(p.checked_sub(1)),
            None => self.latest(stream_arn),
        }
    }

    fn subscribe(&self, stream_arn: &str) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.handle_of(stream_arn)
            .ok()
            .map(|h| h.appended.subscribe())
    }

    fn parent_shards(&self, stream_arn: &str, shard_id: &str) -> Vec<String> {
        let (Ok(h), Some(index)) = (self.handle_of(stream_arn), keys::shard_index(shard_id)) else {
            return Vec::new();
        };
        let st = h.state.lock();
        st.meta
            .shard(index)
            .map(|s| s.parents().into_iter().map(keys::shard_id).collect())
            .unwrap_or_default()
    }

    fn shard_closed(&self, stream_arn: &str, shard_id: &str) -> bool {
        let (Ok(h), Some(index)) = (self.handle_of(stream_arn), keys::shard_index(shard_id)) else {
            return false;
        };
        let st = h.state.lock();
        st.meta.shard(index).is_some_and(|s| !s.is_open())
    }

    fn consumer_exists(&self, consumer_arn: &str) -> bool {
        self.consumer_registered(consumer_arn)
    }
}

impl RecordSink for KinesisService {
    fn put_records<'a>(
        &'a self,
        stream_arn: &'a str,
        records: Vec<StreamRecordInput>,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            let key = crate::service::parse_stream_arn(stream_arn).ok_or_else(|| {
                AwsError::new(
                    "InvalidArgumentException",
                    400,
                    format!("Invalid stream ARN {stream_arn}"),
                )
            })?;
            let handle = self.stream_by_key(&key).ok_or_else(|| {
                AwsError::from(crate::errors::KinesisError::stream_not_found(
                    &key.2, &key.0,
                ))
            })?;
            let max_bytes = handle.state.lock().meta.max_record_bytes();
            let mut prepared = Vec::with_capacity(records.len());
            for r in records {
                let mut v = json!({ "PartitionKey": r.partition_key, "Data": base64::engine::general_purpose::STANDARD.encode(&r.data) });
                if let Some(h) = r.explicit_hash_key {
                    v["ExplicitHashKey"] = json!(h);
                }
                prepared.push(prepare(&v, "", max_bytes).map_err(AwsError::from)?);
            }
            let (outcomes, _) = self
                .append(&handle, prepared, false)
                .await
                .map_err(AwsError::from)?;
            debug_assert!(outcomes.iter().all(|o| matches!(o, Outcome::Stored { .. })));
            Ok(())
        })
    }

    fn stream_exists(&self, stream_arn: &str) -> bool {
        self.stream_by_arn(stream_arn).is_some()
    }
}
