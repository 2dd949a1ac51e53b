//! What is particular to Kinesis Data Streams as a stream event source (the shared
//! machinery is `esm_stream.rs`): which ARNs name a Kinesis source (a stream, or an
//! enhanced fan-out consumer `…:stream/<name>/consumer/<consumer>:<ts>`, read from its
//! stream), the event record AWS sends for a Kinesis record, what filter criteria see
//! (only the `data` key, decoded), and CreateEventSourceMapping's Kinesis checks.
//! <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>

use crate::errors::{LambdaError, LambdaResult};
use crate::esm::Mapping;
use base64::Engine;
use nimbus_core::internal::StreamEntry;
use serde_json::{json, Value};

/// What a Kinesis mapping's execution role needs on its stream (the actions
/// CreateEventSourceMapping's error message names, as for DynamoDB Streams).
pub(crate) const KINESIS_READS: [&str; 4] = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListStreams"];

/// Whether `arn` is a Kinesis data stream or one of its consumers.
pub fn is_kinesis(arn: &str) -> bool {
    arn.starts_with("arn:aws:kinesis:") && arn.split(':').nth(5).is_some_and(|r| r.starts_with("stream/"))
}

/// The stream an event source ARN reads: the stream itself, or a consumer's stream.
pub fn stream_arn(source: &str) -> &str {
    match source.find("/consumer/") {
        Some(i) if is_kinesis(source) => &source[..i],
        _ => source,
    }
}

/// Whether the ARN names an enhanced fan-out consumer.
pub fn is_consumer(source: &str) -> bool {
    is_kinesis(source) && source.contains("/consumer/")
}

/// The Lambda event record of one Kinesis record of `shard`. A source that already
/// shapes the record keeps its `kinesis` object; the mapping adds what only it knows: the
/// function's role (`invokeIdentityArn`), its region and the stream's ARN.
pub fn event_record(entry: &StreamEntry, shard: &str, m: &Mapping, role: &str) -> Value {
    let kinesis = match entry.record.get("kinesis") {
        Some(k @ Value::Object(_)) => k.clone(),
        _ => json!({
            "kinesisSchemaVersion": "1.0",
            "partitionKey": entry.partition_key,
            "sequenceNumber": entry.sequence_number,
            "data": entry.record.get("data").or_else(|| entry.record.get("Data")).cloned().unwrap_or(json!("")),
            "approximateArrivalTimestamp": entry.created_ms as f64 / 1000.0,
        }),
    };
    json!({
        "kinesis": kinesis,
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{shard}:{}", entry.sequence_number),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role,
        "awsRegion": m.region,
        "eventSourceARN": stream_arn(&m.event_source_arn),
    })
}

/// What filter criteria match on for a Kinesis record: only `data`, base64-decoded and
/// parsed when it is JSON (a plain string otherwise).
/// <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html>
pub fn filter_view(rec: &Value) -> Value {
    let raw = rec["kinesis"]["data"].as_str().unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD.decode(raw).unwrap_or_default();
    let data = match serde_json::from_slice::<Value>(&decoded) {
        Ok(v) => v,
        Err(_) => Value::String(String::from_utf8_lossy(&decoded).into_owned()),
    };
    json!({ "data": data })
}

/// `StartingPositionTimestamp` in milliseconds: the SDKs send epoch seconds (a number,
/// possibly fractional); an ISO-8601 string is accepted too.
pub fn timestamp_ms(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|s| *s >= 0.0).map(|s| (s * 1000.0).round() as u64),
        Value::String(s) => s.parse::<f64>().ok().map(|s| (s * 1000.0).round() as u64).or_else(|| nimbus_core::time::parse_iso8601(s)),
        _ => None,
    }
}

/// CreateEventSourceMapping's checks of a Kinesis source's starting position: one of
/// TRIM_HORIZON, LATEST, AT_TIMESTAMP (which needs `StartingPositionTimestamp`).
pub fn check_position(position: &str, timestamp: Option<&Value>) -> LambdaResult<Option<u64>> {
    match position {
        "TRIM_HORIZON" | "LATEST" => Ok(None),
        "AT_TIMESTAMP" => match timestamp {
            None | Some(Value::Null) => Err(LambdaError::invalid("Need to specify a timestamp")),
            Some(t) => timestamp_ms(t).map(Some).ok_or_else(|| LambdaError::invalid(format!("Invalid StartingPositionTimestamp: {t}"))),
        },
        other => Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";

    #[test]
    fn stream_and_consumer_arns() {
        let consumer = format!("{STREAM}/consumer/lambda:1700000000");
        assert!(is_kinesis(STREAM) && is_kinesis(&consumer));
        assert!(!is_kinesis("arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024"));
        assert!(!is_kinesis("arn:aws:kinesis:us-east-1:000000000000:other/x"));
        assert_eq!(stream_arn(&consumer), STREAM);
        assert_eq!(stream_arn(STREAM), STREAM);
        assert!(is_consumer(&consumer) && !is_consumer(STREAM));
    }

    #[test]
    fn filters_see_the_decoded_data() {
        let data = base64::engine::general_purpose::STANDARD.encode(br#"{"type":"order"}"#);
        assert_eq!(filter_view(&json!({"kinesis": {"data": data}})), json!({"data": {"type": "order"}}));
        let text = base64::engine::general_purpose::STANDARD.encode(b"plain");
        assert_eq!(filter_view(&json!({"kinesis": {"data": text}})), json!({"data": "plain"}));
    }

    #[test]
    fn starting_positions() {
        assert_eq!(check_position("TRIM_HORIZON", None).ok(), Some(None));
        assert_eq!(check_position("AT_TIMESTAMP", Some(&json!(1700000000.5))).ok(), Some(Some(1_700_000_000_500)));
        assert_eq!(check_position("AT_TIMESTAMP", Some(&json!("2023-11-14T22:13:20Z"))).ok(), Some(Some(1_700_000_000_000)));
        assert!(matches!(check_position("AT_TIMESTAMP", None), Err(LambdaError::InvalidParameterValue(_))));
        assert!(matches!(check_position("NOW", None), Err(LambdaError::Validation(_))));
    }
}
