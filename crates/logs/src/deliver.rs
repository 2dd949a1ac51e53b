//! What newly accepted events do through their group's filters, after they are stored
//! (PutLogEvents, and Lambda's lines through `LogSink`):
//!
//! - metric filters: each matching event puts one datum per transformation through
//!   `MetricSink` (value and dimensions from `filters::extract`, the event's timestamp);
//!   a batch in which no event matches puts the transformation's `defaultValue`, if set,
//!   once, at the newest event's time.
//! - subscription filters: the matching events of one batch go to the destination
//!   function in one asynchronous invoke through `EventInvoker`, as AWS's `awslogs`
//!   payload: `{"awslogs":{"data": base64(gzip(JSON))}}` with `messageType`
//!   `DATA_MESSAGE`, `owner`, `logGroup`, `logStream`, `subscriptionFilters` and
//!   `logEvents` (`id`, `timestamp`, `message`). Events of the destination function's own
//!   log group (`/aws/lambda/<name>`) are not sent to it, so a subscriber that logs does
//!   not feed itself.

use crate::engine::GroupKey;
use crate::service::LogsService;
use crate::store::EventRecord;
use crate::tokens;
use base64::Engine as _;
use nimbus_core::internal::MetricDatum;
use serde_json::json;
use std::io::Write;

/// The function name of a Lambda ARN (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`).
pub fn function_name(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    (parts.len() >= 7 && parts[2] == "lambda" && parts[5] == "function").then(|| parts[6])
}

/// `{"awslogs":{"data": …}}` for a JSON message.
pub fn awslogs_payload(message: &serde_json::Value) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let raw = message.to_string();
    // Writing to a Vec cannot fail.
    let zipped = gz.write_all(raw.as_bytes()).and_then(|_| gz.finish()).unwrap_or_default();
    json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD.encode(zipped)}}).to_string().into_bytes()
}

impl LogsService {
    /// Applies the group's metric and subscription filters to events just accepted.
    pub(crate) fn apply_filters(&self, key: &GroupKey, stream: &str, records: &[EventRecord]) {
        if records.is_empty() {
            return;
        }
        let set = self.engine.filter_set(key);
        if set.is_empty() {
            return;
        }
        if !set.metric.is_empty() {
            let metrics = self.metrics.read().clone();
            for f in &set.metric {
                let mut matched = false;
                for e in records.iter().filter(|e| f.pattern.matches(&e.message)) {
                    matched = true;
                    for t in &f.def.metric_transformations {
                        if let Some((value, dimensions)) = crate::filters::extract(t, &e.message) {
                            let datum = MetricDatum {
                                namespace: t.metric_namespace.clone(),
                                name: t.metric_name.clone(),
                                dimensions,
                                value,
                                unit: t.unit.clone(),
                                timestamp_ms: e.timestamp,
                            };
                            metrics.put(&key.account, &key.region, datum);
                        }
                    }
                }
                if !matched {
                    let newest = records.iter().map(|e| e.timestamp).max().unwrap_or(0);
                    for t in f.def.metric_transformations.iter().filter(|t| t.default_value.is_some()) {
                        let datum = MetricDatum {
                            namespace: t.metric_namespace.clone(),
                            name: t.metric_name.clone(),
                            dimensions: Vec::new(),
                            value: t.default_value.unwrap_or(0.0),
                            unit: t.unit.clone(),
                            timestamp_ms: newest,
                        };
                        metrics.put(&key.account, &key.region, datum);
                    }
                }
            }
        }
        for s in &set.subscriptions {
            let own_group = function_name(&s.def.destination_arn).is_some_and(|f| key.name == format!("/aws/lambda/{f}"));
            if own_group {
                continue;
            }
            let events: Vec<serde_json::Value> = records
                .iter()
                .filter(|e| s.pattern.matches(&e.message))
                .map(|e| json!({"id": tokens::event_id(e.key()), "timestamp": e.timestamp, "message": &*e.message}))
                .collect();
            if events.is_empty() {
                continue;
            }
            let message = json!({
                "messageType": "DATA_MESSAGE",
                "owner": key.account,
                "logGroup": key.name,
                "logStream": stream,
                "subscriptionFilters": [s.def.filter_name],
                "logEvents": events,
            });
            let payload = bytes::Bytes::from(awslogs_payload(&message));
            let functions = self.functions.read().clone();
            let arn = s.def.destination_arn.clone();
            let Ok(rt) = tokio::runtime::Handle::try_current() else {
                tracing::warn!(function = %arn, "no runtime to deliver subscription filter events");
                continue;
            };
            rt.spawn(async move {
                if let Err(e) = functions.invoke_event(&arn, payload).await {
                    tracing::warn!(function = %arn, error = %e, "subscription filter delivery failed");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn payload_is_gzipped_base64_json() {
        let msg = json!({"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1", "timestamp": 5, "message": "hi"}]});
        let out: serde_json::Value = serde_json::from_slice(&awslogs_payload(&msg)).expect("json");
        let data = out["awslogs"]["data"].as_str().expect("data");
        let zipped = base64::engine::general_purpose::STANDARD.decode(data).expect("base64");
        let mut raw = String::new();
        flate2::read::GzDecoder::new(&zipped[..]).read_to_string(&mut raw).expect("gunzip");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&raw).expect("inner"), msg);
    }

    #[test]
    fn function_names() {
        assert_eq!(function_name("arn:aws:lambda:us-east-1:000000000000:function:f"), Some("f"));
        assert_eq!(function_name("arn:aws:lambda:us-east-1:000000000000:function:f:live"), Some("f"));
        assert_eq!(function_name("arn:aws:kinesis:us-east-1:000000000000:stream/s"), None);
    }
}
