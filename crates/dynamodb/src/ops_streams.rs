//! DynamoDB Streams: ListStreams, DescribeStream, GetShardIterator, GetRecords. Each
//! stream has one shard (no splits, so no ParentShardId); iterators expire after 15
//! minutes; positions older than the 24-hour retention are TrimmedDataAccessException.

use crate::api::*;
use crate::errors::{DdbError, DdbResult};
use crate::schema::TableDef;
use crate::service::StreamsService;
use crate::streams::{parse_seq, record_json, seq_text, Iterator, Stream, ITERATOR_TTL_MS};
use crate::time::epoch_seconds;
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use std::sync::Arc;

fn not_found(arn: &str) -> DdbError {
    DdbError::ResourceNotFound(format!("Requested resource not found: Stream: {arn} not found"))
}

/// A shard iterator as AWS shapes it: `<stream ARN>|1|<opaque>`
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html#API_streams_GetShardIterator_Examples>).
fn iterator_text(it: &Iterator) -> String {
    format!("{}|1|{}", it.arn, it.encode())
}

fn parse_iterator(text: &str) -> Option<Iterator> {
    let (prefix, opaque) = text.rsplit_once("|1|")?;
    Iterator::decode(opaque).filter(|it| it.arn == prefix)
}

/// A string member's length constraint from the Streams API model, with AWS's message.
fn length(field: &str, value: &str, min: usize, max: usize) -> DdbResult<()> {
    let n = value.chars().count();
    let constraint = if n < min {
        format!("Member must have length greater than or equal to {min}")
    } else if n > max {
        format!("Member must have length less than or equal to {max}")
    } else {
        return Ok(());
    };
    Err(DdbError::validation(format!("1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}")))
}

impl StreamsService {
    fn stream(&self, ctx: &RequestContext, arn: &str) -> DdbResult<Arc<Stream>> {
        if arn.is_empty() {
            return Err(DdbError::validation("1 validation error detected: Value null at 'streamArn' failed to satisfy constraint: Member must not be null"));
        }
        let stream = self.engine.stream(arn).ok_or_else(|| not_found(arn))?;
        if stream.state.lock().meta.account != ctx.account_id {
            return Err(not_found(arn));
        }
        Ok(stream)
    }

    pub(crate) fn list_streams(&self, ctx: &RequestContext, input: ListStreamsInput) -> DdbResult<Value> {
        let limit = input.limit.unwrap_or(100).clamp(1, 100) as usize;
        let mut all = Vec::new();
        for (arn, s) in self.engine.streams.read().iter() {
            let s = s.state.lock();
            let m = &s.meta;
            if m.account != ctx.account_id || m.region != ctx.region {
                continue;
            }
            if input.table_name.as_ref().is_some_and(|t| *t != m.table_name) {
                continue;
            }
            all.push((arn.clone(), json!({ "StreamArn": arn, "TableName": m.table_name, "StreamLabel": m.label })));
        }
        let start = input.exclusive_start_stream_arn.as_deref();
        let rest: Vec<(String, Value)> = all.into_iter().filter(|(a, _)| start.is_none_or(|s| a.as_str() > s)).collect();
        let page: Vec<Value> = rest.iter().take(limit).map(|(_, v)| v.clone()).collect();
        let mut out = json!({ "Streams": page });
        if rest.len() > limit {
            out["LastEvaluatedStreamArn"] = json!(rest[limit - 1].0);
        }
        Ok(out)
    }

    pub(crate) fn describe_stream(&self, ctx: &RequestContext, input: DescribeStreamInput) -> DdbResult<Value> {
        let stream = self.stream(ctx, &input.stream_arn)?;
        let s = stream.state.lock();
        let m = &s.meta;
        let first = s.first_seq;
        let mut range = json!({ "StartingSequenceNumber": seq_text(first) });
        if m.closed_ms.is_some() {
            range["EndingSequenceNumber"] = json!(seq_text(s.next_seq.saturating_sub(1).max(first)));
        }
        let shards = if input.exclusive_start_shard_id.as_deref() == Some(m.shard_id.as_str()) {
            vec![]
        } else {
            vec![json!({ "ShardId": m.shard_id, "SequenceNumberRange": range })]
        };
        let key = TableDef::key_schema_json(&m.key);
        Ok(json!({ "StreamDescription": {
            "StreamArn": m.arn,
            "StreamLabel": m.label,
            "StreamStatus": if m.closed_ms.is_some() { "DISABLED" } else { "ENABLED" },
            "StreamViewType": m.view_type,
            "CreationRequestDateTime": epoch_seconds(m.created_ms),
            "TableName": m.table_name,
            "KeySchema": key,
            "Shards": shards,
        }}))
    }

    pub(crate) fn get_shard_iterator(&self, ctx: &RequestContext, input: GetShardIteratorInput) -> DdbResult<Value> {
        if input.shard_id.is_empty() {
            return Err(DdbError::validation("1 validation error detected: Value null at 'shardId' failed to satisfy constraint: Member must not be null"));
        }
        if !input.stream_arn.is_empty() {
            length("streamArn", &input.stream_arn, 37, 1024)?;
        }
        length("shardId", &input.shard_id, 28, 65)?;
        if let Some(seq) = &input.sequence_number {
            length("sequenceNumber", seq, 21, 40)?;
        }
        let stream = self.stream(ctx, &input.stream_arn)?;
        let s = stream.state.lock();
        if input.shard_id != s.meta.shard_id {
            return Err(DdbError::ResourceNotFound(format!(
                "Requested resource not found: Shard does not exist: {} in stream {}",
                input.shard_id, input.stream_arn
            )));
        }
        let first = s.first_seq;
        let seq = || -> DdbResult<u64> {
            let text = input.sequence_number.as_deref().ok_or_else(|| {
                DdbError::validation(format!("SequenceNumber is required for ShardIteratorType {}", input.shard_iterator_type))
            })?;
            parse_seq(text).ok_or_else(|| DdbError::validation(format!("Invalid SequenceNumber: {text}")))
        };
        let pos = match input.shard_iterator_type.as_str() {
            "TRIM_HORIZON" => first,
            "LATEST" => s.next_seq,
            "AT_SEQUENCE_NUMBER" => seq()?,
            "AFTER_SEQUENCE_NUMBER" => seq()? + 1,
            other => {
                return Err(DdbError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
                )))
            }
        };
        if pos < first {
            return Err(DdbError::TrimmedDataAccess(format!(
                "Attempted to access data that has been trimmed or is beyond the shard's retention period: {}",
                input.sequence_number.as_deref().unwrap_or("")
            )));
        }
        if pos > s.next_seq {
            return Err(DdbError::validation(format!(
                "Invalid SequenceNumber {} for shard {}: it is beyond the shard's last record",
                input.sequence_number.as_deref().unwrap_or(""),
                s.meta.shard_id
            )));
        }
        let it = Iterator { arn: s.meta.arn.clone(), shard: s.meta.shard_id.clone(), pos, issued_ms: self.engine.clock.now_ms() };
        Ok(json!({ "ShardIterator": iterator_text(&it) }))
    }

    pub(crate) fn get_records(&self, ctx: &RequestContext, input: GetRecordsInput) -> DdbResult<Value> {
        let limit = match input.limit {
            None => 1000,
            Some(l) if (1..=1000).contains(&l) => l as usize,
            Some(l) => {
                return Err(DdbError::validation(format!(
                    "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000"
                )))
            }
        };
        length("shardIterator", &input.shard_iterator, 1, 2048)?;
        let it = parse_iterator(&input.shard_iterator).ok_or_else(|| DdbError::validation("Invalid ShardIterator"))?;
        let now = self.engine.clock.now_ms();
        if now.saturating_sub(it.issued_ms) > ITERATOR_TTL_MS {
            return Err(DdbError::ExpiredIterator(format!(
                "Iterator expired. The iterator was created at time {} while right now it is {}.",
                epoch_seconds(it.issued_ms),
                epoch_seconds(now)
            )));
        }
        let stream = self.stream(ctx, &it.arn)?;
        if it.pos < stream.state.lock().first_seq {
            return Err(DdbError::TrimmedDataAccess(
                "Attempted to access data that has been trimmed or is beyond the shard's retention period".into(),
            ));
        }
        let found = self.engine.read_stream(&stream, it.pos, limit)?;
        let s = stream.state.lock();
        let records: Vec<Value> = found.iter().map(|r| record_json(r, &s.meta)).collect();
        let next = found.last().map_or(it.pos, |r| r.seq + 1);
        let mut out = json!({ "Records": records });
        let exhausted_and_closed = s.meta.closed_ms.is_some() && next >= s.next_seq;
        if !exhausted_and_closed {
            out["NextShardIterator"] = json!(iterator_text(&Iterator { pos: next, issued_ms: now, ..it }));
        }
        Ok(out)
    }
}
