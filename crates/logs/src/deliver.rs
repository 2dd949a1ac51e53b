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
//!   not feed itself. A Kinesis data stream destination gets the same message as one
//!   record through `RecordSink`, its data the gzipped JSON itself (no base64, no
//!   `awslogs` wrapper), partitioned by log stream (`ByLogStream`) or at random
//!   (`Random`); when the filter is created it gets AWS's `CONTROL_MESSAGE` first.
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html>

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

/// The gzipped JSON of a message (what a Kinesis destination's record holds).
pub fn gzipped(message: &serde_json::Value) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let raw = message.to_string();
    // Writing to a Vec cannot fail.
    gz.write_all(raw.as_bytes()).and_then(|_| gz.finish()).unwrap_or_default()
}

/// `{"awslogs":{"data": …}}` for a JSON message.
pub fn awslogs_payload(message: &serde_json::Value) -> Vec<u8> {
    json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD.encode(gzipped(message))}}).to_string().into_bytes()
}

/// Whether a destination ARN is a Kinesis data stream.
pub fn is_stream(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("kinesis") && arn.split(':').nth(5).is_some_and(|r| r.starts_with("stream/"))
}

/// A Kinesis destination's record of `message`: by log stream, or at random.
pub fn stream_record(message: &serde_json::Value, distribution: &str, log_stream: &str) -> nimbus_core::internal::StreamRecordInput {
    let partition_key = if distribution == "Random" || log_stream.is_empty() { nimbus_core::ids::uuid() } else { log_stream.to_string() };
    nimbus_core::internal::StreamRecordInput { partition_key, data: gzipped(message), explicit_hash_key: None }
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
                for (e, fields) in records.iter().filter_map(|e| f.pattern.extract(&e.message).map(|v| (e, v))) {
                    matched = true;
                    for t in &f.def.metric_transformations {
                        if let Some((value, dimensions)) = crate::filters::extract(t, &e.message, &fields) {
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
            let arn = s.def.destination_arn.clone();
            let Ok(rt) = tokio::runtime::Handle::try_current() else {
                tracing::warn!(destination = %arn, "no runtime to deliver subscription filter events");
                continue;
            };
            if is_stream(&arn) {
                let Some(sink) = self.records.get().cloned() else { continue };
                let record = stream_record(&message, &s.def.distribution, stream);
                rt.spawn(async move {
                    if let Err(e) = sink.put_records(&arn, vec![record]).await {
                        tracing::warn!(stream = %arn, error = %e.message, "subscription filter delivery failed");
                    }
                });
                continue;
            }
            let payload = bytes::Bytes::from(awslogs_payload(&message));
            let functions = self.functions.read().clone();
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

    use crate::engine::GroupKey;
    use crate::filters::{Compiled, MetricFilterDef, MetricTransformation, SubscriptionDef};
    use crate::store::{MemoryStore, SqliteStore};
    use nimbus_core::internal::{EventInvoker, LogLine, LogSink, MetricSink};
    use nimbus_core::storage::Durability;
    use nimbus_core::Clock;
    use parking_lot::Mutex;
    use std::sync::Arc;

    #[derive(Default)]
    struct Recorded {
        data: Mutex<Vec<(String, String, MetricDatum)>>,
        invokes: Mutex<Vec<(String, serde_json::Value)>>,
        done: tokio::sync::Notify,
    }

    impl MetricSink for Recorded {
        fn put(&self, account: &str, region: &str, datum: MetricDatum) {
            self.data.lock().push((account.into(), region.into(), datum));
        }
    }

    impl EventInvoker for Recorded {
        fn invoke_event<'a>(&'a self, arn: &'a str, payload: bytes::Bytes) -> nimbus_core::service::BoxFuture<'a, Result<(), String>> {
            Box::pin(async move {
                let outer: serde_json::Value = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
                let zipped = base64::engine::general_purpose::STANDARD.decode(outer["awslogs"]["data"].as_str().unwrap_or("")).map_err(|e| e.to_string())?;
                let mut raw = String::new();
                flate2::read::GzDecoder::new(&zipped[..]).read_to_string(&mut raw).map_err(|e| e.to_string())?;
                self.invokes.lock().push((arn.to_string(), serde_json::from_str(&raw).map_err(|e| e.to_string())?));
                self.done.notify_one();
                Ok(())
            })
        }
    }

    fn key(name: &str) -> GroupKey {
        GroupKey { account: "111122223333".into(), region: "eu-west-1".into(), name: name.into() }
    }

    fn metric_filter(pattern: &str, value: &str, dims: &[(&str, &str)], default: Option<f64>) -> Compiled<MetricFilterDef> {
        let t = MetricTransformation {
            metric_name: "Latency".into(),
            metric_namespace: "App".into(),
            metric_value: value.into(),
            default_value: default,
            dimensions: dims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            unit: Some("Milliseconds".into()),
        };
        Compiled::metric(MetricFilterDef { filter_name: "f".into(), filter_pattern: pattern.into(), metric_transformations: vec![t], creation_time: 1 }).expect("filter")
    }

    fn lines(messages: &[&str]) -> Vec<LogLine> {
        messages.iter().enumerate().map(|(i, m)| LogLine { timestamp_ms: 1000 + i as u64, message: m.to_string() }).collect()
    }

    /// Lambda's lines (through `LogSink`) feed metric filters: one datum per matching
    /// event with the extracted value and dimensions; the default value when none match.
    #[tokio::test]
    async fn metric_filters_put_data_through_the_metric_sink() {
        let svc = LogsService::new(Clock::new(), Arc::new(MemoryStore::new())).expect("service");
        let rec = Arc::new(Recorded::default());
        svc.set_metric_sink(rec.clone());
        let k = key("/aws/lambda/f");
        svc.append(&k.account, &k.region, &k.name, "s", lines(&["start"]));
        svc.engine.put_metric_filter(&k, metric_filter("{ $.ms > 0 }", "$.ms", &[("Service", "$.svc")], Some(0.0)), 100).expect("put");
        svc.append(&k.account, &k.region, &k.name, "s", lines(&[r#"{"ms": 12, "svc": "api"}"#, "plain", r#"{"ms": 3, "svc": "db"}"#, r#"{"ms": 4}"#]));
        type Seen = (f64, Vec<(String, String)>, u64);
        let got: Vec<Seen> = rec.data.lock().iter().map(|(_, _, d)| (d.value, d.dimensions.clone(), d.timestamp_ms)).collect();
        assert_eq!(got, vec![(12.0, vec![("Service".into(), "api".into())], 1000), (3.0, vec![("Service".into(), "db".into())], 1002)]);
        let first = rec.data.lock()[0].clone();
        assert_eq!((first.0.as_str(), first.1.as_str(), first.2.namespace.as_str(), first.2.name.as_str()), ("111122223333", "eu-west-1", "App", "Latency"));
        assert_eq!(first.2.unit.as_deref(), Some("Milliseconds"));
        rec.data.lock().clear();
        svc.append(&k.account, &k.region, &k.name, "s", lines(&["nothing here"]));
        let got: Vec<f64> = rec.data.lock().iter().map(|(_, _, d)| d.value).collect();
        assert_eq!(got, vec![0.0]);
    }

    /// Subscription filters: one delivery per batch of matching events; a function's own
    /// log group is never delivered to it.
    #[tokio::test]
    async fn subscriptions_deliver_batches_but_not_to_their_own_group() {
        let svc = LogsService::new(Clock::new(), Arc::new(MemoryStore::new())).expect("service");
        let rec = Arc::new(Recorded::default());
        svc.set_event_invoker(rec.clone());
        let arn = "arn:aws:lambda:eu-west-1:111122223333:function:sub";
        let sub = |name: &str| {
            Compiled::subscription(SubscriptionDef {
                filter_name: name.into(),
                filter_pattern: "ERROR".into(),
                destination_arn: arn.into(),
                role_arn: None,
                distribution: "ByLogStream".into(),
                creation_time: 1,
            })
            .expect("sub")
        };
        let own = key("/aws/lambda/sub");
        let other = key("/app");
        for k in [&own, &other] {
            svc.append(&k.account, &k.region, &k.name, "s", lines(&["start"]));
            svc.engine.put_subscription(k, sub("to-sub"), 2).expect("put");
        }
        svc.append(&own.account, &own.region, &own.name, "s", lines(&["ERROR in the subscriber"]));
        svc.append(&other.account, &other.region, &other.name, "s", lines(&["ERROR a", "ok", "ERROR b"]));
        rec.done.notified().await;
        let invokes = rec.invokes.lock().clone();
        assert_eq!(invokes.len(), 1);
        let (to, msg) = &invokes[0];
        assert_eq!(to, arn);
        assert_eq!(msg["logGroup"], "/app");
        assert_eq!(msg["owner"], "111122223333");
        assert_eq!(msg["subscriptionFilters"], json!(["to-sub"]));
        let messages: Vec<&str> = msg["logEvents"].as_array().expect("events").iter().filter_map(|e| e["message"].as_str()).collect();
        assert_eq!(messages, vec!["ERROR a", "ERROR b"]);
    }

    /// Filters are stored: a restart on the same data keeps them.
    #[tokio::test]
    async fn filters_survive_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("logs.db");
        let k = key("/app");
        {
            let svc = LogsService::new(Clock::new(), Arc::new(SqliteStore::open(&path, Durability::Process).expect("open"))).expect("service");
            svc.engine.create_group(&k, Default::default()).expect("group").wait().await.expect("commit");
            svc.engine.put_metric_filter(&k, metric_filter("ERROR", "1", &[], None), 100).expect("put").wait().await.expect("commit");
            let gone = Compiled::metric(MetricFilterDef { filter_name: "gone".into(), ..metric_filter("x", "1", &[], None).def }).expect("filter");
            svc.engine.put_metric_filter(&k, gone, 100).expect("put").wait().await.expect("commit");
            svc.engine.delete_filter(&k, crate::filters::METRIC, "gone").expect("delete").wait().await.expect("commit");
        }
        let svc = LogsService::new(Clock::new(), Arc::new(SqliteStore::open(&path, Durability::Process).expect("reopen"))).expect("service");
        let set = svc.engine.filter_set(&k);
        assert_eq!(set.metric.iter().map(|f| f.def.filter_name.as_str()).collect::<Vec<_>>(), vec!["f"]);
        assert!(set.metric[0].pattern.matches("an ERROR"));
    }

    #[test]
    fn function_names() {
        assert_eq!(function_name("arn:aws:lambda:us-east-1:000000000000:function:f"), Some("f"));
        assert_eq!(function_name("arn:aws:lambda:us-east-1:000000000000:function:f:live"), Some("f"));
        assert_eq!(function_name("arn:aws:kinesis:us-east-1:000000000000:stream/s"), None);
    }
}
