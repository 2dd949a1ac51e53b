//! Delivering a matched event to a rule's targets: the input each target gets
//! (`transform.rs`), the send (SQS through `QueueSender`, FIFO with
//! `SqsParameters.MessageGroupId` and the event id as deduplication id; Lambda through
//! `EventInvoker`; Kinesis data streams through `RecordSink`, the partition key from
//! `KinesisParameters.PartitionKeyPath` or else the event id), retries per `RetryPolicy`
//! on nimbus's clock, and the target's SQS
//! dead-letter queue with AWS's message attributes when delivery gives up. Every
//! delivery is stored (core's document table, next to the configuration) before
//! PutEvents answers and removed when it is done, so an acknowledged event is delivered
//! after a restart (`resume`).
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html>

use crate::registry::Registry;
use crate::transform::{self, Predefined};
use serde::{Deserialize, Serialize};
use nimbus_core::internal::{EventInvoker, LogLine, LogSink, QueueSender, ServiceCall, ServiceGrants, TopicPublisher};
use nimbus_core::Clock;
use serde_json::{json, Value};
use std::sync::Arc;

/// The services targets are reached through (wired by the binary).
#[derive(Clone)]
pub struct Targets {
    pub queues: Arc<dyn QueueSender>,
    pub functions: Arc<dyn EventInvoker>,
    pub logs: Arc<dyn LogSink>,
    /// SNS topics, when an SNS service is wired (else SNS targets are refused).
    pub topics: Option<Arc<dyn TopicPublisher>>,
    /// The targets' resource policies (`--auth iam`): a queue's policy must allow
    /// `sqs:SendMessage` by `events.amazonaws.com`, a function's `lambda:InvokeFunction`,
    /// a topic's `sns:Publish`.
    pub grants: Arc<dyn ServiceGrants>,
}

/// Whether the rule may reach `target` with `action` by the target's policy; AWS's
/// `NO_PERMISSIONS` (not retried) when not.
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html>
fn permitted(targets: &Targets, rule_arn: &str, account: &str, action: &str, target: &str) -> Result<(), Failure> {
    let call = ServiceCall { service: "events.amazonaws.com", action, resource: target, source_arn: rule_arn, source_account: account };
    targets.grants.allows(&call).map_err(|message| Failure { code: "NO_PERMISSIONS".into(), message, retryable: false })
}

const DEFAULT_RETRIES: u64 = 185;
const DEFAULT_MAX_AGE_S: u64 = 86_400;
const MAX_BACKOFF_MS: u64 = 60_000;

/// Why one attempt failed.
struct Failure {
    /// The DLQ's `ERROR_CODE` (AWS's list: `NO_RESOURCE`, `ERROR_FROM_TARGET`, `THROTTLING`, …).
    code: String,
    message: String,
    /// A missing resource or a refused request is not retried (as AWS).
    retryable: bool,
}

/// The input a target receives for `event`.
pub fn input_for(target: &Value, event: &Value, rule_arn: &str, rule_name: &str) -> String {
    if let Some(input) = target.get("Input").and_then(Value::as_str) {
        return input.to_string();
    }
    if let Some(path) = target.get("InputPath").and_then(Value::as_str) {
        return transform::select(event, path).cloned().unwrap_or(Value::Null).to_string();
    }
    if let Some(t) = target.get("InputTransformer") {
        let empty = serde_json::Map::new();
        let paths = t.get("InputPathsMap").and_then(Value::as_object).unwrap_or(&empty);
        let template = t.get("InputTemplate").and_then(Value::as_str).unwrap_or("");
        let time = event.get("time").and_then(Value::as_str).unwrap_or("");
        return transform::fill(template, paths, event, &Predefined { rule_arn, rule_name, ingestion_time: time });
    }
    event.to_string()
}

/// One event on its way to one target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub account: String,
    pub region: String,
    pub rule_arn: String,
    pub target: Value,
    pub event: Value,
    pub payload: String,
    pub accepted_ms: u64,
    /// The event's trace (the entry's `TraceHeader`, else the PutEvents request's):
    /// each attempt records an EventBridge segment and hands the target the trace with
    /// that segment as the parent (SQS `AWSTraceHeader`, the Lambda invocation's trace).
    /// <https://docs.aws.amazon.com/xray/latest/devguide/xray-services-eventbridge.html>
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// The deliveries of `event` to every target of a rule.
pub fn for_targets(account: &str, region: &str, rule_arn: &str, rule_name: &str, rule_targets: &[Value], event: &Value, now: u64) -> Vec<Delivery> {
    rule_targets
        .iter()
        .map(|t| Delivery {
            id: nimbus_core::ids::uuid(),
            account: account.to_string(),
            region: region.to_string(),
            rule_arn: rule_arn.to_string(),
            target: t.clone(),
            event: event.clone(),
            payload: input_for(t, event, rule_arn, rule_name),
            accepted_ms: now,
            trace: None,
        })
        .collect()
}

/// Stores the deliveries, then starts each in its own task (retries do not hold the
/// others back). Resolves once they are durable.
pub async fn start(reg: &Arc<Registry>, targets: &Targets, clock: &Clock, deliveries: Vec<Delivery>) -> Result<(), String> {
    reg.save_deliveries(&deliveries).await?;
    resume(reg, targets, clock, deliveries);
    Ok(())
}

/// Runs stored deliveries (at start, the ones a previous process left).
pub fn resume(reg: &Arc<Registry>, targets: &Targets, clock: &Clock, deliveries: Vec<Delivery>) {
    for d in deliveries {
        let (reg, targets, clock) = (reg.clone(), targets.clone(), clock.clone());
        tokio::spawn(async move {
            with_retries(&reg, &targets, &clock, &d).await;
            reg.forget_delivery(&d).await;
        });
    }
}

async fn with_retries(reg: &Arc<Registry>, targets: &Targets, clock: &Clock, d: &Delivery) {
    let (target, event, rule_arn, accepted_ms) = (&d.target, &d.event, d.rule_arn.as_str(), d.accepted_ms);
    let policy = target.get("RetryPolicy");
    let retries = policy.and_then(|p| p.get("MaximumRetryAttempts")).and_then(Value::as_u64).unwrap_or(DEFAULT_RETRIES);
    let max_age_ms = policy.and_then(|p| p.get("MaximumEventAgeInSeconds")).and_then(Value::as_u64).unwrap_or(DEFAULT_MAX_AGE_S) * 1000;
    let mut attempt = 0u64;
    loop {
        let failure = match send(reg, targets, clock, d).await {
            Ok(()) => {
                crate::metrics::rule_arn_event(&reg.metrics, rule_arn, "Invocations");
                return;
            }
            Err(f) => f,
        };
        let exhausted = if !failure.retryable {
            None
        } else if attempt >= retries {
            Some("MaximumRetryAttempts")
        } else if clock.now_ms().saturating_sub(accepted_ms) >= max_age_ms {
            Some("MaximumEventAgeInSeconds")
        } else {
            attempt += 1;
            let backoff = (1000u64 << attempt.min(6)).min(MAX_BACKOFF_MS);
            clock.sleep_until(clock.now_ms() + backoff).await;
            continue;
        };
        let arn = target.get("Arn").and_then(|a| a.as_str()).unwrap_or("");
        tracing::warn!(target_arn = arn, code = %failure.code, message = %failure.message, "EventBridge target delivery failed");
        crate::metrics::rule_arn_event(&reg.metrics, rule_arn, "Invocations");
        crate::metrics::rule_arn_event(&reg.metrics, rule_arn, "FailedInvocations");
        match dead_letter(targets, target, event, rule_arn, &failure, exhausted, attempt).await {
            Some(true) => crate::metrics::rule_arn_event(&reg.metrics, rule_arn, "InvocationsSentToDlq"),
            Some(false) => crate::metrics::rule_arn_event(&reg.metrics, rule_arn, "InvocationsFailedToBeSentToDlq"),
            None => {}
        }
        return;
    }
}

/// One attempt, recording its segment when the event is traced (sampled, recorded).
async fn send(reg: &Arc<Registry>, targets: &Targets, clock: &Clock, d: &Delivery) -> Result<(), Failure> {
    let Some(t) = d.trace.as_deref().and_then(nimbus_core::trace::TraceHeader::parse) else { return send_untraced(reg, targets, clock, d, None).await };
    if !(t.is_sampled() && nimbus_core::trace::recording()) {
        return send_untraced(reg, targets, clock, d, Some(t.render())).await;
    }
    let id = nimbus_core::trace::new_segment_id();
    let start = clock.now_ms();
    let out = send_untraced(reg, targets, clock, d, Some(t.with_parent(&id).render())).await;
    let mut segment = nimbus_core::trace::Segment::new("EventBridge", &t.root, &id, t.parent.as_deref(), start, clock.now_ms())
        .origin("AWS::Events")
        .aws("operation", "PutTarget")
        .aws("rule_arn", d.rule_arn.as_str())
        .aws("target_arn", d.target.get("Arn").and_then(Value::as_str).unwrap_or(""))
        .aws("event_id", d.event.get("id").and_then(Value::as_str).unwrap_or(""));
    if let Err(f) = &out {
        segment = segment.failure(f.retryable, &f.code, &f.message);
    }
    nimbus_core::trace::record(segment);
    out
}

async fn send_untraced(reg: &Arc<Registry>, targets: &Targets, clock: &Clock, d: &Delivery, trace: Option<String>) -> Result<(), Failure> {
    let (target, event, payload) = (&d.target, &d.event, d.payload.as_str());
    let arn = target.get("Arn").and_then(Value::as_str).unwrap_or("");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    // Errors that cannot get better are not retried, as AWS: the event goes to the DLQ.
    let gone = |what: String| Failure { code: "NO_RESOURCE".into(), message: what, retryable: false };
    let action = match parts.get(2) {
        Some(&"sqs") => Some("sqs:SendMessage"),
        Some(&"lambda") => Some("lambda:InvokeFunction"),
        Some(&"sns") => Some("sns:Publish"),
        _ => None,
    };
    if let Some(action) = action {
        permitted(targets, &d.rule_arn, &d.account, action, arn)?;
    }
    match parts.as_slice() {
        ["arn", _, "sqs", ..] => {
            let mut input = json!({ "MessageBody": payload });
            if let Some(group) = target.pointer("/SqsParameters/MessageGroupId").and_then(Value::as_str) {
                input["MessageGroupId"] = json!(group);
                input["MessageDeduplicationId"] = event.get("id").cloned().unwrap_or(Value::Null);
            }
            match targets.queues.send_message_traced(arn, input, trace).await {
                Ok(_) => Ok(()),
                Err(e) if e.code.contains("NonExistentQueue") || e.code.contains("QueueDoesNotExist") => Err(gone(e.message)),
                Err(e) if e.code.contains("Throttl") || e.status == 429 => Err(Failure { code: "THROTTLING".into(), message: e.message, retryable: true }),
                // AWS retries 5xx answers and not other 4xx ones.
                Err(e) => Err(Failure { code: "ERROR_FROM_TARGET".into(), message: e.message, retryable: e.status >= 500 }),
            }
        }
        ["arn", _, "lambda", ..] => match targets.functions.invoke_event_traced(arn, bytes::Bytes::from(payload.to_string()), trace).await {
            Ok(()) => Ok(()),
            Err(e) if e.contains("not found") || e.contains("NotFound") || e.contains("not a Lambda function ARN") => Err(gone(e)),
            // A payload Lambda refuses will be refused again.
            Err(e) if e.contains("TooLarge") || e.contains("InvalidRequestContent") => Err(Failure { code: "ERROR_FROM_TARGET".into(), message: e, retryable: false }),
            Err(e) => Err(Failure { code: "ERROR_FROM_TARGET".into(), message: e, retryable: true }),
        },
        ["arn", _, "sns", ..] => match &targets.topics {
            Some(topics) => match topics.publish_traced(arn, payload.to_string(), trace).await {
                Ok(_) => Ok(()),
                Err(e) if e.contains("NotFound") || e.contains("does not exist") => Err(gone(e)),
                Err(e) => Err(Failure { code: "ERROR_FROM_TARGET".into(), message: e, retryable: true }),
            },
            None => Err(Failure { code: "INVALID_PARAMETER".into(), message: format!("Target {arn} is not supported by nimbus yet"), retryable: false }),
        },
        ["arn", _, "kinesis", ..] => {
            let Some(sink) = reg.streams.get() else {
                return Err(Failure { code: "INVALID_PARAMETER".into(), message: format!("Target {arn} is not supported by nimbus yet"), retryable: false });
            };
            let record = nimbus_core::internal::StreamRecordInput { partition_key: partition_key(target, event), data: payload.as_bytes().to_vec(), explicit_hash_key: None };
            match sink.put_records(arn, vec![record]).await {
                Ok(()) => Ok(()),
                Err(e) if e.code.contains("ResourceNotFound") => Err(gone(e.message)),
                Err(e) if e.code.contains("ProvisionedThroughputExceeded") || e.code.contains("Throttl") => Err(Failure { code: "THROTTLING".into(), message: e.message, retryable: true }),
                Err(e) => Err(Failure { code: "ERROR_FROM_TARGET".into(), message: e.message, retryable: e.status >= 500 }),
            }
        }
        // A log group target: one log stream per event, named by the event id.
        ["arn", _, "logs", region, account, rest] => {
            let group = rest.strip_prefix("log-group:").unwrap_or(rest).trim_end_matches(":*");
            let stream = event.get("id").and_then(Value::as_str).unwrap_or("events");
            targets.logs.append(account, region, group, stream, vec![LogLine { timestamp_ms: clock.now_ms(), message: payload.to_string() }]);
            Ok(())
        }
        // Another event bus of the same account and region: its rules see the event as is.
        ["arn", _, "events", region, account, rest] if rest.starts_with("event-bus/") => {
            let bus = &rest["event-bus/".len()..];
            if *account != d.account || *region != d.region {
                return Err(Failure { code: "NO_PERMISSIONS".into(), message: format!("Event bus targets in other accounts or regions ({arn}) are not supported by nimbus yet"), retryable: false });
            }
            if !reg.bus_exists(account, region, bus) {
                return Err(gone(format!("Event bus {bus} does not exist.")));
            }
            let now = clock.now_ms();
            let mut ds = reg.matching(account, region, bus, event, now);
            for next in &mut ds {
                next.trace = trace.clone();
            }
            let started: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> = Box::pin(start(reg, targets, clock, ds));
            started.await.map_err(|e| Failure { code: "INTERNAL_ERROR".into(), message: e, retryable: true })
        }
        _ => Err(Failure { code: "INVALID_PARAMETER".into(), message: format!("Target {arn} is not supported by nimbus yet"), retryable: false }),
    }
}

/// A Kinesis target's partition key: the value `KinesisParameters.PartitionKeyPath`
/// selects in the event (a string as is, anything else as JSON), else the event's id.
/// <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_KinesisParameters.html>
fn partition_key(target: &Value, event: &Value) -> String {
    let chosen = target.pointer("/KinesisParameters/PartitionKeyPath").and_then(Value::as_str).and_then(|p| transform::select(event, p)).filter(|v| !v.is_null());
    match chosen {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(v) if !v.is_string() => v.to_string(),
        _ => event.get("id").and_then(Value::as_str).unwrap_or("event").to_string(),
    }
}

/// The target's `DeadLetterConfig` queue gets the event with AWS's attributes.
/// Sends a failed event to the target's dead-letter queue: `None` when it has none, else
/// whether the send worked.
async fn dead_letter(targets: &Targets, target: &Value, event: &Value, rule_arn: &str, f: &Failure, exhausted: Option<&str>, attempts: u64) -> Option<bool> {
    let dlq = target.pointer("/DeadLetterConfig/Arn").and_then(Value::as_str)?;
    let s = |v: &str| json!({ "DataType": "String", "StringValue": v });
    let mut attrs = json!({
        "RULE_ARN": s(rule_arn),
        "TARGET_ARN": s(target.get("Arn").and_then(Value::as_str).unwrap_or("")),
        "ERROR_CODE": s(&f.code),
        "ERROR_MESSAGE": s(&f.message),
    });
    if let Some(cond) = exhausted {
        attrs["EXHAUSTED_RETRY_CONDITION"] = s(cond);
        attrs["RETRY_ATTEMPTS"] = json!({ "DataType": "Number", "StringValue": attempts.to_string() });
    }
    let input = json!({ "MessageBody": event.to_string(), "MessageAttributes": attrs });
    let account = rule_arn.split(':').nth(4).unwrap_or("");
    let sent = match permitted(targets, rule_arn, account, "sqs:SendMessage", dlq) {
        Ok(()) => targets.queues.send_message(dlq, input).await.map(|_| ()).map_err(|e| e.message),
        Err(f) => Err(f.message),
    };
    if let Err(e) = &sent {
        tracing::warn!(dlq, error = %e, "EventBridge dead-letter queue send failed; event dropped");
    }
    Some(sent.is_ok())
}
