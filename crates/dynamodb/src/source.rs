//! DynamoDB Streams as an event source for Lambda (`nimbus_core::internal::StreamSource`):
//! records in the shape of Lambda's DynamoDB event record (`eventSourceARN`, lower-case
//! `userIdentity`), read after a position, with notification when records arrive.

use crate::service::StreamsService;
use crate::streams::{record_json, seq_text};
use nimbus_core::internal::{StreamEntry, StreamSource};
use serde_json::{json, Value};

impl StreamSource for StreamsService {
    fn shards(&self, stream_arn: &str) -> Result<Vec<String>, String> {
        let s = self.engine.stream(stream_arn).ok_or_else(|| format!("stream {stream_arn} does not exist"))?;
        let st = s.state.lock();
        Ok(vec![st.meta.shard_id.clone()])
    }

    fn read(&self, stream_arn: &str, _shard_id: &str, after: Option<u64>, max: usize) -> Result<Vec<StreamEntry>, String> {
        let s = self.engine.stream(stream_arn).ok_or_else(|| format!("stream {stream_arn} does not exist"))?;
        let from = after.map(|a| a + 1).unwrap_or(0);
        let found = self.engine.read_stream(&s, from, max).map_err(|e| format!("{e:?}"))?;
        let st = s.state.lock();
        Ok(found
            .iter()
            .map(|r| {
                let mut record: Value = record_json(r, &st.meta);
                record["eventSourceARN"] = json!(stream_arn);
                if r.by_service {
                    // Lambda events spell the identity in lower camel case.
                    record["userIdentity"] = json!({ "type": "Service", "principalId": "dynamodb.amazonaws.com" });
                }
                let partition_key = record["dynamodb"]["Keys"][st.meta.key.first_hash()].to_string();
                StreamEntry { seq: r.seq, sequence_number: seq_text(r.seq), created_ms: r.created_ms, partition_key, record, trace: r.trace.as_deref().map(str::to_string) }
            })
            .collect())
    }

    fn latest(&self, stream_arn: &str) -> Result<Option<u64>, String> {
        let s = self.engine.stream(stream_arn).ok_or_else(|| format!("stream {stream_arn} does not exist"))?;
        let st = s.state.lock();
        Ok(st.next_seq.checked_sub(1).filter(|n| *n > 0))
    }

    fn subscribe(&self, stream_arn: &str) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.engine.subscribe(stream_arn)
    }
}
