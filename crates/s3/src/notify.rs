//! Object events: what an object change tells the bucket's notification configuration.
//! The object operations call [`Notifier::object_event`] once a change is committed; the
//! notifier matches it against the bucket's configuration (`notification_config.rs`) and
//! hands AWS's documents (`event_record.rs`) to a background worker through a bounded
//! channel, so a request never waits on a delivery. The worker sends to SQS
//! (`QueueSender`), Lambda's asynchronous invoke (`EventInvoker`: the function's retries,
//! destinations and dead-letter queue apply), SNS (`TopicPublisher`, Subject "Amazon S3
//! Notification") and, with `EventBridgeConfiguration`, EventBridge's default bus
//! (`EventPublisher`). A delivery that fails is logged and dropped, as are events arriving
//! while the channel is full.

use crate::errors::S3Error;
use crate::event_record::{self, Actor, BucketHome};
use crate::notification_config::{Destination, NotificationConfig};
use nimbus_core::internal::{EventInvoker, EventPublisher, QueueSender, ServiceCall, ServiceGrants, TopicPublisher};
use nimbus_core::RequestContext;
use parking_lot::RwLock;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc;

/// Events waiting for the worker; more are dropped (with a warning).
const CHANNEL_CAPACITY: usize = 10_000;
/// SNS's Subject on S3's notifications.
pub const SNS_SUBJECT: &str = "Amazon S3 Notification";

/// What happened to an object, named as S3 names event types after `s3:`
/// (`ObjectCreated:Put`, `ObjectRemoved:DeleteMarkerCreated`, `LifecycleExpiration:Delete`).
#[derive(Debug, Clone)]
pub struct ObjectEvent {
    pub bucket: String,
    /// The key as stored (not URL-encoded; the record encodes it).
    pub key: String,
    /// `ObjectCreated:Put`, `ObjectCreated:Copy`, `ObjectCreated:CompleteMultipartUpload`,
    /// `ObjectRemoved:Delete`, `ObjectRemoved:DeleteMarkerCreated`, `ObjectTagging:Put`, …
    pub event_name: &'static str,
    /// Object size in bytes (created events).
    pub size: Option<u64>,
    /// The ETag without quotes (created events).
    pub etag: Option<String>,
    /// The version id in a versioning-enabled or suspended bucket (`null` is not sent).
    pub version_id: Option<String>,
    /// When the change happened, epoch milliseconds on nimbus's clock.
    pub time_ms: u64,
}

/// The services events go to (set by the binary once they exist).
pub struct Destinations {
    pub queues: Arc<dyn QueueSender>,
    pub functions: Arc<dyn EventInvoker>,
    pub topics: Arc<dyn TopicPublisher>,
    pub events: Arc<dyn EventPublisher>,
    /// Whether a destination's resource policy lets `s3.amazonaws.com` deliver
    /// (enforced under `--auth iam`).
    pub grants: Arc<dyn ServiceGrants>,
}

/// A bucket's configuration with where the bucket lives.
struct BucketNotifications {
    home: BucketHome,
    config: NotificationConfig,
}

/// One send the worker makes.
enum Delivery {
    Queue { arn: String, body: String, trace_id: Option<String> },
    Function { arn: String, body: String, trace_id: Option<String> },
    Topic { arn: String, body: String, trace_id: Option<String> },
    Bus { home: BucketHome, entry: Value },
}

/// Delivers object events (nothing is delivered until `start` is given the destinations).
#[derive(Default)]
pub struct Notifier {
    /// Each bucket's configuration, by bucket name (bucket names are global); a copy of
    /// what the bucket's stored configuration says.
    configs: RwLock<HashMap<String, Arc<BucketNotifications>>>,
    destinations: OnceLock<Arc<Destinations>>,
    tx: OnceLock<mpsc::Sender<Delivery>>,
    /// The last sequencer handed out (increasing across keys, hence per key).
    last_sequencer: AtomicU64,
}

impl Notifier {
    /// Starts the delivery worker (needs a tokio runtime). Once only.
    pub fn start(&self, destinations: Destinations) {
        let destinations = Arc::new(destinations);
        if self.destinations.set(destinations.clone()).is_err() {
            return;
        }
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let _ = self.tx.set(tx);
        tokio::spawn(worker(rx, destinations));
    }

    /// The bucket's configuration as loaded from its store, or put (`None`: removed).
    pub fn set_config(&self, bucket: &str, home: BucketHome, config: Option<NotificationConfig>) {
        let mut configs = self.configs.write();
        match config.filter(|c| !c.is_empty()) {
            Some(config) => {
                configs.insert(bucket.to_string(), Arc::new(BucketNotifications { home, config }));
            }
            None => {
                configs.remove(bucket);
            }
        }
    }

    /// Checks that each destination exists and, under `--auth iam`, lets S3 deliver to it:
    /// S3's `InvalidArgument` "Unable to validate the following destination configurations"
    /// naming the first that does not.
    pub fn validate_destinations(&self, bucket: &str, home: &BucketHome, config: &NotificationConfig) -> Result<(), S3Error> {
        let Some(d) = self.destinations.get() else { return Ok(()) };
        let source_arn = format!("arn:aws:s3:::{bucket}");
        for t in &config.targets {
            let arn = t.destination.arn();
            let (exists, action, missing, denied) = match &t.destination {
                Destination::Queue(_) => (d.queues.queue_exists(arn), "sqs:SendMessage", "The destination queue does not exist".to_string(), "Permissions on the destination queue do not allow S3 to publish notifications from this bucket".to_string()),
                Destination::Topic(_) => (d.topics.topic_exists(arn), "sns:Publish", "The destination topic does not exist".to_string(), "Permissions on the destination topic do not allow S3 to publish notifications from this bucket".to_string()),
                Destination::Function(_) => (d.functions.function_exists(arn), "lambda:InvokeFunction", "The destination Lambda does not exist".to_string(), format!("Not authorized to invoke function [{arn}]")),
            };
            let problem = if !exists {
                Some(missing)
            } else {
                let call = ServiceCall { service: "s3.amazonaws.com", action, resource: arn, source_arn: &source_arn, source_account: &home.account };
                d.grants.allows(&call).err().map(|_| denied)
            };
            if let Some(value) = problem {
                return Err(S3Error::BadArgument { message: "Unable to validate the following destination configurations".into(), name: arn.to_string(), value });
            }
        }
        Ok(())
    }

    /// Sends `s3:TestEvent` to the configuration's SQS and SNS destinations (as S3 does
    /// when a configuration is put), once per destination.
    pub fn send_test_events(&self, ctx: &RequestContext, bucket: &str, config: &NotificationConfig, now_ms: u64) {
        let body = event_record::test_event(bucket, now_ms, &ctx.request_id, &ctx.host_id()).to_string();
        let mut seen = std::collections::HashSet::new();
        for t in config.targets.iter().filter(|t| seen.insert(t.destination.arn())) {
            match &t.destination {
                Destination::Queue(arn) => self.send(Delivery::Queue { arn: arn.clone(), body: body.clone(), trace_id: None }),
                Destination::Topic(arn) => self.send(Delivery::Topic { arn: arn.clone(), body: body.clone(), trace_id: None }),
                Destination::Function(_) => {}
            }
        }
    }

    /// Called by an object operation after its change is committed, before it answers.
    /// Must not wait on a delivery.
    pub fn object_event(&self, ctx: &RequestContext, event: ObjectEvent) {
        let actor = Actor {
            principal_id: format!("AWS:{}", ctx.user_id.clone().unwrap_or_else(|| ctx.account_id.clone())),
            requester: ctx.account_id.clone(),
            source_ip: ctx.source_ip.map(|ip| ip.to_string()).unwrap_or_else(|| "127.0.0.1".into()),
            request_id: ctx.request_id.clone(),
            host_id: ctx.host_id(),
            // The request's trace with its S3 segment as the parent (the header as sent
            // when it is not a well-formed trace header).
            trace_id: ctx.downstream_trace().map(|t| t.render()).or_else(|| ctx.trace_id.clone()),
        };
        self.dispatch(event, actor);
    }

    /// Called by the lifecycle timer (no request context: S3 itself is the actor).
    pub fn system_event(&self, _account: &str, _region: &str, event: ObjectEvent) {
        let request_id = nimbus_core::ids::request_id();
        let actor = Actor {
            principal_id: "s3.amazonaws.com".into(),
            requester: "s3.amazonaws.com".into(),
            source_ip: "s3.amazonaws.com".into(),
            host_id: {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(format!("nimbus/{request_id}"))
            },
            request_id,
            trace_id: None,
        };
        self.dispatch(event, actor);
    }

    fn dispatch(&self, event: ObjectEvent, actor: Actor) {
        let Some(bucket) = self.configs.read().get(&event.bucket).cloned() else { return };
        let sequencer = self.next_sequencer(event.time_ms);
        for t in bucket.config.targets.iter().filter(|t| t.matches(event.event_name, &event.key)) {
            let body = event_record::record(&event, &bucket.home, &actor, &t.id, &sequencer).to_string();
            let arn = t.destination.arn().to_string();
            self.send(match t.destination {
                Destination::Queue(_) => Delivery::Queue { arn, body, trace_id: actor.trace_id.clone() },
                Destination::Function(_) => Delivery::Function { arn, body, trace_id: actor.trace_id.clone() },
                Destination::Topic(_) => Delivery::Topic { arn, body, trace_id: actor.trace_id.clone() },
            });
        }
        if bucket.config.event_bridge {
            if let Some(mut entry) = event_record::eventbridge_entry(&event, &actor, &sequencer) {
                if let Some(t) = actor.trace_id.as_deref().filter(|t| nimbus_core::trace::TraceHeader::parse(t).is_some()) {
                    entry["TraceHeader"] = json!(t);
                }
                self.send(Delivery::Bus { home: bucket.home.clone(), entry });
            }
        }
    }

    /// 18 hex digits, increasing: the event time in the high bits, a counter below.
    fn next_sequencer(&self, time_ms: u64) -> String {
        let floor = time_ms << 16;
        let mut prev = self.last_sequencer.load(Ordering::Relaxed);
        loop {
            let next = (prev + 1).max(floor);
            match self.last_sequencer.compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return format!("{next:018X}"),
                Err(p) => prev = p,
            }
        }
    }

    fn send(&self, d: Delivery) {
        let Some(tx) = self.tx.get() else { return };
        if let Err(e) = tx.try_send(d) {
            tracing::warn!(error = %e, "s3: an event notification was dropped (delivery queue full)");
        }
    }
}

async fn worker(mut rx: mpsc::Receiver<Delivery>, d: Arc<Destinations>) {
    while let Some(delivery) = rx.recv().await {
        let outcome: Result<(), String> = match delivery {
            Delivery::Queue { arn, body, trace_id } => {
                let mut input = json!({ "MessageBody": body });
                if let Some(t) = trace_id {
                    input["MessageSystemAttributes"] = json!({ "AWSTraceHeader": { "DataType": "String", "StringValue": t } });
                }
                d.queues.send_message(&arn, input).await.map(|_| ()).map_err(|e| format!("{arn}: {}", e.message))
            }
            Delivery::Function { arn, body, trace_id } => d.functions.invoke_event_traced(&arn, bytes::Bytes::from(body), trace_id).await.map_err(|e| format!("{arn}: {e}")),
            Delivery::Topic { arn, body, trace_id } => d.topics.publish_with_subject_traced(&arn, SNS_SUBJECT.into(), body, trace_id).await.map(|_| ()).map_err(|e| format!("{arn}: {e}")),
            Delivery::Bus { home, entry } => match d.events.put_events(&home.account, &home.region, json!({ "Entries": [entry] })).await {
                Ok(out) if out["FailedEntryCount"].as_u64().unwrap_or(0) == 0 => Ok(()),
                Ok(out) => Err(format!("EventBridge refused the event: {}", out["Entries"])),
                Err(e) => Err(format!("EventBridge: {}", e.message)),
            },
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "s3: an event notification could not be delivered");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_core::service::BoxFuture;
    use nimbus_core::AwsError;
    use parking_lot::Mutex;

    /// Every destination at once, recording what it was sent.
    #[derive(Default)]
    struct Recorder {
        sent: Mutex<Vec<(String, String, Value)>>,
        done: tokio::sync::Notify,
    }

    impl Recorder {
        fn record(&self, kind: &str, arn: &str, v: Value) {
            self.sent.lock().push((kind.into(), arn.into(), v));
            self.done.notify_one();
        }
    }

    impl QueueSender for Recorder {
        fn send_message<'a>(&'a self, arn: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
            self.record("sqs", arn, input);
            Box::pin(async { Ok(json!({})) })
        }
        fn receive_message<'a>(&'a self, _: &'a str, _: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
            Box::pin(async { Ok(json!({})) })
        }
        fn delete_message<'a>(&'a self, _: &'a str, _: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
            Box::pin(async { Ok(json!({})) })
        }
        fn purge_queue<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Value, AwsError>> {
            Box::pin(async { Ok(json!({})) })
        }
        fn queue_exists(&self, arn: &str) -> bool {
            !arn.ends_with(":missing")
        }
    }

    impl EventInvoker for Recorder {
        fn invoke_event<'a>(&'a self, arn: &'a str, payload: bytes::Bytes) -> BoxFuture<'a, Result<(), String>> {
            self.invoke_event_traced(arn, payload, None)
        }
        fn invoke_event_traced<'a>(&'a self, arn: &'a str, payload: bytes::Bytes, trace: Option<String>) -> BoxFuture<'a, Result<(), String>> {
            let body: Value = serde_json::from_slice(&payload).unwrap_or_default();
            self.record("lambda", arn, json!({ "payload": body, "trace": trace }));
            Box::pin(async { Ok(()) })
        }
    }

    impl TopicPublisher for Recorder {
        fn publish<'a>(&'a self, arn: &'a str, message: String) -> BoxFuture<'a, Result<String, String>> {
            self.publish_with_subject(arn, String::new(), message)
        }
        fn publish_with_subject<'a>(&'a self, arn: &'a str, subject: String, message: String) -> BoxFuture<'a, Result<String, String>> {
            self.record("sns", arn, json!({ "subject": subject, "message": message }));
            Box::pin(async { Ok("id".to_string()) })
        }
    }

    impl EventPublisher for Recorder {
        fn put_events<'a>(&'a self, account: &'a str, _: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
            self.record("events", account, input);
            Box::pin(async { Ok(json!({ "FailedEntryCount": 0, "Entries": [{ "EventId": "e" }] })) })
        }
    }

    async fn wait_for(r: &Recorder, n: usize) -> Vec<(String, String, Value)> {
        while r.sent.lock().len() < n {
            let notified = r.done.notified();
            if r.sent.lock().len() >= n {
                break;
            }
            tokio::time::timeout(std::time::Duration::from_secs(5), notified).await.expect("deliveries within 5 s");
        }
        std::mem::take(&mut *r.sent.lock())
    }

    #[tokio::test]
    async fn events_reach_every_kind_of_destination() {
        let r = Arc::new(Recorder::default());
        let n = Notifier::default();
        n.start(Destinations { queues: r.clone(), functions: r.clone(), topics: r.clone(), events: r.clone(), grants: Arc::new(nimbus_core::internal::OpenGrants) });
        let q = "arn:aws:sqs:us-east-1:000000000000:q";
        let f = "arn:aws:lambda:us-east-1:000000000000:function:f";
        let t = "arn:aws:sns:us-east-1:000000000000:t";
        let config = NotificationConfig::parse(&json!({
            "QueueConfigurations": [{"Id": "q", "QueueArn": q, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "q/"}]}}}],
            "LambdaFunctionConfigurations": [{"Id": "f", "LambdaFunctionArn": f, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "f/"}]}}}],
            "TopicConfigurations": [{"Id": "t", "TopicArn": t, "Events": ["s3:ObjectRemoved:*"]}],
            "EventBridgeConfiguration": {}
        }))
        .expect("valid");
        let home = BucketHome { account: "000000000000".into(), region: "us-east-1".into() };
        let missing = NotificationConfig::parse(&json!({"QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:missing", "Events": ["s3:ObjectCreated:*"]}]})).expect("valid");
        let e: nimbus_core::AwsError = n.validate_destinations("b", &home, &missing).expect_err("missing queue").into();
        assert_eq!((e.code.as_ref(), e.message.as_str()), ("InvalidArgument", "Unable to validate the following destination configurations"));
        assert_eq!(e.members["ArgumentValue"], "The destination queue does not exist");
        n.validate_destinations("b", &home, &config).expect("all exist");

        let mut ctx = RequestContext::new(nimbus_core::auth::Caller::default(), "h".into(), "/".into());
        ctx.trace_id = Some("Root=1-00000000-000000000000000000000001".into());
        n.send_test_events(&ctx, "b", &config, 0);
        let sent = wait_for(&r, 2).await;
        assert_eq!(sent[0].0, "sqs");
        assert_eq!(serde_json::from_str::<Value>(sent[0].2["MessageBody"].as_str().unwrap_or_default()).unwrap_or_default()["Event"], "s3:TestEvent");
        assert_eq!(sent[1].2["subject"], SNS_SUBJECT);

        n.set_config("b", home, Some(config));
        let ev = |key: &str, name: &'static str| ObjectEvent { bucket: "b".into(), key: key.into(), event_name: name, size: Some(1), etag: Some("e".into()), version_id: None, time_ms: 1 };
        n.object_event(&ctx, ev("q/1", "ObjectCreated:Put"));
        let sent = wait_for(&r, 2).await;
        assert_eq!((sent[0].0.as_str(), sent[0].1.as_str()), ("sqs", q));
        assert_eq!(sent[0].2["MessageSystemAttributes"]["AWSTraceHeader"]["StringValue"], "Root=1-00000000-000000000000000000000001");
        assert_eq!(sent[1].0, "events");
        assert_eq!(sent[1].2["Entries"][0]["DetailType"], "Object Created");
        n.object_event(&ctx, ev("f/1", "ObjectCreated:Copy"));
        let sent = wait_for(&r, 2).await;
        assert_eq!((sent[0].0.as_str(), sent[0].1.as_str()), ("lambda", f));
        assert_eq!(sent[0].2["payload"]["Records"][0]["eventName"], "ObjectCreated:Copy");
        assert_eq!(sent[0].2["trace"], "Root=1-00000000-000000000000000000000001");
        n.system_event("000000000000", "us-east-1", ev("x", "ObjectRemoved:Delete"));
        let sent = wait_for(&r, 2).await;
        assert_eq!(sent[0].0, "sns");
        assert_eq!(sent[0].2["subject"], SNS_SUBJECT);
        assert_eq!(sent[1].0, "events");
        n.object_event(&ctx, ev("other", "ObjectTagging:Put"));
        assert_eq!(wait_for(&r, 1).await[0].0, "events", "only EventBridge takes everything");
    }

    #[test]
    fn sequencers_increase() {
        let n = Notifier::default();
        let a = n.next_sequencer(1_000);
        let b = n.next_sequencer(1_000);
        let c = n.next_sequencer(900);
        assert_eq!(a.len(), 18);
        assert!(a < b && b < c, "{a} {b} {c}");
    }
}
